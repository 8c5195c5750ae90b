"""Hypothesis strategies for proposals: pledge amounts and review decisions."""

from __future__ import annotations

from hypothesis import strategies as st

amounts = st.integers(min_value=-10, max_value=2_000_000)
statuses = st.sampled_from(["accept", "reject"])
