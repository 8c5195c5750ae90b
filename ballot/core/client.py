"""A voter's client: obtain a credential, seal, sign and cast, and check the receipt.

It speaks the HTTP API of docs/protocol.md (§6 credentials, §7 casting, §8 receipts)
through any object with httpx's ``get``/``post`` interface. It trusts the server for
nothing it can check: the manifest must hash to the election's id and carry the
authority's signature, the token must verify before it is used, and the receipt's
inclusion proof must lead to the root of a checkpoint signed by the log's key.

What a voter must keep — the credential's private key and token, the number of the
last ballot it cast (``counter``) and the receipts — is a ``Wallet``, stored as a JSON
file readable only by its owner (mode 0600). A wallet that lost its counter (an old
file, a new device) still votes: when the server refuses the ballot as not the
credential's next one (``409 wrong_counter``), the client asks the server for the next
counter and seals and signs the ballot once more (docs/protocol.md §7.11).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import b64url_decode, b64url_encode
from audit.core.checkpoint import verify_checkpoint
from audit.core.merkle import verify_inclusion
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.manifest import (
    Manifest,
    load_credential_key,
    manifest_hash,
    parse_manifest,
    verify_manifest_signature,
)
from ballot.core.token import credential_message, finalize, prepare_and_blind, verify_token


class ClientError(Exception):
    """The server refused, or answered something the client cannot trust."""

    def __init__(self, code: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


class HttpResponse(Protocol):
    status_code: int
    text: str

    def json(self) -> Any: ...


class Http(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...

    def post(self, url: str, **kwargs: Any) -> Any: ...


def _answer(response: HttpResponse, expected: int) -> Any:
    if response.status_code != expected:
        try:
            body = response.json()
            code, detail = str(body.get("error")), str(body.get("detail"))
        except (ValueError, AttributeError):
            code, detail = "http_error", response.text[:200]
        raise ClientError(code, detail, response.status_code)
    return response.json()


def _counter(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ClientError("bad_wallet", "the wallet's counter is not a whole number")
    return value


@dataclass
class Wallet:
    """A credential for one election and the receipts of the ballots it cast."""

    election_id: str
    election_hash: str
    credential_private: str  # b64url raw Ed25519 private key
    token: dict[str, str] | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0  # the number of the last ballot this credential cast (0: none)

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(b64url_decode(self.credential_private))

    @property
    def credential(self) -> str:
        return b64url_encode(self.private_key.public_key().public_bytes_raw())

    def to_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "election_hash": self.election_hash,
            "credential_private": self.credential_private,
            "token": self.token,
            "receipts": self.receipts,
            "counter": self.counter,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Wallet:
        return cls(
            election_id=str(data["election_id"]),
            election_hash=str(data["election_hash"]),
            credential_private=str(data["credential_private"]),
            token=data.get("token"),
            receipts=list(data.get("receipts", [])),
            counter=_counter(data.get("counter", 0)),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Wallet:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class ElectionInfo:
    id: str
    manifest: Manifest
    hash: str


class VoterClient:
    """The protocol steps against one server, through ``http`` (httpx or a test client)."""

    def __init__(self, http: Http, *, rng: Callable[[int], bytes] = os.urandom) -> None:
        self.http = http
        self.rng = rng
        self._log_key: dict[str, str] | None = None

    # --- what the server publishes ------------------------------------------------------
    def election(self, election_id: str, *, allow_test_keys: bool = False) -> ElectionInfo:
        data = _answer(self.http.get(f"/api/v1/elections/{election_id}/manifest"), 200)
        manifest = parse_manifest(data["manifest"], allow_test_keys=allow_test_keys)
        digest = manifest_hash(manifest)
        if digest != data["manifest_hash"]:
            raise ClientError("bad_manifest", "the manifest does not hash to its stated id")
        if manifest.id != election_id:
            raise ClientError("bad_manifest", "the manifest is for another election")
        verify_manifest_signature(
            b64url_decode(manifest.authority_key), manifest, data["signature"]
        )
        return ElectionInfo(election_id, manifest, digest)

    def log_key(self) -> dict[str, str]:
        if self._log_key is None:
            self._log_key = dict(_answer(self.http.get("/api/v1/log/key"), 200))
        return self._log_key

    # --- credential ---------------------------------------------------------------------
    def obtain_credential(
        self,
        info: ElectionInfo,
        *,
        access_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Wallet:
        private = Ed25519PrivateKey.from_private_bytes(self.rng(32))
        wallet = Wallet(
            election_id=info.id,
            election_hash=info.hash,
            credential_private=b64url_encode(private.private_bytes_raw()),
        )
        public = load_credential_key(info.manifest)
        message = credential_message(wallet.credential, info.hash)
        blinded, state = prepare_and_blind(public, message, self.rng)
        body: dict[str, Any] = {"blinded_message": b64url_encode(bytes(blinded))}
        if access_code is not None:
            body["access_code"] = access_code
        answer = _answer(
            self.http.post(
                f"/api/v1/elections/{info.id}/credentials", json=body, headers=dict(headers or {})
            ),
            200,
        )
        token = finalize(public, state, b64url_decode(answer["blind_signature"]))
        verify_token(public, wallet.credential, info.hash, token)
        wallet.token = {"prefix": token["prefix"], "signature": token["signature"]}
        return wallet

    # --- casting ------------------------------------------------------------------------
    def cast(
        self, info: ElectionInfo, wallet: Wallet, choices: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Seal, sign and cast a ballot numbered one after the wallet's counter; if the
        server says that is not the credential's next number (the wallet lost count),
        ask for the next one and cast once more with it."""
        if wallet.token is None:
            raise ClientError("no_credential", "obtain a credential before casting")
        counter = wallet.counter + 1
        try:
            receipt = self._cast(info, wallet, choices, counter)
        except ClientError as exc:
            if exc.code != "wrong_counter" or info.manifest.v < 2:
                raise
            told = self.next_counter(info, wallet.credential)
            if told <= wallet.counter:
                # The server claims fewer ballots than this wallet cast: it lost or hides
                # some. Do not go back; the voter should report it.
                raise ClientError(
                    "wrong_counter",
                    f"the server says this credential's next ballot is number {told}, but "
                    f"it has already cast {wallet.counter}",
                ) from None
            counter = told
            receipt = self._cast(info, wallet, choices, counter)
        wallet.counter = counter
        wallet.receipts.append(dict(receipt))
        return dict(receipt)

    def _cast(
        self, info: ElectionInfo, wallet: Wallet, choices: Mapping[str, Any], counter: int
    ) -> dict[str, Any]:
        assert wallet.token is not None
        ballot, signature = make_ballot(
            info.manifest, wallet.private_key, wallet.token, choices, self.rng, counter=counter
        )
        receipt = _answer(
            self.http.post(
                f"/api/v1/elections/{info.id}/ballots",
                json={"ballot": ballot_json(ballot), "signature": signature},
            ),
            201,
        )
        self.check_receipt(receipt)
        return dict(receipt)

    def next_counter(self, info: ElectionInfo, credential: str) -> int:
        """The number the server says this credential's next ballot must carry."""
        answer = _answer(
            self.http.get(f"/api/v1/elections/{info.id}/credentials/{credential}/next"), 200
        )
        told = answer.get("next") if isinstance(answer, dict) else None
        if type(told) is not int or told < 1 or answer.get("credential") != credential:
            raise ClientError("bad_answer", "the server's next counter is not a number from 1")
        return told

    def check_receipt(self, receipt: Mapping[str, Any]) -> None:
        """The receipt's entry is in the tree its signed checkpoint states."""
        key = self.log_key()
        try:
            checkpoint = verify_checkpoint(receipt["checkpoint"], key["verifier_key"])
        except Exception as exc:  # any malformed or forged checkpoint
            raise ClientError("bad_receipt", f"the checkpoint does not verify: {exc}") from None
        if checkpoint.size != receipt["size"]:
            raise ClientError("bad_receipt", "the proof is for another tree size")
        try:
            verify_inclusion(
                bytes.fromhex(receipt["leaf_hash"]),
                int(receipt["seq"]),
                checkpoint.size,
                [bytes.fromhex(p) for p in receipt["proof"]],
                checkpoint.root,
            )
        except Exception as exc:
            raise ClientError("bad_receipt", f"the inclusion proof fails: {exc}") from None
