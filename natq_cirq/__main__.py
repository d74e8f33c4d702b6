"""``python -m natq_cirq`` is the ``natq`` command."""

from natq_cirq.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
