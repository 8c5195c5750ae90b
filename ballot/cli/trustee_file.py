"""A trustee's file for ``veche trustee`` (docs/protocol.md §17.7): the identity made
on the trustee's own machine and the key shares the ceremonies gave it, JSON, readable
by its owner only (0600), rewritten through a new file renamed over it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode
from ballot.cli.common import Refusal

__all__ = [
    "FORMAT",
    "load_identity",
    "new_identity",
    "public_part",
    "raw_key",
    "save_identity",
    "toml_member",
]

FORMAT = "veche-trustee/v1"


def new_identity(name: str, rng: Callable[[int], bytes] = os.urandom) -> dict[str, Any]:
    """A new identity: an Ed25519 signing key and an X25519 box key, from ``rng``."""
    if not 1 <= len(name.strip()) <= 100:
        raise Refusal("--name: a trustee's name has 1 to 100 characters.")
    signing = ed25519.Ed25519PrivateKey.from_private_bytes(rng(32))
    box = x25519.X25519PrivateKey.from_private_bytes(rng(32))
    return {
        "format": FORMAT,
        "name": name.strip(),
        "signing_private": b64url_encode(signing.private_bytes_raw()),
        "box_private": b64url_encode(box.private_bytes_raw()),
        "signing_key": b64url_encode(signing.public_key().public_bytes_raw()),
        "box_key": b64url_encode(box.public_key().public_bytes_raw()),
        "elections": {},
    }


def save_identity(path: Path, identity: Mapping[str, Any], *, new: bool = False) -> None:
    """Write the file readable by its owner only (0600); ``new`` refuses to overwrite."""
    target = path if new else path.with_name(path.name + ".new")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if new else os.O_TRUNC)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise Refusal(f"{path} exists already; choose another file for a new identity.") from None
    except OSError as exc:
        raise Refusal(f"{path} cannot be written: {exc.strerror}.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump(identity, out, indent=2, sort_keys=True)
        out.write("\n")
    if not new:
        os.replace(target, path)


def load_identity(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refusal(f"{path} does not exist; make it with `veche trustee init`.") from None
    except (OSError, ValueError) as exc:
        raise Refusal(f"{path} is not a trustee's file: {exc}.") from None
    keys = {"name", "signing_private", "box_private", "signing_key", "box_key", "elections"}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not keys <= set(data):
        raise Refusal(f"{path} is not a trustee's file made by `veche trustee init`.")
    return data


def public_part(identity: Mapping[str, Any]) -> dict[str, str]:
    """What the administrator lists in the configuration's ``trustees.members``."""
    return {k: identity[k] for k in ("name", "signing_key", "box_key")}


def toml_member(member: Mapping[str, str]) -> str:
    lines = ["[[trustees.members]]"]
    lines += [f"{key} = {json.dumps(member[key])}" for key in ("name", "signing_key", "box_key")]
    return "\n".join(lines) + "\n"


def raw_key(identity: Mapping[str, Any], key: str) -> bytes:
    try:
        raw = b64url_decode(identity[key])
    except CanonicalError:
        raw = b""
    if len(raw) != 32:
        raise Refusal(f"The trustee's file holds no valid {key.replace('_', ' ')}.")
    return raw
