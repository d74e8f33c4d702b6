"""The structure a reader sees is the real one: dependencies point down, no hidden imports.

physics <- the Cirq form of the physics (gates, read-out block, devices, noise) and files/data <-
engines, layers, training, inference <- compile <- runners <- CLI, demo, experiments. A module may
import natq_cirq modules of its own rank or below, and only at module level (the CLI alone defers
imports, so that bad flags are refused before TensorFlow loads, and experiment scripts).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "natq_cirq": ROOT / "natq_cirq",
    "natq_cirq.compile": ROOT / "compile",
    "natq_cirq.runners": ROOT / "runners",
    "experiments": ROOT / "experiments",
}
# Bands by folder: the core (plain data and formulas, top-level modules of natq_cirq), the Cirq side
# (hardware/), the TensorFlow side (engine/), compile/, runners/, the command line, experiments.
RANKS = {
    "natq_cirq": 1,  # the package's __init__ registers the gates' Cirq JSON
    "natq_cirq.errors": 0,
    "natq_cirq.imports": 0,
    "natq_cirq.catalog": 0,
    "natq_cirq.physics": 0,
    "natq_cirq.flags": 0,  # flag metadata of option fields: plain data
    "natq_cirq.identity": 0,  # the one run identity: canonical JSON -> SHA-256
    "natq_cirq.resources": 0,  # memory planned before it is allocated
    "natq_cirq.target": 1,  # where a read-out runs: plain data (a calibration: typed only)
    "natq_cirq.files": 1,
    "natq_cirq.data": 1,
    "natq_cirq.config": 1,  # typed options: no Cirq, no TensorFlow
    "natq_cirq.votes": 1,
    "natq_cirq.hardware": 2,
    "natq_cirq.engine": 3,
    "natq_cirq.compile": 4,
    "natq_cirq.runners": 5,
    "natq_cirq.cli": 6,
    "natq_cirq.demo": 6,
    "natq_cirq.__main__": 6,
    "experiments": 7,
}
CORE = [m for m, r in RANKS.items() if r <= 1 and m != "natq_cirq"]
# The CLI refuses bad flags before TensorFlow loads; experiment scripts load what a run needs.
DEFERRED_IMPORTS_ALLOWED = ("natq_cirq.cli", "experiments")
# The package's __init__ imports the gates (and so Cirq) only when Cirq loads or JSON_RESOLVER is
# asked for, so that `natq --help` and a mistyped path never wait for Cirq.
# The layers load the noisy engines' tables (and so Cirq) only for a noisy network: the noiseless
# engine, what `natq run --backend analytic` and training use, starts without Cirq.
DEFERRED_PAIRS = {
    ("natq_cirq", "natq_cirq.hardware.gates"),
    ("natq_cirq.engine.layers", "natq_cirq.hardware.noisy"),
}


def rank(module: str) -> int:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in RANKS:
            return RANKS[".".join(parts[:end])]
    raise KeyError(f"{module} has no rank: add it to RANKS")


def modules():
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("")
            parts = [p for p in relative.parts if p != "__init__"]
            yield ".".join([package, *parts]), path


def imports(tree: ast.AST, packages: tuple[str, ...]):
    """(module imported, line, whether at module level) for every import of ``packages``."""
    top = {id(node) for node in ast.iter_child_nodes(tree)}
    # Imports for annotations only (``if TYPE_CHECKING:`` at module level) are visible too.
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            top |= {id(child) for child in node.body}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in packages:
                yield name, node.lineno, id(node) in top


def natq_imports(tree: ast.AST):
    """(module imported, line, whether at module level) for every natq_cirq/experiments import."""
    return imports(tree, ("natq_cirq", "experiments"))


ALL = list(modules())


@pytest.mark.parametrize("module, path", ALL, ids=[m for m, _ in ALL])
def test_imports_point_down_and_are_visible(module, path):
    tree = ast.parse(path.read_text())
    for name, line, at_top in natq_imports(tree):
        assert rank(name) <= rank(module) or (module, name) in UPWARD_ALLOWED, (
            f"{path.name}:{line}: {module} (rank {rank(module)}) imports {name} "
            f"(rank {rank(name)}): an upward import"
        )
        deferred = module.startswith(DEFERRED_IMPORTS_ALLOWED) or (module, name) in DEFERRED_PAIRS
        if not deferred and name != "natq_cirq":
            assert at_top, f"{path.name}:{line}: {module} imports {name} inside a block"


# The package's __init__ registers the gates' Cirq JSON when Cirq loads (deferred, above).
UPWARD_ALLOWED = {("natq_cirq", "natq_cirq.hardware.gates")}

# Who may import TensorFlow and Cirq at all (at module level or deferred).
TENSORFLOW_SIDE = (
    "natq_cirq.engine",
    "natq_cirq.runners.analytic",
    "natq_cirq.runners.noisy_analytic",
    "natq_cirq.runners.tfq",
    "natq_cirq.cli",  # imports TensorFlow quietly before a command that needs it
    "experiments",
)


HEAVY = ("tensorflow", "tensorflow_quantum", "cirq", "cirq_google", "qsimcirq")


def heavy_imports(tree: ast.AST):
    """(library, line) of every import of TensorFlow, TFQ or Cirq in a module."""
    for name, line, _ in imports(tree, HEAVY):
        yield name.split(".")[0], line


@pytest.mark.parametrize("module, path", ALL, ids=[m for m, _ in ALL])
def test_bands_by_folder(module, path):
    """The core imports neither Cirq nor TensorFlow; only the TensorFlow side imports TensorFlow."""
    for library, line in heavy_imports(ast.parse(path.read_text())):
        if module in CORE:
            raise AssertionError(f"{path.name}:{line}: the core module {module} imports {library}")
        if library.startswith("tensorflow"):
            assert module.startswith(TENSORFLOW_SIDE), (
                f"{path.name}:{line}: {module} imports {library} outside the TensorFlow side"
            )


# TensorFlow Quantum is the [tfq] extra: only these modules may import it (directly, or through
# the TFQ layers or the TFQ backend); everything else must work without it.
TFQ_MODULES = ("natq_cirq.engine.tfq_layers", "natq_cirq.runners.tfq")
TFQ_USERS = (*TFQ_MODULES, "experiments.tfq_keras", "experiments.benchmarks.runner_speed")


def tfq_imports(tree: ast.AST):
    """(module, line) of every import of TFQ, the TFQ layers or the TFQ backend in a module."""
    for name, line, _ in imports(tree, ("tensorflow_quantum", "natq_cirq")):
        if name.split(".")[0] == "tensorflow_quantum" or name.startswith(TFQ_MODULES):
            yield name, line


@pytest.mark.parametrize("module, path", ALL, ids=[m for m, _ in ALL])
def test_only_the_tfq_modules_import_tfq(module, path):
    """Without the [tfq] extra, every other module imports (test_install runs the import)."""
    for name, line in tfq_imports(ast.parse(path.read_text())):
        assert module in TFQ_USERS, f"{path.name}:{line}: {module} imports {name} (the [tfq] extra)"


def test_the_tfq_check_has_power(tmp_path):
    source = tmp_path / "module.py"
    for text in ("import tensorflow_quantum as tfq", "from natq_cirq.runners.tfq import build"):
        source.write_text(text + "\n")
        with pytest.raises(AssertionError, match="the \\[tfq\\] extra"):
            test_only_the_tfq_modules_import_tfq("natq_cirq.runners.backends", source)
    assert not list(tfq_imports(ast.parse("from natq_cirq.runners import tfq_free")))


def test_bands_have_power(tmp_path):
    """A core module that imports Cirq, and a Cirq-side one that imports TensorFlow, are found."""
    assert list(heavy_imports(ast.parse("import cirq"))) == [("cirq", 1)]
    deferred = ast.parse("def f():\n    import tensorflow as tf")
    assert list(heavy_imports(deferred)) == [("tensorflow", 2)]
    source = tmp_path / "module.py"
    source.write_text("import cirq\n")
    with pytest.raises(AssertionError, match="core module"):
        test_bands_by_folder("natq_cirq.target", source)
    source.write_text("import tensorflow\n")
    with pytest.raises(AssertionError, match="outside the TensorFlow side"):
        test_bands_by_folder("natq_cirq.hardware.noisy", source)
    assert rank("natq_cirq.hardware.gates") < rank("natq_cirq.engine.layers")


def test_the_check_has_power(tmp_path):
    """An upward import and a hidden one are both found."""
    tree = ast.parse("import natq_cirq.runners\ndef f():\n    from natq_cirq import engine\n")
    found = list(natq_imports(tree))
    assert ("natq_cirq.runners", 1, True) in found and ("natq_cirq", 3, False) in found
    assert rank("natq_cirq.runners.layered") > rank("natq_cirq.physics")


CLI_MAX_LINES = 150


@pytest.mark.parametrize("path", sorted((ROOT / "natq_cirq" / "cli").glob("*.py")), ids=str)
def test_each_command_module_is_small(path):
    """One module per command, none over ~150 lines (flags come from the option classes)."""
    assert len(path.read_text().splitlines()) <= CLI_MAX_LINES, path.name
