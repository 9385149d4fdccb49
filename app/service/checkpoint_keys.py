"""The checkpoint signing key on disk: the only file I/O next to the checkpoint rules.

`FILE` holds the Ed25519 private key (PKCS#8 PEM, created with mode 0600 and refused when
others can read it, as ssh does); `FILE.pub` holds the one-line verifier key
`<name>+<key id>+<public key>` that auditors are given. The database never sees `FILE`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from app.domain.checkpoint import Verifier, parse_verifier_key, raw_public_key, verifier_key_text


def public_key_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def _write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise PermissionError(f"{path} is readable by others: chmod 600 {path}")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_or_create_signing_key_file(path: Path, key_name: str) -> tuple[Ed25519PrivateKey, Verifier]:
    """The key in `path` and its verifier, both files created when missing.

    Sign with the returned verifier's name: an existing `path.pub` keeps the name it was
    created with, and one that does not match the private key is refused.
    """
    if path.exists():
        key = _read_private_key(path)
    else:
        key = Ed25519PrivateKey.generate()
        _write_private_key(path, key)
    public = public_key_path(path)
    if not public.exists():
        public.write_text(verifier_key_text(Verifier(key_name, key.public_key())) + "\n")
    verifier = load_verifier_key_file(public)
    if raw_public_key(verifier.public_key) != raw_public_key(key.public_key()):
        raise ValueError(f"{public} is not the public half of {path}")
    return key, verifier


def load_verifier_key_file(path: Path) -> Verifier:
    """The verifier in a `.pub` file."""
    return parse_verifier_key(path.read_text())
