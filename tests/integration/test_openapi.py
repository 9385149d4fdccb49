"""openapi.yaml at the root is the app's own schema; regenerate with `caseledger openapi`."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from app.web.app import create_app
from app.web.openapi_doc import OPENAPI_FILE, build_openapi
from app.web.problems import ERROR_CODES, ProblemOut
from app.web.refusal_rules import RULE_IDS
from app.web.routes.clock import ClockOut
from app.web.schemas import CaseLedgerOut, HistoryOut, ProviderLedgerOut, VerifyOut
from tests.conftest import Api


def test_openapi_file_matches_the_app():
    committed = yaml.safe_load(OPENAPI_FILE.read_text())
    assert committed == build_openapi(create_app()), (
        "openapi.yaml is stale: run `.venv/bin/caseledger openapi`"
    )


def test_every_contract_endpoint_is_documented_with_problem_errors():
    doc = build_openapi(create_app())
    for path in (
        "/cases/{case_id}/events",
        "/events",
        "/cases/{case_id}/closure-clock",
        "/closure-clock/worklist",
        "/cases/{case_id}/ledger",
        "/providers/{provider_id}/ledger",
        "/cases/{case_id}/history",
        "/cases/{case_id}/verify",
        "/cases/{case_id}/post-employment-services/evaluate",
        "/healthz",
        "/readyz",
    ):
        assert path in doc["paths"], path
    append = doc["paths"]["/cases/{case_id}/events"]["post"]
    assert "application/problem+json" in append["responses"]["409"]["content"]
    assert append["security"] == [{"bearer": []}]


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_short_operation_id_and_no_response_schema_is_empty():
    doc = yaml.safe_load(OPENAPI_FILE.read_text())
    ids = [op.get("operationId") for _, op in _operations(doc)]
    assert all(ids) and len(set(ids)) == len(ids), ids
    assert all(re.fullmatch(r"[a-z][A-Za-z]{2,39}", i) for i in ids), ids
    empty = []
    for name, op in _operations(doc):
        for status, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                schema = content.get("schema") or {}
                if not schema or schema == {"type": "object"}:
                    empty.append(f"{name} {status} {media}")
    assert empty == []
    for name, schema in doc["components"]["schemas"].items():
        assert schema.get("properties") or schema.get("enum") or schema.get("type") == "string", name


def test_the_hot_paths_are_described_like_any_route():
    doc = build_openapi(create_app())
    clock = doc["paths"]["/cases/{case_id}/closure-clock"]["get"]
    assert clock["operationId"] == "getClosureClock"
    assert {(p["name"], p["in"], p["required"]) for p in clock["parameters"]} == {
        ("case_id", "path", True),
        ("as_of", "query", False),
        ("known_at", "query", False),
    }
    assert clock["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClockOut"
    }
    append = doc["paths"]["/cases/{case_id}/events"]["post"]
    assert append["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AppendIn"
    }
    assert "201" in append["responses"] and append["security"] == [{"bearer": []}]


def test_problem_lists_every_code_and_rule_and_its_extra_fields():
    problem = build_openapi(create_app())["components"]["schemas"]["Problem"]
    props = problem["properties"]
    assert set(props["code"]["enum"]) == set(ERROR_CODES)
    rule = next(s for s in props["rule"]["anyOf"] if "enum" in s)
    assert set(rule["enum"]) == set(RULE_IDS)
    for extra in ("current_version", "rule", "event_index", "event_type", "errors", "instance"):
        assert extra in props, extra


def test_ledger_history_and_verify_answers_have_every_field():
    schemas = build_openapi(create_app())["components"]["schemas"]
    assert set(schemas["CaseLedgerOut"]["properties"]) == {"case_id", "pbas", "totals", "refused_claims"}
    assert {"milestones", "cap_left", "anomalies", "status"} <= set(schemas["PbaOut"]["properties"])
    assert {"provider_id", "totals", "pbas", "next_cursor", "refused_claims"} == set(
        schemas["ProviderLedgerOut"]["properties"]
    )
    assert {"clock", "ledger", "retracted", "hash"} <= set(schemas["HistoryEventOut"]["properties"])
    assert {"ok", "events", "last_hash", "broken_at_version", "reason"} <= set(
        schemas["VerifyOut"]["properties"]
    )


def undocumented(model: type[BaseModel], value: Any, at: str = "") -> list[str]:
    """The keys of `value` its model does not name, at any depth (what a client would miss)."""
    found = []
    fields = {f.alias or name: f for name, f in model.model_fields.items()}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            found.append(f"{at}{key}")
            continue
        inner = [a for a in (field.annotation, *get_args(field.annotation)) if isinstance(a, type)]
        nested = [
            a for a in inner for a in (a, *get_args(a)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        items = item if isinstance(item, list) else item.values() if _is_map(field) else [item]
        for model_inside in nested[:1]:
            for sub in items:
                if isinstance(sub, dict):
                    found += undocumented(model_inside, sub, f"{at}{key}.")
    return found


def _is_map(field: Any) -> bool:
    return get_origin(field.annotation) is dict


async def test_real_answers_hold_only_documented_fields(api: Api, case_id: str) -> None:
    from tests.integration.test_ledger_http import pba_case, pba_opened, refused

    provider = f"prov-{case_id[-10:]}"
    await pba_case(api, case_id, provider)
    problem = await refused(
        api, case_id, pba_opened("pba-2", "other-prov", "2024-03-01"), "one_primary_provider"
    )
    answers = {
        "/cases/{case_id}/ledger": CaseLedgerOut,
        "/providers/{provider}/ledger": ProviderLedgerOut,
        "/cases/{case_id}/history": HistoryOut,
        "/cases/{case_id}/verify": VerifyOut,
        "/cases/{case_id}/closure-clock": ClockOut,
    }
    for path, model in answers.items():
        r = await api.get(path.format(case_id=case_id, provider=provider), role="auditor")
        assert r.status_code == 200, r.text
        model.model_validate(r.json())
        assert undocumented(model, r.json()) == [], path
    assert undocumented(ProblemOut, problem) == []
    ProblemOut.model_validate(problem)
