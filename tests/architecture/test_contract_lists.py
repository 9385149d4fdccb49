"""The lists openapi.yaml gives clients hold every rule id and problem code the code uses."""

from __future__ import annotations

import re

from app.settings import REPO_ROOT
from app.web.problems import ERROR_CODES
from app.web.refusal_rules import RULE_IDS

REFUSAL = re.compile(r"Refusal\(\s*\"([a-z0-9_]+)\"")
PROBLEM = re.compile(r"Problem\(\s*\d{3},\s*\"([a-z0-9_]+)\"")
NOT_A_REFUSAL = {"server_error"}  # a rule that failed: answered 500


def found(folder: str, pattern: re.Pattern[str]) -> set[str]:
    return {name for path in (REPO_ROOT / folder).rglob("*.py") for name in pattern.findall(path.read_text())}


def test_every_rule_the_domain_refuses_with_is_listed_for_clients() -> None:
    missing = found("app/domain", REFUSAL) - NOT_A_REFUSAL - set(RULE_IDS)
    assert missing == set(), f"add these rule ids to app/web/refusal_rules.py: {sorted(missing)}"


def test_every_problem_code_the_web_layer_answers_with_is_listed() -> None:
    missing = found("app/web", PROBLEM) - set(ERROR_CODES)
    assert missing == set(), f"add these codes to app/web/problems.py: {sorted(missing)}"


def test_the_lists_name_each_value_once() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS) and len(set(ERROR_CODES)) == len(ERROR_CODES)
