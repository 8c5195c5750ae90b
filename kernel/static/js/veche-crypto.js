/**
 * Veche's voter cryptography for the browser, as one ES module without dependencies.
 *
 * It computes the same bytes as the Python client (docs/protocol.md §2, §5–§8):
 *
 * - canonical JSON: RFC 8785 (JCS) restricted to Veche's subset (audit/canonical.py);
 * - credential tokens: RFC 9474 RSABSSA-SHA384-PSS-Randomized, client side (prepare with
 *   a 32-byte random prefix §4.1, blind §4.3, finalize §4.5), token =
 *   {"prefix": b64url, "signature": b64url} (ballot/token.py);
 * - sealed choices: RFC 9180 HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 *   AES-128-GCM, info = "veche/seal/v2" || raw manifest hash || raw credential (bound to
 *   the election and the credential; "veche/seal/v1" || hash in elections of manifest
 *   version 1), wire = enc || ct (ballot/core/seal.py);
 * - the choices checked before sealing with the server's codes and order (§5.9), a
 *   survey's answers included (§19.2: conditions, optional questions, text rules);
 * - the ballot of version 2, numbered per credential ("counter"), and its Ed25519
 *   signature over "veche/ballot/v2\n" || canonical(ballot) (ballot/core/ballot.py);
 * - the receipt: RFC 9162 §2.1.3.2 inclusion proof and §2.1.4.2 consistency proof, and
 *   the checkpoint as a C2SP signed note with an Ed25519 key (audit/merkle.py,
 *   audit/note.py, audit/checkpoint.py);
 * - `VecheVoter`, the whole flow over fetch(), and the wallet in the JSON shape of
 *   Python's `ballot.client.Wallet`, so that `veche vote --wallet` reads it.
 *
 * Everything cryptographic that WebCrypto offers is done by WebCrypto (SHA-256/384,
 * HMAC, AES-GCM, Ed25519, X25519, RSA-PSS verification); the RSA blinding arithmetic is
 * done with BigInt. The randomness of every step can be injected, so that the RFC test
 * vectors replay step by step; by default it comes from crypto.getRandomValues.
 *
 * Bytes are Uint8Array throughout; hashes travel as lowercase hex, keys, signatures and
 * other bytes as base64url without padding (RFC 4648 §5), as in the audit log.
 *
 * A page votes like this (the wallet is the page's to keep, e.g. in IndexedDB):
 *
 *     import { VecheVoter, exportWallet } from "/static/js/veche-crypto.js";
 *     const voter = new VecheVoter({ csrfToken });          // the page's CSRF token
 *     const info = await voter.election("centre-2026");      // manifest checked
 *     const wallet = await voter.obtainCredential(info);     // or { accessCode }
 *     const receipt = await voter.cast(info, wallet, { approve: ["park"] });
 *     // a survey: voter.cast(info, wallet, { answers: { cycle: "yes", parks: 7 } })
 *     save(exportWallet(wallet));                            // `veche vote --wallet` reads it
 *
 * @module veche-crypto
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------------------------
// Errors

/** Any refusal by this module; `code` is a stable word, `detail` a sentence. */
export class VecheError extends Error {
  /**
   * @param {string} code
   * @param {string} detail
   * @param {number} [status] the HTTP status, when a server refused
   */
  constructor(code, detail, status) {
    super(`${code}: ${detail}`);
    this.name = "VecheError";
    this.code = code;
    this.detail = detail;
    this.status = status;
  }
}

/** A value outside the canonical JSON subset (codes as in audit/canonical.py). */
export class CanonicalError extends VecheError {
  constructor(detail, code = "not_canonical") {
    super(code, detail);
    this.name = "CanonicalError";
  }
}

/** A Merkle proof that does not hold (RFC 9162 §2.1.3.2, §2.1.4.2). */
export class ProofError extends VecheError {
  constructor(detail, code = "bad_proof") {
    super(code, detail);
    this.name = "ProofError";
  }
}

/** A signed note or checkpoint that is malformed or does not verify. */
export class NoteError extends VecheError {
  constructor(detail, code = "bad_note") {
    super(code, detail);
    this.name = "NoteError";
  }
}

/**
 * WebCrypto's SubtleCrypto, which browsers offer only to secure contexts (HTTPS or
 * localhost): say so plainly instead of failing on `undefined`.
 */
function webcrypto() {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new VecheError("insecure_context", "WebCrypto needs a secure context (HTTPS)");
  return subtle;
}

// ---------------------------------------------------------------------------------------
// Bytes as text

/** UTF-8 bytes of a string. @param {string} text @returns {Uint8Array} */
export function utf8(text) {
  return textEncoder.encode(text);
}

/** Concatenate byte strings (the `||` of docs/protocol.md §1.2). @returns {Uint8Array} */
export function concatBytes(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-shape equality of two byte strings. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("expected bytes (Uint8Array or ArrayBuffer)");
}

/** Lowercase hex. @param {Uint8Array} bytes @returns {string} */
export function hexEncode(bytes) {
  let out = "";
  for (const b of toBytes(bytes)) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * Decode lowercase hex, refusing anything else (the log's hashes are lowercase).
 * @param {string} text
 * @param {number} [length] the number of bytes expected
 */
export function hexDecode(text, length) {
  if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new CanonicalError("hex text must be lowercase 0-9a-f in pairs", "bad_hex");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  if (length !== undefined && out.length !== length) {
    throw new CanonicalError(`hex text must encode ${length} bytes`, "bad_hex");
  }
  return out;
}

function binaryString(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return s;
}

/** Standard base64 with padding (RFC 4648 §4), as signed notes use. */
export function b64Encode(bytes) {
  return btoa(binaryString(toBytes(bytes)));
}

/**
 * Decode standard padded base64 strictly: the text must be the one encoding of its
 * bytes, so that no bit of a note can change unnoticed (audit/note.py b64std_decode).
 */
export function b64Decode(text, what = "base64") {
  const pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  if (typeof text !== "string" || !pattern.test(text)) {
    throw new NoteError(`${what} is not padded standard base64`, "bad_base64");
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (b64Encode(out) !== text) {
    throw new NoteError(`${what} is not canonical base64 (stray trailing bits)`, "bad_base64");
  }
  return out;
}

/** Base64url without padding (RFC 4648 §5), the log's form for bytes and keys. */
export function b64urlEncode(bytes) {
  return b64Encode(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Decode unpadded base64url, refusing padding, foreign characters and non-unique
 * encodings (non-zero trailing bits), like audit.canonical.b64url_decode.
 */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new CanonicalError("base64url text is malformed", "bad_base64url");
  }
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = std + "=".repeat((4 - (std.length % 4)) % 4);
  let out;
  try {
    out = b64Decode(padded);
  } catch {
    throw new CanonicalError("base64url text is not canonical", "bad_base64url");
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Canonical JSON (RFC 8785 subset; audit/canonical.py)

/** The largest integer the subset admits: 2^53 - 1 (RFC 8785 §3.2.2.3). */
export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
/** Containers nest at most this deep, as audit.canonical.MAX_DEPTH. */
export const MAX_DEPTH = 64;

const SHORT_ESCAPES = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function pathString(path) {
  return (
    "$" + path.map((p) => (typeof p === "number" ? `[${p}]` : `[${JSON.stringify(p)}]`)).join("")
  );
}

function isWellFormed(s) {
  if (typeof s.isWellFormed === "function") return s.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * A string as RFC 8785 §3.2.2.2 writes it: `\"`, `\\`, the short forms `\b \f \n \r \t`,
 * `\u00xx` (lowercase hex) for the other controls below U+0020, and every other code
 * point as itself. Lone surrogates are refused (they have no UTF-8 form).
 */
function encodeString(s, path) {
  if (!isWellFormed(s))
    throw new CanonicalError(
      `string contains a lone surrogate at ${pathString(path)}`,
      "lone_surrogate",
    );
  return (
    '"' +
    s.replace(
      /["\\\u0000-\u001f]/g,
      (c) => SHORT_ESCAPES[c] || "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
    ) +
    '"'
  );
}

function encodeValue(value, path) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  const t = typeof value;
  if (t === "number") {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      throw new CanonicalError(
        `number ${value} is not allowed (integers only) at ${pathString(path)}`,
        "float",
      );
    }
    if (Math.abs(value) > MAX_SAFE_INTEGER) {
      throw new CanonicalError(
        `integer ${value} is outside ±(2**53 - 1) at ${pathString(path)}`,
        "integer_range",
      );
    }
    return String(value === 0 ? 0 : value); // -0 is written 0
  }
  if (t === "bigint") {
    if (value > BigInt(MAX_SAFE_INTEGER) || value < -BigInt(MAX_SAFE_INTEGER)) {
      throw new CanonicalError(
        `integer ${value} is outside ±(2**53 - 1) at ${pathString(path)}`,
        "integer_range",
      );
    }
    return value.toString();
  }
  if (t === "string") return encodeString(value, path);
  if (Array.isArray(value)) {
    if (path.length >= MAX_DEPTH)
      throw new CanonicalError(
        `nesting deeper than ${MAX_DEPTH} levels at ${pathString(path)}`,
        "too_deep",
      );
    const parts = [];
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      parts.push(encodeValue(value[i], path));
      path.pop();
    }
    return "[" + parts.join(",") + "]";
  }
  if (t === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalError(
        `type ${value.constructor?.name ?? "object"} is not allowed in canonical JSON at ${pathString(path)}`,
        "type",
      );
    }
    if (path.length >= MAX_DEPTH)
      throw new CanonicalError(
        `nesting deeper than ${MAX_DEPTH} levels at ${pathString(path)}`,
        "too_deep",
      );
    // RFC 8785 §3.2.3 sorts by UTF-16 code units, which is what Array.prototype.sort
    // compares; keys are ASCII in the subset, so this is also byte order.
    const keys = Object.keys(value).sort();
    const parts = [];
    for (const key of keys) {
      if (!/^[\u0000-\u007f]*$/.test(key)) {
        throw new CanonicalError(
          `object key ${JSON.stringify(key)} is not ASCII at ${pathString(path)}`,
          "non_ascii_key",
        );
      }
      path.push(key);
      parts.push(encodeString(key, path) + ":" + encodeValue(value[key], path));
      path.pop();
    }
    return "{" + parts.join(",") + "}";
  }
  throw new CanonicalError(
    `type ${t} is not allowed in canonical JSON at ${pathString(path)}`,
    "type",
  );
}

/**
 * The canonical JSON text of `value` (RFC 8785 subset): null, booleans, integers with
 * |n| < 2^53, strings, arrays and plain objects with ASCII keys.
 * @returns {string}
 */
export function canonicalString(value) {
  return encodeValue(value, []);
}

/** The canonical JSON encoding of `value` as UTF-8 bytes. @returns {Uint8Array} */
export function canonicalize(value) {
  return utf8(canonicalString(value));
}

// ---------------------------------------------------------------------------------------
// Hashes and randomness

/** SHA-256 (FIPS 180-4) through WebCrypto. @returns {Promise<Uint8Array>} */
export async function sha256(data) {
  return new Uint8Array(await webcrypto().digest("SHA-256", toBytes(data)));
}

/** SHA-384 through WebCrypto. @returns {Promise<Uint8Array>} */
export async function sha384(data) {
  return new Uint8Array(await webcrypto().digest("SHA-384", toBytes(data)));
}

/** `length` bytes from the browser's CSPRNG. @returns {Uint8Array} */
export function randomBytes(length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536)
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}

function draw(rng, length) {
  const out = toBytes(rng(length));
  if (out.length !== length)
    throw new VecheError(
      "bad_rng",
      `the random source returned ${out.length} bytes instead of ${length}`,
    );
  return out;
}

// ---------------------------------------------------------------------------------------
// RSA blind signatures, client side (RFC 9474)

/** RFC 9474 §5 variants; the token uses PSS_RANDOMIZED. */
export const RSABSSA = Object.freeze({
  PSS_RANDOMIZED: Object.freeze({
    name: "RSABSSA-SHA384-PSS-Randomized",
    saltLength: 48,
    randomized: true,
  }),
  PSSZERO_RANDOMIZED: Object.freeze({
    name: "RSABSSA-SHA384-PSSZERO-Randomized",
    saltLength: 0,
    randomized: true,
  }),
  PSS_DETERMINISTIC: Object.freeze({
    name: "RSABSSA-SHA384-PSS-Deterministic",
    saltLength: 48,
    randomized: false,
  }),
  PSSZERO_DETERMINISTIC: Object.freeze({
    name: "RSABSSA-SHA384-PSSZERO-Deterministic",
    saltLength: 0,
    randomized: false,
  }),
});
/** The 32-byte message prefix of the randomized variants (RFC 9474 §4.1). */
export const PREFIX_LENGTH = 32;
const SHA384_LENGTH = 48;

/** Big-endian bytes to a non-negative BigInt (RFC 8017 §4.2 OS2IP). */
export function bytesToBigInt(bytes) {
  const hex = hexEncode(bytes);
  return hex ? BigInt("0x" + hex) : 0n;
}

/** A non-negative BigInt as `length` big-endian bytes (RFC 8017 §4.1 I2OSP). */
export function bigIntToBytes(x, length) {
  if (x < 0n) throw new RangeError("I2OSP of a negative integer");
  const hex = x.toString(16);
  if (hex.length > 2 * length) throw new RangeError("integer too large for its length");
  return hexDecode(hex.padStart(2 * length, "0"));
}

function bitLength(x) {
  return x === 0n ? 0 : x.toString(2).length;
}

/** `base ** exp mod m` by square-and-multiply. */
export function modPow(base, exp, m) {
  let result = 1n;
  base %= m;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % m;
    base = (base * base) % m;
    exp >>= 1n;
  }
  return result;
}

/** The inverse of `a` modulo `m` by the extended Euclidean algorithm, or null. */
export function modInverse(a, m) {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) return null;
  return ((s0 % m) + m) % m;
}

function gcd(a, b) {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** A uniform integer in [low, high) by rejection sampling (RFC 9474 §2). */
function randomIntegerUniform(low, high, rng) {
  const bits = bitLength(high - 1n);
  const length = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    const candidate = bytesToBigInt(draw(rng, length)) & mask;
    if (candidate >= low && candidate < high) return candidate;
  }
}

/**
 * An RSA public key for blind signing: the WebCrypto key (for RSASSA-PSS verification)
 * and its modulus and exponent (for the blinding arithmetic).
 * @typedef {{cryptoKey: CryptoKey, n: bigint, e: bigint, bits: number, modulusLength: number, saltLength: number}} BlindPublicKey
 */

/**
 * Import an RSA public key from SPKI DER (what a manifest's `credential_key` holds,
 * base64url) or from its modulus and exponent `{n, e}` as bytes.
 * @param {Uint8Array|string|{n: Uint8Array, e: Uint8Array}} key
 * @param {object} [variant] one of RSABSSA (default PSS_RANDOMIZED)
 * @returns {Promise<BlindPublicKey>}
 */
export async function importBlindPublicKey(key, variant = RSABSSA.PSS_RANDOMIZED) {
  const algorithm = { name: "RSA-PSS", hash: "SHA-384" };
  let cryptoKey;
  if (typeof key === "string" || key instanceof Uint8Array || key instanceof ArrayBuffer) {
    const der = typeof key === "string" ? b64urlDecode(key) : toBytes(key);
    cryptoKey = await webcrypto().importKey("spki", der, algorithm, true, ["verify"]);
  } else {
    const jwk = {
      kty: "RSA",
      n: b64urlEncode(stripZeros(key.n)),
      e: b64urlEncode(stripZeros(key.e)),
      ext: true,
    };
    cryptoKey = await webcrypto().importKey("jwk", jwk, algorithm, true, ["verify"]);
  }
  const jwk = await webcrypto().exportKey("jwk", cryptoKey);
  const n = bytesToBigInt(b64urlDecode(jwk.n));
  const e = bytesToBigInt(b64urlDecode(jwk.e));
  const bits = bitLength(n);
  return {
    cryptoKey,
    n,
    e,
    bits,
    modulusLength: Math.ceil(bits / 8),
    saltLength: variant.saltLength,
  };
}

function stripZeros(bytes) {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

/** MGF1 with SHA-384 (RFC 8017 §B.2.1). */
async function mgf1Sha384(seed, length) {
  const blocks = [];
  for (let counter = 0, have = 0; have < length; counter++, have += SHA384_LENGTH) {
    const c = new Uint8Array([
      counter >>> 24,
      (counter >>> 16) & 255,
      (counter >>> 8) & 255,
      counter & 255,
    ]);
    blocks.push(await sha384(concatBytes(seed, c)));
  }
  return concatBytes(...blocks).subarray(0, length);
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384.
 * @param {Uint8Array} msg
 * @param {number} emBits the modulus length in bits minus one
 * @param {number} saltLength 48 (PSS) or 0 (PSSZERO)
 * @param {{salt?: Uint8Array, rng?: function(number): Uint8Array}} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function emsaPssEncode(msg, emBits, saltLength, { salt, rng = randomBytes } = {}) {
  const emLen = Math.ceil(emBits / 8);
  const mHash = await sha384(msg);
  if (emLen < SHA384_LENGTH + saltLength + 2)
    throw new VecheError("encoding_error", "the RSA modulus is too short");
  salt = salt === undefined ? draw(rng, saltLength) : toBytes(salt);
  if (salt.length !== saltLength)
    throw new VecheError("encoding_error", `the salt must be ${saltLength} bytes`);
  const h = await sha384(concatBytes(new Uint8Array(8), mHash, salt));
  const db = concatBytes(
    new Uint8Array(emLen - saltLength - SHA384_LENGTH - 2),
    new Uint8Array([1]),
    salt,
  );
  const mask = await mgf1Sha384(h, db.length);
  const maskedDb = db.map((b, i) => b ^ mask[i]);
  maskedDb[0] &= 0xff >> (8 * emLen - emBits);
  return concatBytes(maskedDb, h, new Uint8Array([0xbc]));
}

/**
 * RFC 9474 §4.1 Prepare: a 32-byte random prefix for the randomized variants.
 * @param {Uint8Array} msg
 * @param {{variant?: object, prefix?: Uint8Array, rng?: function(number): Uint8Array}} [options]
 */
export function prepare(msg, { variant = RSABSSA.PSS_RANDOMIZED, prefix, rng = randomBytes } = {}) {
  if (!variant.randomized) return toBytes(msg);
  prefix = prefix === undefined ? draw(rng, PREFIX_LENGTH) : toBytes(prefix);
  if (prefix.length !== PREFIX_LENGTH)
    throw new VecheError("invalid_input", `the prefix must be ${PREFIX_LENGTH} bytes`);
  return concatBytes(prefix, toBytes(msg));
}

/**
 * RFC 9474 §4.3 Blind: encode the prepared message and hide it as `m * r^e mod n`.
 *
 * As in ballot/blind.py, the inverse `inv` is drawn uniformly and inverted into `r`
 * (the same distribution), so the RFC vectors, which list `inv`, replay as given;
 * randomness is drawn in the RFC's order: the salt, then `inv`.
 *
 * `r` may be injected instead of `inv` (then `inv = r^-1 mod n`).
 *
 * @param {BlindPublicKey} publicKey
 * @param {Uint8Array} preparedMsg
 * @param {{salt?: Uint8Array, inv?: Uint8Array, r?: Uint8Array, rng?: function(number): Uint8Array}} [options]
 * @returns {Promise<{blindedMsg: Uint8Array, inv: Uint8Array, encodedMsg: Uint8Array}>}
 */
export async function blind(
  publicKey,
  preparedMsg,
  { salt, inv, r: rInjected, rng = randomBytes } = {},
) {
  const { n, e, modulusLength: k } = publicKey;
  const encodedMsg = await emsaPssEncode(
    toBytes(preparedMsg),
    publicKey.bits - 1,
    publicKey.saltLength,
    { salt, rng },
  );
  const m = bytesToBigInt(encodedMsg);
  if (gcd(m, n) !== 1n)
    throw new VecheError("invalid_input", "the encoded message is not coprime to the modulus");
  let invInt;
  let r;
  if (rInjected !== undefined) {
    r = bytesToBigInt(toBytes(rInjected));
    invInt = modInverse(r, n);
    if (invInt === null || r === 0n || r >= n)
      throw new VecheError("blinding_error", "the blinding value has no inverse modulo n");
  } else if (inv !== undefined) {
    invInt = bytesToBigInt(toBytes(inv));
    r = modInverse(invInt, n);
    if (r === null || invInt === 0n || invInt >= n)
      throw new VecheError("blinding_error", "the blinding value has no inverse modulo n");
  } else {
    do {
      invInt = randomIntegerUniform(1n, n, rng);
      r = modInverse(invInt, n);
    } while (r === null); // probability about 2^-1000
  }
  const z = (m * modPow(r, e, n)) % n;
  return { blindedMsg: bigIntToBytes(z, k), inv: bigIntToBytes(invInt, k), encodedMsg };
}

/**
 * RFC 9474 §4.6 Verify: a plain RSASSA-PSS verification (RFC 8017 §8.1.2) by WebCrypto.
 * @returns {Promise<boolean>}
 */
export async function verifyRsaPss(publicKey, msg, sig) {
  return webcrypto().verify(
    { name: "RSA-PSS", saltLength: publicKey.saltLength },
    publicKey.cryptoKey,
    toBytes(sig),
    toBytes(msg),
  );
}

/**
 * RFC 9474 §4.5 Finalize: unblind the server's answer, `s = blind_sig * inv mod n`, and
 * refuse it unless it is a valid RSASSA-PSS signature of the prepared message.
 * @returns {Promise<Uint8Array>} the signature
 */
export async function finalize(publicKey, preparedMsg, blindSig, inv) {
  const { n, modulusLength: k } = publicKey;
  blindSig = toBytes(blindSig);
  inv = toBytes(inv);
  if (blindSig.length !== k || inv.length !== k) {
    throw new VecheError("unexpected_input_size", `the blind signature must be ${k} bytes long`);
  }
  const s = (bytesToBigInt(blindSig) * bytesToBigInt(inv)) % n;
  const sig = bigIntToBytes(s, k);
  if (!(await verifyRsaPss(publicKey, preparedMsg, sig))) {
    throw new VecheError("invalid_signature", "the signature does not verify");
  }
  return sig;
}

// ---------------------------------------------------------------------------------------
// Credentials and tokens (docs/protocol.md §6; ballot/core/token.py)

const ED25519_PKCS8_PREFIX = hexDecode("302e020100300506032b657004220420");
const X25519_PKCS8_PREFIX = hexDecode("302e020100300506032b656e04220420");

/**
 * A voter's credential: an Ed25519 key pair (RFC 8032) held as WebCrypto keys, with the
 * raw 32-byte private seed and public key (what the wallet and the ballot carry).
 * @typedef {{privateKey: CryptoKey, publicKey: CryptoKey, privateRaw: Uint8Array, publicRaw: Uint8Array, public: string}} Credential
 */

/** A fresh credential; extractable, so that it can be saved in a wallet. @returns {Promise<Credential>} */
export async function generateCredential() {
  const pair = await webcrypto().generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = await webcrypto().exportKey("jwk", pair.privateKey);
  return credentialFromSeed(b64urlDecode(jwk.d));
}

/**
 * The credential whose private key is the raw 32-byte seed `seed` (RFC 8032 §5.1.5),
 * as Python's Ed25519PrivateKey.from_private_bytes.
 * @param {Uint8Array|string} seed raw bytes, or base64url text
 * @returns {Promise<Credential>}
 */
export async function credentialFromSeed(seed) {
  const raw = typeof seed === "string" ? b64urlDecode(seed) : toBytes(seed);
  if (raw.length !== 32)
    throw new VecheError("bad_credential", "an Ed25519 private key is 32 bytes");
  const privateKey = await webcrypto().importKey(
    "pkcs8",
    concatBytes(ED25519_PKCS8_PREFIX, raw),
    { name: "Ed25519" },
    true,
    ["sign"],
  );
  const jwk = await webcrypto().exportKey("jwk", privateKey);
  const publicRaw = b64urlDecode(jwk.x);
  const publicKey = await webcrypto().importKey("raw", publicRaw, { name: "Ed25519" }, true, [
    "verify",
  ]);
  return { privateKey, publicKey, privateRaw: raw, publicRaw, public: b64urlEncode(publicRaw) };
}

/** Ed25519 signature (RFC 8032) with a WebCrypto private key. @returns {Promise<Uint8Array>} */
export async function ed25519Sign(privateKey, message) {
  return new Uint8Array(await webcrypto().sign({ name: "Ed25519" }, privateKey, toBytes(message)));
}

/**
 * Check an Ed25519 signature by a raw 32-byte public key.
 * @returns {Promise<boolean>}
 */
export async function ed25519Verify(publicRaw, signature, message) {
  let key;
  try {
    key = await webcrypto().importKey("raw", toBytes(publicRaw), { name: "Ed25519" }, false, [
      "verify",
    ]);
  } catch {
    return false;
  }
  signature = toBytes(signature);
  if (signature.length !== 64) return false;
  return webcrypto().verify({ name: "Ed25519" }, key, signature, toBytes(message));
}

/**
 * The message a token signs: canonical({"credential": b64url key, "election": hex hash}).
 * @param {string} credentialPublic base64url raw Ed25519 public key
 * @param {string} manifestHashHex
 */
export function credentialMessage(credentialPublic, manifestHashHex) {
  if (b64urlDecode(credentialPublic).length !== 32) {
    throw new VecheError(
      "credential_malformed",
      "the credential must be a 32-byte Ed25519 public key",
    );
  }
  hexDecode(manifestHashHex, 32);
  return canonicalize({ credential: credentialPublic, election: manifestHashHex });
}

/**
 * Client step 2: prefix, encode and blind the credential message for the election's key.
 * The returned state is secret: with `inv` the server could link the token to the voter.
 * @param {BlindPublicKey} publicKey
 * @param {Uint8Array} message
 * @param {{prefix?: Uint8Array, salt?: Uint8Array, inv?: Uint8Array, rng?: function(number): Uint8Array}} [options]
 * @returns {Promise<{blindedMsg: Uint8Array, state: {preparedMsg: Uint8Array, inv: Uint8Array}}>}
 */
export async function prepareAndBlind(publicKey, message, options = {}) {
  const preparedMsg = prepare(message, {
    variant: RSABSSA.PSS_RANDOMIZED,
    prefix: options.prefix,
    rng: options.rng,
  });
  const blinded = await blind(publicKey, preparedMsg, options);
  return { blindedMsg: blinded.blindedMsg, state: { preparedMsg, inv: blinded.inv } };
}

/**
 * Client step 3: unblind into the token {"prefix", "signature"} (base64url), refused if
 * the signature does not verify.
 * @returns {Promise<{prefix: string, signature: string}>}
 */
export async function finalizeToken(publicKey, state, blindSig) {
  const sig = await finalize(publicKey, state.preparedMsg, blindSig, state.inv);
  return {
    prefix: b64urlEncode(state.preparedMsg.subarray(0, PREFIX_LENGTH)),
    signature: b64urlEncode(sig),
  };
}

/**
 * Whether `token` is a valid token for this credential in this election (RFC 9474 §4.6
 * over prefix || message).
 * @returns {Promise<boolean>}
 */
export async function verifyToken(publicKey, credentialPublic, manifestHashHex, token) {
  const message = credentialMessage(credentialPublic, manifestHashHex);
  let prefix, sig;
  try {
    prefix = b64urlDecode(token.prefix);
    sig = b64urlDecode(token.signature);
  } catch {
    return false;
  }
  if (prefix.length !== PREFIX_LENGTH || sig.length !== publicKey.modulusLength) return false;
  return verifyRsaPss(publicKey, concatBytes(prefix, message), sig);
}

// ---------------------------------------------------------------------------------------
// Credentials derived from a recovery code (docs/protocol.md §6.13; ballot/core/token.py)

/** The recovery code's 32 symbols: A–Z without I and O, 2–9. */
export const RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/** 28 symbols of 5 bits (140 bits), shown as seven groups of four. */
export const RECOVERY_CODE_LENGTH = 28;
const RECOVERY_GROUP = 4;
const RECOVERY_SALT = utf8("veche/recovery/v1\n");

/** A fresh recovery code: 28 symbols drawn uniformly (one random byte each, its low 5 bits). */
export function newRecoveryCode(rng = randomBytes) {
  const data = draw(rng, RECOVERY_CODE_LENGTH);
  return formatRecoveryCode(Array.from(data, (b) => RECOVERY_ALPHABET[b & 31]).join(""));
}

/**
 * The 28 symbols of a code as typed (upper case; spaces and dashes dropped), or a refusal
 * (`bad_recovery_code`) naming what is wrong.
 */
export function normalizeRecoveryCode(text) {
  const symbols = String(text).toUpperCase().replace(/[\s-]/g, "");
  const wrong = [...new Set([...symbols].filter((ch) => !RECOVERY_ALPHABET.includes(ch)))];
  if (wrong.length)
    throw new VecheError(
      "bad_recovery_code",
      `a recovery code has no ${wrong.join(" ")}: it is made of the letters A to Z without I and O, and the digits 2 to 9`,
    );
  if (symbols.length !== RECOVERY_CODE_LENGTH)
    throw new VecheError(
      "bad_recovery_code",
      `a recovery code has ${RECOVERY_CODE_LENGTH} letters and digits, this one ${symbols.length}`,
    );
  return symbols;
}

/** The normalized code in groups of four: `ABCD-EFGH-…`. */
export function formatRecoveryCode(text) {
  const symbols = normalizeRecoveryCode(text);
  const groups = [];
  for (let i = 0; i < symbols.length; i += RECOVERY_GROUP)
    groups.push(symbols.slice(i, i + RECOVERY_GROUP));
  return groups.join("-");
}

/**
 * HKDF-SHA256(IKM = code, salt = "veche/recovery/v1\n", info = manifest hash || label), as
 * ballot/core/token.py recovery_bytes.
 * @param {string} code
 * @param {string} manifestHashHex
 * @param {Uint8Array|string} label
 * @param {number} length bytes
 * @returns {Promise<Uint8Array>}
 */
export async function recoveryBytes(code, manifestHashHex, label, length) {
  const ikm = utf8(normalizeRecoveryCode(code));
  const key = await webcrypto().importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const info = concatBytes(
    hexDecode(manifestHashHex, 32),
    typeof label === "string" ? utf8(label) : toBytes(label),
  );
  const bits = await webcrypto().deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: RECOVERY_SALT, info },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** The credential's 32-byte Ed25519 seed for this code and election. */
export function recoverySeed(code, manifestHashHex) {
  return recoveryBytes(code, manifestHashHex, "credential", 32);
}

/**
 * Prepare and blind the credential message (RFC 9474 §4.1, §4.3) with the prefix, the PSS
 * salt and the blinding factor r derived from the code, so that every device holding the
 * code makes the byte-identical request: r is the first OS2IP(recoveryBytes("blind" ||
 * I2OSP(i, 4), k)), i = 0, 1, …, with 1 <= r < n and gcd(r, n) = 1.
 * @param {BlindPublicKey} publicKey
 * @returns {Promise<{blindedMsg: Uint8Array, state: {preparedMsg: Uint8Array, inv: Uint8Array}}>}
 */
export async function recoveryBlind(publicKey, message, code, manifestHashHex) {
  const { n, modulusLength: k } = publicKey;
  const prefix = await recoveryBytes(code, manifestHashHex, "prefix", PREFIX_LENGTH);
  const salt = await recoveryBytes(code, manifestHashHex, "salt", publicKey.saltLength);
  let r;
  for (let i = 0; ; i++) {
    const label = concatBytes(utf8("blind"), new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]));
    r = bytesToBigInt(await recoveryBytes(code, manifestHashHex, label, k));
    if (r >= 1n && r < n && gcd(r, n) === 1n) break;
  }
  return prepareAndBlind(publicKey, message, { prefix, salt, r: bigIntToBytes(r, k) });
}

// ---------------------------------------------------------------------------------------
// HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM

const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0001;
const i2osp2 = (n) => new Uint8Array([(n >> 8) & 255, n & 255]);
/** RFC 9180 §4.1: suite_id of the KEM. */
const KEM_SUITE_ID = concatBytes(utf8("KEM"), i2osp2(KEM_ID));
/** RFC 9180 §5.1: suite_id of the whole HPKE suite. */
const HPKE_SUITE_ID = concatBytes(utf8("HPKE"), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID));
const HPKE_V1 = utf8("HPKE-v1");
const NH = 32; // HKDF-SHA256 output
const NK = 16; // AES-128-GCM key
const NN = 12; // AES-128-GCM nonce
const NSECRET = 32; // DHKEM(X25519) shared secret

async function hmacSha256(key, data) {
  // HMAC pads its key with zeros to the block size (RFC 2104), so the empty salt of
  // RFC 5869 equals HashLen zero bytes; WebCrypto refuses zero-length HMAC keys.
  const k = key.length === 0 ? new Uint8Array(NH) : key;
  const handle = await webcrypto().importKey("raw", k, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await webcrypto().sign("HMAC", handle, toBytes(data)));
}

/** HKDF-Extract (RFC 5869 §2.2). */
async function hkdfExtract(salt, ikm) {
  return hmacSha256(salt, ikm);
}

/** HKDF-Expand (RFC 5869 §2.3). */
async function hkdfExpand(prk, info, length) {
  const blocks = [];
  let previous = new Uint8Array(0);
  for (let counter = 1, have = 0; have < length; counter++, have += NH) {
    previous = await hmacSha256(prk, concatBytes(previous, info, new Uint8Array([counter])));
    blocks.push(previous);
  }
  return concatBytes(...blocks).subarray(0, length);
}

/** RFC 9180 §4 LabeledExtract. */
async function labeledExtract(suiteId, salt, label, ikm) {
  return hkdfExtract(salt, concatBytes(HPKE_V1, suiteId, utf8(label), ikm));
}

/** RFC 9180 §4 LabeledExpand. */
async function labeledExpand(suiteId, prk, label, info, length) {
  return hkdfExpand(prk, concatBytes(i2osp2(length), HPKE_V1, suiteId, utf8(label), info), length);
}

/**
 * An X25519 key pair as WebCrypto keys plus raw bytes. With `privateRaw` the pair is
 * that key (RFC 9180 §7.1.2 raw 32-byte form); otherwise a fresh one (RFC 9180 §4
 * GenerateKeyPair).
 * @returns {Promise<{privateKey: CryptoKey, privateRaw: Uint8Array, publicRaw: Uint8Array}>}
 */
export async function x25519KeyPair(privateRaw) {
  if (privateRaw === undefined) {
    const pair = await webcrypto().generateKey({ name: "X25519" }, true, ["deriveBits"]);
    const jwk = await webcrypto().exportKey("jwk", pair.privateKey);
    return {
      privateKey: pair.privateKey,
      privateRaw: b64urlDecode(jwk.d),
      publicRaw: b64urlDecode(jwk.x),
    };
  }
  privateRaw = toBytes(privateRaw);
  if (privateRaw.length !== 32)
    throw new VecheError("seal_key_malformed", "an X25519 private key is 32 bytes");
  const privateKey = await webcrypto().importKey(
    "pkcs8",
    concatBytes(X25519_PKCS8_PREFIX, privateRaw),
    { name: "X25519" },
    true,
    ["deriveBits"],
  );
  const jwk = await webcrypto().exportKey("jwk", privateKey);
  return { privateKey, privateRaw, publicRaw: b64urlDecode(jwk.x) };
}

async function x25519(privateKey, publicRaw) {
  if (publicRaw.length !== 32)
    throw new VecheError("seal_key_malformed", "an X25519 public key is 32 bytes");
  let dh;
  try {
    const pub = await webcrypto().importKey("raw", publicRaw, { name: "X25519" }, true, []);
    dh = new Uint8Array(
      await webcrypto().deriveBits({ name: "X25519", public: pub }, privateKey, 256),
    );
  } catch {
    throw new VecheError("seal_key_malformed", "the X25519 public key is not usable");
  }
  // RFC 9180 §7.1.4: a low-order point gives the all-zero value, which must be refused.
  if (dh.every((b) => b === 0))
    throw new VecheError("seal_key_malformed", "the X25519 public key is not usable");
  return dh;
}

/** RFC 9180 §4.1 ExtractAndExpand of DHKEM. */
async function extractAndExpand(dh, kemContext) {
  const eaePrk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, NSECRET);
}

/**
 * An HPKE context (RFC 9180 §5.2): seal/open with the sequence number counting from 0,
 * and export (§5.3). The key material is exposed for known-answer tests.
 */
export class HpkeContext {
  constructor(key, baseNonce, exporterSecret, extra = {}) {
    this.key = key;
    this.baseNonce = baseNonce;
    this.exporterSecret = exporterSecret;
    this.seq = 0;
    Object.assign(this, extra);
  }

  /** base_nonce XOR I2OSP(seq, Nn) (RFC 9180 §5.2 ComputeNonce). */
  nonce(seq) {
    const out = Uint8Array.from(this.baseNonce);
    let s = BigInt(seq);
    for (let i = NN - 1; i >= 0 && s > 0n; i--, s >>= 8n) out[i] ^= Number(s & 255n);
    return out;
  }

  async #aesKey(usage) {
    return webcrypto().importKey("raw", this.key, { name: "AES-GCM" }, false, [usage]);
  }

  /** Seal one message (AES-128-GCM, ct || 16-byte tag) and advance the sequence. */
  async seal(aad, pt) {
    const key = await this.#aesKey("encrypt");
    const ct = await webcrypto().encrypt(
      { name: "AES-GCM", iv: this.nonce(this.seq), additionalData: toBytes(aad), tagLength: 128 },
      key,
      toBytes(pt),
    );
    this.seq += 1;
    return new Uint8Array(ct);
  }

  /** Open one message and advance the sequence; refuses any tampering. */
  async open(aad, ct) {
    const key = await this.#aesKey("decrypt");
    let pt;
    try {
      pt = await webcrypto().decrypt(
        { name: "AES-GCM", iv: this.nonce(this.seq), additionalData: toBytes(aad), tagLength: 128 },
        key,
        toBytes(ct),
      );
    } catch {
      throw new VecheError(
        "seal_refused",
        "the sealed message does not open under this key and context",
      );
    }
    this.seq += 1;
    return new Uint8Array(pt);
  }

  /** RFC 9180 §5.3 secret export. */
  async export(exporterContext, length) {
    return labeledExpand(
      HPKE_SUITE_ID,
      this.exporterSecret,
      "sec",
      toBytes(exporterContext),
      length,
    );
  }
}

/** RFC 9180 §5.1 KeySchedule for mode_base (no PSK). */
async function keySchedule(sharedSecret, info) {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(HPKE_SUITE_ID, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(HPKE_SUITE_ID, empty, "info_hash", toBytes(info));
  const keyScheduleContext = concatBytes(new Uint8Array([0]), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, "secret", empty);
  const key = await labeledExpand(HPKE_SUITE_ID, secret, "key", keyScheduleContext, NK);
  const baseNonce = await labeledExpand(
    HPKE_SUITE_ID,
    secret,
    "base_nonce",
    keyScheduleContext,
    NN,
  );
  const exporterSecret = await labeledExpand(HPKE_SUITE_ID, secret, "exp", keyScheduleContext, NH);
  return new HpkeContext(key, baseNonce, exporterSecret, {
    sharedSecret,
    keyScheduleContext,
    secret,
  });
}

/**
 * RFC 9180 §5.1.1 SetupBaseS: encapsulate to `publicRaw` (§4.1 Encap) and derive the
 * sender's context. `ephemeralPrivate` (raw 32 bytes) pins the ephemeral key for
 * known-answer tests; otherwise a fresh one is generated.
 * @returns {Promise<{enc: Uint8Array, context: HpkeContext}>}
 */
export async function hpkeSetupBaseS(publicRaw, info, { ephemeralPrivate } = {}) {
  publicRaw = toBytes(publicRaw);
  const eph = await x25519KeyPair(
    ephemeralPrivate === undefined ? undefined : toBytes(ephemeralPrivate),
  );
  const dh = await x25519(eph.privateKey, publicRaw);
  const enc = eph.publicRaw;
  const sharedSecret = await extractAndExpand(dh, concatBytes(enc, publicRaw));
  return { enc, context: await keySchedule(sharedSecret, info) };
}

/** RFC 9180 §5.1.1 SetupBaseR: decapsulate `enc` with the raw private key. */
export async function hpkeSetupBaseR(enc, privateRaw, info) {
  enc = toBytes(enc);
  const recipient = await x25519KeyPair(toBytes(privateRaw));
  const dh = await x25519(recipient.privateKey, enc);
  const sharedSecret = await extractAndExpand(dh, concatBytes(enc, recipient.publicRaw));
  return keySchedule(sharedSecret, info);
}

/**
 * RFC 9180 §6.1 single-shot Seal; returns `enc || ct` (ballot/seal.py's wire form).
 * @returns {Promise<Uint8Array>}
 */
export async function hpkeSeal(publicRaw, info, aad, pt, options = {}) {
  const { enc, context } = await hpkeSetupBaseS(publicRaw, info, options);
  return concatBytes(enc, await context.seal(aad, pt));
}

/** RFC 9180 §6.1 single-shot Open of `enc || ct`. @returns {Promise<Uint8Array>} */
export async function hpkeOpen(privateRaw, info, aad, sealed) {
  sealed = toBytes(sealed);
  if (sealed.length < 32 + 16)
    throw new VecheError("seal_refused", "the sealed message is too short");
  const context = await hpkeSetupBaseR(sealed.subarray(0, 32), privateRaw, info);
  return context.open(aad, sealed.subarray(32));
}

/**
 * The HPKE `info` that ties a sealed ballot to one election and, given the credential
 * (base64url of its raw 32-byte public key; ballots of version 2), to that credential:
 * "veche/seal/v2" || raw manifest hash || raw credential, or "veche/seal/v1" || raw
 * manifest hash without it (docs/protocol.md §2.12).
 * @param {string} manifestHashHex
 * @param {string} [credentialPublic]
 */
export function sealInfo(manifestHashHex, credentialPublic) {
  const hash = hexDecode(manifestHashHex, 32);
  if (credentialPublic === undefined) return concatBytes(utf8("veche/seal/v1"), hash);
  const credential = b64urlDecode(credentialPublic);
  if (credential.length !== 32) {
    throw new VecheError("credential_malformed", "the credential must be a 32-byte public key");
  }
  return concatBytes(utf8("veche/seal/v2"), hash, credential);
}

// ---------------------------------------------------------------------------------------
// Ballots (ballot/choices.py, ballot/ballot.py)

/** The ballot signature's domain: Ed25519 over BALLOT_DOMAIN || canonical(ballot). */
export const BALLOT_DOMAIN = utf8("veche/ballot/v1\n");
/** The domain of a ballot of version 2 (with "counter" and "v": 2). */
export const BALLOT_DOMAIN_V2 = utf8("veche/ballot/v2\n");
/** The manifest signature's domain. */
export const MANIFEST_DOMAIN = utf8("veche/manifest/v1\n");
/** The sealed plaintext's nonce length. */
export const NONCE_LENGTH = 16;
/** The key of the choices object for each ballot kind. */
export const CHOICE_KEYS = Object.freeze({
  approval: "approve",
  cumulative: "points",
  ordinal: "rank",
  choice: "choose",
  survey: "answers",
});

const isPlainObject = (v) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v);

function reject(code, detail) {
  throw new VecheError(code, detail);
}

/** A list of known, distinct project ids (ballot/choices.py `_ids`). */
function checkIds(value, key, known) {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    reject("malformed_choices", `"${key}" must be a list of project ids`);
  }
  const seen = new Set();
  for (const item of value) {
    if (!known.has(item))
      reject("unknown_project", `${JSON.stringify(item)} is not on this ballot`);
    if (seen.has(item)) reject("duplicate_project", `${JSON.stringify(item)} is named twice`);
    seen.add(item);
  }
}

function checkCount(count, low, high, noun) {
  if (count < low) reject("too_few_projects", `choose at least ${low} ${noun} (got ${count})`);
  if (count > high) reject("too_many_projects", `choose at most ${high} ${noun} (got ${count})`);
}

function checkPoints(value, spec, known) {
  if (!isPlainObject(value)) reject("malformed_choices", '"points" must map project ids to points');
  const entries = Object.entries(value);
  for (const [key, n] of entries) {
    if (typeof n !== "number" || !Number.isSafeInteger(n)) {
      reject("not_an_integer", `the points for ${JSON.stringify(key)} must be an integer`);
    }
  }
  for (const [key, n] of entries) {
    if (!known.has(key)) reject("unknown_project", `${JSON.stringify(key)} is not on this ballot`);
    if (n === 0)
      reject("zero_points", `leave ${JSON.stringify(key)} out instead of giving it 0 points`);
    if (n < 0) reject("negative_points", `the points for ${JSON.stringify(key)} are negative`);
    if (n > spec.max_per_project) {
      reject(
        "points_per_project_exceeded",
        `${JSON.stringify(key)} has ${n} points; at most ${spec.max_per_project} per project`,
      );
    }
  }
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total > spec.total_points) {
    reject("too_many_points", `${total} points given; at most ${spec.total_points} in all`);
  }
}

// --- surveys (docs/protocol.md §19.2; ballot/core/survey_choices.py) -------------------

// Python's str.isspace(), which str.strip() strips: not String.prototype.trim's set
// (U+FEFF is not white space to Python; U+001C–U+001F and U+0085 are).
const SURROUNDING_SPACE =
  /^[\t\n\v\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\t\n\v\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;

/** Whether one UTF-16 unit is white space to Python's str.isspace() (every such
 * character is in the Basic Multilingual Plane). */
function isPythonSpace(unit) {
  return (
    (unit >= 0x09 && unit <= 0x0d) ||
    (unit >= 0x1c && unit <= 0x20) ||
    unit === 0x85 ||
    unit === 0xa0 ||
    unit === 0x1680 ||
    (unit >= 0x2000 && unit <= 0x200a) ||
    unit === 0x2028 ||
    unit === 0x2029 ||
    unit === 0x202f ||
    unit === 0x205f ||
    unit === 0x3000
  );
}

/**
 * `text` without its surrounding white space, as Python's str.strip() reads it (not
 * String.prototype.trim: U+FEFF stays, U+001C–U+001F and U+0085 go), so that a page
 * trims a typed answer the way the server judges it (docs/protocol.md §19.2).
 */
export function stripSpace(text) {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/** A control character other than LF (category Cc), or a lone surrogate (Cs). */
function isControl(codePoint) {
  return (
    (codePoint < 0x20 && codePoint !== 0x0a) ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0xd800 && codePoint <= 0xdfff)
  );
}

/**
 * The problem of a text answer as [code, detail], or null (survey_choices.text_problem):
 * not empty, no surrounding white space, no control character but LF, at most
 * `maxLength` code points.
 */
export function textProblem(text, maxLength) {
  if (text === "") return ["bad_text", "the answer is empty: leave the question out instead"];
  if (SURROUNDING_SPACE.test(text))
    return ["bad_text", "the answer may not start or end with white space"];
  let length = 0;
  for (const ch of text) {
    if (isControl(ch.codePointAt(0)))
      return ["bad_text", "the answer may not contain control characters other than a new line"];
    length += 1;
  }
  if (length > maxLength)
    return ["text_too_long", `the answer has ${length} characters; at most ${maxLength}`];
  return null;
}

/** Whether a survey question is shown given the earlier answers (survey_choices.is_shown). */
export function isQuestionShown(question, answers) {
  const show = question.show_if;
  if (show === undefined || show === null) return true;
  const given = Object.hasOwn(answers, show.question) ? answers[show.question] : undefined;
  const chosen = typeof given === "string" ? [given] : Array.isArray(given) ? given : [];
  return chosen.some((option) => show.any_of.includes(option));
}

/** A list of known, distinct ids answering the question `qid`. */
function checkAnswerIds(qid, value, known, codeUnknown, codeDuplicate) {
  const name = JSON.stringify(qid);
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string"))
    reject("bad_answer", `the answer to ${name} must be a list of ids`);
  const seen = new Set();
  for (const item of value) {
    if (!known.has(item)) reject(codeUnknown, `${JSON.stringify(item)} is not an option of ${name}`);
    if (seen.has(item))
      reject(codeDuplicate, `${JSON.stringify(item)} is named twice in the answer to ${name}`);
    seen.add(item);
  }
}

function checkAnswerCount(qid, n, low, high, noun) {
  const name = JSON.stringify(qid);
  const projects = noun === "projects";
  if (n < low)
    reject(projects ? "too_few_projects" : "too_few_options", `choose at least ${low} ${noun} in ${name} (got ${n})`);
  if (n > high)
    reject(projects ? "too_many_projects" : "too_many_options", `choose at most ${high} ${noun} in ${name} (got ${n})`);
}

function checkAnswer(question, value, costs) {
  const qid = question.id;
  const name = JSON.stringify(qid);
  const kind = question.kind;
  if (kind === "single") {
    if (typeof value !== "string") reject("bad_answer", `the answer to ${name} must be an option id`);
    if (!question.options.some((o) => o.id === value))
      reject("unknown_option", `${JSON.stringify(value)} is not an option of ${name}`);
  } else if (kind === "multiple" || kind === "ranking") {
    const known = new Set(question.options.map((o) => o.id));
    checkAnswerIds(qid, value, known, "unknown_option", "duplicate_option");
    if (kind === "multiple") {
      checkAnswerCount(qid, value.length, question.min_options ?? 0, question.max_options, "options");
    } else {
      checkAnswerCount(qid, value.length, question.min_length ?? 1, question.max_length, "options");
    }
  } else if (kind === "scale") {
    // JSON has no integer type: 4 and 4.0 are one number here; a fraction is refused.
    if (typeof value !== "number" || !Number.isInteger(value))
      reject("bad_answer", `the answer to ${name} must be an integer`);
    if (value < question.scale_min || value > question.scale_max) {
      reject(
        "out_of_scale",
        `the answer to ${name} is ${value}, outside ${question.scale_min}..${question.scale_max}`,
      );
    }
  } else if (kind === "text") {
    if (typeof value !== "string") reject("bad_answer", `the answer to ${name} must be text`);
    const problem = textProblem(value, question.max_length ?? 500);
    if (problem !== null) reject(problem[0], `${name}: ${problem[1]}`);
  } else if (kind === "budget") {
    checkAnswerIds(qid, value, new Set(costs.keys()), "unknown_project", "duplicate_project");
    checkAnswerCount(qid, value.length, question.min_projects, question.max_projects, "projects");
    // Exact integers, as in Python.
    const spent = value.reduce((sum, id) => sum + BigInt(costs.get(id)), 0n);
    const limit = question.max_total_cost ?? null;
    if (limit !== null && spent > BigInt(limit)) {
      reject(
        "over_budget",
        `the chosen projects cost ${spent}; a ballot may spend at most ${limit}`,
      );
    }
  } else {
    reject("malformed_choices", `unknown question kind ${kind}`);
  }
}

/**
 * Check a survey's answers (the value under "answers") against its questions, with the
 * codes and in the order of docs/protocol.md §19.2: malformed_choices, unknown_question,
 * then question by question hidden_question_answered, missing_answer, bad_answer,
 * unknown_option, duplicate_option, too_few_options, too_many_options, out_of_scale,
 * bad_text, text_too_long; for the budget question unknown_project, duplicate_project,
 * too_few_projects, too_many_projects, over_budget.
 */
function checkSurvey(answers, spec, election) {
  if (!isPlainObject(answers))
    reject("malformed_choices", '"answers" must map question ids to answers');
  const known = new Set(spec.questions.map((q) => q.id));
  for (const qid of Object.keys(answers)) {
    if (!known.has(qid))
      reject("unknown_question", `${JSON.stringify(qid)} is not a question of this survey`);
  }
  const costs = new Map(election.projects.map((p) => [p.id, p.cost]));
  const out = {};
  for (const question of spec.questions) {
    const qid = question.id;
    const shown = isQuestionShown(question, out);
    if (!Object.hasOwn(answers, qid)) {
      if (shown && question.optional !== true)
        reject("missing_answer", `the question ${JSON.stringify(qid)} needs an answer`);
      continue;
    }
    if (!shown) {
      reject(
        "hidden_question_answered",
        `the question ${JSON.stringify(qid)} is not shown for the earlier answers, so it has none`,
      );
    }
    checkAnswer(question, answers[qid], costs);
    out[qid] = answers[qid];
  }
}

/**
 * Check choices against the election's ballot kind and limits before sealing them, with
 * the codes and in the order of Python's ballot.core.choices.validate_choices (docs/protocol.md
 * §5.9; a survey's answers §19.2), so that a page can say what is wrong before anything is sent.
 * Throws VecheError(code) at the first failure; returns the choices unchanged.
 *
 * @param {{ballot: object, projects: Array<{id: string, cost: number}>, budget: number}} election
 *   the manifest (or its configuration)
 * @param {object} choices
 */
export function validateChoices(election, choices) {
  const spec = election.ballot;
  const key = CHOICE_KEYS[spec.kind];
  if (key === undefined) reject("malformed_choices", `unknown ballot kind ${spec.kind}`);
  const names = isPlainObject(choices) ? Object.keys(choices) : [];
  if (names.length !== 1 || names[0] !== key) {
    if (names.length === 1 && Object.values(CHOICE_KEYS).includes(names[0])) {
      reject("wrong_ballot_kind", `this is a ${spec.kind} ballot: its choices are {"${key}": …}`);
    }
    reject("malformed_choices", `the choices must be an object with exactly "${key}"`);
  }
  const value = choices[key];
  const known = new Set(election.projects.map((p) => p.id));
  if (spec.kind === "approval") {
    checkIds(value, "approve", known);
    checkCount(value.length, spec.min_projects, spec.max_projects, "projects");
    const cost = new Map(election.projects.map((p) => [p.id, p.cost]));
    const spent = value.reduce((sum, id) => sum + cost.get(id), 0);
    const limit = spec.max_total_cost ?? null;
    if (limit !== null && spent > limit) {
      reject(
        "over_budget",
        `the chosen projects cost ${spent}; a ballot may spend at most ${limit}`,
      );
    }
    const share = spec.min_budget_share ?? null;
    // Exact integers, as in Python: a float product could round across the boundary.
    if (share !== null && BigInt(spent) * 100n < BigInt(share) * BigInt(election.budget)) {
      reject(
        "under_min_spend",
        `the chosen projects cost ${spent}; a ballot must spend at least ${share}% ` +
          `of the budget (${election.budget})`,
      );
    }
  } else if (spec.kind === "cumulative") {
    checkPoints(value, spec, known);
  } else if (spec.kind === "survey") {
    checkSurvey(value, spec, election);
  } else if (spec.kind === "ordinal") {
    checkIds(value, "rank", known);
    checkCount(value.length, spec.min_length ?? 1, spec.max_length, "projects to rank");
  } else {
    checkIds(value, "choose", known);
    checkCount(value.length, spec.min_options, spec.max_options, "options");
  }
  return choices;
}

/**
 * What is sealed: canonical({"choices": choices, "nonce": b64url(16 bytes)}).
 * @returns {Uint8Array}
 */
export function sealedPlaintext(choices, nonce) {
  nonce = toBytes(nonce);
  if (nonce.length !== NONCE_LENGTH)
    throw new VecheError("bad_nonce", `the nonce must be ${NONCE_LENGTH} bytes`);
  return canonicalize({ choices, nonce: b64urlEncode(nonce) });
}

/**
 * The bytes a ballot's signature covers: "veche/ballot/v2\n" || canonical(ballot) for a
 * ballot of version 2, "veche/ballot/v1\n" || canonical(ballot) for one of version 1.
 */
export function ballotSigningInput(ballot) {
  return concatBytes(ballot.v === 2 ? BALLOT_DOMAIN_V2 : BALLOT_DOMAIN, canonicalize(ballot));
}

/**
 * Check the choices (validateChoices), seal them and sign the ballot: the same bytes as
 * Python's make_ballot given the same nonce and ephemeral key. For a manifest of version
 * 2 the ballot carries `counter` (its number among the credential's ballots, 1 for the
 * first) and "v": 2, and the seal is bound to the credential (docs/protocol.md §7.3).
 *
 * @param {object} args
 * @param {object} args.manifest the election's manifest (for the sealing key and kind)
 * @param {string} args.manifestHash lowercase hex
 * @param {Credential} args.credential
 * @param {{prefix: string, signature: string}} args.token
 * @param {object} args.choices e.g. {"approve": ["park"]}
 * @param {Uint8Array} [args.nonce] 16 bytes (random by default)
 * @param {Uint8Array} [args.ephemeralPrivate] HPKE ephemeral key (random by default)
 * @param {number} [args.counter] the ballot's number for its credential (default 1)
 * @returns {Promise<{ballot: object, signature: string, plaintext: Uint8Array}>}
 */
export async function makeBallot({
  manifest,
  manifestHash,
  credential,
  token,
  choices,
  nonce,
  ephemeralPrivate,
  counter = 1,
}) {
  // Manifests of version 2 and 3 (a trustee election's, docs/protocol.md §14.5) take
  // ballots of version 2.
  const numbered = manifest.v === 2 || manifest.v === 3;
  if (numbered && !(Number.isSafeInteger(counter) && counter >= 1)) {
    throw new VecheError("malformed_ballot", "a ballot's counter is an integer from 1");
  }
  validateChoices(manifest, choices);
  if (
    !token ||
    typeof token.prefix !== "string" ||
    typeof token.signature !== "string" ||
    Object.keys(token).length !== 2
  ) {
    throw new VecheError("bad_token", 'a token is {"prefix": …, "signature": …}');
  }
  const plaintext = sealedPlaintext(
    choices,
    nonce === undefined ? randomBytes(NONCE_LENGTH) : nonce,
  );
  const sealed = await hpkeSeal(
    b64urlDecode(manifest.sealing_key),
    numbered ? sealInfo(manifestHash, credential.public) : sealInfo(manifestHash),
    new Uint8Array(0),
    plaintext,
    { ephemeralPrivate },
  );
  const ballot = {
    credential: credential.public,
    election: manifestHash,
    sealed: b64urlEncode(sealed),
    token: { prefix: token.prefix, signature: token.signature },
  };
  if (numbered) {
    ballot.counter = counter;
    ballot.v = 2;
  }
  const signature = b64urlEncode(
    await ed25519Sign(credential.privateKey, ballotSigningInput(ballot)),
  );
  return { ballot, signature, plaintext };
}

// ---------------------------------------------------------------------------------------
// Merkle proofs (RFC 9162 §2.1; audit/merkle.py)

const HASH_SIZE = 32;

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || data). */
export async function hashLeaf(data) {
  return sha256(concatBytes(new Uint8Array([0]), toBytes(data)));
}

/** RFC 9162 §2.1.1 interior node: SHA-256(0x01 || left || right). */
export async function hashChildren(left, right) {
  return sha256(concatBytes(new Uint8Array([1]), left, right));
}

function checkHash(value, what) {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    throw new ProofError(`${what} is ${value?.length} bytes, not ${HASH_SIZE}`, "hash_length");
  }
}

function toIndex(value, what) {
  const v = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : null;
  if (v === null) throw new ProofError(`${what} is not an integer`, "bad_index");
  return v;
}

/**
 * RFC 9162 §2.1.3.2: throw ProofError unless `proof` puts the leaf `leafHash` at
 * `index` into the tree of `size` leaves whose root is `root`. Indices may be numbers
 * or BigInts (the bit arithmetic is done on BigInts, so sizes beyond 2^32 work).
 */
export async function verifyInclusion(leafHash, index, size, proof, root) {
  checkHash(leafHash, "leaf hash");
  checkHash(root, "root hash");
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  index = toIndex(index, "index");
  size = toIndex(size, "size");
  if (!(index >= 0n && index < size))
    throw new ProofError(`leaf index ${index} is not below tree size ${size}`, "bad_index");
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError("inclusion proof is longer than the path", "bad_proof");
    if (fn & 1n || fn === sn) {
      r = await hashChildren(p, r);
      while (!(fn & 1n) && fn) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("inclusion proof is shorter than the path", "bad_proof");
  if (!bytesEqual(r, root))
    throw new ProofError("inclusion proof does not lead to the root", "root_mismatch");
}

/**
 * RFC 9162 §2.1.4.2: throw ProofError unless the tree of `size1` leaves with `root1` is
 * a prefix of the tree of `size2` leaves with `root2`. A proof from the empty tree is
 * refused, as in audit/merkle.py.
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  checkHash(root1, "first root hash");
  checkHash(root2, "second root hash");
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  size1 = toIndex(size1, "size1");
  size2 = toIndex(size2, "size2");
  if (size1 <= 0n)
    throw new ProofError("a consistency proof from the empty tree is refused", "bad_size");
  if (size1 > size2)
    throw new ProofError(`size1 ${size1} is larger than size2 ${size2}`, "bad_size");
  if (size1 === size2) {
    if (proof.length) throw new ProofError("proof between equal sizes must be empty", "bad_proof");
    if (!bytesEqual(root1, root2))
      throw new ProofError("equal sizes with different roots", "root_mismatch");
    return;
  }
  if (!proof.length) throw new ProofError("consistency proof is empty", "bad_proof");
  const path = [...proof];
  if ((size1 & (size1 - 1n)) === 0n) path.unshift(root1);
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("consistency proof is longer than the path", "bad_proof");
    if (fn & 1n || fn === sn) {
      fr = await hashChildren(c, fr);
      sr = await hashChildren(c, sr);
      while (!(fn & 1n) && fn) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("consistency proof is shorter than the path", "bad_proof");
  if (!bytesEqual(fr, root1))
    throw new ProofError("consistency proof does not lead to the first root", "root_mismatch");
  if (!bytesEqual(sr, root2))
    throw new ProofError("consistency proof does not lead to the second root", "root_mismatch");
}

// ---------------------------------------------------------------------------------------
// Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint; audit/note.py)

const EM_DASH = "\u2014";
const ALG_ED25519 = 0x01;
const MAX_SIGNATURES = 100;

/** Key names are non-empty and hold no space, no "+" and no control character. */
export function checkKeyName(name) {
  if (!name) throw new NoteError("key name is empty", "bad_key_name");
  if (/[+\s\u0000-\u001f\u007f]/.test(name))
    throw new NoteError(
      `key name ${JSON.stringify(name)} contains a forbidden character`,
      "bad_key_name",
    );
}

/** The note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export async function noteKeyId(name, publicRaw) {
  publicRaw = toBytes(publicRaw);
  if (publicRaw.length !== 32) throw new NoteError("an Ed25519 public key is 32 bytes", "bad_key");
  const digest = await sha256(
    concatBytes(utf8(name), new Uint8Array([0x0a, ALG_ED25519]), publicRaw),
  );
  return digest.subarray(0, 4);
}

/** The verifier key string name+hex(key ID)+base64(0x01 || public key). */
export async function noteVerifierKey(name, publicRaw) {
  checkKeyName(name);
  const kid = await noteKeyId(name, publicRaw);
  const typed = concatBytes(new Uint8Array([ALG_ED25519]), toBytes(publicRaw));
  return `${name}+${hexEncode(kid)}+${b64Encode(typed)}`;
}

/**
 * Parse a verifier key, checking the key ID it claims against its name and key.
 * @returns {Promise<{name: string, keyId: Uint8Array, publicKey: Uint8Array}>}
 */
export async function parseVerifierKey(text) {
  if (typeof text !== "string") throw new NoteError("verifier key is not text", "bad_verifier_key");
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (first < 0 || second < 0)
    throw new NoteError("verifier key is not name+keyid+key", "bad_verifier_key");
  const name = text.slice(0, first);
  const kidHex = text.slice(first + 1, second);
  const keyB64 = text.slice(second + 1);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(kidHex))
    throw new NoteError("verifier key ID is not 8 lowercase hex digits", "bad_verifier_key");
  const raw = b64Decode(keyB64, "verifier key");
  if (raw.length !== 33 || raw[0] !== ALG_ED25519)
    throw new NoteError(
      "verifier key is not an Ed25519 key (type 0x01, 32 bytes)",
      "bad_verifier_key",
    );
  const publicKey = raw.subarray(1);
  const keyId = hexDecode(kidHex);
  if (!bytesEqual(await noteKeyId(name, publicKey), keyId))
    throw new NoteError("verifier key ID does not match its name and key", "bad_verifier_key");
  return { name, keyId, publicKey };
}

/**
 * Split a signed note into its text (final newline included) and signature lines,
 * refusing malformed notes.
 * @returns {{text: string, signatures: Array<{name: string, keyId: Uint8Array, signature: Uint8Array}>}}
 */
export function parseNote(note) {
  if (note instanceof Uint8Array) {
    try {
      note = textDecoder.decode(note);
    } catch {
      throw new NoteError("note is not valid UTF-8");
    }
  }
  if (typeof note !== "string" || !isWellFormed(note))
    throw new NoteError("note is not valid UTF-8");
  if (!note.endsWith("\n")) throw new NoteError("note text does not end with a newline");
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(note);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new NoteError(`note contains control character U+${code}`);
  }
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split("\n");
  if (lines[lines.length - 1] !== "" || lines.length < 2)
    throw new NoteError("note has no signature lines");
  lines.pop();
  if (lines.length > MAX_SIGNATURES)
    throw new NoteError(`note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => {
    const number = i + 1;
    if (!line.startsWith(EM_DASH + " "))
      throw new NoteError(`signature line ${number} does not start with '— '`);
    const fields = line.slice(2).split(" ");
    if (fields.length !== 2)
      throw new NoteError(`signature line ${number} is not '— name signature'`);
    const [name, sigB64] = fields;
    checkKeyName(name);
    const raw = b64Decode(sigB64, `signature ${number}`);
    if (raw.length < 5) throw new NoteError(`signature ${number} is too short`);
    return { name, keyId: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/**
 * Verify a signed note: signatures by unknown keys (other name or key ID) are ignored,
 * a failing signature by a known key rejects the note, and at least one known key must
 * have signed. `verifiers` are parsed verifier keys or their strings.
 * @returns {Promise<{text: string, signatures: Array}>}
 */
export async function verifyNote(note, verifiers) {
  const parsed =
    typeof note === "object" && note !== null && "text" in note ? note : parseNote(note);
  const list = [];
  for (const v of Array.isArray(verifiers) ? verifiers : [verifiers])
    list.push(typeof v === "string" ? await parseVerifierKey(v) : v);
  const message = utf8(parsed.text);
  let verified = false;
  for (const sig of parsed.signatures) {
    const verifier = list.find((v) => v.name === sig.name && bytesEqual(v.keyId, sig.keyId));
    if (!verifier) continue; // the spec requires ignoring signatures from unknown keys
    if (!(await ed25519Verify(verifier.publicKey, sig.signature, message))) {
      throw new NoteError(`signature by ${sig.name} does not verify`, "bad_signature");
    }
    verified = true;
  }
  if (!verified)
    throw new NoteError("note carries no signature from a known key", "no_known_signature");
  return parsed;
}

/**
 * Parse a checkpoint body (C2SP tlog-checkpoint): origin, decimal size, base64 root
 * hash, then optional non-empty extension lines.
 * @returns {{origin: string, size: number, root: Uint8Array, extensions: string[]}}
 */
export function parseCheckpoint(body) {
  if (!body.endsWith("\n"))
    throw new NoteError("checkpoint does not end with a newline", "bad_checkpoint");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3)
    throw new NoteError("checkpoint has fewer than three lines", "bad_checkpoint");
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!origin) throw new NoteError("checkpoint origin is empty", "bad_checkpoint");
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new NoteError(
      `checkpoint size ${JSON.stringify(sizeText)} is not a decimal number`,
      "bad_checkpoint",
    );
  }
  const root = b64Decode(rootText, "checkpoint root");
  if (root.length !== HASH_SIZE)
    throw new NoteError(
      `checkpoint root is ${root.length} bytes, not ${HASH_SIZE}`,
      "bad_checkpoint",
    );
  if (extensions.some((line) => !line))
    throw new NoteError("checkpoint extension line is empty", "bad_checkpoint");
  return { origin, size: Number(sizeText), root, extensions };
}

/**
 * Verify a checkpoint note under `verifierKey` and return what it states. Its origin
 * must be `origin` if given, else the verifier key's name.
 */
export async function verifyCheckpoint(noteText, verifierKey, { origin } = {}) {
  const verifier =
    typeof verifierKey === "string" ? await parseVerifierKey(verifierKey) : verifierKey;
  const note = await verifyNote(noteText, verifier);
  const checkpoint = parseCheckpoint(note.text);
  const expected = origin === undefined ? verifier.name : origin;
  if (checkpoint.origin !== expected) {
    throw new NoteError(
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(expected)}`,
      "wrong_origin",
    );
  }
  return checkpoint;
}

// ---------------------------------------------------------------------------------------
// Witness cosignatures (C2SP tlog-cosignature; docs/protocol.md §15.1–§15.3, §15.8;
// audit/core/cosignature.py)

const ALG_COSIGNATURE_V1 = 0x04;

/** A witness's key ID: SHA-256(name || 0x0A || 0x04 || public key)[:4]. */
export async function witnessKeyId(name, publicRaw) {
  publicRaw = toBytes(publicRaw);
  if (publicRaw.length !== 32) throw new NoteError("an Ed25519 public key is 32 bytes", "bad_key");
  const digest = await sha256(
    concatBytes(utf8(name), new Uint8Array([0x0a, ALG_COSIGNATURE_V1]), publicRaw),
  );
  return digest.subarray(0, 4);
}

/**
 * Parse a witness's verifier key name+hex(key ID)+base64(0x04 || public key), checking
 * the key ID it claims. @returns {Promise<{name: string, keyId: Uint8Array, publicKey: Uint8Array}>}
 */
export async function parseWitnessKey(text) {
  const parts = typeof text === "string" ? text.trim().split("+") : [];
  if (parts.length < 3)
    throw new NoteError("witness key is not name+keyid+key", "bad_witness_key");
  const [name, kidHex] = parts;
  const keyB64 = parts.slice(2).join("+");
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(kidHex))
    throw new NoteError("witness key ID is not 8 lowercase hex digits", "bad_witness_key");
  const raw = b64Decode(keyB64, "witness key");
  if (raw.length !== 33 || raw[0] !== ALG_COSIGNATURE_V1)
    throw new NoteError(
      "witness key is not an Ed25519 cosignature/v1 key (type 0x04, 32 bytes)",
      "bad_witness_key",
    );
  const publicKey = raw.subarray(1);
  const keyId = hexDecode(kidHex);
  if (!bytesEqual(await witnessKeyId(name, publicKey), keyId))
    throw new NoteError("witness key ID does not match its name and key", "bad_witness_key");
  return { name, keyId, publicKey };
}

/** The bytes a cosignature/v1 signs: "cosignature/v1\ntime T\n" || the note's text. */
export function cosignedMessage(noteText, timestamp) {
  return utf8(`cosignature/v1\ntime ${BigInt(timestamp).toString()}\n${noteText}`);
}

/**
 * Count the valid cosignatures of `witnesses` (parsed keys or their strings) on a
 * checkpoint note, as audit.core.cosignature.check_cosignatures: lines of other keys are
 * ignored, each witness counts once, and a line with a trusted witness's name and key ID
 * that does not verify makes that witness invalid. `ok` needs `required` cosignatures
 * and no invalid one; `describe()` is the sentence the Python client prints.
 */
export async function checkCosignatures(note, witnesses, required) {
  const list = [];
  for (const w of witnesses) list.push(typeof w === "string" ? await parseWitnessKey(w) : w);
  if (!(Number.isInteger(required) && required >= 0 && required <= list.length))
    throw new NoteError(
      `a policy of ${required} of ${list.length} witnesses cannot be met`,
      "bad_witness_policy",
    );
  const parsed = typeof note === "object" && note !== null && "text" in note ? note : parseNote(note);
  const cosigned = [];
  const invalid = [];
  for (const witness of list) {
    const lines = parsed.signatures.filter(
      (s) => s.name === witness.name && bytesEqual(s.keyId, witness.keyId),
    );
    let good = false;
    for (const line of lines) {
      let valid = line.signature.length === 72;
      if (valid) {
        let timestamp = 0n;
        for (const b of line.signature.subarray(0, 8)) timestamp = (timestamp << 8n) | BigInt(b);
        valid =
          timestamp < 2n ** 63n &&
          (await ed25519Verify(
            witness.publicKey,
            line.signature.subarray(8),
            cosignedMessage(parsed.text, timestamp),
          ));
      }
      if (!valid) {
        invalid.push(witness.name);
        good = false;
        break;
      }
      good = true;
    }
    if (good) cosigned.push(witness.name);
  }
  const missing = list
    .map((w) => w.name)
    .filter((n) => !cosigned.includes(n) && !invalid.includes(n));
  return {
    required,
    cosigned,
    missing,
    invalid,
    ok: cosigned.length >= required && invalid.length === 0,
    describe() {
      const parts = [`${cosigned.length} of the required ${required} witness cosignature(s)`];
      if (cosigned.length) parts.push("cosigned by " + cosigned.join(", "));
      if (missing.length) parts.push("missing: " + missing.join(", "));
      if (invalid.length) parts.push("invalid: " + invalid.join(", "));
      return parts.join("; ");
    },
  };
}

const ENTRY_KEYS = ["at", "body", "kind", "prev", "seq", "v"];

/**
 * The `ballot.cast` body a kept receipt is for (`receipt.cast`, what this client sent),
 * or a refusal saying it is missing.
 * @returns {{ballot: object, signature: string}}
 */
export function sentCast(receipt) {
  const cast = receipt?.cast;
  if (
    !cast ||
    typeof cast !== "object" ||
    Object.keys(cast).sort().join(",") !== "ballot,signature" ||
    !cast.ballot ||
    typeof cast.ballot !== "object" ||
    Array.isArray(cast.ballot) ||
    typeof cast.signature !== "string"
  ) {
    throw new VecheError(
      "no_ballot_in_receipt",
      "the receipt does not carry the ballot and signature you sent, so it cannot be tied to your ballot",
    );
  }
  try {
    canonicalize(cast);
  } catch {
    throw new VecheError(
      "no_ballot_in_receipt",
      "the ballot the receipt says was sent is not canonical JSON",
    );
  }
  return { ballot: cast.ballot, signature: cast.signature };
}

function receiptNumber(receipt, name) {
  const value = receipt?.[name];
  if (!Number.isSafeInteger(value) || value < 0)
    throw new VecheError("bad_receipt", `the receipt's ${name} is not a whole number`);
  return value;
}

function receiptHash(value, what) {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value))
    throw new VecheError("bad_receipt", `the receipt's ${what} is not 64 lowercase hex digits`);
  return hexDecode(value, 32);
}

/**
 * Check the exact bytes the log serves at the receipt's `seq` (docs/protocol.md §8.2): they
 * hash to the receipt's leaf hash (SHA-256(0x00 || bytes)) and are a canonical
 * `ballot.cast` entry at that `seq` whose body's ballot and signature are exactly the ones
 * sent. Each refusal names what did not match. Returns the leaf hash.
 * @param {Uint8Array} line the entry's bytes, without the newline
 * @returns {Promise<Uint8Array>}
 */
export async function checkCastEntry(line, receipt, cast) {
  const seq = receiptNumber(receipt, "seq");
  const expected = receiptHash(receipt.leaf_hash, "leaf hash");
  const leaf = await hashLeaf(line);
  if (!bytesEqual(leaf, expected)) {
    throw new VecheError(
      "entry_mismatch",
      `the log's entry ${seq} does not hash to the receipt's leaf hash: the server answered other bytes than the ones it proved`,
    );
  }
  let entry;
  try {
    entry = JSON.parse(textDecoder.decode(line));
    if (!bytesEqual(canonicalize(entry), line)) throw new Error("not canonical");
  } catch {
    throw new VecheError("not_your_ballot", `the log's entry ${seq} is not canonical JSON`);
  }
  if (
    !entry ||
    typeof entry !== "object" ||
    Array.isArray(entry) ||
    Object.keys(entry).sort().join(",") !== ENTRY_KEYS.join(",")
  ) {
    throw new VecheError("not_your_ballot", `the log's entry ${seq} is not a log entry`);
  }
  if (entry.seq !== seq)
    throw new VecheError(
      "not_your_ballot",
      `the receipt names entry ${seq}, the entry says ${entry.seq}`,
    );
  if (entry.kind !== "ballot.cast")
    throw new VecheError(
      "not_your_ballot",
      `the log's entry ${seq} is a ${JSON.stringify(entry.kind)}, not a ballot`,
    );
  const body = entry.body;
  let same = false;
  try {
    same = bytesEqual(canonicalize(body.ballot), canonicalize(cast.ballot));
  } catch {
    same = false;
  }
  if (!same)
    throw new VecheError(
      "not_your_ballot",
      `the log's entry ${seq} holds another ballot than the one you sent`,
    );
  if (body.signature !== cast.signature)
    throw new VecheError(
      "not_your_ballot",
      `the log's entry ${seq} holds another signature than the one you sent`,
    );
  return leaf;
}

/**
 * Check a kept receipt (docs/protocol.md §8.2): the checkpoint is signed by the log's
 * key and states the proof's tree size; the receipt names the election (`manifestHash`,
 * else the sent ballot's) and the digest of the sent ballot; the entry's bytes
 * (`entryBytes`, as the log serves them at `seq`) are the sent ballot and signature
 * (checkCastEntry); and the inclusion proof leads from their leaf hash to the
 * checkpoint's root.
 * @param {object} receipt the server's receipt with `cast`: {ballot, signature} as sent
 * @param {{entryBytes: Uint8Array, manifestHash?: string}} options
 * @returns {Promise<{origin: string, size: number, root: Uint8Array, extensions: string[]}>} the checkpoint
 */
export async function checkReceipt(receipt, verifierKey, { entryBytes, manifestHash } = {}) {
  const cast = sentCast(receipt);
  const seq = receiptNumber(receipt, "seq");
  const size = receiptNumber(receipt, "size");
  let checkpoint;
  try {
    checkpoint = await verifyCheckpoint(receipt.checkpoint, verifierKey);
  } catch (exc) {
    throw new VecheError(
      "bad_checkpoint",
      `the checkpoint is not signed by the log's key: ${exc.detail ?? exc.message}`,
    );
  }
  if (checkpoint.size !== size)
    throw new VecheError(
      "bad_receipt",
      `the receipt states a tree of ${size} entries, its checkpoint ${checkpoint.size}`,
    );
  const election = manifestHash ?? cast.ballot.election;
  if (receipt.election !== election)
    throw new VecheError("bad_receipt", "the receipt is for another election");
  const digest = hexEncode(await sha256(canonicalize(cast)));
  if (digest !== receipt.ballot_digest)
    throw new VecheError(
      "not_your_ballot",
      "the receipt's ballot digest is not the digest of your ballot",
    );
  if (!(entryBytes instanceof Uint8Array))
    throw new VecheError("entry_mismatch", `the log's entry ${seq} was not read`);
  const leaf = await checkCastEntry(entryBytes, receipt, cast);
  try {
    if (!Array.isArray(receipt.proof)) throw new Error("the receipt carries no proof");
    const proof = receipt.proof.map((p) => receiptHash(p, "proof"));
    await verifyInclusion(leaf, seq, checkpoint.size, proof, checkpoint.root);
  } catch (exc) {
    throw new VecheError(
      "bad_receipt",
      `the inclusion proof does not put entry ${seq} in the signed checkpoint: ${exc.detail ?? exc.message}`,
    );
  }
  return checkpoint;
}

// ---------------------------------------------------------------------------------------
// Wallet (ballot/client.py Wallet.to_json)

/**
 * What a voter keeps for one election: the recovery code, the credential's private key,
 * the token, the receipts (each with `cast`, the ballot and signature it is for) and the
 * log's key as first seen. `toJSON()` has the shape of Python's Wallet.to_json(), so a
 * wallet saved from the browser works with `veche vote --wallet FILE` and the other way
 * round.
 */
export class Wallet {
  /**
   * `counter` is the number of the last ballot this credential cast (0: none yet); a
   * wallet without it (older, or from a new device) learns it from the server when
   * it casts (docs/protocol.md §7.11).
   * @param {{election_id: string, election_hash: string, credential_private: string, token?: {prefix: string, signature: string}|null, receipts?: object[], recovery_code?: string|null, log_key?: string|null, counter?: number}} data
   */
  constructor({
    election_id,
    election_hash,
    credential_private,
    token = null,
    receipts = [],
    recovery_code = null,
    log_key = null,
    counter = 0,
  }) {
    this.electionId = String(election_id);
    this.electionHash = String(election_hash);
    this.credentialPrivate = String(credential_private);
    this.token = token ? { prefix: token.prefix, signature: token.signature } : null;
    this.receipts = [...receipts];
    this.recoveryCode = recovery_code ?? null;
    this.logKey = log_key ?? null;
    this.counter = counter;
  }

  /** The credential's keys. @returns {Promise<Credential>} */
  credential() {
    return credentialFromSeed(this.credentialPrivate);
  }

  toJSON() {
    return {
      election_id: this.electionId,
      election_hash: this.electionHash,
      credential_private: this.credentialPrivate,
      token: this.token,
      receipts: this.receipts,
      recovery_code: this.recoveryCode,
      log_key: this.logKey,
      counter: this.counter,
    };
  }
}

/** The wallet as a JSON object (Python's Wallet.to_json shape). */
export function exportWallet(wallet) {
  return JSON.parse(JSON.stringify(wallet.toJSON()));
}

/** A wallet from its JSON object or text. @returns {Wallet} */
export function importWallet(data) {
  const value = typeof data === "string" ? JSON.parse(data) : data;
  for (const field of ["election_id", "election_hash", "credential_private"]) {
    if (typeof value?.[field] !== "string")
      throw new VecheError("bad_wallet", `the wallet has no ${field}`);
  }
  for (const field of ["recovery_code", "log_key"]) {
    if (value[field] !== undefined && value[field] !== null && typeof value[field] !== "string")
      throw new VecheError("bad_wallet", `the wallet's ${field} is not text`);
  }
  b64urlDecode(value.credential_private);
  const counter = value.counter ?? 0;
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new VecheError("bad_wallet", "the wallet's counter is not a whole number");
  return new Wallet({ ...value, counter });
}

/**
 * The wallet of the credential a recovery code derives in this election (no token yet).
 * @returns {Promise<Wallet>}
 */
export async function walletFromRecoveryCode(electionId, electionHash, code) {
  const seed = await recoverySeed(code, electionHash);
  return new Wallet({
    election_id: electionId,
    election_hash: electionHash,
    credential_private: b64urlEncode(seed),
    recovery_code: formatRecoveryCode(code),
  });
}

// ---------------------------------------------------------------------------------------
// The whole flow over HTTP (ballot/api.py, ballot/client.py)

/** RSA key sizes an election's manifest may name (ballot/blind.py ELECTION_KEY_BITS). */
export const ELECTION_KEY_BITS = Object.freeze([2048, 3072]);

/**
 * A voter's client against one Veche server.
 *
 * It trusts the server for nothing it can check: the manifest must hash to the stated
 * election hash and carry the authority's signature, the token must verify before it is
 * kept, and a receipt is accepted only when the log's entry at its `seq` is the very
 * ballot sent, in a tree whose checkpoint the log's key signed (§8.2). The credential is
 * derived from a recovery code (§6.13) and requested with the session cookie and the
 * page's CSRF token (or anonymously with an access code); ballots are cast without any
 * cookie (`credentials: "omit"`).
 *
 * docs/protocol.md §12 asks clients to wait a random delay between obtaining a credential and
 * casting; that is the page's decision (ballot-page.js waits).
 */
/** The refusals a cast waits out while witnesses catch up (§15.7). */
const WAIT_FOR_WITNESSES = new Set(["witness_missing", "not_yet_witnessed"]);

export class VecheVoter {
  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] the server's origin ("" for this page's)
   * @param {string} [options.csrfToken] the page's CSRF token, sent with the credential request
   * @param {boolean} [options.allowTestKeys] accept RSA keys smaller than 2048 bits (test servers)
   * @param {string} [options.authorityKey] pin the authority's key (base64url) if the page knows it
   * @param {string} [options.verifierKey] pin the log's verifier key (e.g. the wallet's)
   * @param {string[]} [options.witnesses] the witnesses' verifier keys to require
   *   (docs/protocol.md §15.8); by default those the server names (GET /api/v1/log/witnesses)
   * @param {number} [options.witnessPolicy] how many of them must cosign (default: with
   *   `witnesses`, all of them; without, the server's policy)
   * @param {number} [options.witnessWait] milliseconds a cast waits for a cosigned
   *   checkpoint covering its ballot (default 10,000)
   * @param {typeof fetch} [options.fetch]
   */
  constructor({
    baseUrl = "",
    csrfToken,
    allowTestKeys = false,
    authorityKey,
    verifierKey,
    witnesses,
    witnessPolicy,
    witnessWait = 10_000,
    fetch: fetchImpl,
  } = {}) {
    this.pinnedWitnesses =
      witnesses === undefined
        ? null
        : { witnesses: [...witnesses], policy: witnessPolicy ?? witnesses.length };
    this.serverPolicy = witnessPolicy;
    this.witnessWait = witnessWait;
    this._witnesses = null;
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.csrfToken = csrfToken;
    this.allowTestKeys = allowTestKeys;
    this.authorityKey = authorityKey;
    this.pinnedKey = verifierKey ?? null;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this._logKey = null;
  }

  async #request(path, init, expected, { text = false } = {}) {
    let response;
    let raw;
    try {
      response = await this.fetch(this.baseUrl + path, { cache: "no-store", ...init });
      raw = await response.text();
    } catch (exc) {
      throw new VecheError("network_error", `cannot reach the server: ${exc.message}`);
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (response.status !== expected) {
      const code = body && typeof body.error === "string" ? body.error : "http_error";
      const detail =
        body && typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`;
      throw new VecheError(code, detail, response.status);
    }
    if (text) return raw;
    if (body === undefined)
      throw new VecheError("http_error", "the server's answer is not JSON", response.status);
    return body;
  }

  /**
   * Fetch and check an election's manifest.
   * @returns {Promise<{id: string, manifest: object, hash: string, credentialKey: BlindPublicKey, signature: string}>}
   */
  async election(electionId) {
    const data = await this.#request(
      `/api/v1/elections/${encodeURIComponent(electionId)}/manifest`,
      { credentials: "omit" },
      200,
    );
    const manifest = data.manifest;
    if (!manifest || typeof manifest !== "object")
      throw new VecheError("bad_manifest", "the answer carries no manifest");
    const bytes = canonicalize(manifest);
    const hash = hexEncode(await sha256(bytes));
    if (hash !== data.manifest_hash)
      throw new VecheError("bad_manifest", "the manifest does not hash to its stated id");
    if (manifest.id !== electionId)
      throw new VecheError("bad_manifest", "the manifest is for another election");
    if (this.authorityKey !== undefined && manifest.authority_key !== this.authorityKey) {
      throw new VecheError("wrong_authority", "the manifest names another authority key");
    }
    let authority;
    let signature;
    try {
      authority = b64urlDecode(manifest.authority_key);
      signature = b64urlDecode(data.signature);
    } catch {
      throw new VecheError("bad_signature", "the manifest's key or signature is not base64url");
    }
    if (!(await ed25519Verify(authority, signature, concatBytes(MANIFEST_DOMAIN, bytes)))) {
      throw new VecheError("bad_signature", "the manifest's signature does not verify");
    }
    const credentialKey = await importBlindPublicKey(manifest.credential_key);
    const allowed = this.allowTestKeys
      ? credentialKey.bits >= 1024
      : ELECTION_KEY_BITS.includes(credentialKey.bits);
    if (!allowed || credentialKey.bits !== manifest.rsa_key_bits || credentialKey.e !== 65537n) {
      throw new VecheError(
        "bad_credential_key",
        `the election's RSA key (${credentialKey.bits} bits) is not acceptable`,
      );
    }
    if (b64urlDecode(manifest.sealing_key).length !== 32)
      throw new VecheError("bad_manifest", "the sealing key is not 32 bytes");
    if (manifest.v !== 1 && manifest.v !== 2 && manifest.v !== 3)
      throw new VecheError("bad_manifest", `a manifest of version ${manifest.v} is not known`);
    return { id: electionId, manifest, hash, credentialKey, signature: data.signature };
  }

  /** The log's key: {origin, public_key, verifier_key}. */
  async logKey() {
    if (this._logKey === null)
      this._logKey = await this.#request("/api/v1/log/key", { credentials: "omit" }, 200);
    return this._logKey;
  }

  /** The pinned log verifier key, or the one the server states. @returns {Promise<string>} */
  async verifierKey() {
    if (this.pinnedKey !== null) return this.pinnedKey;
    return (await this.logKey()).verifier_key;
  }

  /**
   * The witnesses required and how many (docs/protocol.md §15.8): the ones given to the
   * constructor, else those the server names with its policy (§15.7; none from a server
   * that names none). @returns {Promise<{witnesses: string[], policy: number}>}
   */
  async witnessPolicy() {
    if (this.pinnedWitnesses !== null) return this.pinnedWitnesses;
    if (this._witnesses === null) {
      let answer;
      try {
        answer = await this.#request("/api/v1/log/witnesses", { credentials: "omit" }, 200);
      } catch (exc) {
        if (exc instanceof VecheError && exc.status === 404) answer = { witnesses: [], policy: 0 };
        else throw exc;
      }
      const witnesses = Array.isArray(answer.witnesses) ? answer.witnesses.map(String) : [];
      const policy = this.serverPolicy ?? answer.policy;
      if (!Number.isSafeInteger(policy) || policy < 0 || policy > witnesses.length)
        throw new VecheError("bad_witness_policy", "the server's witness policy cannot be met");
      this._witnesses = { witnesses, policy };
    }
    return this._witnesses;
  }

  /**
   * The exact bytes of log entry `seq` as the server serves them (docs/protocol.md §3.12),
   * read as bytes, never re-decoded.
   * @returns {Promise<Uint8Array>}
   */
  async entryBytes(seq) {
    let response;
    let content;
    try {
      response = await this.fetch(
        `${this.baseUrl}/api/v1/log/entries?start=${seq}&end=${seq + 1}`,
        { cache: "no-store", credentials: "omit" },
      );
      content = new Uint8Array(await response.arrayBuffer());
    } catch (exc) {
      throw new VecheError("network_error", `cannot reach the server: ${exc.message}`);
    }
    if (response.status !== 200)
      throw new VecheError(
        "entry_mismatch",
        `the log does not serve entry ${seq} (HTTP ${response.status})`,
        response.status,
      );
    const newlines = content.filter((b) => b === 10).length;
    if (newlines !== 1 || content[content.length - 1] !== 10)
      throw new VecheError(
        "entry_mismatch",
        `the log's answer for entry ${seq} is not exactly one entry`,
      );
    return content.subarray(0, content.length - 1);
  }

  /**
   * Make a credential from a recovery code (a new one if none is given) and have it signed
   * blindly. With the code of an earlier credential the request is byte-identical to the
   * one signed then, so the server answers its stored blind signature: the same
   * credential, never a second one (docs/protocol.md §6.13).
   * @param {object} info what election() returned
   * @param {{accessCode?: string, csrfToken?: string, recoveryCode?: string, rng?: function(number): Uint8Array}} [options]
   * @returns {Promise<Wallet>} with `recoveryCode` set: show it to the voter to keep
   */
  async obtainCredential(info, { accessCode, csrfToken, recoveryCode, rng } = {}) {
    const code = recoveryCode ?? newRecoveryCode(rng ?? randomBytes);
    const wallet = await walletFromRecoveryCode(info.id, info.hash, code);
    await this.certify(info, wallet, { accessCode, csrfToken });
    return wallet;
  }

  /**
   * Have the wallet's credential (derived from its recovery code) signed blindly and keep
   * the token in the wallet. With `accessCode` the request carries no cookie (the code is
   * the voter's right); otherwise it goes with the session cookie and the CSRF token.
   * @param {object} info what election() returned
   * @param {Wallet} wallet
   * @param {{accessCode?: string, csrfToken?: string}} [options]
   */
  async certify(info, wallet, { accessCode, csrfToken } = {}) {
    if (!wallet.recoveryCode)
      throw new VecheError("no_recovery_code", "this wallet's credential has no recovery code");
    const credential = await wallet.credential();
    const message = credentialMessage(credential.public, info.hash);
    const { blindedMsg, state } = await recoveryBlind(
      info.credentialKey,
      message,
      wallet.recoveryCode,
      info.hash,
    );
    const body = { blinded_message: b64urlEncode(blindedMsg) };
    const init = { method: "POST", headers: { "Content-Type": "application/json" } };
    if (accessCode !== undefined && accessCode !== null) {
      body.access_code = accessCode;
      init.credentials = "omit";
    } else {
      init.credentials = "same-origin";
      const token = csrfToken ?? this.csrfToken;
      if (token) init.headers["X-CSRF-Token"] = token;
    }
    init.body = JSON.stringify(body);
    const answer = await this.#request(
      `/api/v1/elections/${encodeURIComponent(info.id)}/credentials`,
      init,
      200,
    );
    let blindSig;
    try {
      blindSig = b64urlDecode(answer.blind_signature);
    } catch {
      throw new VecheError("bad_blind_signature", "the blind signature is not base64url");
    }
    const token = await finalizeToken(info.credentialKey, state, blindSig);
    if (!(await verifyToken(info.credentialKey, credential.public, info.hash, token))) {
      throw new VecheError("bad_token", "the token does not verify");
    }
    wallet.token = token;
    if (!wallet.logKey) wallet.logKey = await this.verifierKey();
    return wallet;
  }

  /**
   * The number the server says this credential's next ballot must carry
   * (GET …/credentials/{credential}/next, sent without cookies).
   * @returns {Promise<number>}
   */
  async nextCounter(info, credentialPublic) {
    const answer = await this.#request(
      `/api/v1/elections/${encodeURIComponent(info.id)}/credentials/` +
        `${encodeURIComponent(credentialPublic)}/next`,
      { credentials: "omit", referrerPolicy: "no-referrer" },
      200,
    );
    if (
      !Number.isSafeInteger(answer.next) ||
      answer.next < 1 ||
      answer.credential !== credentialPublic
    ) {
      throw new VecheError("bad_answer", "the server's next counter is not a number from 1");
    }
    return answer.next;
  }

  /**
   * Seal, sign and cast a ballot without cookies; check the receipt and add it to the
   * wallet. Re-casting from the same wallet is a re-vote: the ballot is numbered one
   * after the wallet's counter. If the server says that is not the credential's next
   * number (a wallet that lost count: an old file, a new device), the client asks for
   * the next one and casts once more with it, never going below what it already cast.
   * @returns {Promise<object>} the receipt
   */
  async cast(info, wallet, choices, { nonce, ephemeralPrivate } = {}) {
    if (!wallet.token) throw new VecheError("no_credential", "obtain a credential before casting");
    if (wallet.electionHash !== info.hash)
      throw new VecheError("wrong_election", "the wallet is for another election");
    const credential = await wallet.credential();
    const done = wallet.counter ?? 0;
    let counter = done + 1;
    let receipt;
    try {
      receipt = await this.#castNumbered(info, wallet, credential, choices, counter, {
        nonce,
        ephemeralPrivate,
      });
    } catch (exc) {
      if (!(exc instanceof VecheError) || exc.code !== "wrong_counter" || info.manifest.v === 1)
        throw exc;
      const told = await this.nextCounter(info, credential.public);
      if (told <= done) {
        throw new VecheError(
          "wrong_counter",
          `the server says this credential's next ballot is number ${told}, ` +
            `but it has already cast ${done}`,
          409,
        );
      }
      counter = told;
      // Sealed afresh: an injected nonce or ephemeral key is never used twice.
      receipt = await this.#castNumbered(info, wallet, credential, choices, counter, {});
    }
    wallet.counter = counter;
    wallet.receipts.push(receipt);
    return receipt;
  }

  async #castNumbered(info, wallet, credential, choices, counter, { nonce, ephemeralPrivate }) {
    const { ballot, signature } = await makeBallot({
      manifest: info.manifest,
      manifestHash: info.hash,
      credential,
      token: wallet.token,
      choices,
      nonce,
      ephemeralPrivate,
      counter,
    });
    const receipt = await this.#request(
      `/api/v1/elections/${encodeURIComponent(info.id)}/ballots`,
      {
        method: "POST",
        credentials: "omit",
        referrerPolicy: "no-referrer",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ballot, signature }),
      },
      201,
    );
    const kept = { ...receipt, cast: { ballot, signature } };
    await this.checkReceipt(kept, { manifestHash: info.hash });
    if ((await this.witnessPolicy()).policy > 0) await this.witnessedReceipt(kept);
    return kept;
  }

  /**
   * `recheckReceipt` until a checkpoint cosigned by the required witnesses covers the
   * receipt (witnesses cosign asynchronously, docs/protocol.md §15.7), for at most
   * `witnessWait` milliseconds; then the last refusal stands.
   */
  async witnessedReceipt(receipt) {
    const deadline = Date.now() + this.witnessWait;
    for (;;) {
      try {
        return await this.recheckReceipt(receipt);
      } catch (exc) {
        const waiting = exc instanceof VecheError && WAIT_FOR_WITNESSES.has(exc.code);
        if (!waiting || Date.now() >= deadline) throw exc;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Check a kept receipt (its `cast` is the ballot and signature sent): the entry the log
   * serves at its `seq` is that ballot, and it is in the signed checkpoint (checkReceipt).
   */
  async checkReceipt(receipt, { manifestHash } = {}) {
    const seq = receiptNumber(receipt, "seq");
    sentCast(receipt);
    const entryBytes = await this.entryBytes(seq);
    return checkReceipt(receipt, await this.verifierKey(), { entryBytes, manifestHash });
  }

  /**
   * The log's latest checkpoint, verified under the log's key.
   * @returns {Promise<{note: string, origin: string, size: number, root: Uint8Array, extensions: string[]}>}
   */
  async latestCheckpoint() {
    const key = await this.verifierKey();
    const note = await this.#request("/api/v1/log/checkpoint", { credentials: "omit" }, 200, {
      text: true,
    });
    let checkpoint;
    try {
      checkpoint = { note, ...(await verifyCheckpoint(note, key)) };
    } catch (exc) {
      throw new VecheError(
        "bad_checkpoint",
        `the latest checkpoint is not signed by the log's key: ${exc.detail ?? exc.message}`,
      );
    }
    const { witnesses, policy } = await this.witnessPolicy();
    if (policy > 0) {
      const check = await checkCosignatures(note, witnesses, policy);
      if (!check.ok)
        throw new VecheError(
          "witness_missing",
          `the log's checkpoint of ${checkpoint.size} entries lacks the witness ` +
            `cosignatures required: ${check.describe()}`,
        );
    }
    return checkpoint;
  }

  /**
   * Check that the log only grew between two checkpoint notes (RFC 9162 §2.1.4): both
   * are verified under the log's key, and the server's consistency proof must lead to
   * the roots the checkpoints sign (the roots the server sends with it are not used).
   * Without `newerNote`, the latest checkpoint is fetched. Returns the newer checkpoint.
   */
  async checkConsistency(olderNote, newerNote) {
    const key = await this.verifierKey();
    const older = await verifyCheckpoint(olderNote, key);
    const newer =
      newerNote === undefined
        ? await this.latestCheckpoint()
        : { note: newerNote, ...(await verifyCheckpoint(newerNote, key)) };
    if (newer.size < older.size && newerNote === undefined) {
      if ((await this.witnessPolicy()).policy > 0)
        throw new VecheError(
          "not_yet_witnessed",
          `the newest cosigned checkpoint has ${newer.size} entries; ` +
            `the receipt's ${older.size} are not witnessed yet`,
        );
    }
    if (newer.size < older.size) {
      throw new VecheError("log_shrank", "the newer checkpoint states a smaller log");
    }
    if (newer.size === older.size) {
      if (!bytesEqual(older.root, newer.root)) {
        throw new VecheError("log_forked", "two checkpoints of one size with different roots");
      }
      return newer;
    }
    const answer = await this.#request(
      `/api/v1/log/proof/consistency?first=${older.size}&second=${newer.size}`,
      { credentials: "omit" },
      200,
    );
    try {
      const proof = answer.proof.map((p) => hexDecode(p));
      await verifyConsistency(older.size, newer.size, older.root, newer.root, proof);
    } catch (exc) {
      throw new VecheError(
        "log_forked",
        `the consistency proof fails: ${exc.detail ?? exc.message}`,
      );
    }
    return newer;
  }

  /**
   * Check, later, that a receipt's entry is still in the log (docs/protocol.md §8.3): the
   * receipt itself with its entry (checkReceipt), the log's growth from the receipt's
   * checkpoint to the latest one, and the entry's inclusion in the latest tree. Returns
   * the latest checkpoint.
   */
  async recheckReceipt(receipt) {
    await this.checkReceipt(receipt);
    const latest = await this.checkConsistency(receipt.checkpoint);
    const answer = await this.#request(
      `/api/v1/log/proof/inclusion?seq=${receipt.seq}&size=${latest.size}`,
      { credentials: "omit" },
      200,
    );
    try {
      const proof = answer.proof.map((p) => hexDecode(p));
      await verifyInclusion(
        hexDecode(receipt.leaf_hash),
        receipt.seq,
        latest.size,
        proof,
        latest.root,
      );
    } catch (exc) {
      throw new VecheError(
        "bad_receipt",
        `the entry is not in the latest tree: ${exc.detail ?? exc.message}`,
      );
    }
    return latest;
  }
}
