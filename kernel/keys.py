"""The deployment's secret keys, kept as files in ``<data dir>/keys`` with mode 0600.

- ``authority.key``: the Ed25519 authority key (PKCS#8 PEM). It signs log checkpoints,
  election manifests and results; its public half is published in the log's genesis entry.
- ``commitment.key``: 32 random bytes for HMAC commitments that hide who holds what.

A key file that other users can read is refused rather than used: a leaked authority key
would let anyone sign a forged history.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class KeyFileError(RuntimeError):
    """A key file is missing, unreadable, malformed or exposed; the message says which."""


def write_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from the start (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_secret_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"the key file {path} does not exist; run 'veche init'") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the key file {path} can be read by other users (mode {stat.S_IMODE(mode):o}); "
            f"run 'chmod 600 {path}' and start again"
        )
    return path.read_bytes()


def authority_key_path(keys_dir: Path) -> Path:
    return keys_dir / "authority.key"


def load_or_create_authority_key(keys_dir: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The authority key, made on first use; the flag says whether it was just created."""
    path = authority_key_path(keys_dir)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret_file(path, pem)
        return key, True
    return load_authority_key(keys_dir), False


def load_authority_key(keys_dir: Path) -> Ed25519PrivateKey:
    path = authority_key_path(keys_dir)
    data = read_secret_file(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise KeyFileError(f"the key file {path} is not a valid PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"the key file {path} does not hold an Ed25519 key")
    return key


def load_or_create_secret(keys_dir: Path, name: str, size: int = 32) -> bytes:
    path = keys_dir / name
    if not path.exists():
        write_secret_file(path, os.urandom(size))
    data = read_secret_file(path)
    if len(data) != size:
        raise KeyFileError(f"the key file {path} should hold {size} bytes, not {len(data)}")
    return data
