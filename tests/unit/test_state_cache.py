"""The service's StateCache: an LRU bounded by entries and by the events its states hold."""

from __future__ import annotations

from app.domain.case import CaseState
from app.service.state_cache import CachedCase, StateCache


def entry(version: int) -> CachedCase:
    return CachedCase(version, CaseState(), None, [])


def test_entries_bound_alone_keeps_the_most_recent() -> None:
    cache = StateCache(max_entries=2)
    for case_id in ("a", "b", "c"):
        cache.put(case_id, entry(1000))
    assert cache.get("a") is None and cache.get("b") is not None and cache.get("c") is not None
    assert len(cache) == 2 and cache.events == 2000


def test_events_bound_evicts_least_recently_used_first() -> None:
    cache = StateCache(max_entries=100, max_events=100)
    cache.put("a", entry(40))
    cache.put("b", entry(40))
    assert cache.get("a") is not None  # now "b" is the least recently used
    cache.put("c", entry(30))
    assert cache.version_of("b") == -1
    assert cache.version_of("a") == 40 and cache.version_of("c") == 30
    assert cache.events == 70


def test_a_newer_version_replaces_and_is_counted_once() -> None:
    cache = StateCache(max_events=100)
    cache.put("a", entry(10))
    cache.put("a", entry(12))
    cache.put("a", entry(11))  # older than what is cached: ignored
    assert cache.version_of("a") == 12 and cache.events == 12 and len(cache) == 1


def test_an_entry_over_the_bound_alone_is_still_kept() -> None:
    cache = StateCache(max_events=50)
    cache.put("a", entry(10))
    cache.put("big", entry(80))
    assert cache.version_of("a") == -1 and cache.version_of("big") == 80 and cache.events == 80


def test_no_events_bound_by_default() -> None:
    cache = StateCache()
    for k in range(10):
        cache.put(f"c{k}", entry(100_000))
    assert len(cache) == 10 and cache.events == 1_000_000
