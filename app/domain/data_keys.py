"""Data keys wrapped by a master key kept outside the database.

Why: the database holds each case's data key only wrapped (encrypted) by a
master key, so a dump of the database, or a backup, opens nothing without the
master key; destroying a case's wrapped key destroys its personal data, and
rotating the master key re-wraps every data key without touching an event.

`MasterKey` is what the service needs of any master key: a key file
(`AesGcmMasterKey`, loaded by `app.service.master_key_file`) or a KMS (AWS KMS
Encrypt/Decrypt with the case id as encryption context, GCP Cloud KMS with it
as additional authenticated data, Azure Key Vault wrapKey/unwrapKey, HashiCorp
Vault Transit with the case id as derivation context): see docs/privacy.md.
Every implementation binds the wrapped key to its case id, so a wrapped key
copied onto another case does not unwrap.

`AesGcmMasterKey`'s wrapped form: one format byte, the master key id (length
byte and ASCII), the 96-bit nonce and the AES-256-GCM ciphertext of the data
key with `["caseledger.data-key.v1", case_id, key_id]` as associated data. The
key id is readable without the key, so a `MasterKeyRing` knows which of its keys
to use while a rotation is under way.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from typing import Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.sealing import DATA_KEY_BYTES, NONCE_BYTES, RandomBytes

MASTER_KEY_BYTES = 32
_FORMAT = 1


class KeyUnwrapFailed(ValueError):
    """A wrapped data key does not unwrap: another master key, another case, or altered bytes."""


class MasterKey(Protocol):
    """Wraps and unwraps case data keys; `key_id` names the key that wraps from now on."""

    @property
    def key_id(self) -> str: ...

    def wrap(self, data_key: bytes, case_id: str) -> bytes: ...

    def unwrap(self, wrapped: bytes, case_id: str) -> bytes: ...


def master_key_id(key: bytes) -> str:
    """A public name for a master key (a hash of it: SHA-256 reveals nothing of a random key)."""
    return "mk-" + hashlib.sha256(b"caseledger.master-key-id\x00" + key).hexdigest()[:16]


class AesGcmMasterKey:
    """A 256-bit master key held in memory (read from a key file by the service)."""

    def __init__(self, key: bytes, *, random_bytes: RandomBytes = os.urandom) -> None:
        if len(key) != MASTER_KEY_BYTES:
            raise ValueError(f"a master key has {MASTER_KEY_BYTES} bytes, not {len(key)}")
        self._cipher = AESGCM(key)
        self._id = master_key_id(key)
        self._random_bytes = random_bytes

    def __repr__(self) -> str:  # never the key itself
        return f"AesGcmMasterKey({self._id})"

    @property
    def key_id(self) -> str:
        return self._id

    def wrap(self, data_key: bytes, case_id: str) -> bytes:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes, not {len(data_key)}")
        nonce = self._random_bytes(NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, data_key, _aad(case_id, self._id))
        name = self._id.encode("ascii")
        return bytes((_FORMAT, len(name))) + name + nonce + sealed

    def unwrap(self, wrapped: bytes, case_id: str) -> bytes:
        if wrapped_by(wrapped) != self._id:
            raise KeyUnwrapFailed(f"case {case_id}'s data key is wrapped by another master key")
        body = wrapped[2 + wrapped[1] :]
        try:
            return self._cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(case_id, self._id))
        except InvalidTag:
            raise KeyUnwrapFailed(f"case {case_id}'s wrapped data key does not unwrap") from None


def wrapped_by(wrapped: bytes) -> str | None:
    """The id of the master key that wrapped an `AesGcmMasterKey` wrapped key, None if unknown."""
    if len(wrapped) < 2 or wrapped[0] != _FORMAT or len(wrapped) < 2 + wrapped[1]:
        return None
    try:
        return wrapped[2 : 2 + wrapped[1]].decode("ascii")
    except UnicodeDecodeError:
        return None


class MasterKeyRing:
    """The current master key (wraps) and older ones (unwrap only) while a rotation runs."""

    def __init__(self, current: AesGcmMasterKey, *older: AesGcmMasterKey) -> None:
        self._current = current
        self._by_id = {key.key_id: key for key in (*older, current)}

    @property
    def key_id(self) -> str:
        return self._current.key_id

    def wrap(self, data_key: bytes, case_id: str) -> bytes:
        return self._current.wrap(data_key, case_id)

    def unwrap(self, wrapped: bytes, case_id: str) -> bytes:
        key = self._by_id.get(wrapped_by(wrapped) or "")
        if key is None:
            raise KeyUnwrapFailed(f"case {case_id}'s data key is wrapped by a master key not on the ring")
        return key.unwrap(wrapped, case_id)


def rewrap(wrapped: bytes, case_id: str, *, old: MasterKey, new: MasterKey) -> bytes:
    """The same data key wrapped by `new`: the case's events stay as they are."""
    return new.wrap(old.unwrap(wrapped, case_id), case_id)


def rotate_wrapped_keys(
    rows: Iterable[tuple[str, bytes]], *, old: MasterKey, new: MasterKey
) -> Iterator[tuple[str, bytes]]:
    """(case_id, wrapped) rows re-wrapped by `new`, for a batch of the store's key table."""
    for case_id, wrapped in rows:
        yield case_id, rewrap(wrapped, case_id, old=old, new=new)


def _aad(case_id: str, key_id: str) -> bytes:
    return orjson.dumps(["caseledger.data-key.v1", case_id, key_id])
