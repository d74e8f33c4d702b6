"""natq-cirq: naturally quantized neural networks on Cirq, qsim and TensorFlow Quantum.

Importing the package sets ``TF_USE_LEGACY_KERAS=1`` before anything imports TensorFlow: natq's
Keras is Keras 2 (``tf-keras``) on every supported TensorFlow, 2.18 to 2.21, as TensorFlow Quantum
(the ``[tfq]`` extra) needs. Heavy modules (TensorFlow, Cirq) are only
imported by the submodules that need them.
"""

import os as _os
import warnings as _warnings

# Keras 2 (tf-keras) on every stack, as TFQ 0.7.6 needs; before TensorFlow is first imported.
_os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) is noise for a CPU user.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# google.api_core (via cirq_google) warns about the Python version on import; not our users' concern.
_warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")

import importlib.abc as _abc  # noqa: E402
import importlib.util as _util  # noqa: E402
import sys as _sys  # noqa: E402

from natq_cirq.errors import NatqError  # noqa: E402

__version__ = "0.1.0"


def _register_json_resolver() -> None:
    # natq_cirq.hardware.gates registers its resolver when it loads. Deferred: importing Cirq takes a
    # second, and `natq --help` or a mistyped path should not wait for it (tests/
    # test_architecture.py lists this exception). Already importing (Cirq is loading because
    # the gates module imports it): it registers when it finishes.
    if "natq_cirq.hardware.gates" not in _sys.modules:
        import natq_cirq.hardware.gates  # noqa: F401


class _WhenCirqLoads(_abc.MetaPathFinder):
    """Registers natq's JSON resolver the moment Cirq finishes importing (a post-import hook)."""

    def find_spec(self, name, path=None, target=None):
        if name != "cirq":
            return None
        _sys.meta_path.remove(self)
        spec = _util.find_spec("cirq")
        if spec is not None and spec.loader is not None:
            load = spec.loader.exec_module

            def exec_module(module):
                load(module)
                _register_json_resolver()

            spec.loader.exec_module = exec_module
        return spec


# cirq.read_json understands natq-cirq's gates once natq_cirq is imported, whichever of the two
# is imported first. Callers who pass their own resolvers prepend ours, as Cirq asks of
# third-party packages: cirq.read_json(path, resolvers=[natq_cirq.JSON_RESOLVER, *DEFAULT_RESOLVERS]).
if "cirq" in _sys.modules:
    _register_json_resolver()
else:
    _sys.meta_path.insert(0, _WhenCirqLoads())


def __getattr__(name: str):
    if name == "JSON_RESOLVER":  # imports Cirq, so only when asked for
        from natq_cirq.hardware.gates import json_resolver

        return json_resolver
    raise AttributeError(f"module 'natq_cirq' has no attribute {name!r}")


__all__ = ["JSON_RESOLVER", "NatqError", "__version__"]
