"""Field types shared by the event schemas.

Pydantic's lax mode would accept `0` as 1970-01-01, `"1"` as True and floats as
money; an audit trail must not guess, so every field here is strict about the
shape the integration contract names.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool

# Ids of the contract (case_id, pba_id, ...). Match with `IDENTIFIER.fullmatch`: the
# pattern's `$` would also accept a trailing newline.
IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
IDENTIFIER_PATTERN = rf"^{IDENTIFIER.pattern}$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_CENTS = Decimal("0.01")
# Business dates of a VR case; the bound keeps date arithmetic (clock start plus
# the policy's wait) far from date.max.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 31)


def _calendar_date(value: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a calendar date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real calendar date") from exc
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must lie between {EARLIEST_DATE} and {LATEST_DATE}")
    return day


def _money(value: object) -> Decimal:
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError('must be a decimal string of dollars and cents, like "1300.00"')
    if not _MONEY.match(text):
        raise ValueError("must be a non-negative decimal with at most two decimal places")
    return Decimal(text).quantize(_CENTS)


def _decimal_number(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | float | str | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return number
    raise ValueError("must be a number")


def _money_text(value: Decimal) -> str:
    return format(value.quantize(_CENTS), "f")


CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
Money = Annotated[Decimal, BeforeValidator(_money), PlainSerializer(_money_text, return_type=str)]
Wage = Annotated[
    Decimal,
    BeforeValidator(_decimal_number),
    Field(ge=0, le=100000),
    PlainSerializer(_money_text, return_type=str),
]
Hours = Annotated[
    Decimal,
    BeforeValidator(_decimal_number),
    Field(gt=0, le=168),
    PlainSerializer(lambda v: float(v) if v != v.to_integral() else int(v), return_type=float | int),
]
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Category = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
SocCode = Annotated[str, Field(pattern=r"^\d{2}-\d{4}$")]
Flag = StrictBool
Milestone = Literal["placement_plan_signed", "job_hire", "successful_placement"]
MILESTONE_ORDER: tuple[Milestone, ...] = (
    "placement_plan_signed",
    "job_hire",
    "successful_placement",
)


class EventData(BaseModel):
    """Base of every event payload: frozen, and unknown fields are refused.

    `TYPE` is the stable name stored in the log (never a module path, so moving
    a class breaks no stored data); `SCHEMA_VERSION` is the payload shape that
    upcasters bring older stored payloads up to.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    def to_json_dict(self) -> dict[str, Any]:
        """The normalised payload as stored: optional fields left out when absent."""
        return self.model_dump(mode="json", exclude_none=True)
