"""The README's Cirq session runs as written."""

import re
from pathlib import Path

from natq_cirq.compile import compile_dynamic
from natq_cirq.physics import Knobs

from test_compile import X, tiny_model

README = Path(__file__).resolve().parent.parent / "README.md"


def test_cirq_session_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    block = re.search(r"<!-- cirq-session.*?-->\n```python\n(.*?)```", text, re.S).group(1)
    code = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(code) <= 6  # the few lines the README promises
    monkeypatch.chdir(tmp_path)
    compile_dynamic(tiny_model(Knobs(0.4, 1.1)), X).write(tmp_path / "one.json")
    exec(compile(block, "README.md", "exec"), {})
    counts = eval(capsys.readouterr().out, {"Counter": __import__("collections").Counter})
    assert sum(counts.values()) == 1000 and set(counts) <= {0, 1}
