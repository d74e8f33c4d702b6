"""MkDocs hook: let mkdocstrings find natq_cirq.compile and natq_cirq.runners.

The package maps the top-level folders compile/ and runners/ into natq_cirq (pyproject's
package-dir), which griffe's static finder does not follow. Before the build, a temporary tree
``natq_cirq/`` of symbolic links (the package's files, plus compile/ and runners/) is made and
given to the Python handler as its search path.
"""

import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parent.parent


@event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config):
    tree = Path(tempfile.mkdtemp(prefix="natq-docs-")) / "natq_cirq"
    tree.mkdir()
    for item in (ROOT / "natq_cirq").iterdir():
        (tree / item.name).symlink_to(item)
    for sub in ("compile", "runners"):
        (tree / sub).symlink_to(ROOT / sub)
    handler = config["plugins"]["mkdocstrings"].config["handlers"].setdefault("python", {})
    handler["paths"] = [str(tree.parent)]
    return config
