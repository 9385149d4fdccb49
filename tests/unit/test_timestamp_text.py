"""`timestamp_text` is part of every hash: the fast form must give the original bytes.

The original definition was `moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")`;
every event, access record and policy adoption stored so far was hashed over it, so any
difference (a microsecond field, a time zone, a year below 1000) would make `verify`
report an untouched row as broken.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.hashing import TIMESTAMP_FORMAT, timestamp_text

ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(-timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)),
        ZoneInfo("America/Chicago"),
        ZoneInfo("UTC"),
    ]
)


def original(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def same_or_same_error(moment: datetime) -> None:
    try:
        expected: str | type[Exception] = original(moment)
    except (OverflowError, ValueError) as error:
        expected = type(error)
    try:
        got: str | type[Exception] = timestamp_text(moment)
    except (OverflowError, ValueError) as error:
        got = type(error)
    assert got == expected


@given(st.datetimes(timezones=ZONES))
@example(datetime(2025, 1, 6, 14, 3, 7, tzinfo=UTC))  # microsecond 0
@example(datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))  # a three-digit year
@example(datetime(1000, 1, 1, tzinfo=timezone(timedelta(hours=1))))  # back into year 999 in UTC
@example(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=1))))  # before datetime.min in UTC
@example(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=1))))  # past datetime.max
def test_aware_datetimes_give_the_original_text(moment: datetime) -> None:
    same_or_same_error(moment)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_naive_datetimes_give_the_original_text(moment: datetime) -> None:
    same_or_same_error(moment)


def test_the_text_is_fixed_width_utc_with_microseconds() -> None:
    moment = datetime(2025, 1, 6, 9, 3, 7, tzinfo=ZoneInfo("America/Chicago"))
    assert timestamp_text(moment) == "2025-01-06T15:03:07.000000Z"
