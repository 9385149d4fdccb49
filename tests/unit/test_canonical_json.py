"""The one canonical form: a value as a jsonb column gives it back."""

from __future__ import annotations

import math

import orjson
import pytest

from app.domain.hashing import NotCanonical, canonical_json


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("-0.0", 0.0),
        ("1e16", 10**16),
        ("-1e16", -(10**16)),
        ("1.0", 1.0),
        ("1E2", 100.0),
        ("2.5e20", 2.5e20),  # past 64 bits: read back as a float, so kept one
        ("12345678901234567890", 12345678901234567890),
        ("1.5e-7", 1.5e-7),
        ('{"\u00e9": [-0.0, {"k": 1e17}]}', {"\u00e9": [0.0, {"k": 10**17}]}),
    ],
)
def test_numbers_take_the_form_jsonb_gives_back(sent: str, stored: object) -> None:
    value = canonical_json(orjson.loads(sent))
    assert value == stored and type(value) is type(stored)
    if isinstance(value, float):
        assert math.copysign(1, value) == 1


def test_negative_zero_is_stored_as_zero() -> None:
    assert math.copysign(1, canonical_json(-0.0)) == 1


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_json_cannot_hold_is_refused(number: float) -> None:
    with pytest.raises(NotCanonical):
        canonical_json({"n": [number]})
