"""openapi.yaml at the root is the app's own schema; regenerate with `python -m app.openapi_doc`."""

from __future__ import annotations

import yaml

from app.web.app import create_app
from app.web.openapi_doc import OPENAPI_FILE, build_openapi


def test_openapi_file_matches_the_app():
    committed = yaml.safe_load(OPENAPI_FILE.read_text())
    assert committed == build_openapi(create_app()), (
        "openapi.yaml is stale: run `.venv/bin/python -m app.openapi_doc`"
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
