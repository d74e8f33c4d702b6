"""Blocks of the docs generated from the code, so that they cannot drift from it.

Each block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in a page:

* ``code-map`` (guide.md): every module and the first sentence of its docstring;
* ``backends`` (commands.md): what each ``--backend`` runs and applies, from the registry;
* ``results`` (commands.md): what ``RESULTS.npz`` holds, from :data:`natq_cirq.runners.results.FIELDS`.

``python docs/generate.py`` rewrites them; tests/test_docs.py fails when one is out of date.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "natq_cirq": "natq_cirq",
    "natq_cirq.compile": "compile",
    "natq_cirq.runners": "runners",
}
PAGES = {"code-map": "docs/guide.md", "backends": "docs/commands.md", "results": "docs/commands.md"}


def _first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text).replace("``", "`")  # reST to Markdown
    return text.split(". ")[0].rstrip(".") + "."


def code_map() -> str:
    lines = []
    for package, folder in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__main__":
                continue
            parts = [p for p in parts if p != "__init__"]
            name = ".".join([package, *parts])
            lines.append(
                f"- `{name}` ({folder}/{path.relative_to(ROOT / folder)}): {_first_sentence(path)}"
            )
    return "\n".join(lines)


def backends() -> str:
    from natq_cirq.runners.options import KINDS
    from natq_cirq.runners.registry import BACKEND_NAMES, BACKENDS
    from natq_cirq.target import FEATURES

    rows = ["| `--backend` | executes |", "|---|---|"]
    for shown in BACKEND_NAMES:
        rows.append(f"| `{shown}` | {BACKENDS[shown.partition(':PROCESSOR')[0]].about} |")
    rows.append("")
    head = ["`--backend`", "runs", *[f"`{f}`" for f in FEATURES], "`--workers`"]
    rows += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for shown in BACKEND_NAMES:
        entry = BACKENDS[shown.partition(":PROCESSOR")[0]]
        runs = ", ".join(k for k in KINDS if k in entry.accepts)
        marks = ["yes" if f in entry.accepts else "refused" for f in FEATURES]
        marks.append("yes" if "shards" in entry.accepts else "refused")
        rows.append(f"| `{shown}` | {runs} | " + " | ".join(marks) + " |")
    return "\n".join(rows)


def results() -> str:
    from natq_cirq.runners.results import FIELDS

    rows = ["| field | holds |", "|---|---|"]
    rows += [f"| `{name}` | {text} |" for name, text in FIELDS.items()]
    return "\n".join(rows)


BLOCKS = {"code-map": code_map, "backends": backends, "results": results}


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(
        rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL
    )
    if not pattern.search(text):
        raise KeyError(f"no block {name}")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def stale() -> list[str]:
    """The blocks whose page differs from what the code generates."""
    out = []
    for name, make in BLOCKS.items():
        page = (ROOT / PAGES[name]).read_text()
        if replace_block(page, name, make()) != page:
            out.append(f"{PAGES[name]}: {name}")
    return out


def main() -> int:
    for name, make in BLOCKS.items():
        path = ROOT / PAGES[name]
        path.write_text(replace_block(path.read_text(), name, make()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
