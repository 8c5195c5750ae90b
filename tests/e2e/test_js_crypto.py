"""The browser's cryptography (``kernel/static/js/veche-crypto.js``) in Chromium.

Known answers first (the RFC 8785, RFC 9474, RFC 9180, RFC 9162 and C2SP signed-note
vectors, step by step), then the same bytes as the Python core on generated values,
then interoperation both ways (tokens, seals, ballots, checkpoints), and last a whole
vote from a page against a real ``veche serve``: credential with an access code and
with an account, cast without cookies, receipt checked in the page, the wallet handed
to ``veche vote --wallet``, and ``veche verify`` passing with the page's ballots counted.

Most tests load the module into a page of a made-up HTTPS origin served by
``page.route`` (a secure context, as WebCrypto requires); the live test imports it
from the server's own ``/static``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.errors import ProofError
from audit.core.merkle import verify_consistency, verify_inclusion
from audit.core.note import verifier_key
from ballot.core import blind, seal, token
from ballot.core.ballot import (
    Ballot,
    BallotToken,
    ballot_bytes,
    check_ballot,
    parse_ballot,
    sign_ballot,
)
from ballot.core.choices import (
    ApprovalChoices,
    BallotRejected,
    CumulativeChoices,
    sealed_plaintext,
    validate_choices,
)
from ballot.core.client import Wallet
from ballot.core.config import parse_config
from ballot.core.manifest import build_manifest, manifest_dict, manifest_hash, sign_manifest
from kernel.db import make_engine
from tests.strategies.audit import json_values
from tests.strategies.ballot import seeded_rng
from tests.strategies.ballot_manifest import (
    KINDS,
    base_config,
    elections,
    invalid_choices,
    valid_choices,
)
from tests.support import hpke_model
from tests.support.accounts import PASSWORD
from tests.support.elections import EARLY_CLOSE, when
from tests.support.js_harness import (
    ORIGIN,
    Page,
    harness_page,
    load,
    load_live,
    serve_harness,
    serve_harness_at,
)
from tests.support.paths import VECTORS
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = pytest.mark.browser

RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
DURING = datetime(2027, 3, 5, 12, 0, 0, tzinfo=UTC)
OPENED_AT = datetime(2027, 2, 28, 12, 0, 0, tzinfo=UTC)
TEST_KEY_BITS = 1024


@pytest.fixture(name="js", scope="module")
def fx_js(browser: Any) -> Iterator[Page]:
    with harness_page(browser) as page:
        yield page


def test_outside_a_secure_context_the_module_says_so(browser: Any) -> None:
    # Plain HTTP on a host other than localhost has no WebCrypto; encoding still works.
    context = browser.new_context()
    context.route(
        "http://veche.test/**",
        lambda route: serve_harness_at(route, "http://veche.test"),
    )
    try:
        page = load(context, "http://veche.test/")
        refused = page.attempt("return V.sha256(new Uint8Array(0));")
        encoded = page.run("return V.canonicalString({b: 1, a: [true, null]});")
    finally:
        context.close()
    assert refused["error"] == "insecure_context"
    assert encoded == '{"a":[true,null],"b":1}'


# --- canonical JSON and bytes as text ---------------------------------------------------


@pytest.mark.parametrize("name", ["arrays", "unicode", "structures"])
def test_jcs_vectors_in_the_subset(js: Page, name: str) -> None:
    # JSON.parse reads 56.0 as the number 56, so in a browser "structures" is in the subset.
    text = (VECTORS / "jcs" / f"in_{name}.json").read_text("utf-8")
    out = js.run("return V.hexEncode(V.canonicalize(JSON.parse(a)));", text)
    assert bytes.fromhex(out) == (VECTORS / "jcs" / f"out_{name}.json").read_bytes()


def test_jcs_values_are_refused_for_floats_but_strings_escape_as_the_vector(js: Page) -> None:
    text = (VECTORS / "jcs" / "in_values.json").read_text("utf-8")
    refused = js.attempt("return V.canonicalString(JSON.parse(a));", text)
    assert refused["error"] == "float"
    expected = (VECTORS / "jcs" / "out_values.json").read_bytes()
    literals_and_string = js.run(
        "const v = JSON.parse(a); return V.hexEncode(V.canonicalize("
        "{literals: v.literals, string: v.string}));",
        text,
    )
    got = bytes.fromhex(literals_and_string)
    assert got.startswith(b'{"literals":[null,true,false],')
    assert got.endswith(expected[expected.index(b'"string"') :])


@pytest.mark.parametrize("name", ["french", "weird"])
def test_jcs_non_ascii_keys_are_refused_yet_sorted_and_escaped_as_the_rfc_says(
    js: Page, name: str
) -> None:
    text = (VECTORS / "jcs" / f"in_{name}.json").read_text("utf-8")
    assert js.attempt("return V.canonicalString(JSON.parse(a));", text)["error"] == (
        "non_ascii_key"
    )
    # Outside the subset, the module's string escaping and UTF-16 key order still give
    # the RFC's bytes when an object is written member by member.
    members = js.run(
        "const o = JSON.parse(a); const keys = Object.keys(o).sort();"
        "return '{' + keys.map((k) => V.canonicalString(k) + ':' + V.canonicalString(o[k]))"
        ".join(',') + '}';",
        text,
    )
    assert members.encode() == (VECTORS / "jcs" / f"out_{name}.json").read_bytes()


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_canonical_bytes_equal_pythons(js: Page, value: object) -> None:
    text = json.dumps(value, ensure_ascii=True)
    out = js.run("return V.hexEncode(V.canonicalize(JSON.parse(a)));", text)
    assert bytes.fromhex(out) == canonical_bytes(value)


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ("1.5", "float"),
        ("[0.1]", "float"),
        ("NaN", "float"),
        ("-Infinity", "float"),
        ("2 ** 53", "integer_range"),
        ("-(2 ** 53)", "integer_range"),
        ("2n ** 53n", "integer_range"),
        ("'a\\ud800b'", "lone_surrogate"),
        ("{x: '\\udc00'}", "lone_surrogate"),
        ("{'é': 1}", "non_ascii_key"),
        ("undefined", "type"),
        ("{x: undefined}", "type"),
        ("new Date(0)", "type"),
        ("new Uint8Array(2)", "type"),
        ("() => 1", "type"),
    ],
)
def test_values_outside_the_subset_are_refused(js: Page, expression: str, code: str) -> None:
    assert js.attempt(f"return V.canonicalString({expression});")["error"] == code


@pytest.mark.parametrize("depth", [64, 65])
def test_nesting_limit_equals_pythons(js: Page, depth: int) -> None:
    value: object = 0
    for _ in range(depth):
        value = [value]
    answer = js.attempt(
        "let v = 0; for (let i = 0; i < a; i++) v = [v]; return V.canonicalString(v);", depth
    )
    try:
        expected = canonical_bytes(value).decode()
    except CanonicalError as exc:
        assert answer["error"] == exc.code == "too_deep"
    else:
        assert answer["value"] == expected


def test_integers_at_the_edge_and_negative_zero(js: Page) -> None:
    out = js.run("return V.canonicalString([2 ** 53 - 1, -(2 ** 53 - 1), -0, 9007199254740991n]);")
    assert out == "[9007199254740991,-9007199254740991,0,9007199254740991]"


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=70))
def test_base64url_and_base64_equal_pythons(js: Page, data: bytes) -> None:
    out = js.run(
        "const b = V.hexDecode(a); const u = V.b64urlEncode(b), s = V.b64Encode(b);"
        "return [u, s, V.hexEncode(V.b64urlDecode(u)), V.hexEncode(V.b64Decode(s))];",
        data.hex(),
    )
    assert out == [
        b64url_encode(data),
        base64.b64encode(data).decode(),
        data.hex(),
        data.hex(),
    ]


@pytest.mark.parametrize("text", ["AA==", "AB", "A", "AAA=", "a+b", "a/b", "AAAA AAAA", "é"])
def test_base64url_refuses_what_python_refuses(js: Page, text: str) -> None:
    with pytest.raises(CanonicalError):
        b64url_decode(text)
    assert js.attempt("return V.b64urlDecode(a);", text)["error"] == "bad_base64url"


@pytest.mark.parametrize("text", ["AB==", "ABC=", "AAA", "AA=", "-_8=", "AAAA\n"])
def test_note_base64_is_strict(js: Page, text: str) -> None:
    assert js.attempt("return V.b64Decode(a);", text)["error"] == "bad_base64"


# --- RFC 9474 -------------------------------------------------------------------------------

RSABSSA = {
    "RSABSSA-SHA384-PSS-Randomized": "PSS_RANDOMIZED",
    "RSABSSA-SHA384-PSSZERO-Randomized": "PSSZERO_RANDOMIZED",
    "RSABSSA-SHA384-PSS-Deterministic": "PSS_DETERMINISTIC",
    "RSABSSA-SHA384-PSSZERO-Deterministic": "PSSZERO_DETERMINISTIC",
}


@pytest.mark.parametrize("name", list(RSABSSA))
def test_rfc9474_vector_step_by_step(js: Page, name: str) -> None:
    vector = json.loads((VECTORS / "rfc9474.json").read_text())[name]
    n = int(vector["n"], 16)
    r = pow(int(vector["inv"], 16), -1, n).to_bytes(len(vector["n"]) // 2, "big")
    got = js.run(
        """
        const v = a.vector, h = V.hexDecode, x = V.hexEncode;
        const variant = V.RSABSSA[a.variant];
        const key = await V.importBlindPublicKey({ n: h(v.n), e: h(v.e) }, variant);
        const prepared = V.prepare(h(v.msg), { variant, prefix: h(v.msg_prefix) });
        const encoded = await V.emsaPssEncode(prepared, key.bits - 1, variant.saltLength,
                                              { salt: h(v.salt) });
        const blinded = await V.blind(key, prepared, { salt: h(v.salt), inv: h(v.inv) });
        const sig = await V.finalize(key, prepared, h(v.blind_sig), h(v.inv));
        const byR = await V.blind(key, prepared, { salt: h(v.salt), r: h(a.r) });
        const bad = h(v.blind_sig); bad[bad.length - 1] ^= 1;
        const refused = await window.attempt(() => V.finalize(key, prepared, bad, h(v.inv)));
        const cut = h(v.blind_sig).subarray(1);
        const short = await window.attempt(() => V.finalize(key, prepared, cut, h(v.inv)));
        return {
          prepared_msg: x(prepared), encoded_msg: x(encoded), blinded_msg: x(blinded.blindedMsg),
          inv: x(blinded.inv), sig: x(sig), verifies: await V.verifyRsaPss(key, prepared, sig),
          by_r: [x(byR.blindedMsg), x(byR.inv)],
          refused: refused.error, short: short.error,
        };
        """,
        {"vector": vector, "variant": RSABSSA[name], "r": r.hex()},
    )
    for step in ("prepared_msg", "encoded_msg", "blinded_msg", "inv", "sig"):
        assert got[step] == vector[step], step
    assert got["verifies"] is True
    assert got["by_r"] == [vector["blinded_msg"], vector["inv"]]
    assert got["refused"] == "invalid_signature"
    assert got["short"] == "unexpected_input_size"


def test_rfc9474_randomness_is_drawn_in_the_rfcs_order(js: Page) -> None:
    # With one random stream (prefix, then salt, then inv), the vector replays too.
    vector = json.loads((VECTORS / "rfc9474.json").read_text())["RSABSSA-SHA384-PSS-Randomized"]
    stream = vector["msg_prefix"] + vector["salt"] + vector["inv"]
    got = js.run(
        """
        const v = a.vector, h = V.hexDecode;
        const bytes = h(a.stream); let at = 0;
        const rng = (n) => { const out = bytes.slice(at, at + n); at += n; return out; };
        const key = await V.importBlindPublicKey({ n: h(v.n), e: h(v.e) });
        const { blindedMsg, state } = await V.prepareAndBlind(key, h(v.msg), { rng });
        return [V.hexEncode(blindedMsg), V.hexEncode(state.preparedMsg), V.hexEncode(state.inv)];
        """,
        {"vector": vector, "stream": stream},
    )
    assert got == [vector["blinded_msg"], vector["prepared_msg"], vector["inv"]]


@pytest.fixture(name="rsa_private_key", scope="module")
def fx_rsa_private_key() -> Any:
    return blind.generate_private_key(TEST_KEY_BITS)


def spki(private_key: Any) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64url_encode(der)


def test_a_token_unblinded_in_the_browser_verifies_in_python(
    js: Page, rsa_private_key: Any
) -> None:
    election = "ab" * 32
    request = js.run(
        """
        const key = await V.importBlindPublicKey(a.spki);
        const credential = await V.generateCredential();
        const message = V.credentialMessage(credential.public, a.election);
        const { blindedMsg, state } = await V.prepareAndBlind(key, message);
        window.pending = { key, credential, state };
        return { credential: credential.public, message: V.hexEncode(message),
                 blinded: V.hexEncode(blindedMsg), bits: key.bits };
        """,
        {"spki": spki(rsa_private_key), "election": election},
    )
    assert request["bits"] == TEST_KEY_BITS
    assert bytes.fromhex(request["message"]) == token.credential_message(
        request["credential"], election
    )
    answer = blind.blind_sign(rsa_private_key, bytes.fromhex(request["blinded"]))
    issued = js.run(
        """
        const { key, credential, state } = window.pending;
        const t = await V.finalizeToken(key, state, V.hexDecode(a.answer));
        const other = V.hexDecode(a.answer); other[3] ^= 0x40;
        const forged = await window.attempt(() => V.finalizeToken(key, state, other));
        return { token: t, forged: forged.error,
                 verifies: await V.verifyToken(key, credential.public, a.election, t),
                 elsewhere: await V.verifyToken(key, credential.public, "cd".repeat(32), t) };
        """,
        {"answer": answer.hex(), "election": election},
    )
    public = rsa_private_key.public_key()
    token.verify_token(public, request["credential"], election, issued["token"])
    assert issued["forged"] == "invalid_signature"
    assert issued["verifies"] is True
    assert issued["elsewhere"] is False


def test_a_token_made_in_python_verifies_in_the_browser(js: Page, rsa_private_key: Any) -> None:
    credential = b64url_encode(
        ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET).public_key().public_bytes_raw()
    )
    election = "0f" * 32
    public = rsa_private_key.public_key()
    blinded, state = token.prepare_and_blind(public, token.credential_message(credential, election))
    issued = token.finalize(public, state, blind.blind_sign(rsa_private_key, blinded))
    checks = js.run(
        """
        const key = await V.importBlindPublicKey(a.spki);
        const prefix = V.b64urlDecode(a.token.prefix); prefix[0] ^= 1;
        const flipped = { ...a.token, prefix: V.b64urlEncode(prefix) };
        return [await V.verifyToken(key, a.credential, a.election, a.token),
                await V.verifyToken(key, a.credential, a.election, flipped)];
        """,
        {
            "spki": spki(rsa_private_key),
            "token": issued,
            "credential": credential,
            "election": election,
        },
    )
    assert checks == [True, False]


# --- RFC 9180 -------------------------------------------------------------------------------


# --- credentials from a recovery code (docs/protocol.md §6.13) ----------------------------

RECOVERY = json.loads((VECTORS / "recovery.json").read_text("utf-8"))

DERIVE = """
const key = a.spki ? await V.importBlindPublicKey(a.spki)
                   : await V.importBlindPublicKey({ n: V.hexDecode(a.n), e: V.hexDecode(a.e) });
const out = [];
for (const v of a.vectors) {
  const seed = await V.recoverySeed(v.typed, v.manifest_hash);
  const credential = await V.credentialFromSeed(seed);
  const message = V.credentialMessage(credential.public, v.manifest_hash);
  const { blindedMsg, state } = await V.recoveryBlind(key, message, v.code, v.manifest_hash);
  const made = { seed: V.hexEncode(seed), credential: credential.public,
                 prefix: V.hexEncode(state.preparedMsg.subarray(0, 32)),
                 blinded_msg: V.hexEncode(blindedMsg), inv: V.hexEncode(state.inv) };
  if (v.blind_sig) made.token = await V.finalizeToken(key, state, V.hexDecode(v.blind_sig));
  const wallet = await V.walletFromRecoveryCode("e", v.manifest_hash, v.typed);
  made.wallet = V.exportWallet(wallet);
  out.push(made);
}
return out;
"""


def test_recovery_vectors_in_the_browser(js: Page) -> None:
    got = js.run(DERIVE, RECOVERY)
    for made, vector in zip(got, RECOVERY["vectors"], strict=True):
        assert made["seed"] == vector["seed"]
        assert made["credential"] == vector["credential"]
        assert made["prefix"] == vector["prefix"]
        assert made["blinded_msg"] == vector["blinded_msg"]
        assert made["inv"] == vector["inv"]
        assert made["token"] == vector["token"]
        assert made["wallet"]["recovery_code"] == vector["code"]
        assert made["wallet"]["credential_private"] == b64url_encode(bytes.fromhex(vector["seed"]))


@given(
    codes=st.lists(
        st.text(alphabet=token.RECOVERY_ALPHABET, min_size=28, max_size=28),
        min_size=1,
        max_size=4,
    ),
    election=st.binary(min_size=32, max_size=32),
)
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_browser_and_python_derive_the_same_credential_and_request(
    js: Page, rsa_private_key: Any, codes: list[str], election: bytes
) -> None:
    public = rsa_private_key.public_key()
    vectors = [{"code": c, "typed": c.lower(), "manifest_hash": election.hex()} for c in codes]
    got = js.run(DERIVE, {"spki": spki(rsa_private_key), "vectors": vectors})
    for made, code in zip(got, codes, strict=True):
        seed = token.recovery_seed(code, election.hex())
        assert made["seed"] == seed.hex()
        wallet = Wallet.from_recovery_code("e", election.hex(), code)
        assert made["credential"] == wallet.credential
        message = token.credential_message(wallet.credential, election.hex())
        blinded, state = token.recovery_blind(public, message, code, election.hex())
        assert made["blinded_msg"] == bytes(blinded).hex()
        assert made["inv"] == state.inv.hex()
        assert made["wallet"] == {**wallet.to_json(), "election_id": "e"}


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-234",
        "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2340",
        "OBCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345",
        "ABCD.EFGH-JKLM-NPQR-STUV-WXYZ-2345",
        " abcd efgh-jklm\tnpqr stuv wxyz 2345 ",
    ],
)
def test_the_browser_reads_a_typed_code_as_python_does(js: Page, typed: str) -> None:
    got = js.attempt("return V.formatRecoveryCode(a);", typed)
    try:
        expected: dict[str, Any] = {"value": token.format_recovery_code(typed)}
    except Exception as exc:
        expected = {"error": getattr(exc, "code", "?")}
    assert {k: got[k] for k in expected} == expected
    made = js.run("return V.newRecoveryCode();")
    assert token.format_recovery_code(made) == made


def test_rfc9180_a11_vector(js: Page) -> None:
    vector = json.loads((VECTORS / "rfc9180_a1.json").read_text())
    got = js.run(
        """
        const v = a, h = V.hexDecode, x = V.hexEncode;
        const { enc, context } = await V.hpkeSetupBaseS(h(v.pkRm), h(v.info),
                                                         { ephemeralPrivate: h(v.skEm) });
        const pair = await V.x25519KeyPair(h(v.skRm));
        const out = {
          enc: x(enc), shared_secret: x(context.sharedSecret),
          key_schedule_context: x(context.keyScheduleContext), secret: x(context.secret),
          key: x(context.key), base_nonce: x(context.baseNonce),
          exporter_secret: x(context.exporterSecret), pkRm: x(pair.publicRaw),
          cts: [], exports: [], opened: [],
        };
        for (const e of v.encryptions) {
          context.seq = e.sequence_number;
          out.cts.push(x(await context.seal(h(e.aad), h(e.pt))));
        }
        for (const e of v.exports) {
          out.exports.push(x(await context.export(h(e.exporter_context), e.L)));
        }
        const receiver = await V.hpkeSetupBaseR(enc, h(v.skRm), h(v.info));
        for (const e of v.encryptions) {
          receiver.seq = e.sequence_number;
          out.opened.push(x(await receiver.open(h(e.aad), h(e.ct))));
        }
        const first = v.encryptions[0];
        out.single = x(await V.hpkeSeal(h(v.pkRm), h(v.info), h(first.aad), h(first.pt),
                                        { ephemeralPrivate: h(v.skEm) }));
        const tampered = h(out.single); tampered[40] ^= 1;
        const opened = await window.attempt(
          () => V.hpkeOpen(h(v.skRm), h(v.info), h(first.aad), tampered));
        out.tampered = opened.error;
        return out;
        """,
        vector,
    )
    for field in (
        "enc",
        "shared_secret",
        "key_schedule_context",
        "secret",
        "key",
        "base_nonce",
        "exporter_secret",
        "pkRm",
    ):
        assert got[field] == vector[field], field
    assert got["cts"] == [e["ct"] for e in vector["encryptions"]]
    assert got["opened"] == [e["pt"] for e in vector["encryptions"]]
    assert got["exports"] == [e["exported_value"] for e in vector["exports"]]
    assert got["single"] == vector["enc"] + vector["encryptions"][0]["ct"]
    assert got["tampered"] == "seal_refused"


def test_seals_open_both_ways_with_pythons_hpke(js: Page) -> None:
    private, public = seal.generate_keypair(seeded_rng(b"js seal"))
    election = bytes(range(32))
    plaintext = b'{"choices":{"approve":["park"]},"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}'
    from_js = js.run(
        "return V.hexEncode(await V.hpkeSeal(V.hexDecode(a.pk), V.sealInfo(a.election),"
        " new Uint8Array(0), V.hexDecode(a.pt)));",
        {"pk": public.hex(), "election": election.hex(), "pt": plaintext.hex()},
    )
    assert seal.open_sealed(private, election, bytes.fromhex(from_js)) == plaintext
    from_python = seal.seal(public, election, plaintext)
    opened = js.run(
        "return V.hexEncode(await V.hpkeOpen(V.hexDecode(a.sk), V.sealInfo(a.election),"
        " new Uint8Array(0), V.hexDecode(a.sealed)));",
        {"sk": private.hex(), "election": election.hex(), "sealed": from_python.hex()},
    )
    assert bytes.fromhex(opened) == plaintext
    low_order = js.attempt(
        "const none = new Uint8Array(0);"
        "return V.hpkeSeal(new Uint8Array(32), V.sealInfo(a), none, new Uint8Array(1));",
        election.hex(),
    )
    assert low_order["error"] == "seal_key_malformed"


def test_seals_bound_to_a_credential_open_both_ways_and_only_for_it(js: Page) -> None:
    private, public = seal.generate_keypair(seeded_rng(b"js seal v2"))
    election = bytes(range(32))
    credential, other = bytes(range(100, 132)), bytes(range(200, 232))
    plaintext = b'{"choices":{"approve":["park"]},"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}'
    info = js.run(
        "return V.hexEncode(V.sealInfo(a.election, a.credential));",
        {"election": election.hex(), "credential": b64url_encode(credential)},
    )
    assert bytes.fromhex(info) == seal.seal_info(election, credential)
    from_js = js.run(
        "return V.hexEncode(await V.hpkeSeal(V.hexDecode(a.pk),"
        " V.sealInfo(a.election, a.credential), new Uint8Array(0), V.hexDecode(a.pt)));",
        {
            "pk": public.hex(),
            "election": election.hex(),
            "credential": b64url_encode(credential),
            "pt": plaintext.hex(),
        },
    )
    assert seal.open_sealed(private, election, bytes.fromhex(from_js), credential) == plaintext
    for wrong in (other, None):
        with pytest.raises(seal.SealRefused):
            seal.open_sealed(private, election, bytes.fromhex(from_js), wrong)
    from_python = seal.seal(public, election, plaintext, credential)
    opened = js.attempt(
        "return V.hexEncode(await V.hpkeOpen(V.hexDecode(a.sk),"
        " V.sealInfo(a.election, a.credential), new Uint8Array(0), V.hexDecode(a.sealed)));",
        {
            "sk": private.hex(),
            "election": election.hex(),
            "credential": b64url_encode(credential),
            "sealed": from_python.hex(),
        },
    )
    assert bytes.fromhex(opened["value"]) == plaintext
    copied = js.attempt(
        "return V.hexEncode(await V.hpkeOpen(V.hexDecode(a.sk),"
        " V.sealInfo(a.election, a.credential), new Uint8Array(0), V.hexDecode(a.sealed)));",
        {
            "sk": private.hex(),
            "election": election.hex(),
            "credential": b64url_encode(other),
            "sealed": from_python.hex(),
        },
    )
    assert copied["error"] == "seal_refused"


# --- ballots --------------------------------------------------------------------------------


class Authority:
    """The election's side, in Python: keys, the signed manifest, credential issuing."""

    def __init__(self, rsa_private_key: Any, version: Literal[1, 2] = 2, **config: Any) -> None:
        self.rsa = rsa_private_key
        self.sealing_private, sealing_public = seal.generate_keypair(seeded_rng(b"sealing"))
        self.authority = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        cfg = msgspec.structs.replace(
            parse_config(base_config(**config)), rsa_key_bits=TEST_KEY_BITS
        )
        self.manifest = build_manifest(
            cfg,
            rsa_private_key.public_key(),
            sealing_public,
            bytes(32),
            self.authority.public_key().public_bytes_raw(),
            OPENED_AT,
            allow_test_keys=True,
            version=version,
        )
        self.hash = manifest_hash(self.manifest)

    def issue(self, credential: ed25519.Ed25519PrivateKey) -> token.Token:
        public = self.rsa.public_key()
        message = token.credential_message(
            b64url_encode(credential.public_key().public_bytes_raw()), self.hash
        )
        blinded, state = token.prepare_and_blind(public, message)
        return token.finalize(public, state, blind.blind_sign(self.rsa, blinded))

    def view(self) -> dict[str, Any]:
        """What GET /api/v1/elections/{id}/manifest answers."""
        return {
            "manifest": manifest_dict(self.manifest),
            "manifest_hash": self.hash,
            "signature": sign_manifest(self.authority, self.manifest),
            "authority_key": self.manifest.authority_key,
            "opened_seq": 1,
        }


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_choices_are_judged_as_python_judges_them(js: Page, kind: str, data: st.DataObject) -> None:
    config = data.draw(elections(kind))
    if data.draw(st.booleans()):
        choices: object = data.draw(valid_choices(config))
    else:
        _code, choices = data.draw(invalid_choices(config))
    try:
        validate_choices(config, choices)
    except BallotRejected as exc:
        expected = exc.code
    else:
        expected = "ok"
    got = js.attempt(
        "V.validateChoices(a.election, a.choices); return 'ok';",
        {"election": msgspec.to_builtins(config), "choices": choices},
    )
    assert got.get("value", got.get("error")) == expected, got


MAKE_BALLOT = """
const h = V.hexDecode;
const credential = await V.credentialFromSeed(h(a.seed));
const made = await V.makeBallot({
  manifest: a.manifest, manifestHash: a.hash, credential, token: a.token,
  choices: a.choices, nonce: h(a.nonce), ephemeralPrivate: h(a.eph), counter: a.counter,
});
return { ballot: made.ballot, signature: made.signature, plaintext: V.hexEncode(made.plaintext),
         credential: credential.public, seed: V.b64urlEncode(credential.privateRaw) };
"""


@pytest.mark.parametrize(
    ("config", "choices", "typed"),
    [
        ({}, {"approve": ["park", "library"]}, ApprovalChoices(("park", "library"))),
        (
            {"ballot": {"kind": "cumulative", "total_points": 10, "max_per_project": 5}},
            {"points": {"park": 5, "bike-lane": 2, "library": 3}},
            CumulativeChoices({"park": 5, "bike-lane": 2, "library": 3}),
        ),
    ],
)
def test_a_ballot_made_in_the_browser_is_pythons_ballot(
    js: Page, rsa_private_key: Any, config: dict[str, Any], choices: Any, typed: Any
) -> None:
    authority = Authority(rsa_private_key, **config)
    voter = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    issued = authority.issue(voter)
    nonce, eph = bytes(range(100, 116)), bytes(range(7, 39))
    made = js.run(
        MAKE_BALLOT,
        {
            "seed": RFC8032_SECRET.hex(),
            "manifest": manifest_dict(authority.manifest),
            "hash": authority.hash,
            "token": issued,
            "choices": choices,
            "nonce": nonce.hex(),
            "eph": eph.hex(),
            "counter": 3,
        },
    )
    assert made["credential"] == b64url_encode(voter.public_key().public_bytes_raw())
    assert made["seed"] == b64url_encode(RFC8032_SECRET)
    ballot = parse_ballot(made["ballot"])
    assert (
        check_ballot(
            authority.manifest, ballot, made["signature"], authority.sealing_private, DURING
        )
        == typed
    )
    expected_plaintext = sealed_plaintext(typed, nonce)
    assert bytes.fromhex(made["plaintext"]) == expected_plaintext
    sealed = b64url_decode(ballot.sealed)
    credential = voter.public_key().public_bytes_raw()
    # Version 2: numbered, and sealed for this election and this credential only.
    assert (ballot.v, ballot.counter) == (2, 3)
    info = seal.seal_info(bytes.fromhex(authority.hash), credential)
    assert seal.open_sealed(
        authority.sealing_private, bytes.fromhex(authority.hash), sealed, credential
    ) == (expected_plaintext)
    # Byte for byte: the ballot Python builds from the same inputs -- the seal by the
    # independent HPKE model with the same ephemeral key, the envelope, and Python's own
    # (deterministic) Ed25519 signature over it.
    expected = Ballot(
        counter=3,
        credential=b64url_encode(credential),
        election=authority.hash,
        sealed=b64url_encode(
            hpke_model.seal_base(
                b64url_decode(authority.manifest.sealing_key), info, expected_plaintext, eph
            )
        ),
        token=BallotToken(**issued),
        v=2,
    )
    assert canonical_bytes(made["ballot"]) == ballot_bytes(expected)
    assert made["signature"] == sign_ballot(voter, expected)


def test_a_ballot_of_an_old_election_is_made_in_the_old_format(
    js: Page, rsa_private_key: Any
) -> None:
    authority = Authority(rsa_private_key, version=1)
    voter = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    issued = authority.issue(voter)
    nonce, eph = bytes(range(100, 116)), bytes(range(7, 39))
    made = js.run(
        MAKE_BALLOT,
        {
            "seed": RFC8032_SECRET.hex(),
            "manifest": manifest_dict(authority.manifest),
            "hash": authority.hash,
            "token": issued,
            "choices": {"approve": ["park"]},
            "nonce": nonce.hex(),
            "eph": eph.hex(),
            "counter": 7,  # ignored: version-1 ballots carry no counter
        },
    )
    assert set(made["ballot"]) == {"credential", "election", "sealed", "token"}
    ballot = parse_ballot(made["ballot"])
    assert check_ballot(
        authority.manifest, ballot, made["signature"], authority.sealing_private, DURING
    ) == ApprovalChoices(("park",))
    assert made["signature"] == sign_ballot(voter, ballot)


def test_make_ballot_refuses_bad_choices_and_a_bad_token(js: Page, rsa_private_key: Any) -> None:
    authority = Authority(rsa_private_key)
    arg = {
        "seed": RFC8032_SECRET.hex(),
        "manifest": manifest_dict(authority.manifest),
        "hash": authority.hash,
        "token": {"prefix": "x", "signature": "y"},
        "choices": {"rank": ["park"]},
        "nonce": "00" * 16,
        "eph": "01" * 32,
    }
    assert js.attempt(MAKE_BALLOT, arg)["error"] == "wrong_ballot_kind"
    arg["choices"] = {"approve": ["park", "castle"]}
    assert js.attempt(MAKE_BALLOT, arg)["error"] == "unknown_project"
    arg["choices"] = {"approve": ["park"]}
    arg["token"] = {"prefix": "x"}
    assert js.attempt(MAKE_BALLOT, arg)["error"] == "bad_token"
    arg["token"] = {"prefix": "x", "signature": "y"}
    arg["nonce"] = "00" * 15
    assert js.attempt(MAKE_BALLOT, arg)["error"] == "bad_nonce"
    for counter in (0, -1, 1.5, "2", 2**53):
        arg["counter"] = counter
        assert js.attempt(MAKE_BALLOT, arg)["error"] == "malformed_ballot", counter


def test_the_voter_refuses_forged_manifests(browser: Any, rsa_private_key: Any) -> None:
    authority = Authority(rsa_private_key)

    def view(election_id: str) -> dict[str, Any]:
        manifest = msgspec.structs.replace(authority.manifest, id=election_id)
        return {
            **authority.view(),
            "manifest": manifest_dict(manifest),
            "manifest_hash": manifest_hash(manifest),
            "signature": sign_manifest(authority.authority, manifest),
        }

    edited = view("edited")
    edited["manifest"]["title"] = "Another title"
    edited["manifest_hash"] = manifest_hash(
        msgspec.structs.replace(authority.manifest, id="edited", title="Another title")
    )
    views = {
        "good": view("good"),
        "rehashed": {**view("rehashed"), "manifest_hash": "00" * 32},
        "edited": edited,
        "unsigned": {**view("unsigned"), "signature": b64url_encode(bytes(64))},
        "renamed": view("good"),
    }

    def route(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/api/v1/elections/"):
            body = json.dumps(views[path.split("/")[4]])
            route.fulfill(status=200, body=body, content_type="application/json")
        else:
            serve_harness(route)

    context = browser.new_context()
    context.route(f"{ORIGIN}/**", route)
    try:
        page = load(context, ORIGIN + "/")
        answers = page.run(
            """
            const out = {};
            for (const [name, test] of [["good", true], ["good", false], ["rehashed", true],
                                        ["edited", true], ["unsigned", true], ["renamed", true]]) {
              const voter = new V.VecheVoter({ allowTestKeys: test });
              const r = await window.attempt(async () => (await voter.election(name)).hash);
              out[`${name}/${test}`] = r.error ?? r.value;
            }
            return out;
            """
        )
        assert page.errors == []
    finally:
        context.close()
    assert answers == {
        "good/true": views["good"]["manifest_hash"],
        "good/false": "bad_credential_key",  # a 1024-bit key only on test servers
        "rehashed/true": "bad_manifest",
        "edited/true": "bad_signature",
        "unsigned/true": "bad_signature",
        "renamed/true": "bad_manifest",  # the manifest names another election
    }


# --- receipts: RFC 9162 proofs and C2SP notes -------------------------------------------------


def _b64hex(value: str) -> str:
    return base64.b64decode(value, validate=True).hex()


def _python_outcome(check: Any, *args: Any) -> str:
    try:
        check(*args)
    except ProofError as exc:
        return str(exc.code)
    return "ok"


def test_merkle_vectors_give_pythons_answers(js: Page) -> None:
    inclusion, consistency = [], []
    for path in sorted((VECTORS / "merkle" / "inclusion").rglob("*.json")):
        v = json.loads(path.read_text())
        proof = [_b64hex(p) for p in v["proof"] or []]
        args = (bytes.fromhex(_b64hex(v["leafHash"])), v["leafIdx"], v["treeSize"])
        expected = _python_outcome(
            verify_inclusion,
            *args,
            [bytes.fromhex(p) for p in proof],
            bytes.fromhex(_b64hex(v["root"])),
        )
        assert (expected == "ok") != v["wantErr"], path
        inclusion.append(
            {
                "leaf": _b64hex(v["leafHash"]),
                "index": v["leafIdx"],
                "size": v["treeSize"],
                "proof": proof,
                "root": _b64hex(v["root"]),
                "expected": expected,
            }
        )
    for path in sorted((VECTORS / "merkle" / "consistency").rglob("*.json")):
        v = json.loads(path.read_text())
        proof = [_b64hex(p) for p in v["proof"] or []]
        expected = _python_outcome(
            verify_consistency,
            v["size1"],
            v["size2"],
            bytes.fromhex(_b64hex(v["root1"])),
            bytes.fromhex(_b64hex(v["root2"])),
            [bytes.fromhex(p) for p in proof],
        )
        consistency.append(
            {
                "size1": v["size1"],
                "size2": v["size2"],
                "root1": _b64hex(v["root1"]),
                "root2": _b64hex(v["root2"]),
                "proof": proof,
                "expected": expected,
            }
        )
    assert len(inclusion) == len(consistency) == 98
    got = js.run(
        """
        const h = V.hexDecode;
        const outcome = async (f) => { const r = await window.attempt(f); return r.error ?? "ok"; };
        const inc = [], con = [];
        for (const v of a.inclusion) {
          inc.push(await outcome(() => V.verifyInclusion(h(v.leaf), v.index, v.size,
                                                          v.proof.map((p) => h(p)), h(v.root))));
        }
        for (const v of a.consistency) {
          con.push(await outcome(() => V.verifyConsistency(v.size1, v.size2, h(v.root1),
                                                            h(v.root2), v.proof.map((p) => h(p)))));
        }
        return [inc, con];
        """,
        {"inclusion": inclusion, "consistency": consistency},
    )
    assert got[0] == [v["expected"] for v in inclusion]
    assert got[1] == [v["expected"] for v in consistency]


def test_signed_note_example(js: Page) -> None:
    text = (VECTORS / "signed-note-example.txt").read_text("utf-8")
    key = text.split("\n")[0].removeprefix("verifier key: ")
    note = text.split("note:\n", 1)[1]
    got = js.run(
        """
        const verifier = await V.parseVerifierKey(a.key);
        const parsed = await V.verifyNote(a.note, a.key);
        const out = {
          name: verifier.name, keyId: V.hexEncode(verifier.keyId), text: parsed.text,
          again: await V.noteVerifierKey(verifier.name, verifier.publicKey),
        };
        const attempt = async (f) => (await window.attempt(f)).error ?? "ok";
        const changed = a.note.replace("example", "exemplary");
        out.tampered = await attempt(() => V.verifyNote(changed, a.key));
        const stranger = await V.noteVerifierKey(verifier.name, new Uint8Array(32).fill(9));
        out.stranger = await attempt(() => V.verifyNote(a.note, stranger));
        const [name, id, k] = a.key.split("+");
        out.wrongId = await attempt(() => V.parseVerifierKey(`${name}+00000000+${k}`));
        out.noBlank = await attempt(() => V.verifyNote(a.note.replace("\\n\\n", "\\n"), a.key));
        out.noDash = await attempt(() => V.verifyNote(a.note.replace("\\u2014", "-"), a.key));
        out.control = await attempt(() => V.verifyNote("\\u0001" + a.note, a.key));
        out.bytes = (await V.verifyNote(V.utf8(a.note), a.key)).text;
        out.notACheckpoint = await attempt(() => V.verifyCheckpoint(a.note, a.key));
        return out;
        """,
        {"key": key, "note": note},
    )
    assert got["name"] == "example.com/foo"
    assert got["keyId"] == "530d903a"
    assert got["text"] == got["bytes"] == "This is an example message.\n"
    assert got["again"] == key
    assert got["tampered"] == "bad_signature"
    assert got["stranger"] == "no_known_signature"
    assert got["wrongId"] == "bad_verifier_key"
    assert got["noBlank"] == got["noDash"] == got["control"] == "bad_note"
    assert got["notACheckpoint"] == "bad_checkpoint"


def test_checkpoints_signed_in_python_verify_in_the_browser(js: Page) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    origin = "veche.example/log"
    vkey = verifier_key(origin, key.public_key().public_bytes_raw())
    root = bytes(range(32))
    note = sign_checkpoint(key, origin, Checkpoint(origin, 12345, root, ("ext one",)))
    other = sign_checkpoint(key, "elsewhere/log", Checkpoint(origin, 1, root))
    got = js.run(
        """
        const c = await V.verifyCheckpoint(a.note, a.vkey);
        const attempt = async (f) => (await window.attempt(f)).error ?? "ok";
        return {
          origin: c.origin, size: c.size, root: V.hexEncode(c.root), extensions: c.extensions,
          otherOrigin: await attempt(() => V.verifyCheckpoint(a.note, a.vkey, { origin: "x" })),
          otherName: await attempt(() => V.verifyCheckpoint(a.other, a.vkey)),
          sizeChanged: await attempt(
            () => V.verifyCheckpoint(a.note.replace("12345", "12346"), a.vkey)),
        };
        """,
        {"note": note, "vkey": vkey, "other": other},
    )
    assert got == {
        "origin": origin,
        "size": 12345,
        "root": root.hex(),
        "extensions": ["ext one"],
        "otherOrigin": "wrong_origin",
        "otherName": "no_known_signature",
        "sizeChanged": "bad_signature",
    }


# --- a whole vote from a page against the real server -----------------------------------------


def _veche(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veche.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "XDG_DATA_HOME": str(home)},
        stdin=subprocess.DEVNULL,
    )


ELECTION = "js-centre-2026"

VOTE_WITH_CODE = """
const voter = new V.VecheVoter({ allowTestKeys: true });
const info = await voter.election(a.election);
const wallet = await voter.obtainCredential(info, { accessCode: a.code });
const receipt = await voter.cast(info, wallet, { approve: ["park", "library"] });
const again = await window.attempt(() => voter.obtainCredential(info, { accessCode: a.code }));
const unknown = await window.attempt(() => voter.cast(info, wallet, { approve: ["castle"] }));
return { hash: info.hash, wallet: V.exportWallet(wallet), receipt,
         again: [again.error, again.detail], unknown: unknown.error };
"""

VOTE_WITH_ACCOUNT = """
const login = await fetch("/api/v1/auth/login", {
  method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email: a.email, password: a.password }),
});
const { csrf_token } = await login.json();
const voter = new V.VecheVoter({ allowTestKeys: true, csrfToken: csrf_token });
const info = await voter.election(a.election);
const wallet = await voter.obtainCredential(info);
const receipt = await voter.cast(info, wallet, { approve: ["park"] });
return { wallet: V.exportWallet(wallet), receipt };
"""

FRESH_DEVICE = """
// The voter's credential on a new device: the wallet without its counter or receipts.
const voter = new V.VecheVoter({ allowTestKeys: true });
const info = await voter.election(a.election);
const { counter, receipts, ...rest } = a.wallet;
const wallet = V.importWallet(JSON.stringify(rest));
const before = wallet.counter;
const receipt = await voter.cast(info, wallet, { approve: ["park", "library"] });
return { before, after: wallet.counter, receipt, wallet: V.exportWallet(wallet) };
"""

REVOTE_FROM_WALLET = """
const voter = new V.VecheVoter({ allowTestKeys: true });
const info = await voter.election(a.election);
const wallet = V.importWallet(JSON.stringify(a.wallet));
const receipt = await voter.cast(info, wallet, { approve: ["park", "library"] });
const checked = await voter.checkReceipt(wallet.receipts[0]);
const first = wallet.receipts[0];
const forged = [
  { ...first, leaf_hash: "00".repeat(32) },
  { ...first, seq: first.seq + 1 },
  { ...first, proof: first.proof.slice(1) },
  { ...first, size: first.size + 1 },
  { ...first, checkpoint: first.checkpoint.replace("\\n\\n", "\\nextra\\n\\n") },
];
const refused = [];
for (const r of forged) refused.push((await window.attempt(() => voter.checkReceipt(r))).error);
// Another ballot than the one sent, and the first ballot's receipt for the re-vote.
const other = {
  ballot: { ...receipt.cast.ballot, sealed: "AAAA" }, signature: receipt.cast.signature,
};
refused.push((await window.attempt(() => voter.checkReceipt({ ...receipt, cast: other }))).error);
const swapped = { ...first, cast: receipt.cast, ballot_digest: receipt.ballot_digest };
refused.push((await window.attempt(() => voter.checkReceipt(swapped))).error);
const { cast, ...bare } = first;
refused.push((await window.attempt(() => voter.checkReceipt(bare))).error);
// Later: the entry is still in the log, which only grew since the receipt.
const latest = await voter.recheckReceipt(first);
const grown = await voter.checkConsistency(first.checkpoint, receipt.checkpoint);
const lyingAbout = (what) => new V.VecheVoter({ allowTestKeys: true, fetch: async (url, init) => {
  const response = await fetch(url, init);
  if (!url.includes(what)) return response;
  const body = await response.json();
  body.proof[0] = "00".repeat(32);
  return new Response(JSON.stringify(body), { status: 200 });
} });
const lies = [
  (await window.attempt(() => lyingAbout("/proof/inclusion").recheckReceipt(first))).error,
  (await window.attempt(() => lyingAbout("/proof/consistency").recheckReceipt(first))).error,
];
return { wallet: V.exportWallet(wallet), receipt, firstSize: checked.size, refused,
         latest: latest.size, grown: grown.size, lies };
"""


@pytest.mark.slow
def test_a_page_votes_and_veche_verify_counts_it(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    url = live_server.url
    engine = make_engine(live_server.settings)
    try:
        for email, role in (("admin@example.org", "admin"), ("olga@example.org", "resident")):
            new = NewUser(email, PASSWORD, email[:4], role, "centre", confirmed=True)
            create_user(live_server.settings, engine, new)
    finally:
        engine.dispose()
    admin = httpx.Client(base_url=url, timeout=120)
    login = admin.post(
        "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    config = {
        "id": ELECTION,
        "title": "Centre 2026",
        "district": "centre",
        "budget": 1_000_000,
        "currency": "RUB",
        "projects": [
            {"id": "park", "title": "Park", "cost": 400_000},
            {"id": "library", "title": "Library", "cost": 350_000},
            {"id": "trees", "title": "Trees", "cost": 100_000},
        ],
        "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 3},
        "rule": {"name": "greedy"},
        "window": {"opens_at": when(-5), "closes_at": when(60)},
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": TEST_KEY_BITS,
    }
    with closing(admin):
        assert admin.post("/api/v1/elections", json=config).status_code == 201
        # A code holder, and Olga, who logs in with her (confirmed) address on the roll.
        roll = admin.post(
            f"/api/v1/elections/{ELECTION}/roll",
            content=b"voter_id,email\nR1,\nO1,olga@example.org\n",
            headers={"content-type": "text/csv"},
        )
        assert roll.status_code == 201, roll.text
        made = admin.post(f"/api/v1/elections/{ELECTION}/access-codes")
        code = dict(line.split(",") for line in made.text.strip().split("\n")[1:])["R1"]
        assert admin.post(f"/api/v1/elections/{ELECTION}/open").status_code == 200

        context = browser.new_context()
        requests: list[Any] = []
        context.on("request", lambda request: requests.append(request))
        try:
            page = load_live(context, url)
            first = page.run(VOTE_WITH_CODE, {"election": ELECTION, "code": code})
            assert first["again"][0] == "already_issued", first["again"]
            assert first["unknown"] == "unknown_project"
            second = page.run(
                VOTE_WITH_ACCOUNT,
                {"election": ELECTION, "email": "olga@example.org", "password": PASSWORD},
            )

            # The wallet saved from the page is a wallet for `veche vote`: re-vote with it.
            wallet_path = tmp_path / "wallet.json"
            wallet_path.write_text(json.dumps(first["wallet"]), "utf-8")
            wallet_path.chmod(0o600)
            revote = _veche(
                "vote",
                url,
                "--election",
                ELECTION,
                "--allow-test-keys",
                "--wallet",
                str(wallet_path),
                "--approve",
                "trees",
                home=tmp_path / "home",
            )
            assert revote.returncode == 0, revote.stdout + revote.stderr
            assert "Re-voted" in revote.stdout
            # And back: the page re-votes from the wallet `veche vote` updated.
            third = page.run(
                REVOTE_FROM_WALLET,
                {"election": ELECTION, "wallet": json.loads(wallet_path.read_text("utf-8"))},
            )
            # A new device that lost the count: refused once, then told the next number.
            fresh = page.run(FRESH_DEVICE, {"election": ELECTION, "wallet": third["wallet"]})
            assert page.errors == []
            next_asked = [
                r.all_headers() for r in requests if r.method == "GET" and r.url.endswith("/next")
            ]
            posted = [
                (r.url.rsplit("/", 1)[-1], r.all_headers())
                for r in requests
                if r.method == "POST" and "/api/v1/elections/" in r.url
            ]
        finally:
            context.close()

        # Cookies went with the account's credential request only, with its CSRF token.
        credential_requests = [h for name, h in posted if name == "credentials"]
        ballot_requests = [h for name, h in posted if name == "ballots"]
        # (The ballot naming an unknown project was refused in the page, never sent.)
        # Three ballots, then the fresh device's: refused once, then sent with the next number.
        assert len(credential_requests) == 3 and len(ballot_requests) == 5
        assert [("cookie" in h, "x-csrf-token" in h) for h in credential_requests] == [
            (False, False),
            (False, False),
            (True, True),
        ]
        assert not any("cookie" in h for h in ballot_requests)
        assert len(next_asked) == 1 and not any("cookie" in h for h in next_asked)
        assert third["wallet"]["counter"] == 3
        assert (fresh["before"], fresh["after"]) == (0, 4)

        wallet = Wallet.from_json(third["wallet"])
        assert [r["seq"] for r in wallet.receipts] == sorted(r["seq"] for r in wallet.receipts)
        assert len(wallet.receipts) == 3
        assert third["firstSize"] == first["receipt"]["size"]
        assert third["refused"] == [
            "entry_mismatch",  # another leaf hash: the entry does not hash to it
            "entry_mismatch",  # another seq: that entry is not the one proved
            "bad_receipt",  # a proof too short
            "bad_receipt",  # another size
            "bad_checkpoint",  # a checkpoint changed after signing
            "not_your_ballot",  # the digest of another ballot
            "not_your_ballot",  # the first ballot's receipt for the re-vote
            "no_ballot_in_receipt",  # a receipt kept without the ballot it is for
        ]
        assert third["grown"] == third["receipt"]["size"] <= third["latest"]
        assert third["lies"] == ["bad_receipt", "log_forked"]
        assert Wallet.from_json(first["wallet"]).election_hash == first["hash"]

        closed = admin.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE)
        assert closed.status_code == 200, closed.text
        tallied = admin.post(f"/api/v1/elections/{ELECTION}/tally")
        assert tallied.status_code == 201, tallied.text
        result = tallied.json()
    assert result["counted"] == 2
    assert result["superseded"] == 3
    assert result["scores"]["park"] == 2
    assert result["scores"]["library"] == 1
    assert result["scores"].get("trees", 0) == 0

    # The log itself: the page's ballots are entries whose leaf hashes the receipts name.
    lines = httpx.get(f"{url}/api/v1/log/entries?start=0").content.split(b"\n")[:-1]
    for receipt, credential, counter in (
        (first["receipt"], wallet.credential, 1),
        (second["receipt"], Wallet.from_json(second["wallet"]).credential, 1),
        (third["receipt"], wallet.credential, 3),
        (fresh["receipt"], wallet.credential, 4),
    ):
        line = lines[receipt["seq"]]
        assert hashlib.sha256(b"\x00" + line).hexdigest() == receipt["leaf_hash"]
        entry = json.loads(line)
        assert entry["kind"] == "ballot.cast"
        assert entry["body"]["ballot"]["election"] == first["hash"]
        assert entry["body"]["ballot"]["credential"] == credential
        assert (entry["body"]["ballot"]["v"], entry["body"]["ballot"]["counter"]) == (2, counter)

    verified = _veche("verify", url, "--no-state", home=tmp_path / "home")
    assert verified.returncode == 0, verified.stdout + verified.stderr
