"""Signed checkpoints: a tree head an auditor can keep outside the database and check later.

The text form is the C2SP `tlog-checkpoint` body inside a C2SP `signed-note`, so the same
file is readable by hand and verifiable by existing transparency-log tools
(golang.org/x/mod/sumdb/note):

    <origin>                      e.g. caseledger.example.org/ledger
    <tree size, decimal>
    <root hash, base64>
    last-position <feed position of the last leaf>
    time <UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
                                  (blank line)
    — <key name> <base64(4-byte key id || Ed25519 signature of every line above the blank)>

The key id is SHA-256(key name || "\\n" || 0x01 || public key)[:4]; the public key is shared
as a one-line verifier key `<name>+<key id hex>+<base64(0x01 || public key)>`. Everything here
is pure; reading and writing key files is in `app.service.checkpoint_keys`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.domain.merkle import HASH_SIZE, verify_consistency

ED25519_ALGORITHM = b"\x01"
SIGNATURE_DASH = "\u2014 "  # em dash, space: a signed-note signature line
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class CheckpointError(ValueError):
    """A checkpoint that must not be trusted; `code` is stable for CLIs and answers."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    last_position: int
    time: datetime

    def __post_init__(self) -> None:
        if not self.origin or any(c.isspace() for c in self.origin):
            raise ValueError("a checkpoint origin is one word without spaces")
        if self.tree_size < 0 or self.last_position < 0 or len(self.root_hash) != HASH_SIZE:
            raise ValueError("a checkpoint has a size >= 0, a position >= 0 and a 32-byte root")
        if self.time.tzinfo is None:
            raise ValueError("a checkpoint time is timezone-aware")


@dataclass(frozen=True, slots=True)
class Verifier:
    """Who may sign: a key name and an Ed25519 public key (the `.pub` file)."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise ValueError(f"a key name is one word without '+': {name!r}")


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    material = name.encode() + b"\n" + ED25519_ALGORITHM + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


def verifier_key_text(verifier: Verifier) -> str:
    encoded = base64.b64encode(ED25519_ALGORITHM + raw_public_key(verifier.public_key)).decode()
    return f"{verifier.name}+{verifier.key_id.hex()}+{encoded}"


def parse_verifier_key(text: str) -> Verifier:
    try:
        name, id_hex, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        if raw[:1] != ED25519_ALGORITHM:
            raise ValueError("not an Ed25519 key")
        verifier = Verifier(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    except (ValueError, binascii.Error) as error:
        raise CheckpointError(
            "malformed_public_key", f"not a verifier key <name>+<id>+<key>: {error}"
        ) from None
    if verifier.key_id.hex() != id_hex:
        raise CheckpointError("malformed_public_key", "the key id does not match the key")
    return verifier


def checkpoint_body(checkpoint: Checkpoint) -> str:
    """The canonical text that is signed: one form, byte for byte."""
    return (
        f"{checkpoint.origin}\n{checkpoint.tree_size}\n"
        f"{base64.b64encode(checkpoint.root_hash).decode()}\n"
        f"last-position {checkpoint.last_position}\n"
        f"time {checkpoint.time.astimezone(UTC).strftime(TIME_FORMAT)}\n"
    )


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """A C2SP signed note: the text (ending in a newline), a blank line, one signature line."""
    check_key_name(key_name)
    if not text.endswith("\n") or "\n\n" in text:
        raise ValueError("a note's text ends with a newline and has no blank line")
    signature = private_key.sign(text.encode())
    signer_id = key_id(key_name, private_key.public_key())
    return f"{text}\n{SIGNATURE_DASH}{key_name} {base64.b64encode(signer_id + signature).decode()}\n"


def sign_checkpoint(checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str) -> str:
    return sign_note(checkpoint_body(checkpoint), private_key, key_name)


def parse_checkpoint_body(body: str) -> Checkpoint:
    """The checkpoint in a body; anything not in the one canonical form is refused."""
    try:
        origin, size, root, position, moment, trailing = body.split("\n")
        if trailing or not position.startswith("last-position ") or not moment.startswith("time "):
            raise ValueError("expected origin, size, root, last-position and time lines")
        checkpoint = Checkpoint(
            origin=origin,
            tree_size=int(size),
            root_hash=base64.b64decode(root, validate=True),
            last_position=int(position.removeprefix("last-position ")),
            time=datetime.strptime(moment.removeprefix("time "), TIME_FORMAT).replace(tzinfo=UTC),
        )
    except (ValueError, binascii.Error) as error:
        raise CheckpointError("malformed_checkpoint", str(error)) from None
    if checkpoint_body(checkpoint) != body:
        raise CheckpointError("malformed_checkpoint", "the checkpoint is not in its canonical form")
    return checkpoint


def _signatures(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    body, separator, block = note.rpartition("\n\n")
    if not separator or not block.endswith("\n"):
        raise CheckpointError("malformed_checkpoint", "a signed note ends with a blank line and signatures")
    signatures = []
    for line in block.removesuffix("\n").split("\n"):
        name, _, encoded = line.removeprefix(SIGNATURE_DASH).partition(" ")
        try:
            if not line.startswith(SIGNATURE_DASH):
                raise ValueError(line)
            signatures.append((name, base64.b64decode(encoded, validate=True)))
        except (ValueError, binascii.Error):
            raise CheckpointError("malformed_checkpoint", f"not a signature line: {line!r}") from None
    return body + "\n", signatures


def open_note(note: str, verifier: Verifier) -> str:
    """The text of a signed note, if `verifier`'s key signed exactly that text; else CheckpointError."""
    text, signatures = _signatures(note)
    ours = [sig for name, sig in signatures if name == verifier.name and sig[:4] == verifier.key_id]
    if not ours:
        raise CheckpointError("unknown_key", f"no signature by {verifier.name} ({verifier.key_id.hex()})")
    try:
        verifier.public_key.verify(ours[0][4:], text.encode())
    except InvalidSignature:
        raise CheckpointError("bad_signature", "the signature does not match the checkpoint") from None
    return text


def verify_signed_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint in a signed note that `verifier`'s key signed; else CheckpointError."""
    return parse_checkpoint_body(open_note(note, verifier))


def check_consistent(older: Checkpoint, newer: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise unless `newer` is an append-only extension of `older` (RFC 9162 consistency)."""
    if older.origin != newer.origin:
        raise CheckpointError("origin_mismatch", f"{older.origin} and {newer.origin} are different logs")
    if newer.tree_size < older.tree_size or newer.last_position < older.last_position:
        raise CheckpointError(
            "checkpoint_rolled_back",
            f"tree size {older.tree_size} -> {newer.tree_size}, last position "
            f"{older.last_position} -> {newer.last_position}: the log shrank",
        )
    if not verify_consistency(older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof):
        raise CheckpointError(
            "inconsistent_checkpoints",
            f"the tree of {newer.tree_size} leaves does not extend the one of {older.tree_size}: "
            "history before the older checkpoint was changed, reordered or removed",
        )
