"""Fault tests that take seconds: concurrency, retries, the database going away, schema fuzzing.

Heavier scenarios are scripts in faults/ at the repo root; figures in docs/reliability.md.
"""
