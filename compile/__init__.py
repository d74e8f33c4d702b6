"""Compiler: lowers trained weights and inputs into Cirq circuits (filled by the compiler issue)."""
