"""Hostile values shared by the fuzz tests."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text the URL and form encoders can carry (no lone surrogates), control characters included.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)

HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "0",
    "-1",
    "-0",
    "1.5",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "9" * 40,
    "-" + "9" * 40,
    str(2**63),
    str(-(2**63) - 1),
    "0x41",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2024-02-30",
    "1970-01-01T00:00:00",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "foo",
    "'; DROP TABLE orders_order; --",
    "%",
    "%00",
    "_",
    "\\",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "☃" * 30,
    "T" * 34,
    "TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw",
    "x" * 5000,
    "true",
    "null",
    "[]",
    "{}",
]

HOSTILE = st.one_of(st.sampled_from(HOSTILE_STRINGS), TEXT, st.integers().map(str))

# Arbitrary JSON values: every type, deep nesting, huge and non-finite numbers.
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(HOSTILE_STRINGS),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def mutated(template: Any) -> st.SearchStrategy[Any]:
    """Values shaped like `template` (a real provider answer) with any part replaced by
    arbitrary JSON, keys dropped, lists resized: reaches deep into a parser, unlike pure noise."""
    if isinstance(template, dict):
        fields = st.fixed_dictionaries({key: mutated(value) for key, value in template.items()})
        shaped = fields.flatmap(
            lambda d: (
                st.sets(st.sampled_from(sorted(d))).map(
                    lambda dropped: {k: v for k, v in d.items() if k not in dropped}
                )
                if d
                else st.just(d)
            )
        )
    elif isinstance(template, list):
        shaped = st.lists(mutated(template[0]) if template else JSON, max_size=3)
    else:
        shaped = st.just(template)
    return st.one_of(shaped, shaped, shaped, JSON)


def encoded(value: Any) -> bytes:
    """JSON as a provider might send it: NaN and Infinity included (Python's json allows them)."""
    return json.dumps(value).encode()
