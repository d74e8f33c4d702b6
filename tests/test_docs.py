"""The docs: the site builds strictly, the tutorials run as written, every link stays inside."""

import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "site" / "reference" / "runners" / "index.html").read_text()
    assert "NatqSampler" in api  # the API reference is generated from the docstrings


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path, monkeypatch):
    """Each tutorial is a jupytext notebook; its code cells run in order, as a reader would."""
    notebook = jupytext.read(path)
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert len(cells) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, source in enumerate(cells):
        exec(compile(source, f"{path.name}[cell {i}]", "exec"), namespace)


def test_links_stay_inside_the_repository():
    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    for page in PAGES:
        text = page.read_text()
        assert "../shared" not in text and "DEVELOPERS.md" not in text, page
        for target in link.findall(text):
            if re.match(r"[a-z]+://", target):
                continue
            assert (page.parent / target).resolve().exists(), f"{page.name}: {target}"


def test_generated_blocks_are_up_to_date():
    """The guide's code map and the backends and RESULTS tables come from the code."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "docs" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    assert generate.stale() == [], "run: python docs/generate.py"
    # Power: a page whose block differs is found.
    page = "<!-- generated:results -->\nold\n<!-- /generated:results -->"
    assert generate.replace_block(page, "results", generate.results()) != page
