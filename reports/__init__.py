"""Resident reports of local problems: routed, answered within a deadline, rated, counted
in public from the log (docs/protocol.md §16)."""
