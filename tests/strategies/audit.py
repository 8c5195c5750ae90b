"""Hypothesis strategies for the audit log: canonical JSON values, entries, exported logs."""

from __future__ import annotations

from hypothesis import strategies as st

from audit.canonical import MAX_SAFE_INTEGER, JsonValue

__all__ = [
    "ascii_keys",
    "json_strings",
    "json_values",
    "safe_integers",
]

safe_integers = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)

# Any code point except lone surrogates; the escapes for controls, quotes and
# backslashes are where canonical encoders usually differ, so bias towards them.
json_strings = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list('"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\U0001f602')),
    ),
    max_size=20,
)

ascii_keys = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8)

json_scalars: st.SearchStrategy[JsonValue] = st.one_of(
    st.none(), st.booleans(), safe_integers, json_strings
)

json_values: st.SearchStrategy[JsonValue] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(ascii_keys, children, max_size=5),
    ),
    max_leaves=25,
)
