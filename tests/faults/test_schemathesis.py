"""Schemathesis against the OpenAPI document on the app: no server error, responses conform.

The schema is the one the app serves at /openapi.json (the document written to
openapi.yaml), loaded through ASGI with an admin key; requests go to the same app
in process, on a database of its own. Every operation is fuzzed with
schema-valid data and, where it takes input, with schema-invalid data.
`POST /cases/{case_id}/events` is fuzzed a third way, with events typed by the
event registry's own schemas on three case ids, so the deciders see streams of
well-formed events (the document keeps `data` open: it differs per type).

Bounded for CI: Hypothesis derandomized (the same examples every run), few
examples per operation, a per-example deadline and a per-request timeout.

What this fuzzing found (each now fixed, and kept below as a regression test):
every JSON success response documented as `{"type": "string"}`; an undocumented
400 for a body that is not UTF-8; 500 for `after` beyond int64 (GET /events) and
`from_version` beyond int32; 500 for a `known_at` outside years 1-9999 in UTC;
500 for an append whose clock start + the closure wait passed 9999-12-31; 500 for
a NUL character in event data or metadata, or in an API key's label.

The long poll `wait` of GET /events is narrowed to 0.2 s in the fuzzed copy of
the document, to keep the run short; nothing else is changed.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.events.registry import EVENT_TYPES
from app.service.keys import create_key
from app.settings import Settings
from app.store.db import connect

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# CASELEDGER_FUZZ_SCALE=10 runs ten times the examples (a deeper hunt by hand, not in CI)
SCALE = int(os.environ.get("CASELEDGER_FUZZ_SCALE", "1"))
EXAMPLES = {GenerationMode.POSITIVE: 25 * SCALE, GenerationMode.NEGATIVE: 15 * SCALE}
TYPED_EVENT_EXAMPLES = 80 * SCALE
REQUEST_TIMEOUT = 10  # seconds, per request
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=15),
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    print_blob=False,
)
_UNUSED_URL = "postgresql://nobody@/unused"


def _document() -> dict[str, Any]:
    from app.web.app import create_app

    return create_app(Settings(database_url=_UNUSED_URL), database_url=_UNUSED_URL).openapi()


DOCUMENT = _document()
OPERATIONS = [(method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops]
TAKES_INPUT = {
    (method.upper(), path)
    for path, ops in DOCUMENT["paths"].items()
    for method, op in ops.items()
    if op.get("parameters") or op.get("requestBody")
}


# --- the document ------------------------------------------------------------------------------


def _bare_string_success_schemas(doc: dict[str, Any]) -> list[str]:
    found = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, response in op.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("2") and schema == {"type": "string"}:
                    found.append(f"{method.upper()} {path} {status}")
    return found


def fuzzed_copy(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with the long poll of GET /events capped (one per example is too slow)."""
    doc = copy.deepcopy(doc)
    for parameter in doc["paths"]["/events"]["get"].get("parameters", []):
        if parameter["name"] == "wait":
            parameter["schema"]["maximum"] = 0.2
    return doc


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def st_target(databases: Any) -> tuple[str, str]:
    """A database of its own and an admin key on it."""
    url = await databases.create()
    conn = await connect(url)
    try:
        return url, (await create_key(conn, role="admin", label="schemathesis"))[1]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def st_app(st_target: tuple[str, str]) -> Iterator[tuple[Any, dict[str, str]]]:
    from schemathesis.python import asgi

    from app.web.app import create_app

    url, key = st_target
    app = create_app(Settings(database_url=url), database_url=url)
    yield app, {"Authorization": f"Bearer {key}"}
    asgi.shutdown_lifespans()  # the app's lifespan (its pool) ran in schemathesis' ASGI thread


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({"generation": {"deterministic": True, "database": "none"}})


@pytest.fixture(scope="module")
def served(st_app: tuple[Any, dict[str, str]]) -> Any:
    """The document as served at /openapi.json (behind a key), loaded through ASGI."""
    app, auth = st_app
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(), headers=auth)


@pytest.fixture(scope="module")
def st_schema(served: Any, st_app: tuple[Any, dict[str, str]]) -> Any:
    app, _ = st_app
    schema = schemathesis.openapi.from_dict(fuzzed_copy(served.raw_schema), config=_config())
    schema.app = app
    return schema


def run_fuzz(strategy: Any, examples: int, auth: dict[str, str]) -> Counter:
    statuses: Counter = Counter()
    failures: dict[str, str] = {}

    @given(case=strategy)
    @settings(FUZZ, max_examples=examples)
    def fuzz(case: Any) -> None:
        try:
            response = case.call_and_validate(headers=auth, checks=CHECKS, timeout=REQUEST_TIMEOUT)
            statuses[response.status_code] += 1
        except Exception as exc:  # collect one example per distinct failure, and go on
            text = str(exc) or type(exc).__name__
            if not isinstance(exc, AssertionError):  # a 500 raised through the ASGI client
                curl = case.as_curl_command(headers={"Authorization": "Bearer KEY"})
                text = f"{type(exc).__name__}: {text}\n{curl}"
            failures.setdefault(f"{type(exc).__name__}: {text.splitlines()[0]}", text)

    fuzz()
    assert not failures, "\n\n".join(list(failures.values())[:3])
    return statuses


# --- the fuzzing --------------------------------------------------------------------------------


def test_the_served_document_is_openapi_yaml(served: Any) -> None:
    assert served.raw_schema["paths"].keys() == DOCUMENT["paths"].keys()


# Valid input for every operation; invalid input only where an operation takes some
# (an operation without parameters or body has nothing to make invalid).
FUZZ_CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) in TAKES_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), FUZZ_CASES)
def test_fuzz_operation(st_schema: Any, st_app: Any, method: str, path: str, mode: GenerationMode) -> None:
    _, auth = st_app
    operation = st_schema[path][method]
    statuses = run_fuzz(operation.as_strategy(generation_mode=mode), EXAMPLES[mode], auth)
    assert statuses, "no request was made"
    # Negative cases may drop the Authorization header on purpose (401 is then right), so the
    # key is checked by itself: still accepted after the operation was fuzzed.
    probe = st_schema["/admin/api-keys"]["GET"].Case().call(headers=auth, timeout=REQUEST_TIMEOUT)
    assert probe.status_code == 200, f"the admin key stopped working: {probe.status_code} {probe.text[:200]}"


BUSINESS_DATE = {"type": "string", "pattern": r"^20[0-4][0-9]-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"}


def _business_dates(schema: Any) -> Any:
    """Dates of 2000-2049 (the format alone would give years 0001-9999, nearly all refused as
    outside the business range, so few events would reach the deciders)."""
    if isinstance(schema, dict):
        if schema.get("format") == "date":
            return dict(BUSINESS_DATE)
        return {k: _business_dates(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_business_dates(v) for v in schema]
    return schema


def _typed_events_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The append operation only, with each event's `data` described by its registry schema."""
    doc = copy.deepcopy(doc)
    operation = doc["paths"]["/cases/{case_id}/events"]["post"]
    variants, defs = [], {}
    for type_name, model in EVENT_TYPES.items():
        schema = _business_dates(model.model_json_schema(ref_template="#/components/schemas/{model}"))
        defs.update(schema.pop("$defs", {}))
        variants.append(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "data"],
                "properties": {
                    "type": {"type": "string", "enum": [type_name]},
                    "data": schema,
                    "metadata": {"type": "object"},
                },
            }
        )
    doc["components"].setdefault("schemas", {}).update(defs)
    operation["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["events"],
        "properties": {
            "events": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"oneOf": variants}}
        },
    }
    operation["parameters"] = [
        {**p, "schema": {"type": "string", "enum": ["fuzz-a", "fuzz-b", "fuzz-c"]}}
        if p["name"] == "case_id"
        else p
        for p in operation["parameters"]
    ]
    doc["paths"] = {"/cases/{case_id}/events": {"post": operation}}
    return doc


def test_fuzz_typed_events_against_the_deciders(st_schema: Any, st_app: Any) -> None:
    """Well-formed events of every type, in random order, onto three cases: each append is
    accepted or refused with a documented 4xx, never a server error."""
    app, auth = st_app
    opened = {
        "events": [
            {
                "type": "CaseOpened",
                "data": {
                    "opened_on": "2024-01-02",
                    "supported_employment": False,
                    "ipe_service_categories": ["0"],
                },
            }
        ]
    }
    for case_id in ("fuzz-a", "fuzz-b", "fuzz-c"):
        opening = st_schema["/cases/{case_id}/events"]["POST"].Case(
            path_parameters={"case_id": case_id}, body=opened, media_type="application/json"
        )
        assert opening.call(headers=auth).status_code in (201, 409)
    schema = schemathesis.openapi.from_dict(_typed_events_document(st_schema.raw_schema), config=_config())
    schema.app = app
    operation = schema["/cases/{case_id}/events"]["POST"]
    statuses = run_fuzz(operation.as_strategy(), TYPED_EVENT_EXAMPLES, auth)
    # the deciders took some and refused some (409); none was a server error
    assert statuses[201] >= 3 and statuses[409] >= 3, statuses
    assert not any(status >= 500 for status in statuses), statuses


# --- found by the fuzzing: the document ---------------------------------------------------------


def test_success_responses_are_documented_by_their_models(served: Any) -> None:
    assert _bare_string_success_schemas(served.raw_schema) == []


async def test_an_undecodable_body_gets_a_documented_status(api: Any) -> None:
    r = await api.client.post(
        "/cases/fuzz-x/events",
        content=b"\x80abc",
        headers={**api.headers("case_system"), "content-type": "application/json"},
    )
    assert r.status_code != 500 and r.headers["content-type"].startswith("application/problem+json")
    documented = DOCUMENT["paths"]["/cases/{case_id}/events"]["post"]["responses"]
    assert str(r.status_code) in documented, r.text


async def test_an_undecodable_body_is_a_4xx_problem(api: Any) -> None:
    """What holds today, whatever the status: a client error as problem+json."""
    for body in (b"\x80abc", b"\xff\xfe", b"{", b"", b"[]", b"null"):
        r = await api.client.post(
            "/cases/fuzz-x/events",
            content=body,
            headers={**api.headers("case_system"), "content-type": "application/json"},
        )
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers


# --- found by the fuzzing: server errors (regressions) -------------------------------------------


@pytest.fixture(scope="module")
async def plain(database_url: str, pool: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind an admin key, with an unhandled exception answered 500 as by a server."""
    from app.web.app import create_app

    async with pool.acquire() as conn:
        key = (await create_key(conn, role="admin"))[1]
    app = create_app(Settings(database_url=database_url), database_url=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {key}"}
        ) as client:
            yield client


def client_error(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")


async def opened_case(plain: httpx.AsyncClient) -> str:
    case_id = f"fuzzfound-{uuid.uuid4().hex[:12]}"
    r = await plain.post(
        f"/cases/{case_id}/events",
        json={
            "events": [
                {
                    "type": "CaseOpened",
                    "data": {
                        "opened_on": "2024-01-02",
                        "supported_employment": False,
                        "ipe_service_categories": ["job_coaching"],
                    },
                }
            ]
        },
    )
    assert r.status_code == 201, r.text
    return case_id


async def test_feed_after_beyond_int64_is_a_client_error(plain: httpx.AsyncClient) -> None:
    client_error(await plain.get("/events", params={"after": 2**63}))


async def test_stream_from_version_beyond_int32_is_a_client_error(plain: httpx.AsyncClient) -> None:
    case_id = await opened_case(plain)
    client_error(await plain.get(f"/cases/{case_id}/events", params={"from_version": 2**31}))


@pytest.mark.parametrize("known_at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
@pytest.mark.parametrize("what", ["events", "closure-clock", "history"])
async def test_known_at_out_of_range_is_a_client_error(
    plain: httpx.AsyncClient, what: str, known_at: str
) -> None:
    case_id = await opened_case(plain)
    client_error(await plain.get(f"/cases/{case_id}/{what}", params={"known_at": known_at}))


async def test_a_clock_start_near_the_end_of_time_is_refused_not_a_server_error(
    plain: httpx.AsyncClient,
) -> None:
    case_id = await opened_case(plain)
    r = await plain.post(
        f"/cases/{case_id}/events",
        json={
            "events": [
                {
                    "type": "EmploymentStarted",
                    "data": {
                        "job_id": "j1",
                        "start_date": "9999-12-30",
                        "employer": "Acme",
                        "soc_code": "35-2014",
                        "hours_per_week": 30,
                        "hourly_wage": "15.50",
                    },
                }
            ]
        },
    )
    client_error(r)


async def test_an_authorization_ending_9999_12_31_does_not_poison_the_case(plain: httpx.AsyncClient) -> None:
    case_id = await opened_case(plain)
    r = await plain.post(
        f"/cases/{case_id}/events",
        json={
            "events": [
                {
                    "type": "AuthorizationIssued",
                    "data": {
                        "authorization_id": "a1",
                        "provider_id": "p1",
                        "service_category": "job_coaching",
                        "start_date": "2024-01-05",
                        "end_date": "9999-12-31",
                        "amount": "10.00",
                    },
                }
            ]
        },
    )
    assert r.status_code in (201, 409, 422), r.text
    r = await plain.post(
        f"/cases/{case_id}/events",
        json={
            "events": [
                {
                    "type": "EmploymentStarted",
                    "data": {
                        "job_id": "j1",
                        "start_date": "2024-02-01",
                        "employer": "Acme",
                        "soc_code": "35-2014",
                        "hours_per_week": 30,
                        "hourly_wage": "15.50",
                    },
                }
            ]
        },
    )
    assert r.status_code != 500, r.text


@pytest.mark.parametrize("where", ["data", "metadata-value", "metadata-key"])
async def test_a_nul_character_in_an_event_is_refused_not_a_server_error(
    plain: httpx.AsyncClient, where: str
) -> None:
    case_id = await opened_case(plain)
    event: dict[str, Any] = {
        "type": "IPEAmended",
        "data": {"amended_on": "2024-01-03", "service_categories_added": []},
    }
    if where == "data":
        event["data"]["service_categories_added"] = ["job\x00coaching"]
    else:
        event["metadata"] = {"note": "a\x00b"} if where == "metadata-value" else {"a\x00b": "note"}
    client_error(await plain.post(f"/cases/{case_id}/events", json={"events": [event]}))


async def test_a_nul_character_in_a_key_label_is_refused_not_a_server_error(plain: httpx.AsyncClient) -> None:
    client_error(await plain.post("/admin/api-keys", json={"role": "auditor", "label": "a\x00b"}))
