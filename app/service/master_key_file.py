"""The default master key: a key file outside the database, readable by the service only.

Why a file: it is the smallest thing that keeps the master key out of every
database dump and backup; a KMS (docs/privacy.md) replaces it behind the same
`MasterKey` interface. The file holds the key's 32 bytes in standard base64 on
one line. It is read once, at startup (a few bytes; callers on the event loop
may hand it to a thread), and refused when group or others may read it.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from app.domain.data_keys import MASTER_KEY_BYTES, AesGcmMasterKey
from app.settings import Settings


class MasterKeyFileError(ValueError):
    """The key file is missing, malformed or readable by others; the message says which."""


def load_master_key(path: Path) -> AesGcmMasterKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyFileError(f"master key file {path} cannot be read: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyFileError(
            f"master key file {path} is open to group or others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise MasterKeyFileError(f"master key file {path} is not base64") from exc
    if len(key) != MASTER_KEY_BYTES:
        raise MasterKeyFileError(f"master key file {path} holds {len(key)} bytes, not {MASTER_KEY_BYTES}")
    return AesGcmMasterKey(key)


def create_master_key_file(path: Path) -> AesGcmMasterKey:
    """A new random master key written to a new file (mode 600); never overwrites a file."""
    key = os.urandom(MASTER_KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise MasterKeyFileError(f"master key file {path} exists already; it is never overwritten") from exc
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(key).decode("ascii") + "\n")
    return AesGcmMasterKey(key)


def load_or_create_master_key(path: Path) -> AesGcmMasterKey:
    """The embedded default: the key file under the data folder, created (mode 600) on the
    first start. A configured file that is missing is an error, never silently replaced:
    use `load_master_key` for it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return create_master_key_file(path)
        except MasterKeyFileError:
            pass  # another process created it first: read theirs
    return load_master_key(path)


def master_key_of(settings: Settings) -> AesGcmMasterKey:
    """The service's and the importer's master key: the configured file (which must exist),
    else the default file beside the data folder, created on the first start. Blocking
    file I/O: callers on the event loop run it in a thread."""
    if settings.master_key_file is not None:
        return load_master_key(settings.master_key_file)
    return load_or_create_master_key(settings.master_key_path())
