"""``python -m natq_cirq`` is the ``natq`` command."""

from natq_cirq.cli import run

if __name__ == "__main__":
    run()
