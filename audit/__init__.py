"""The public, append-only audit log (docs/protocol.md §3–§4).

Pure core (standard library, ``cryptography`` and ``msgspec`` only; no clock, no
database, no HTTP), which ``veche verify`` runs on an auditor's machine:

- ``canonical``: canonical JSON (RFC 8785 subset), base64url and hex helpers;
- ``entry``: log entries, leaf hashes and the registry of entry kinds;
- ``merkle``: RFC 9162 Merkle tree, inclusion and consistency proofs;
- ``note`` and ``checkpoint``: C2SP signed notes and tlog checkpoints (Ed25519);
- ``export`` and ``verify``: the exported log directory and the offline verifier;
- ``errors``: the exceptions the core raises.

Persistence and HTTP live in the package's other modules.
"""
