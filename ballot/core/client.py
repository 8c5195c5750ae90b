"""A voter's client: obtain a credential, seal, sign and cast, and check the receipt.

It speaks the HTTP API of docs/protocol.md (§6 credentials, §7 casting, §8 receipts)
through any object with httpx's ``get``/``post`` interface. It trusts the server for
nothing it can check: the manifest must hash to the election's id and carry the
authority's signature, the token must verify before it is used, and a receipt is
accepted only when the log entry it names is the very ballot this client sent, in a tree
whose checkpoint the log's key signed (§8.2).

Credentials are derived from a recovery code (§6.13): the same code gives the same
credential and the same blinded request on any device, so a voter who loses the wallet
gets the same credential back, never a second one.

What a voter must keep -- the recovery code, the credential's private key and token, the
number of the last ballot it cast (``counter``) and the receipts with the ballots they are
for -- is a ``Wallet`` (``ballot.core.wallet``), stored as a JSON file readable only by
its owner (mode 0600). A wallet that lost its counter (an old file, a new device) still
votes: when the server refuses the ballot as not the credential's next one (``409
wrong_counter``), the client asks the server for the next counter and seals and signs the
ballot once more (docs/protocol.md §7.11).

The checks of a receipt's log entry (§8.2), which the server's check page shares, are
``ballot.core.receipt``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from audit.core.canonical import b64url_decode, b64url_encode
from audit.core.checkpoint import Checkpoint, verify_checkpoint
from audit.core.cosignature import Witness, check_cosignatures
from audit.core.merkle import verify_consistency, verify_inclusion
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.errors import ClientError
from ballot.core.manifest import (
    Manifest,
    load_credential_key,
    manifest_hash,
    parse_manifest,
    verify_manifest_signature,
)
from ballot.core.receipt import (
    BALLOT_CAST,
    ENTRY_KEYS,
    ballot_digest,
    check_cast_entry,
    hex32,
    sent_cast,
    whole_number,
)
from ballot.core.token import (
    credential_message,
    finalize,
    new_recovery_code,
    recovery_blind,
    verify_token,
)
from ballot.core.wallet import Wallet


class HttpResponse(Protocol):
    status_code: int
    text: str
    content: bytes

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


@dataclass(frozen=True)
class ElectionInfo:
    id: str
    manifest: Manifest
    hash: str


# How often a client waiting for its witnesses asks for the newest checkpoint again.
WITNESS_POLL_MS = 100


class VoterClient:
    """The protocol steps against one server, through ``http`` (httpx or a test client).

    ``verifier_key`` pins the log's key (a signed-note verifier key); without it the key
    is fetched from the server once. With ``witnesses``, the latest checkpoint must carry
    cosignatures of ``witness_policy`` of them (docs/protocol.md §15.8), and a cast waits
    up to ``witness_wait_ms`` milliseconds until a cosigned checkpoint covers its ballot
    (asking again every ``WITNESS_POLL_MS``; ``clock`` gives nanoseconds).
    """

    def __init__(
        self,
        http: Http,
        *,
        rng: Callable[[int], bytes] = os.urandom,
        verifier_key: str | None = None,
        witnesses: Sequence[Witness] = (),
        witness_policy: int | None = None,
        witness_wait_ms: int = 10_000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.http = http
        self.rng = rng
        self.pinned_key = verifier_key
        self._log_key: dict[str, str] | None = None
        self.witnesses = list(witnesses)
        self.witness_policy = len(self.witnesses) if witness_policy is None else witness_policy
        if not 0 <= self.witness_policy <= len(self.witnesses):
            raise ClientError(
                "bad_witness_policy",
                f"a policy of {self.witness_policy} cannot be met by {len(self.witnesses)} "
                "witness key(s)",
            )
        self.witness_wait_ms = witness_wait_ms
        self.sleep = sleep
        self.clock = clock

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

    def verifier_key(self) -> str:
        """The pinned log key, or the one the server states."""
        if self.pinned_key is not None:
            return self.pinned_key
        return str(self.log_key()["verifier_key"])

    # --- credential ---------------------------------------------------------------------
    def obtain_credential(
        self,
        info: ElectionInfo,
        *,
        access_code: str | None = None,
        headers: Mapping[str, str] | None = None,
        recovery_code: str | None = None,
    ) -> Wallet:
        """A credential derived from ``recovery_code`` (a new code if none), blind-signed.

        With the code of an earlier credential the request is byte-identical to the one
        signed then, so the server answers its stored blind signature (§6.6 step 6): the
        same credential, not a second one.
        """
        code = new_recovery_code(self.rng) if recovery_code is None else recovery_code
        wallet = Wallet.from_recovery_code(info.id, info.hash, code)
        self.certify(info, wallet, access_code=access_code, headers=headers)
        return wallet

    def certify(
        self,
        info: ElectionInfo,
        wallet: Wallet,
        *,
        access_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Ask for the blind signature of the wallet's credential and keep the token."""
        if wallet.recovery_code is None:
            raise ClientError("no_recovery_code", "this wallet's credential has no recovery code")
        public = load_credential_key(info.manifest)
        message = credential_message(wallet.credential, info.hash)
        blinded, state = recovery_blind(public, message, wallet.recovery_code, info.hash)
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
        if wallet.log_key is None:
            wallet.log_key = self.verifier_key()

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
        cast = {"ballot": ballot_json(ballot), "signature": signature}
        receipt = _answer(self.http.post(f"/api/v1/elections/{info.id}/ballots", json=cast), 201)
        if not isinstance(receipt, dict):
            raise ClientError("bad_receipt", "the answer to the ballot is not a receipt")
        kept = {**receipt, "cast": cast}
        self.check_receipt(kept, election_hash=info.hash)
        if self.witnesses:
            self.witnessed_receipt(kept)
        return kept

    def next_counter(self, info: ElectionInfo, credential: str) -> int:
        """The number the server says this credential's next ballot must carry."""
        answer = _answer(
            self.http.get(f"/api/v1/elections/{info.id}/credentials/{credential}/next"), 200
        )
        told = answer.get("next") if isinstance(answer, dict) else None
        if type(told) is not int or told < 1 or answer.get("credential") != credential:
            raise ClientError("bad_answer", "the server's next counter is not a number from 1")
        return told

    def _checkpoint(self, note: object) -> Checkpoint:
        if not isinstance(note, str):
            raise ClientError("bad_checkpoint", "the receipt carries no checkpoint")
        try:
            return verify_checkpoint(note, self.verifier_key())
        except ClientError:
            raise
        except Exception as exc:  # any malformed or forged checkpoint
            raise ClientError(
                "bad_checkpoint", f"the checkpoint is not signed by the log's key: {exc}"
            ) from None

    def entry_bytes(self, seq: int) -> bytes:
        """The exact bytes of log entry ``seq`` as the server serves them (§3.12)."""
        response = self.http.get(f"/api/v1/log/entries?start={seq}&end={seq + 1}")
        if response.status_code != 200:
            raise ClientError(
                "entry_mismatch",
                f"the log does not serve entry {seq} (HTTP {response.status_code})",
                response.status_code,
            )
        content = bytes(response.content)
        if not content.endswith(b"\n") or content.count(b"\n") != 1:
            raise ClientError(
                "entry_mismatch", f"the log's answer for entry {seq} is not exactly one entry"
            )
        return content[:-1]

    def check_receipt(
        self, receipt: Mapping[str, Any], *, election_hash: str | None = None
    ) -> Checkpoint:
        """A kept receipt proves this client's own ballot (docs/protocol.md §8.2).

        The checkpoint is signed by the log's key and states the receipt's size; the
        receipt names the election and the digest of the ballot sent; the entry the log
        serves at ``seq`` hashes to the receipt's leaf hash and carries exactly that
        ballot and signature; and the inclusion proof leads from that leaf hash to the
        checkpoint's root. Returns the checkpoint.
        """
        cast = sent_cast(receipt)
        seq = whole_number(receipt, "seq")
        size = whole_number(receipt, "size")
        checkpoint = self._checkpoint(receipt.get("checkpoint"))
        if checkpoint.size != size:
            raise ClientError(
                "bad_receipt",
                f"the receipt states a tree of {size} entries, its checkpoint {checkpoint.size}",
            )
        expected = election_hash if election_hash is not None else cast["ballot"].get("election")
        if receipt.get("election") != expected:
            raise ClientError("bad_receipt", "the receipt is for another election")
        if receipt.get("ballot_digest") != ballot_digest(cast):
            raise ClientError(
                "not_your_ballot", "the receipt's ballot digest is not the digest of your ballot"
            )
        leaf = check_cast_entry(self.entry_bytes(seq), receipt, cast)
        proof = receipt.get("proof")
        if not isinstance(proof, list):
            raise ClientError("bad_receipt", "the receipt carries no inclusion proof")
        try:
            path = [hex32(p, "proof") for p in proof]
            verify_inclusion(leaf, seq, checkpoint.size, path, checkpoint.root)
        except ClientError:
            raise ClientError("bad_receipt", "the receipt's inclusion proof is not hex") from None
        except Exception as exc:
            raise ClientError(
                "bad_receipt",
                f"the inclusion proof does not put entry {seq} in the signed checkpoint: {exc}",
            ) from None
        return checkpoint

    def latest_checkpoint(self) -> Checkpoint:
        """The served checkpoint, signed by the log's key and, with witnesses, cosigned
        by ``witness_policy`` of them (``witness_missing`` names those missing)."""
        response = self.http.get("/api/v1/log/checkpoint")
        if response.status_code != 200:
            raise ClientError("bad_checkpoint", "the server states no checkpoint")
        checkpoint = self._checkpoint(response.text)
        if self.witnesses:
            check = check_cosignatures(response.text, self.witnesses, self.witness_policy)
            if not check.ok:
                raise ClientError(
                    "witness_missing",
                    f"the log's checkpoint of {checkpoint.size} entries lacks the witness "
                    f"cosignatures you require: {check.describe()}",
                )
        return checkpoint

    def witnessed_receipt(self, receipt: Mapping[str, Any]) -> Checkpoint:
        """``recheck_receipt`` until a cosigned checkpoint covers the receipt (witnesses
        cosign asynchronously, §15.7), for at most ``witness_wait_ms`` milliseconds."""
        deadline = self.clock() + self.witness_wait_ms * 1_000_000
        while True:
            try:
                return self.recheck_receipt(receipt)
            except ClientError as exc:
                if exc.code not in {"witness_missing", "not_yet_witnessed"}:
                    raise
                if self.clock() >= deadline:
                    raise
            self.sleep(WITNESS_POLL_MS / 1000)

    def recheck_receipt(self, receipt: Mapping[str, Any]) -> Checkpoint:
        """A kept receipt still proves the ballot (§8.3): the checks of ``check_receipt``,
        then the log only grew from the receipt's checkpoint to the latest one (a
        consistency proof between the two signed roots), and the entry is in the latest
        tree. Returns the latest checkpoint."""
        older = self.check_receipt(receipt)
        leaf = bytes.fromhex(str(receipt["leaf_hash"]))
        seq = int(receipt["seq"])
        latest = self.latest_checkpoint()
        if latest.size < older.size and self.witnesses:
            raise ClientError(
                "not_yet_witnessed",
                f"the newest cosigned checkpoint has {latest.size} entries; the receipt's "
                f"{older.size} are not witnessed yet",
            )
        if latest.size < older.size:
            raise ClientError(
                "log_shrank",
                f"the log states {latest.size} entries, fewer than the receipt's {older.size}",
            )
        if latest.size == older.size:
            if latest.root != older.root:
                raise ClientError("log_forked", "two signed checkpoints of one size differ")
            return latest
        answer = _answer(
            self.http.get(f"/api/v1/log/proof/consistency?first={older.size}&second={latest.size}"),
            200,
        )
        try:
            proof = [bytes.fromhex(p) for p in answer["proof"]]
            verify_consistency(older.size, latest.size, older.root, latest.root, proof)
        except Exception as exc:
            raise ClientError(
                "log_forked",
                f"the log's history does not extend the receipt's checkpoint: {exc}",
            ) from None
        answer = _answer(
            self.http.get(f"/api/v1/log/proof/inclusion?seq={seq}&size={latest.size}"), 200
        )
        try:
            proof = [bytes.fromhex(p) for p in answer["proof"]]
            verify_inclusion(leaf, seq, latest.size, proof, latest.root)
        except Exception as exc:
            raise ClientError(
                "bad_receipt", f"entry {seq} is not in the latest signed tree: {exc}"
            ) from None
        return latest


__all__ = [
    "BALLOT_CAST",
    "ENTRY_KEYS",
    "ClientError",
    "ElectionInfo",
    "Http",
    "HttpResponse",
    "VoterClient",
    "Wallet",
    "ballot_digest",
    "check_cast_entry",
    "sent_cast",
]
