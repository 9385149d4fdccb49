"""Fault scripts: heavier than the suite's fault tests, run by hand; figures in docs/reliability.md.

    .venv/bin/python -m faults.kill9            kill -9 of `caseledger serve` under load, then restart
    .venv/bin/python -m faults.database_down    PostgreSQL stopped (and hung) under load, then back

`faults.common` holds what they share with tests/faults: the ledger of
acknowledged appends and the check that the read models equal a fold of the log.
"""
