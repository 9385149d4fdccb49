"""Sealing: each personal field value encrypted with its case's data key (AES-256-GCM).

Why here, pure: the store keeps events in their sealed form, the hash chain
covers that form, and `verify` and the checkpoints never need a key. Sealing is
a function of bytes and keys passed in; reading a key file or a KMS is the
service's business (`app.service.master_key_file`, `app.domain.data_keys`).

A sealed value is a small JSON object, `{"sealed": "v1", "n": nonce, "c":
ciphertext}` (standard base64), so the event stays valid JSON. Its plaintext is
the value's JSON encoding (a metadata value may be any JSON). A fresh 96-bit
nonce is drawn for every value, and the associated data binds the ciphertext to
the case id, the event id and the field's path ("data.employer"): a sealed value
copied into another case, event or field does not open (`SealBroken`).

Once a case's data key is destroyed (retention), `open_event_data` answers every
personal field with `DESTROYED`, the string "[destroyed]": every personal data
field is a string (`Text`) in the event schemas, so a response that re-validates
the event stays valid, and a person reading the page sees what happened.
Randomness comes in as `random_bytes` (os.urandom unless a caller passes
another source), so the module reads no clock and does no I/O.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.personal_data import field_path, is_personal_metadata_key, personal_fields
from app.events.types import EventData

SEAL_FORMAT = "v1"
DESTROYED = "[destroyed]"
SEALED = "[sealed]"  # what a keyless reader (a fold, a snapshot) sees in place of a sealed value
DATA_KEY_BYTES = 32
NONCE_BYTES = 12
_SEALED_KEYS = frozenset({"sealed", "n", "c"})
_AAD_LABEL = "caseledger.seal.v1"

RandomBytes = Callable[[int], bytes]
Section = dict[str, Any]


class SealBroken(ValueError):
    """A sealed value does not open under this data key, case, event and field path."""


def new_data_key(random_bytes: RandomBytes = os.urandom) -> bytes:
    """A case's own 256-bit data key."""
    return random_bytes(DATA_KEY_BYTES)


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and value.keys() == _SEALED_KEYS and value["sealed"] == SEAL_FORMAT


def associated_data(case_id: str, event_id: UUID | str, path: str) -> bytes:
    """What a sealed value is bound to; JSON-encoded, so no two triples give the same bytes."""
    return orjson.dumps([_AAD_LABEL, case_id, str(event_id), path])


def seal_value(cipher: AESGCM, value: Any, aad: bytes, random_bytes: RandomBytes = os.urandom) -> dict:
    nonce = random_bytes(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, orjson.dumps(value), aad)
    return {"sealed": SEAL_FORMAT, "n": _b64(nonce), "c": _b64(sealed)}


def open_value(cipher: AESGCM, sealed: Mapping[str, Any], aad: bytes) -> Any:
    try:
        plain = cipher.decrypt(_unb64(sealed["n"]), _unb64(sealed["c"]), aad)
    except (InvalidTag, binascii.Error, ValueError, TypeError) as exc:
        raise SealBroken("sealed value does not open here") from exc
    return orjson.loads(plain)


def seal_event_data(
    event_type: str,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    case_id: str,
    event_id: UUID,
    data_key: bytes,
    *,
    random_bytes: RandomBytes = os.urandom,
) -> tuple[Section, Section]:
    """The event's data and metadata as stored: every personal value sealed, the rest as is."""
    if not holds_personal(event_type, data, metadata):
        return dict(data), dict(metadata)
    cipher, event = AESGCM(data_key), str(event_id)

    def seal(path: str, value: Any) -> dict:
        return seal_value(cipher, value, associated_data(case_id, event, path), random_bytes)

    return _each_personal(event_type, data, metadata, seal)


def open_event_data(
    event_type: str,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    case_id: str,
    event_id: UUID,
    data_key: bytes | None,
) -> tuple[Section, Section]:
    """The event as an authorized reader sees it: personal values opened.

    `data_key` None means the case's key was destroyed: every personal value reads
    as `DESTROYED`. A value stored clear (written before sealing) is returned as
    stored while the key lives. Raises SealBroken when a sealed value was altered
    or moved from another case, event or field.
    """
    if not holds_personal(event_type, data, metadata):
        return dict(data), dict(metadata)
    if data_key is None:
        return _each_personal(event_type, data, metadata, lambda path, value: DESTROYED)
    cipher, event = AESGCM(data_key), str(event_id)

    def open_(path: str, value: Any) -> Any:
        if not is_sealed(value):
            return value
        try:
            return open_value(cipher, value, associated_data(case_id, event, path))
        except SealBroken as exc:
            raise SealBroken(f"{path} of event {event_id} in case {case_id} does not open") from exc

    return _each_personal(event_type, data, metadata, open_)


def blind_event_data(
    event_type: str, data: Mapping[str, Any], metadata: Mapping[str, Any]
) -> tuple[Section, Section]:
    """The event as a keyless reader needs it (a fold): each personal value replaced by
    `SEALED`, a string, so the payload validates against its schema without any key. A value
    stored clear (before sealing) is replaced too: no fold carries it into a snapshot."""
    return _each_personal(event_type, data, metadata, lambda path, value: SEALED)


def blind_sealed_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """Stored data as a keyless fold parses it: each sealed value replaced by `SEALED`, a
    value stored clear left as it is (so folds of events written before sealing, and their
    snapshots, do not change)."""
    fields = personal_fields(event_type)
    if not any(is_sealed(data.get(name)) for name in fields):
        return data
    return {name: SEALED if name in fields and is_sealed(value) else value for name, value in data.items()}


def blind_event(event: EventData) -> EventData:
    """A validated event with its personal values replaced by `SEALED`, for the append path's
    fold: the state, its snapshot and the read models then hold exactly what a fold of the
    stored, sealed event holds (`blind_event_data`), and no personal value."""
    present = {name: SEALED for name in personal_fields(event.TYPE) if getattr(event, name, None) is not None}
    return event.model_copy(update=present) if present else event


def holds_personal(event_type: str, data: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    """Most events (dates, ids, money) hold no personal value: they skip the cipher."""
    return any(data.get(name) is not None for name in personal_fields(event_type)) or any(
        is_personal_metadata_key(key) for key in metadata
    )


def _each_personal(
    event_type: str,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    change: Callable[[str, Any], Any],
) -> tuple[Section, Section]:
    """Copies of data and metadata with `change(path, value)` applied to each personal value."""
    new_data = dict(data)
    for name in personal_fields(event_type):
        if new_data.get(name) is not None:
            new_data[name] = change(field_path("data", name), new_data[name])
    new_metadata = {
        key: change(field_path("metadata", key), value) if is_personal_metadata_key(key) else value
        for key, value in metadata.items()
    }
    return new_data, new_metadata


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
