"""Which closed cases a retention run destroys (issue 13, item 3: the rule, before its wiring)."""

from __future__ import annotations

from datetime import date

from app.domain.retention import due_for_destruction, years_after

TODAY = date(2026, 12, 7)


def test_a_case_closed_five_years_ago_is_due_and_a_younger_one_is_not() -> None:
    due = due_for_destruction("c1", date(2021, 12, 7), [], today=TODAY)
    assert due is not None and due.period_years == 5 and due.destroyed_on == TODAY
    assert due_for_destruction("c2", date(2021, 12, 8), [], today=TODAY) is None
    assert due_for_destruction("c3", None, [], today=TODAY) is None  # still open


def test_a_hold_in_force_spares_the_case_and_a_lifted_one_does_not() -> None:
    closed = date(2015, 1, 1)
    assert due_for_destruction("c1", closed, [(date(2020, 1, 1), None)], today=TODAY) is None
    assert due_for_destruction("c1", closed, [(date(2020, 1, 1), date(2027, 1, 1))], today=TODAY) is None
    assert due_for_destruction("c1", closed, [(date(2020, 1, 1), date(2026, 1, 1))], today=TODAY) is not None


def test_the_period_is_counted_in_calendar_years() -> None:
    assert years_after(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert due_for_destruction("c1", date(2023, 12, 7), [], today=TODAY, period_years=3) is not None
