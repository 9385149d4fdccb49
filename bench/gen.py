"""Realistic, valid case streams for the benchmarks (deterministic from a seed).

A long case (50-200 events) follows the life of a vocational-rehabilitation
case with a performance-based agreement: CaseOpened, PBAOpened, the placement
plan milestone (pre-authorized, then paid), the job-hire milestone with the
EmploymentStarted that is the employment outcome, then post-employment
services (authorizations with partial and final payments, IPE amendments that
add a category, cancelled authorizations, a job change that continues the
earlier job), and for most cases the end: M4Ended for supported employment, the
successful-placement milestone once the 90 days have run, PBAEnded and a
successful CaseClosed. Every sequence passes the deciders (`check_cases`).

A short case (2-8 events) is what the closure worklist sees most: opened,
employed or not, an authorization still open, closed; its dates spread so the
worklist holds every status.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

Event = tuple[str, dict[str, Any]]
CATEGORIES = (
    "job_placement",
    "job_coaching",
    "transportation",
    "assistive_technology",
    "counseling",
    "training",
    "tools_and_equipment",
    "interpreter_services",
)
SOC_CODES = ("41-2031", "35-2014", "43-4051", "53-7062", "37-2011", "31-1131", "43-9061")
EMPLOYERS = (
    "Hennepin Grocers",
    "North Star Logistics",
    "Lakeside Clinic",
    "Twin Cities Print",
    "Prairie Foods",
    "Metro Transit Services",
    "Riverbend Library",
)
PROVIDERS = tuple(f"prov-{i:03d}" for i in range(40))
BASE_DAY = date(2019, 1, 7)
# The evaluation date the read benchmarks use: short cases spread around it.
AS_OF = date(2025, 6, 30)


def _d(day: date) -> str:
    return day.isoformat()


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high)}.{rng.choice(('00', '50', '25', '75'))}"


class _Case:
    """Builds one stream; `day` only moves forward, so every date rule holds."""

    def __init__(self, rng: random.Random, case_id: str, start: date) -> None:
        self.rng, self.case_id, self.day = rng, case_id, start
        self.events: list[Event] = []
        self.auths = 0
        self.jobs = 0
        self.categories = list(rng.sample(CATEGORIES[:5], 3))
        self.provider = rng.choice(PROVIDERS)

    def step(self, low: int = 1, high: int = 6) -> date:
        self.day += timedelta(days=self.rng.randint(low, high))
        return self.day

    def add(self, type_: str, **data: Any) -> None:
        self.events.append((type_, data))

    def auth_id(self) -> str:
        self.auths += 1
        return f"{self.case_id}-a{self.auths}"

    def open(self, supported: bool) -> None:
        self.add(
            "CaseOpened",
            opened_on=_d(self.day),
            supported_employment=supported,
            ipe_service_categories=list(self.categories),
        )

    def milestone_auth(self, milestone: str, amount: str, days: int = 60) -> str:
        auth = self.auth_id()
        self.add(
            "AuthorizationIssued",
            authorization_id=auth,
            provider_id=self.provider,
            service_category="job_placement",
            start_date=_d(self.day),
            end_date=_d(self.day + timedelta(days=days)),
            amount=amount,
            pba_id=f"{self.case_id}-pba",
            milestone=milestone,
        )
        return auth

    def pay(self, auth: str, amount: str, in_full: bool = True) -> None:
        self.add(
            "AuthorizationPaid",
            authorization_id=auth,
            payment_date=_d(self.step(1, 4)),
            amount=amount,
            paid_in_full=in_full,
        )

    def start_job(
        self, *, continues: str | None = None, soc: str | None = None, temporary: bool = False
    ) -> str:
        self.jobs += 1
        job = f"{self.case_id}-j{self.jobs}"
        data: dict[str, Any] = dict(
            job_id=job,
            start_date=_d(self.day),
            employer=self.rng.choice(EMPLOYERS),
            soc_code=soc or self.rng.choice(SOC_CODES),
            hours_per_week=self.rng.choice((20, 25, 30, 40)),
            hourly_wage=f"{self.rng.randint(15, 28)}.{self.rng.choice(('00', '50', '25'))}",
            career_pathway="retail",
        )
        if continues:
            data["continuous_with_job_id"] = continues
        if temporary:
            data["temporary"] = True
        self.add("EmploymentStarted", **data)
        return job


def long_case(rng: random.Random, case_id: str, n_events: int) -> list[Event]:
    """About `n_events` events (exactly, when n_events >= 30) of a PBA case."""
    start = BASE_DAY + timedelta(days=rng.randint(0, 1500))
    c = _Case(rng, case_id, start)
    supported = rng.random() < 0.2
    finishes = rng.random() < 0.6
    c.open(supported)
    pba = f"{case_id}-pba"
    c.add("PBAOpened", pba_id=pba, provider_id=c.provider, opened_on=_d(c.step()))
    plan = c.milestone_auth("placement_plan_signed", "1000.00")
    c.add(
        "PBAMilestoneReached",
        pba_id=pba,
        milestone="placement_plan_signed",
        reached_on=_d(c.step()),
        authorization_id=plan,
        signed_by=["consumer", "provider", "vr_staff"],
        face_to_face=True,
    )
    c.pay(plan, "1000.00")
    hire = c.milestone_auth("job_hire", "1300.00")
    c.step()
    soc = rng.choice(SOC_CODES)
    job = c.start_job(soc=soc)
    first_shift = c.events[-1][1]["start_date"]
    c.add(
        "PBAMilestoneReached",
        pba_id=pba,
        milestone="job_hire",
        reached_on=_d(c.step(0, 3)),
        authorization_id=hire,
        job_id=job,
        first_paid_shift_on=first_shift,
        placement_type="individual",
        provider_is_employer=False,
        job_source="pba",
    )
    c.pay(hire, "1300.00")
    m4 = None
    if supported:
        m4 = c.auth_id()
        c.add(
            "AuthorizationIssued",
            authorization_id=m4,
            provider_id=c.provider,
            service_category="job_coaching",
            start_date=_d(c.day),
            end_date=_d(c.day + timedelta(days=120)),
            amount="2400.00",
            m4=True,
        )
    tail = (4 if finishes else 0) + (2 if supported else 0) + (1 if finishes else 0)
    job = _services(c, job, soc, n_events - tail)
    if supported:
        assert m4 is not None
        c.pay(m4, "2400.00")
        c.add("M4Ended", end_date=_d(c.step()), authorization_id=m4)
    if finishes:
        eligible = c.day + timedelta(days=90)  # every authorization is paid or cancelled
        c.day = eligible + timedelta(days=rng.randint(1, 20))
        sp = c.milestone_auth("successful_placement", "1500.00", days=120)
        c.add(
            "PBAMilestoneReached",
            pba_id=pba,
            milestone="successful_placement",
            reached_on=_d(c.step(0, 2)),
            authorization_id=sp,
        )
        c.pay(sp, "1500.00")
        c.add("PBAEnded", pba_id=pba, ended_on=_d(c.step()), reason="completed")
        c.add("CaseClosed", closed_on=_d(c.step()), outcome="successful")
    return c.events


def _services(c: _Case, job: str, soc: str, until: int) -> str:
    """Post-employment services until the stream holds `until` events; returns the current job."""
    rng = c.rng
    while len(c.events) < until:
        room = until - len(c.events)
        roll = rng.random()
        if room < 4:
            c.add("IPEAmended", amended_on=_d(c.step(0, 2)), service_categories_added=[])
        elif roll < 0.08 and len(c.categories) < len(CATEGORIES):
            new = next(x for x in CATEGORIES if x not in c.categories)
            c.categories.append(new)
            c.add("IPEAmended", amended_on=_d(c.step()), service_categories_added=[new])
        elif roll < 0.14:
            auth = c.auth_id()
            c.add(
                "AuthorizationIssued",
                authorization_id=auth,
                provider_id=rng.choice(PROVIDERS),
                service_category=rng.choice(c.categories),
                start_date=_d(c.step()),
                end_date=_d(c.day + timedelta(days=30)),
                amount=_money(rng, 100, 900),
                post_employment=True,
            )
            c.add("AuthorizationCancelled", authorization_id=auth, cancelled_on=_d(c.step()))
        elif roll < 0.18:
            c.add(
                "EmploymentEnded",
                job_id=job,
                end_date=_d(c.step()),
                reason="moved to a similar job",
            )
            c.step(0, 1)
            job = c.start_job(continues=job, soc=soc)
        else:
            auth = c.auth_id()
            amount = _money(rng, 200, 3000)
            c.add(
                "AuthorizationIssued",
                authorization_id=auth,
                provider_id=rng.choice(PROVIDERS),
                service_category=rng.choice(c.categories),
                start_date=_d(c.step()),
                end_date=_d(c.day + timedelta(days=rng.randint(20, 90))),
                amount=amount,
                post_employment=True,
            )
            for _ in range(min(rng.choice((0, 0, 1, 2)), room - 3)):
                c.pay(auth, _money(rng, 10, 150), in_full=False)
            c.pay(auth, amount)
    return job


def short_case(rng: random.Random, case_id: str) -> list[Event]:
    """2-8 events; statuses spread around AS_OF (waiting, running, eligible, closed...)."""
    c = _Case(rng, case_id, AS_OF - timedelta(days=rng.randint(30, 700)))
    c.open(supported=rng.random() < 0.1)
    roll = rng.random()
    if roll < 0.1:
        return c.events  # not employed yet
    c.day = AS_OF - timedelta(days=rng.randint(-20, 240))
    job = c.start_job()
    if roll < 0.2:
        c.add("EmploymentEnded", job_id=job, end_date=_d(c.step(0, 30)), reason="laid off")
        return c.events
    if roll < 0.3:
        c.add("EmploymentFollowUpCancelled", cancelled_on=_d(c.step()), reason="needs a new plan")
        return c.events
    for _ in range(rng.randint(0, 3)):
        auth = c.auth_id()
        amount = _money(rng, 100, 900)
        c.add(
            "AuthorizationIssued",
            authorization_id=auth,
            provider_id=c.provider,
            service_category=c.categories[0],
            start_date=_d(c.step(0, 10)),
            end_date=_d(c.day + timedelta(days=rng.randint(10, 60))),
            amount=amount,
            post_employment=True,
        )
        if rng.random() < 0.6:
            c.pay(auth, amount)
    if roll > 0.85:
        c.add("CaseClosed", closed_on=_d(c.step()), outcome="unsuccessful", reason="moved away")
    return c.events


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def cases(
    seed: int,
    n_events: int,
    *,
    short: bool = False,
    prefix: str = "bc",
    sizes: tuple[int, int] = (50, 200),
) -> Iterator[tuple[str, list[Event]]]:
    """Cases until about `n_events` events (short: `n_events` is the number of cases)."""
    rng = random.Random(seed)
    total, i = 0, 0
    while total < n_events:
        case_id = f"{prefix}-{seed}-{i:07d}"
        events = short_case(rng, case_id) if short else long_case(rng, case_id, rng.randint(*sizes))
        total += 1 if short else len(events)
        i += 1
        yield case_id, events


def lines(seed: int, case_id: str, events: list[Event]) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{seed}:{case_id}")
    for type_, data in events:
        yield {
            "case_id": case_id,
            "event_id": str(_uuid(rng)),
            "type": type_,
            "data": data,
            "metadata": {"source": "qe2-export", "correlation_id": case_id},
        }


def write_ndjson(path: Path, seed: int, n_events: int, *, short: bool = False) -> dict[str, int]:
    """Write the export once (kept in bench/out/, reused while the generator is unchanged)."""
    stats = {"events": 0, "cases": 0}
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for case_id, events in cases(seed, n_events, short=short):
            stats["cases"] += 1
            stats["events"] += len(events)
            f.write(b"".join(orjson.dumps(line) + b"\n" for line in lines(seed, case_id, events)))
    tmp.replace(path)
    return stats


def check_cases(streams: list[tuple[str, list[Event]]]) -> list[str]:
    """Fold every stream through the deciders; the refusals, if any (there should be none)."""
    from app.domain.case import decide_case, evolve_case
    from app.domain.facts import Fact
    from app.domain.policy import DEFAULT_POLICY
    from app.events import parse_event

    problems = []
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for case_id, events in streams:
        from app.domain.case import initial_case_state

        state = initial_case_state()
        for version, (type_, data) in enumerate(events, start=1):
            event = parse_event(type_, data)
            refusal = decide_case(state, event, DEFAULT_POLICY)
            if refusal is not None:
                problems.append(f"{case_id} v{version} {type_}: {refusal.rule}: {refusal.detail}")
                break
            state = evolve_case(state, Fact(_uuid(random.Random(version)), version, at, event))
    return problems
