"""Sealing personal values per case: round trips, binding to case/event/field, destruction,
wrapped data keys, master-key rotation and the key file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import orjson
import pytest

from app.domain.data_keys import (
    AesGcmMasterKey,
    KeyUnwrapFailed,
    MasterKeyRing,
    rotate_wrapped_keys,
    wrapped_by,
)
from app.domain.hashing import GENESIS, event_hash
from app.domain.personal_data import personal_fields
from app.domain.sealing import (
    DESTROYED,
    SealBroken,
    is_sealed,
    new_data_key,
    open_event_data,
    seal_event_data,
)
from app.events import EVENT_TYPES, parse_event
from app.service.master_key_file import MasterKeyFileError, create_master_key_file, load_master_key
from tests.unit.personal_samples import (
    CASE_ID,
    NOTE_METADATA,
    PERSONAL_SAMPLES,
    contains_telltale,
)

EVENT_ID = uuid4()
JOB = PERSONAL_SAMPLES["EmploymentStarted"]


def _seal(event_type="EmploymentStarted", data=JOB, metadata=NOTE_METADATA, key=None, event_id=EVENT_ID):
    return seal_event_data(event_type, data, metadata, CASE_ID, event_id, key or KEY)


KEY = new_data_key()


@pytest.mark.parametrize("event_type", sorted(PERSONAL_SAMPLES))
def test_every_event_type_with_personal_fields_round_trips(event_type):
    data = PERSONAL_SAMPLES[event_type]
    sealed_data, sealed_metadata = _seal(event_type, data)
    opened = open_event_data(event_type, sealed_data, sealed_metadata, CASE_ID, EVENT_ID, KEY)
    assert opened == (data, NOTE_METADATA)
    assert all(is_sealed(sealed_data[name]) for name in personal_fields(event_type) if name in data)
    if event_type in EVENT_TYPES:
        parse_event(event_type, opened[0])


def test_every_sampled_type_is_one_with_personal_fields_and_none_is_missed():
    registered = {t for t in EVENT_TYPES if personal_fields(t)}
    assert registered <= set(PERSONAL_SAMPLES)


@pytest.mark.parametrize("event_type", sorted(PERSONAL_SAMPLES))
def test_no_personal_plaintext_is_in_the_sealed_json_and_clear_fields_stay_readable(event_type):
    sealed_data, sealed_metadata = _seal(event_type, PERSONAL_SAMPLES[event_type])
    stored = orjson.dumps({"data": sealed_data, "metadata": sealed_metadata})
    assert not contains_telltale(stored)
    clear = {k: v for k, v in PERSONAL_SAMPLES[event_type].items() if k not in personal_fields(event_type)}
    assert {k: sealed_data[k] for k in clear} == clear
    assert sealed_metadata["actor"] == NOTE_METADATA["actor"]
    assert sealed_metadata["source"] == NOTE_METADATA["source"]


def test_each_value_gets_a_fresh_nonce():
    first, _ = _seal()
    second, _ = _seal()
    nonces = {first["employer"]["n"], first["career_pathway"]["n"], second["employer"]["n"]}
    assert len(nonces) == 3
    assert first["employer"]["c"] != second["employer"]["c"]


def test_a_sealed_value_moved_to_another_case_event_or_field_does_not_open():
    sealed, metadata = _seal()
    with pytest.raises(SealBroken):
        open_event_data("EmploymentStarted", sealed, metadata, "another-case", EVENT_ID, KEY)
    with pytest.raises(SealBroken):
        open_event_data("EmploymentStarted", sealed, metadata, CASE_ID, uuid4(), KEY)
    swapped = {**sealed, "career_pathway": sealed["employer"]}
    with pytest.raises(SealBroken, match=r"data\.career_pathway"):
        open_event_data("EmploymentStarted", swapped, {}, CASE_ID, EVENT_ID, KEY)
    into_metadata = {"note": sealed["employer"]}
    with pytest.raises(SealBroken, match=r"metadata\.note"):
        open_event_data("EmploymentStarted", {}, into_metadata, CASE_ID, EVENT_ID, KEY)


def test_an_altered_value_or_another_data_key_does_not_open():
    sealed, _ = _seal()
    ciphertext = bytearray(sealed["employer"]["c"].encode())
    ciphertext[5] = ord("A") if ciphertext[5] != ord("A") else ord("B")
    altered = {**sealed, "employer": {**sealed["employer"], "c": ciphertext.decode()}}
    with pytest.raises(SealBroken):
        open_event_data("EmploymentStarted", altered, {}, CASE_ID, EVENT_ID, KEY)
    with pytest.raises(SealBroken):
        open_event_data("EmploymentStarted", sealed, {}, CASE_ID, EVENT_ID, new_data_key())


@pytest.mark.parametrize("event_type", sorted(PERSONAL_SAMPLES))
def test_after_destruction_every_personal_field_reads_destroyed(event_type):
    data = PERSONAL_SAMPLES[event_type]
    sealed_data, sealed_metadata = _seal(event_type, data)
    opened, metadata = open_event_data(event_type, sealed_data, sealed_metadata, CASE_ID, EVENT_ID, None)
    personal = personal_fields(event_type)
    assert {k: v for k, v in opened.items() if k in personal} == dict.fromkeys(
        (k for k in data if k in personal), DESTROYED
    )
    assert {k: v for k, v in opened.items() if k not in personal} == {
        k: v for k, v in data.items() if k not in personal
    }
    assert metadata == {**NOTE_METADATA, "note": DESTROYED, "extra": DESTROYED}
    if event_type in EVENT_TYPES:
        parse_event(event_type, opened)  # the response schema still holds


def test_a_value_stored_clear_before_sealing_reads_as_stored_then_as_destroyed():
    opened, _ = open_event_data("EmploymentStarted", JOB, {}, CASE_ID, EVENT_ID, KEY)
    assert opened == JOB
    destroyed, _ = open_event_data("EmploymentStarted", JOB, {}, CASE_ID, EVENT_ID, None)
    assert destroyed["employer"] == DESTROYED


def test_the_hash_chain_covers_the_sealed_form_and_needs_no_key():
    sealed, metadata = _seal()
    content = {
        "case_id": CASE_ID,
        "version": 1,
        "event_id": EVENT_ID,
        "type": "EmploymentStarted",
        "schema_version": 2,
        "metadata": metadata,
        "recorded_at": datetime(2025, 1, 6, tzinfo=UTC),
    }
    stored_hash = event_hash(GENESIS, data=sealed, **content)
    reread = orjson.loads(orjson.dumps(sealed))  # as `verify` reads the row back
    assert event_hash(GENESIS, data=reread, **content) == stored_hash
    moved = {**sealed, "employer": _seal()[0]["employer"]}
    assert event_hash(GENESIS, data=moved, **content) != stored_hash


def test_a_wrapped_data_key_opens_with_its_master_key_and_case_only():
    master = AesGcmMasterKey(os.urandom(32))
    wrapped = master.wrap(KEY, CASE_ID)
    assert KEY not in wrapped
    assert master.unwrap(wrapped, CASE_ID) == KEY
    with pytest.raises(KeyUnwrapFailed):
        master.unwrap(wrapped, "another-case")
    with pytest.raises(KeyUnwrapFailed):
        AesGcmMasterKey(os.urandom(32)).unwrap(wrapped, CASE_ID)
    forged = wrapped[:2] + wrapped[2 : 2 + wrapped[1]] + os.urandom(len(wrapped) - 2 - wrapped[1])
    with pytest.raises(KeyUnwrapFailed):
        master.unwrap(forged, CASE_ID)


def test_master_key_rotation_rewraps_every_data_key_and_leaves_events_untouched():
    old, new = AesGcmMasterKey(os.urandom(32)), AesGcmMasterKey(os.urandom(32))
    cases = {f"case-{n}": new_data_key() for n in range(3)}
    sealed = {
        case: seal_event_data("EmploymentStarted", JOB, {}, case, EVENT_ID, key)
        for case, key in cases.items()
    }
    stored_events = orjson.dumps(sealed)
    rows = [(case, old.wrap(key, case)) for case, key in cases.items()]
    ring = MasterKeyRing(new, old)
    assert all(ring.unwrap(wrapped, case) == cases[case] for case, wrapped in rows)  # mid-rotation
    rotated = list(rotate_wrapped_keys(rows, old=ring, new=new))
    for case, wrapped in rotated:
        assert wrapped_by(wrapped) == new.key_id
        with pytest.raises(KeyUnwrapFailed):
            old.unwrap(wrapped, case)
        data, _ = open_event_data(
            "EmploymentStarted", *sealed[case], case, EVENT_ID, new.unwrap(wrapped, case)
        )
        assert data == JOB
    assert orjson.dumps(sealed) == stored_events


def test_the_master_key_file_round_trips_and_refuses_what_is_unsafe(tmp_path: Path):
    path = tmp_path / "master.key"
    created = create_master_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    loaded = load_master_key(path)
    assert loaded.key_id == created.key_id
    assert loaded.unwrap(created.wrap(KEY, CASE_ID), CASE_ID) == KEY
    assert "mk-" in repr(loaded) and path.read_text().strip() not in repr(loaded)
    with pytest.raises(MasterKeyFileError, match="never overwritten"):
        create_master_key_file(path)
    path.chmod(0o640)
    with pytest.raises(MasterKeyFileError, match="chmod 600"):
        load_master_key(path)
    short = tmp_path / "short.key"
    short.write_text("c2hvcnQ=\n")
    short.chmod(0o600)
    with pytest.raises(MasterKeyFileError, match="not 32"):
        load_master_key(short)
    with pytest.raises(MasterKeyFileError, match="cannot be read"):
        load_master_key(tmp_path / "missing.key")


def test_an_event_without_personal_values_is_stored_as_given_and_reads_alike_after_destruction():
    data = {"opened_on": "2025-01-02", "supported_employment": False, "ipe_service_categories": []}
    metadata = {"actor": "case_system:k1", "source": "qe2"}
    assert seal_event_data("CaseOpened", data, metadata, CASE_ID, EVENT_ID, KEY) == (data, metadata)
    assert open_event_data("CaseOpened", data, metadata, CASE_ID, EVENT_ID, None) == (data, metadata)
