"""Runners: execute compiled programs on simulators and hardware (filled by the runners issue)."""
