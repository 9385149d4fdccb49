"""Signed checkpoints: what an auditor keeps, checks, and is told when something is off."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.domain.checkpoint import (
    Checkpoint,
    CheckpointError,
    Verifier,
    check_consistent,
    checkpoint_body,
    open_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key_text,
    verify_signed_checkpoint,
)
from app.domain.merkle import consistency_proof, leaf_hash, tree_root
from app.service.checkpoint_keys import load_or_create_signing_key_file, load_verifier_key_file

ORIGIN = "caseledger.example.org/ledger"
HASHES = [leaf_hash(n.to_bytes(4, "big")) for n in range(30)]
SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
VERIFIER = Verifier(ORIGIN, KEY.public_key())
NOON = datetime(2026, 12, 7, 12, 0, 0, 123456, tzinfo=UTC)


def checkpoint(size: int, *, position: int | None = None, at: datetime = NOON) -> Checkpoint:
    return Checkpoint(ORIGIN, size, tree_root(HASHES[:size]), size * 10 if position is None else position, at)


def test_the_signed_text_is_the_c2sp_checkpoint_form() -> None:
    note = sign_checkpoint(checkpoint(3), KEY, ORIGIN)
    body, signature_line = note.split("\n\n")
    assert body.split("\n") == [
        ORIGIN,
        "3",
        base64.b64encode(tree_root(HASHES[:3])).decode(),
        "last-position 30",
        "time 2026-12-07T12:00:00.123456Z",
    ]
    name, signature = signature_line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    assert name == ORIGIN
    assert base64.b64decode(signature)[:4] == VERIFIER.key_id
    assert len(base64.b64decode(signature)) == 4 + 64


def test_a_signed_checkpoint_verifies_and_parses_back() -> None:
    original = checkpoint(17)
    assert verify_signed_checkpoint(sign_checkpoint(original, KEY, ORIGIN), VERIFIER) == original


def test_times_in_other_zones_are_written_in_utc() -> None:
    east = NOON.astimezone(timezone(timedelta(hours=2)))
    assert checkpoint_body(checkpoint(1, at=east)) == checkpoint_body(checkpoint(1))


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda note: note.replace("\n17\n", "\n18\n"), "bad_signature"),
        (lambda note: note.replace("last-position 170", "last-position 171"), "bad_signature"),
        (lambda note: note.replace("12:00:00", "12:00:01"), "bad_signature"),
        (lambda note: note.replace("\n17\n", "\n017\n"), "bad_signature"),
        (lambda note: note.replace("\n\n", "\n"), "malformed_checkpoint"),
        (lambda note: note.replace("\u2014 ", "- "), "malformed_checkpoint"),
        (lambda note: note.replace(ORIGIN + " ", "someone-else "), "unknown_key"),
    ],
)
def test_any_edit_to_a_signed_checkpoint_is_refused_by_name(edit, code: str) -> None:  # type: ignore[no-untyped-def]
    note = sign_checkpoint(checkpoint(17), KEY, ORIGIN)
    with pytest.raises(CheckpointError) as refused:
        verify_signed_checkpoint(edit(note), VERIFIER)
    assert refused.value.code == code


def test_only_the_canonical_form_parses_even_when_signed() -> None:
    body = checkpoint_body(checkpoint(17))
    for variant in (body.replace("\n17\n", "\n017\n"), body.replace("Z\n", "+00:00\n"), body + "extra\n"):
        with pytest.raises(CheckpointError) as refused:
            verify_signed_checkpoint(sign_note(variant, KEY, ORIGIN), VERIFIER)
        assert refused.value.code == "malformed_checkpoint"


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    impostor = Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError) as refused:
        verify_signed_checkpoint(sign_checkpoint(checkpoint(5), impostor, ORIGIN), VERIFIER)
    assert refused.value.code == "unknown_key"


def test_the_verifier_key_line_round_trips_and_checks_its_id() -> None:
    text = verifier_key_text(VERIFIER)
    assert parse_verifier_key(text).key_id == VERIFIER.key_id
    name, _, key = text.split("+", 2)
    with pytest.raises(CheckpointError):
        parse_verifier_key(f"{name}+00000000+{key}")


def test_a_later_checkpoint_that_extends_the_earlier_one_is_consistent() -> None:
    check_consistent(checkpoint(11), checkpoint(30), consistency_proof(11, 30, HASHES))
    check_consistent(checkpoint(30), checkpoint(30), [])


def test_rewritten_or_shrunk_history_between_checkpoints_is_named() -> None:
    rewritten = [*HASHES[:4], leaf_hash(b"rewritten"), *HASHES[5:]]
    forged_later = Checkpoint(ORIGIN, 30, tree_root(rewritten), 300, NOON)
    with pytest.raises(CheckpointError) as refused:
        check_consistent(checkpoint(11), forged_later, consistency_proof(11, 30, rewritten))
    assert refused.value.code == "inconsistent_checkpoints"
    with pytest.raises(CheckpointError) as refused:
        check_consistent(checkpoint(30), checkpoint(11), [])
    assert refused.value.code == "checkpoint_rolled_back"
    with pytest.raises(CheckpointError) as refused:
        check_consistent(checkpoint(11, position=500), checkpoint(30), consistency_proof(11, 30, HASHES))
    assert refused.value.code == "checkpoint_rolled_back"


def test_a_key_file_is_created_private_with_its_public_half(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    key, verifier = load_or_create_signing_key_file(path, ORIGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_verifier_key_file(tmp_path / "checkpoint.key.pub") == verifier
    note = sign_checkpoint(checkpoint(2), key, verifier.name)
    assert verify_signed_checkpoint(note, load_verifier_key_file(tmp_path / "checkpoint.key.pub"))
    again, _ = load_or_create_signing_key_file(path, "another-name")
    assert again.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    load_or_create_signing_key_file(path, ORIGIN)
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        load_or_create_signing_key_file(path, ORIGIN)


def test_notes_match_the_published_signed_note_example() -> None:
    """The example of golang.org/x/mod/sumdb/note: same key id, same signature, same text."""
    seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    signer = Ed25519PrivateKey.from_private_bytes(seed)
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    expected = (
        text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
        "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )
    assert sign_note(text, signer, "PeterNeumann") == expected
    verifier = parse_verifier_key("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    assert open_note(expected, verifier) == text
    with pytest.raises(CheckpointError):
        open_note(expected.replace("cryptography", "cryptographY"), verifier)
