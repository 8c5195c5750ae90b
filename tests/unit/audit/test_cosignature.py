"""C2SP tlog-cosignature (cosignature/v1) and tlog-witness decisions (docs/protocol.md §15):
the specifications' examples, bytes written out by hand, and every refusal status."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.cosignature import (
    check_cosignatures,
    cosign,
    cosigned_message,
    parse_witness_key,
    witness_key,
    witness_key_id,
)
from audit.core.errors import NoteError
from audit.core.merkle import MerkleTree, hash_leaf
from audit.core.note import Note, parse_note, parse_verifier_key, public_key_bytes, verifier_key
from audit.core.witness import (
    Held,
    Refusal,
    decide,
    parse_add_checkpoint,
    render_add_checkpoint,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "vectors" / "tlog-witness-examples.txt"
# RFC 8032 §7.1 TEST 1 secret key.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def _examples() -> tuple[str, bytes]:
    text = VECTORS.read_text(encoding="utf-8")
    cosigned, request = text.split("add-checkpoint request:\n")
    return cosigned.removeprefix("cosigned checkpoint:\n"), request.encode("utf-8")


def test_spec_example_cosignature_line_carries_its_timestamp() -> None:
    note = parse_note(_examples()[0])
    line = note.signatures[1]
    assert line.name == "witness.example.com/w1"
    assert len(line.signature) == 8 + 64
    assert int.from_bytes(line.signature[:8], "big") == 1679315147  # the spec's "time" line


def test_signed_message_is_the_spec_example_bytes() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    with pytest.raises(NoteError):
        cosigned_message(body, 2**63)


def test_key_id_and_vkey_with_algorithm_byte_4() -> None:
    name = "witness.example/w1"
    expected = hashlib.sha256(name.encode() + b"\n\x04" + RFC8032_PUBLIC).digest()[:4]
    assert witness_key_id(name, RFC8032_PUBLIC) == expected
    vkey = witness_key(name, RFC8032_PUBLIC)
    assert vkey == f"{name}+{expected.hex()}+" + base64.b64encode(b"\x04" + RFC8032_PUBLIC).decode()
    witness = parse_witness_key(vkey)
    assert witness.public_key == RFC8032_PUBLIC and witness.key_id == expected
    # A log's key (type 0x01) is not a witness key, and the key ID differs.
    log_vkey = verifier_key(name, RFC8032_PUBLIC)
    with pytest.raises(NoteError):
        parse_witness_key(log_vkey)
    assert parse_verifier_key(log_vkey).key_id != expected


def test_cosignature_known_answer_rfc8032_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    assert public_key_bytes(key) == RFC8032_PUBLIC
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    sig = cosign(key, "witness.example/w1", body, 1679315147)
    raw = sig.key_id + sig.signature
    assert len(raw) == 4 + 8 + 64
    assert raw[4:12] == (1679315147).to_bytes(8, "big")
    # Ed25519 is deterministic: the signature is over exactly the message above.
    assert raw[12:] == key.sign(b"cosignature/v1\ntime 1679315147\n" + body.encode())
    assert sig.line().startswith("\u2014 witness.example/w1 ")
    witness = parse_witness_key(witness_key("witness.example/w1", RFC8032_PUBLIC))
    assert witness.timestamp_of(body, sig) == 1679315147
    # The worked example of docs/protocol.md §15.9 (checked against libsodium).
    assert (
        witness.vkey == "witness.example/w1+eb762cc2+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
    )
    assert sig.line() == (
        "\u2014 witness.example/w1 63YswgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DL"
        "Erur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n"
    )


def _keys() -> tuple[Ed25519PrivateKey, Ed25519PrivateKey, Ed25519PrivateKey]:
    return tuple(Ed25519PrivateKey.from_private_bytes(bytes([i]) * 32) for i in (1, 2, 3))  # type: ignore[return-value]


def test_policy_counts_valid_cosignatures_and_names_what_is_missing() -> None:
    log_key, a_key, b_key = _keys()
    origin = "veche.test/log"
    note = sign_checkpoint(log_key, origin, Checkpoint(origin, 3, hash_leaf(b"x")))
    text = parse_note(note).text
    a = parse_witness_key(witness_key("w.test/a", public_key_bytes(a_key)))
    b = parse_witness_key(witness_key("w.test/b", public_key_bytes(b_key)))
    one = note + cosign(a_key, "w.test/a", text, 100).line()
    check = check_cosignatures(one, [a, b], 2)
    assert not check.ok and check.cosigned == ("w.test/a",) and check.missing == ("w.test/b",)
    assert "missing: w.test/b" in check.describe()
    both = one + cosign(b_key, "w.test/b", text, 101).line()
    assert check_cosignatures(both, [a, b], 2).ok
    # A cosignature on another checkpoint (or tampered) is invalid and named.
    other = parse_note(sign_checkpoint(log_key, origin, Checkpoint(origin, 4, hash_leaf(b"y"))))
    stolen = one + cosign(b_key, "w.test/b", other.text, 101).line()
    bad = check_cosignatures(stolen, [a, b], 2)
    assert not bad.ok and bad.invalid == ("w.test/b",)
    # A different time in the line than the one signed fails.
    sig = cosign(b_key, "w.test/b", text, 101)
    forged = type(sig)(sig.name, sig.key_id, (102).to_bytes(8, "big") + sig.signature[8:])
    assert check_cosignatures(one + forged.line(), [a, b], 2).invalid == ("w.test/b",)
    with pytest.raises(NoteError):
        check_cosignatures(both, [a, b], 3)


def test_spec_example_request_parses() -> None:
    request = parse_add_checkpoint(_examples()[1])
    assert request.old_size == 20852014
    assert len(request.proof) == 4 and all(len(p) == 32 for p in request.proof)
    assert request.checkpoint.size == 20852163
    assert request.checkpoint.origin == "example.com/behind-the-sofa"
    assert len(request.note.signatures) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 01\n\nx\n",
        b"old -1\n\n",
        b"new 1\n\n",
        b"old 1\nnot base64\n\n",
        b"old 1\nAAAA\n\n",  # 3 bytes, not a hash
        b"old 1\n",  # no blank line
        b"old 0\n\nveche.test/log\n1\n",  # no signatures
        b"old 0\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\n",
    ],
)
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(Refusal) as info:
        parse_add_checkpoint(body)
    assert info.value.status == 400


class _Log:
    def __init__(self, key: Ed25519PrivateKey, origin: str = "veche.test/log") -> None:
        self.key, self.origin, self.tree = key, origin, MerkleTree()
        self.logs = {origin: [parse_verifier_key(verifier_key(origin, public_key_bytes(key)))]}

    def add(self, *items: bytes) -> None:
        for item in items:
            self.tree.append(hash_leaf(item))

    def note(self) -> str:
        return sign_checkpoint(
            self.key, self.origin, Checkpoint(self.origin, self.tree.size, self.tree.root())
        )

    def request(self, old: int) -> bytes:
        proof = self.tree.consistency_proof(old, self.tree.size) if 0 < old < self.tree.size else []
        return render_add_checkpoint(old, proof, self.note())


def _decide(log: _Log, body: bytes, held: Held | None) -> Checkpoint:
    return decide(parse_add_checkpoint(body), log.logs, held)


def _refusal(log: _Log, body: bytes, held: Held | None) -> Refusal:
    with pytest.raises(Refusal) as info:
        _decide(log, body, held)
    return info.value


def test_witness_accepts_first_checkpoint_and_consistent_growth() -> None:
    log = _Log(_keys()[0])
    log.add(b"a", b"b", b"c")
    first = _decide(log, log.request(0), None)
    held = Held(first.size, first.root)
    log.add(b"d", b"e")
    second = _decide(log, log.request(3), held)
    assert second.size == 5
    # The same checkpoint again is cosigned again.
    assert _decide(log, log.request(5), Held(5, second.root)).size == 5


def test_witness_refusals_follow_the_spec() -> None:
    log_key, other_key, _ = _keys()
    log = _Log(log_key)
    log.add(b"a", b"b", b"c")
    held = Held(3, log.tree.root())
    log.add(b"d")
    # Unknown origin: 404.
    stranger = _Log(log_key, origin="other.test/log")
    stranger.add(b"a")
    assert _refusal(log, stranger.request(0), None).status == 404
    # Signed by another key: 403.
    impostor = _Log(other_key)
    impostor.add(b"a")
    assert _refusal(log, impostor.request(0), None).status == 403
    # Old size above the checkpoint's: 400.
    body = render_add_checkpoint(9, [], log.note())
    assert _refusal(log, body, held).status == 400
    # Old size not what the witness holds: 409 with that size as text/x.tlog.size.
    refusal = _refusal(log, log.request(2), held)
    assert refusal.status == 409 and refusal.body == b"3\n"
    assert refusal.content_type == "text/x.tlog.size"
    assert _refusal(log, log.request(0), held).body == b"3\n"
    # A forked history: the proof from the held size does not lead to the held root: 422.
    fork = _Log(log_key)
    fork.add(b"a", b"B", b"c", b"d")
    assert _refusal(fork, fork.request(3), held).status == 422
    # The same size with another root: 409.
    fork3 = _Log(log_key)
    fork3.add(b"a", b"B", b"c")
    assert _refusal(fork3, fork3.request(3), held).status == 409
    # The same size and root with proof lines: 422.
    same = render_add_checkpoint(
        3, [b"\0" * 32], sign_checkpoint(log_key, log.origin, Checkpoint(log.origin, 3, held.root))
    )
    assert _refusal(log, same, held).status == 422
    # Proof lines after old 0: 400.
    body = render_add_checkpoint(0, [b"\0" * 32], log.note())
    assert _refusal(log, body, None).status == 400


def test_rendered_request_round_trips() -> None:
    log = _Log(_keys()[0])
    log.add(b"a", b"b", b"c", b"d", b"e")
    request = parse_add_checkpoint(log.request(3))
    assert request.old_size == 3 and list(request.proof) == log.tree.consistency_proof(3, 5)
    assert isinstance(request.note, Note)
