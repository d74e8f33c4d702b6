"""natq-cirq: naturally quantized neural networks on Cirq, qsim and TensorFlow Quantum.

Importing the package sets ``TF_USE_LEGACY_KERAS=1`` (TensorFlow Quantum needs the Keras 2 API that
``tf-keras`` provides) before anything imports TensorFlow. Heavy modules (TensorFlow, Cirq) are only
imported by the submodules that need them.
"""

import os as _os
import warnings as _warnings

# TFQ 0.7.6 works only with tf-keras; this must happen before TensorFlow is first imported.
_os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
# TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) is noise for a CPU user.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# google.api_core (via cirq_google) warns about the Python version on import; not our users' concern.
_warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core")

from natq_cirq.errors import NatqError  # noqa: E402
from natq_cirq.gates import json_resolver as JSON_RESOLVER  # noqa: E402
from natq_cirq.gates import register_json_resolver  # noqa: E402

__version__ = "0.1.0"

# cirq.read_json understands natq-cirq's gates once natq_cirq is imported. Callers who pass their
# own resolvers prepend ours, as Cirq asks of third-party packages:
# cirq.read_json(path, resolvers=[natq_cirq.JSON_RESOLVER, *cirq.DEFAULT_RESOLVERS]).
register_json_resolver()

__all__ = ["JSON_RESOLVER", "NatqError", "__version__"]
