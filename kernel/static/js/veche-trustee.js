/**
 * A trustee's side of an election in the browser: the same bytes as `veche trustee`
 * (ballot/core/dkg.py, ballot/core/threshold.py, ballot/cli/trustee.py).
 *
 * docs/protocol.md §14 (the group, dealings, acknowledgements, key shares), §17 (the
 * ceremony's board over HTTP) and §17.7 (the trustee's file); §17.8 describes the page.
 *
 * - The group is the prime-order subgroup of Edwards25519; points are the 32-byte
 *   Ed25519 encodings, refused unless canonical, in the subgroup and not the identity
 *   (libsodium's `crypto_core_ed25519_is_valid_point`). Scalars are 32 bytes little-
 *   endian below L. The arithmetic is @noble/curves' (vendored, /static/vendor/noble/).
 * - Ed25519 signatures and X25519 public keys are noble's; the HPKE sealing of the
 *   shares is veche-crypto.js's (WebCrypto), the ballots' suite (§2.12).
 * - Randomness is a parameter (`rng(n)` gives n bytes); by default the browser's
 *   CSPRNG. `ephemeral(i)` pins the HPKE ephemeral key of share i for known answers.
 *
 * Nothing secret leaves the page: the trustee's file is made here and downloaded by the
 * trustee; the server sees only what the CLI sends it.
 *
 * @module veche-trustee
 */

import { ed25519, sha256, sha512 } from "../vendor/noble/noble.js";
import {
  VecheError,
  VecheVoter,
  b64urlDecode,
  b64urlEncode,
  bytesEqual,
  canonicalize,
  concatBytes,
  hashLeaf,
  hexDecode,
  hexEncode,
  hpkeOpen,
  hpkeSeal,
  randomBytes,
  utf8,
  verifyInclusion,
  x25519KeyPair,
} from "./veche-crypto.js";

export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
export const FORMAT = "veche-trustee/v1";
export const CEREMONY_DOMAIN = utf8("veche/ceremony/v1\n");
export const POK_DOMAIN = utf8("veche/trustee/pok/v1\n");
export const SHARE_INFO = utf8("veche/trustee/share/v1");
export const DEALING_DOMAIN = utf8("veche/trustee/dealing/v1\n");
export const ACK_DOMAIN = utf8("veche/trustee/ack/v1\n");
export const TRANSCRIPT_DOMAIN = utf8("veche/trustee/transcript/v1\n");
export const KEY_SHARE_DOMAIN = utf8("veche/trustee/key-share/v1\n");
const SEALED_SHARE_LENGTH = 32 + 32 + 16;
const Point = ed25519.Point;

/** A refusal naming the trustee at fault (0: none), like ballot.core.errors.TrusteeRejected. */
export class TrusteeError extends VecheError {
  constructor(code, trustee, detail) {
    super(code, detail);
    this.name = "TrusteeError";
    this.trustee = trustee;
  }
}

// ---------------------------------------------------------------------------------------
// Scalars and points (§14.1; ballot/core/group.py)

const mod = (a) => ((a % L) + L) % L;

/** Little-endian bytes to a BigInt. */
export function leToInt(bytes) {
  let x = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]);
  return x;
}

/** `value mod L` as a canonical 32-byte little-endian scalar. */
export function scalarFromInt(value) {
  let x = mod(value);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, x >>= 8n) out[i] = Number(x & 255n);
  return out;
}

/** A canonical scalar's integer; refuses anything else. */
export function scalarToInt(bytes, what = "scalar") {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32)
    throw new VecheError("bad_scalar", `the ${what} must be a 32-byte scalar`);
  const x = leToInt(bytes);
  if (x >= L) throw new VecheError("bad_scalar", `the ${what} is not a canonical scalar`);
  return x;
}

/** A uniformly random non-zero scalar: 64 bytes from `rng` reduced mod L. */
export function randomScalar(rng) {
  for (;;) {
    const wide = rng(64);
    if (!(wide instanceof Uint8Array) || wide.length !== 64)
      throw new VecheError("bad_rng", "the random source gave the wrong number of bytes");
    const x = leToInt(wide) % L;
    if (x !== 0n) return x;
  }
}

/** The point of `bytes` if valid, canonical, in the prime-order group, not the identity. */
export function checkPoint(bytes, what = "point") {
  let p;
  try {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new Error("length");
    p = Point.fromBytes(bytes, false);
  } catch {
    throw new VecheError("bad_point", `the ${what} is not a point of the prime-order group`);
  }
  if (!bytesEqual(p.toBytes(), bytes) || p.is0() || !p.isTorsionFree())
    throw new VecheError("bad_point", `the ${what} is not a point of the prime-order group`);
  return p;
}

/** `s·B` as 32 bytes, for a non-zero scalar (BigInt). */
export function baseMul(s) {
  const x = mod(s);
  if (x === 0n) throw new VecheError("bad_scalar", "the scalar is zero");
  return Point.BASE.multiply(x).toBytes();
}

/** `Σ c_k·P_k` over [BigInt, Point] terms; the result may not be the identity. */
function combination(terms) {
  let total = Point.ZERO;
  for (const [c, p] of terms) {
    const x = mod(c);
    if (x !== 0n) total = total.add(p.multiply(x));
  }
  if (total.is0()) throw new VecheError("bad_point", "the combination is the identity");
  return total.toBytes();
}

function modPowL(base, exp) {
  let result = 1n;
  let b = mod(base);
  for (let e = BigInt(exp); e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % L;
    b = (b * b) % L;
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Signatures

/** Ed25519 signature of `message` by the 32-byte seed. */
export function sign(seed, message) {
  return ed25519.sign(message, seed);
}

/** Whether `signatureB64` is `publicB64`'s Ed25519 signature of `message` (RFC 8032). */
export function verifySignature(publicB64, signatureB64, message) {
  try {
    if (typeof signatureB64 !== "string") return false;
    return ed25519.verify(b64urlDecode(signatureB64), message, b64urlDecode(publicB64), {
      zip215: false,
    });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// The trustee's file (§17.7; ballot/cli/trustee_file.py)

/** A new identity, as `veche trustee init` writes it. */
export async function newIdentity(name, rng = randomBytes) {
  const trimmed = String(name).trim();
  if (trimmed.length < 1 || trimmed.length > 100)
    throw new VecheError("bad_trustee_name", "a trustee's name has 1 to 100 characters");
  const signing = rng(32);
  const box = rng(32);
  const boxPair = await x25519KeyPair(box);
  return {
    format: FORMAT,
    name: trimmed,
    signing_private: b64urlEncode(signing),
    box_private: b64urlEncode(box),
    signing_key: b64urlEncode(ed25519.getPublicKey(signing)),
    box_key: b64urlEncode(boxPair.publicRaw),
    elections: {},
  };
}

/** Read a trustee's file (its text), refusing anything `veche trustee` would refuse. */
export function loadIdentity(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new VecheError("bad_trustee_file", "this is not a trustee's file");
  }
  const keys = ["name", "signing_private", "box_private", "signing_key", "box_key", "elections"];
  if (
    data === null ||
    typeof data !== "object" ||
    data.format !== FORMAT ||
    !keys.every((k) => k in data)
  )
    throw new VecheError("bad_trustee_file", "this is not a trustee's file");
  for (const k of ["signing_private", "box_private"]) rawKey(data, k);
  if (b64urlEncode(ed25519.getPublicKey(rawKey(data, "signing_private"))) !== data.signing_key)
    throw new VecheError("bad_trustee_file", "the file's signing key does not match its secret");
  return data;
}

/**
 * The file's text, byte for byte as `veche trustee` writes it: sorted keys, two-space
 * indent, non-ASCII characters as `\uXXXX` (Python's json.dump defaults).
 */
export function identityText(identity) {
  const sorted = (v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted(v[k])]),
        )
      : v;
  const text = JSON.stringify(sorted(identity), null, 2).replace(
    /[\u0080-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  return text + "\n";
}

/** What the administrator lists in `trustees.members`. */
export function publicPart(identity) {
  return { name: identity.name, signing_key: identity.signing_key, box_key: identity.box_key };
}

/** The TOML table `veche trustee show` prints. */
export function tomlMember(member) {
  return (
    "[[trustees.members]]\n" +
    ["name", "signing_key", "box_key"].map((k) => `${k} = ${JSON.stringify(member[k])}`).join("\n") +
    "\n"
  );
}

function rawKey(identity, key) {
  let raw;
  try {
    raw = b64urlDecode(identity[key]);
  } catch {
    raw = new Uint8Array(0);
  }
  if (raw.length !== 32)
    throw new VecheError("bad_trustee_file", `the file holds no valid ${key.replace("_", " ")}`);
  return raw;
}

// ---------------------------------------------------------------------------------------
// The ceremony (§14.3, §14.4; ballot/core/dkg.py)

const membersJson = (members) =>
  members.map((m) => ({ name: m.name, signing_key: m.signing_key, box_key: m.box_key }));

/** `SHA-256(CEREMONY_DOMAIN || canonical({election, members, threshold}))`, 32 bytes. */
export function ceremonyId(electionId, threshold, members) {
  const body = { election: electionId, members: membersJson(members), threshold };
  return sha256(concatBytes(CEREMONY_DOMAIN, canonicalize(body)));
}

/** HPKE `info` of the share dealer `dealer` seals to member `to`. */
export function shareInfo(ceremony, dealer, to) {
  return concatBytes(SHARE_INFO, ceremony, new Uint8Array([dealer, to]));
}

/** `SHA-512(POK_DOMAIN || ceremony || dealer || C_i0 || R) mod L`. */
export function pokChallenge(ceremony, dealer, c0, rPoint) {
  return (
    leToInt(sha512(concatBytes(POK_DOMAIN, ceremony, new Uint8Array([dealer]), c0, rPoint)))
    % L
  );
}

/** A Schnorr proof of knowledge of `secret` (BigInt) for `secret·B`. */
export function makePok(ceremony, dealer, secret, rng) {
  const r = randomScalar(rng);
  const rPoint = baseMul(r);
  const c = pokChallenge(ceremony, dealer, baseMul(secret), rPoint);
  return { commitment: b64urlEncode(rPoint), response: b64urlEncode(scalarFromInt(r + c * secret)) };
}

/** Whether `z·B == R + c·C_i0` (malformed values: false). */
export function checkPok(ceremony, dealer, c0, pok) {
  try {
    const rRaw = b64urlDecode(pok.commitment);
    const r = checkPoint(rRaw, "proof commitment");
    const z = scalarToInt(b64urlDecode(pok.response), "proof response");
    const c = pokChallenge(ceremony, dealer, c0, rRaw);
    return bytesEqual(
      baseMul(z),
      combination([
        [1n, r],
        [c, checkPoint(c0)],
      ]),
    );
  } catch {
    return false;
  }
}

function poly(coefficients, x) {
  let value = 0n;
  for (let i = coefficients.length - 1; i >= 0; i--) value = (value * BigInt(x) + coefficients[i]) % L;
  return value;
}

/** What a dealer signs: `DEALING_DOMAIN || canonical(dealing)`. */
export const dealingMessage = (dealing) => concatBytes(DEALING_DOMAIN, canonicalize(dealing));

/**
 * Dealer `dealer`'s signed dealing (§14.3), drawing from `rng` in the order the Python
 * core does: the k coefficients, then the proof's nonce. `ephemeral(j)` may pin the HPKE
 * ephemeral private key of the share for member j.
 */
export async function makeDealing(
  ceremony,
  dealer,
  threshold,
  members,
  signingSeed,
  { rng = randomBytes, ephemeral } = {},
) {
  const coefficients = [];
  for (let i = 0; i < threshold; i++) coefficients.push(randomScalar(rng));
  const commitments = coefficients.map((a) => b64urlEncode(baseMul(a)));
  const shares = [];
  for (let j = 1; j <= members.length; j++) {
    const box = b64urlDecode(members[j - 1].box_key);
    const options = ephemeral ? { ephemeralPrivate: ephemeral(j) } : {};
    const sealed = await hpkeSeal(
      box,
      shareInfo(ceremony, dealer, j),
      new Uint8Array(0),
      scalarFromInt(poly(coefficients, j)),
      options,
    );
    shares.push({ sealed: b64urlEncode(sealed), to: j });
  }
  const dealing = {
    ceremony: hexEncode(ceremony),
    commitments,
    dealer,
    pok: makePok(ceremony, dealer, coefficients[0], rng),
    shares,
  };
  return { dealing, signature: b64urlEncode(sign(signingSeed, dealingMessage(dealing))) };
}

const sameKeys = (obj, keys) =>
  obj !== null &&
  typeof obj === "object" &&
  !Array.isArray(obj) &&
  Object.keys(obj).sort().join(",") === [...keys].sort().join(",");

function commitmentsOf(dealing) {
  return dealing.commitments.map((c) => checkPoint(b64urlDecode(c), "commitment"));
}

/** Accept a signed dealing or throw TrusteeError("bad_dealing") naming its dealer. */
export function checkDealing(ceremony, signed, threshold, members) {
  const n = members.length;
  const dealing = signed?.dealing;
  const dealer = dealing?.dealer;
  const refuse = (who, detail) => {
    throw new TrusteeError("bad_dealing", who, detail);
  };
  if (!Number.isInteger(dealer) || dealer < 1 || dealer > n)
    refuse(0, "the dealing does not name a dealer of this ceremony");
  if (
    !sameKeys(signed, ["dealing", "signature"]) ||
    !sameKeys(dealing, ["ceremony", "commitments", "dealer", "pok", "shares"])
  )
    refuse(dealer, "the dealing's fields are not the ones of §14.3");
  if (dealing.ceremony !== hexEncode(ceremony))
    refuse(dealer, "the dealing belongs to another ceremony");
  let message;
  try {
    message = dealingMessage(dealing);
  } catch {
    refuse(dealer, "the dealing is not canonical JSON");
  }
  if (!verifySignature(members[dealer - 1].signing_key, signed.signature, message))
    refuse(dealer, "the dealing's signature does not verify");
  if (!Array.isArray(dealing.commitments) || dealing.commitments.length !== threshold)
    refuse(dealer, `a dealing has ${threshold} commitments`);
  let c0;
  try {
    commitmentsOf(dealing);
    c0 = b64urlDecode(dealing.commitments[0]);
  } catch {
    refuse(dealer, "a commitment is not a point of the group");
  }
  if (!sameKeys(dealing.pok, ["commitment", "response"]))
    refuse(dealer, "the proof of knowledge is malformed");
  if (!checkPok(ceremony, dealer, c0, dealing.pok))
    refuse(dealer, "the proof of knowledge does not verify");
  if (!Array.isArray(dealing.shares) || dealing.shares.length !== n)
    refuse(dealer, `a dealing has a share for each of the ${n} members`);
  dealing.shares.forEach((share, i) => {
    const j = i + 1;
    if (!sameKeys(share, ["sealed", "to"]) || share.to !== j)
      refuse(dealer, `share ${j} is not addressed to member ${j}`);
    let ok;
    try {
      ok = b64urlDecode(share.sealed).length === SEALED_SHARE_LENGTH;
    } catch {
      ok = false;
    }
    if (!ok) refuse(dealer, `the share for member ${j} is malformed`);
  });
}

function inOrder(signedDealings) {
  const ordered = [...signedDealings].sort((a, b) => a.dealing.dealer - b.dealing.dealer);
  if (ordered.some((s, i) => s.dealing.dealer !== i + 1))
    throw new TrusteeError("bad_dealing", 0, "the dealings are not one from each dealer 1..n");
  return ordered;
}

function expectedShare(points, j) {
  return combination(points.map((c, power) => [modPowL(BigInt(j), power), c]));
}

/**
 * Member `me`'s key share `s_me = Σ_i f_i(me)` (a BigInt) after checking every dealing
 * and every share sent to `me` against its dealer's commitments; a share that fails
 * throws TrusteeError("bad_share") naming its dealer.
 */
export async function openMyShares(ceremony, signedDealings, me, boxPrivate, threshold, members) {
  if (!(me >= 1 && me <= members.length))
    throw new TrusteeError("bad_share", 0, `member ${me} is not a member of this ceremony`);
  if (signedDealings.length !== members.length)
    throw new TrusteeError(
      "bad_dealing",
      0,
      `the ceremony needs a dealing from each of the ${members.length}`,
    );
  for (const signed of signedDealings) checkDealing(ceremony, signed, threshold, members);
  let total = 0n;
  for (const signed of inOrder(signedDealings)) {
    const dealing = signed.dealing;
    const dealer = dealing.dealer;
    let plaintext;
    try {
      plaintext = await hpkeOpen(
        boxPrivate,
        shareInfo(ceremony, dealer, me),
        new Uint8Array(0),
        b64urlDecode(dealing.shares[me - 1].sealed),
      );
    } catch {
      throw new TrusteeError("bad_share", dealer, "the share sent to this member does not open");
    }
    let matches = false;
    let share;
    try {
      share = scalarToInt(plaintext, "share");
      matches = bytesEqual(baseMul(share), expectedShare(commitmentsOf(dealing), me));
    } catch {
      matches = false;
    }
    if (!matches)
      throw new TrusteeError("bad_share", dealer, "the share does not match the dealer's commitments");
    total += share;
  }
  return mod(total);
}

/** Hex `SHA-256(TRANSCRIPT_DOMAIN || canonical([signed dealings in dealer order]))`. */
export function transcript(signedDealings) {
  return hexEncode(sha256(concatBytes(TRANSCRIPT_DOMAIN, canonicalize(inOrder(signedDealings)))));
}

/** `P_j`, member j's public share, from the commitments only. */
export function publicShare(signedDealings, j) {
  const terms = [];
  for (const s of signedDealings)
    commitmentsOf(s.dealing).forEach((c, power) => terms.push([modPowL(BigInt(j), power), c]));
  return combination(terms);
}

/** The joint key `P = Σ_i C_i0`. */
export function jointKey(signedDealings) {
  return combination(signedDealings.map((s) => [1n, commitmentsOf(s.dealing)[0]]));
}

/** What a member signs: `ACK_DOMAIN || canonical(ack)`. */
export const ackMessage = (ack) => concatBytes(ACK_DOMAIN, canonicalize(ack));

/** Member `me`'s signed acknowledgement of the dealings with its key share (BigInt). */
export function makeAck(ceremony, me, signedDealings, keyShare, signingSeed) {
  const ack = {
    ceremony: hexEncode(ceremony),
    public_share: b64urlEncode(baseMul(keyShare)),
    transcript: transcript(signedDealings),
    trustee: me,
  };
  return { ack, signature: b64urlEncode(sign(signingSeed, ackMessage(ack))) };
}

// ---------------------------------------------------------------------------------------
// The close (§14.6; ballot/core/threshold.py)

/** What trustee `trustee` signs when releasing its share. */
export function keyShareMessage(manifestHashHex, trustee, keyShare) {
  const body = { election: manifestHashHex, key_share: b64urlEncode(keyShare), trustee };
  return concatBytes(KEY_SHARE_DOMAIN, canonicalize(body));
}

/** The body of trustee `trustee`'s `election.key_share` entry (§14.6). */
export function signKeyShare(manifestHashHex, trustee, keyShare, signingSeed) {
  scalarToInt(keyShare, "key share");
  const signature = sign(signingSeed, keyShareMessage(manifestHashHex, trustee, keyShare));
  return {
    election: manifestHashHex,
    key_share: b64urlEncode(keyShare),
    signature: b64urlEncode(signature),
    trustee,
  };
}

// ---------------------------------------------------------------------------------------
// Over HTTP (§17; ballot/cli/trustee.py)

/** A trustee talking to this page's server (or `baseUrl`), as `veche trustee` does. */
export class TrusteeClient {
  constructor({ baseUrl = "", allowTestKeys = false, verifierKey, fetch: fetchImpl } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.allowTestKeys = allowTestKeys;
    this.verifierKey = verifierKey;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
  }

  async request(path, init = {}, expected = 200) {
    let response;
    let body;
    try {
      response = await this.fetch(this.baseUrl + path, {
        cache: "no-store",
        credentials: "omit",
        ...init,
      });
      body = await response.json().catch(() => undefined);
    } catch (exc) {
      throw new VecheError("network_error", `cannot reach the server: ${exc.message}`);
    }
    if (response.status !== expected) {
      throw new VecheError(
        body?.error ?? "http_error",
        body?.detail ?? `HTTP ${response.status}`,
        response.status,
      );
    }
    return body;
  }

  post(path, json, expected = 201) {
    return this.request(
      path,
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(json),
      },
      expected,
    );
  }

  /** The ceremony's board (§17.1), its id recomputed here and this trustee's number. */
  async board(electionId, identity) {
    const shown = await this.request(`/api/v1/elections/${encodeURIComponent(electionId)}/ceremony`);
    const ceremony = ceremonyId(electionId, shown.threshold, shown.members);
    if (hexEncode(ceremony) !== shown.ceremony)
      throw new VecheError(
        "bad_ceremony",
        "the server's ceremony id is not the one its members and threshold give",
      );
    let me = 0;
    shown.members.forEach((m, i) => {
      if (m.signing_key === identity.signing_key) {
        if (m.box_key !== identity.box_key)
          throw new VecheError("not_a_trustee", "the election lists this signing key with another box key");
        me = i + 1;
      }
    });
    if (!me) throw new VecheError("not_a_trustee", "this trustee is not among the election's trustees");
    return { shown, ceremony, me };
  }

  /** Post this trustee's dealing; its number. */
  async deal(electionId, identity, options = {}) {
    const { shown, ceremony, me } = await this.board(electionId, identity);
    const signed = await makeDealing(
      ceremony,
      me,
      shown.threshold,
      shown.members,
      rawKey(identity, "signing_private"),
      options,
    );
    await this.post(`/api/v1/elections/${encodeURIComponent(electionId)}/ceremony/dealings`, signed);
    return me;
  }

  /**
   * Check every dealing and open this trustee's shares; the acknowledgement to post and
   * the file's new entry for the election. `keep(identity)` must save the file before
   * the acknowledgement is posted (as `veche trustee ack` does).
   */
  async acknowledge(electionId, identity, keep) {
    const { shown, ceremony, me } = await this.board(electionId, identity);
    if (shown.dealings.length !== shown.members.length)
      throw new VecheError(
        "dealings_missing",
        `${shown.dealings.length} of the ${shown.members.length} trustees have dealt`,
      );
    const share = await openMyShares(
      ceremony,
      shown.dealings,
      me,
      rawKey(identity, "box_private"),
      shown.threshold,
      shown.members,
    );
    const signed = makeAck(ceremony, me, shown.dealings, share, rawKey(identity, "signing_private"));
    identity.elections[electionId] = {
      ceremony: hexEncode(ceremony),
      key_share: b64urlEncode(scalarFromInt(share)),
      public_share: signed.ack.public_share,
      trustee: me,
    };
    await keep(identity);
    await this.post(`/api/v1/elections/${encodeURIComponent(electionId)}/ceremony/acks`, signed);
    return me;
  }

  /**
   * After the close, post this trustee's signed key share: only once the manifest
   * (signature checked) commits to the file's public share and the log proves the
   * election's `election.closed` entry in its latest signed checkpoint.
   */
  async release(electionId, identity) {
    const kept = identity.elections?.[electionId];
    if (!kept)
      throw new VecheError("no_key_share", `this file holds no key share of the election ${electionId}`);
    const voter = new VecheVoter({
      baseUrl: this.baseUrl,
      allowTestKeys: this.allowTestKeys,
      verifierKey: this.verifierKey,
      fetch: this.fetch,
    });
    const info = await voter.election(electionId);
    const me = kept.trustee;
    const block = info.manifest.trustees;
    if (!block || !(me >= 1 && me <= block.members.length))
      throw new VecheError("not_a_trustee", "the election's manifest names no trustees like this file's");
    if (block.members[me - 1].public_share !== kept.public_share)
      throw new VecheError("wrong_share", "the manifest commits to another public share for this trustee");
    await this.closedInLog(voter, electionId, info.hash);
    const body = signKeyShare(info.hash, me, b64urlDecode(kept.key_share), rawKey(identity, "signing_private"));
    return this.post(`/api/v1/elections/${encodeURIComponent(electionId)}/key-shares`, body);
  }

  async closedInLog(voter, electionId, electionHash) {
    const summary = await this.request(`/api/v1/elections/${encodeURIComponent(electionId)}`);
    const seq = summary.closed_seq;
    if (!Number.isSafeInteger(seq))
      throw new VecheError("not_closed", "the election has not closed: a key share is released only after");
    const raw = await voter.entryBytes(seq);
    const checkpoint = await voter.latestCheckpoint();
    const answer = await this.request(`/api/v1/log/proof/inclusion?seq=${seq}&size=${checkpoint.size}`);
    try {
      const proof = answer.proof.map((p) => hexDecode(p, 32));
      await verifyInclusion(await hashLeaf(raw), seq, checkpoint.size, proof, checkpoint.root);
    } catch (exc) {
      throw new VecheError("bad_proof", `the log does not prove its entry ${seq}: ${exc.detail ?? exc.message}`);
    }
    let entry;
    try {
      entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch {
      throw new VecheError("bad_entry", `the log's entry ${seq} does not parse`);
    }
    if (!bytesEqual(canonicalize(entry), raw) || entry.seq !== seq || entry.kind !== "election.closed")
      throw new VecheError("bad_entry", `the log's entry ${seq} is not the close of this election`);
    if (entry.body?.election !== electionHash)
      throw new VecheError("bad_entry", `the log's entry ${seq} is the close of another election`);
  }
}
