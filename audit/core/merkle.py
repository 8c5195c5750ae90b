"""Merkle tree, inclusion and consistency proofs of RFC 9162 §2.1 (docs/protocol.md §3.4–§3.6).

Hashing (RFC 9162 §2.1.1): ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 ||
left || right)``, the empty tree's root is ``SHA-256("")``, and ``MTH(D[n])`` splits at
the largest power of two below ``n``. Every hash is exactly 32 bytes; anything else
is refused. Proof generation follows RFC 9162 §2.1.3.1 and §2.1.4.1, verification
§2.1.3.2 and §2.1.4.2. A consistency proof from the empty tree is refused.

Storage scheme
--------------
Generation never needs the leaves, only hashes of *perfect subtrees*. Node
``(level, index)`` is the hash of the perfect subtree covering leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes. Every
range that RFC 9162's recursion asks for starts at a multiple of a power of two at
least as large as the range, so it splits into at most ``log2(n)`` stored perfect
subtrees (one per binary digit of its length, largest first), and its hash is the
right fold ``H(p1, H(p2, ... H(pk-1, pk)))`` of theirs. Hence every proof and every
root of any size costs ``O(log n)`` node reads from a ``get_node(level, index)``
callable, which a database can serve from a table keyed by ``(level, index)``.

Appending leaf number ``i`` (0-based) completes exactly the nodes
``(l, i >> l)`` for ``l = 0 .. ctz(i + 1)``: ``CompactRange.append`` returns them so
the storage layer writes them in the same transaction as the entry (two nodes per
leaf on average). ``CompactRange`` itself keeps only the right edge of the tree (the
perfect subtrees whose sizes are the binary digits of the tree size), which is all
a sequencer needs to compute the next root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from audit.core.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "GetNode",
    "MerkleTree",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "mth",
    "range_hash",
    "root_from_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]
"""``get_node(level, index)``: hash of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``."""

_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """RFC 9162 §2.1.1 leaf hash: ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1 interior node: ``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}", code="hash_length")


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` over already-hashed leaves, computed bottom-up in ``O(n)`` hashes.

    Pairing level by level and promoting an unpaired last node yields exactly the
    RFC 9162 tree, whose left subtrees are always perfect.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [
            _sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into stored perfect subtrees ``(level, index)``, largest first.

    Valid for ranges whose start is a multiple of a power of two not smaller than
    their length: the only ranges RFC 9162's recursion produces.
    """
    out: list[tuple[int, int]] = []
    length = end - start
    while length:
        level = length.bit_length() - 1
        out.append((level, start >> level))
        start += 1 << level
        length -= 1 << level
    return out


def range_hash(start: int, end: int, get_node: GetNode) -> bytes:
    """``MTH(D[start:end])`` from ``O(log n)`` stored perfect-subtree hashes."""
    if end <= start:
        return EMPTY_ROOT
    length = end - start
    if length & (length - 1) == 0:
        # Most proof components are perfect subtrees: one stored node, no hashing.
        level = length.bit_length() - 1
        return get_node(level, start >> level)
    parts = _perfect_subtrees(start, end)
    acc = get_node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        acc = hash_children(get_node(level, index), acc)
    return acc


def root_from_nodes(size: int, get_node: GetNode) -> bytes:
    """Root hash of the tree of ``size`` leaves from stored perfect subtrees."""
    if size < 0:
        raise ProofError("tree size is negative", code="bad_size")
    return range_hash(0, size, get_node)


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``, leaf-side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}", code="bad_index")
    top_down: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            top_down.append(range_hash(lo + k, hi, get_node))
            hi = lo + k
        else:
            top_down.append(range_hash(lo, lo + k, get_node))
            lo += k
            m -= k
    top_down.reverse()
    return top_down


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(size1, D[size2])``; refuses ``size1 == 0``."""
    if size1 <= 0:
        raise ProofError("a consistency proof from the empty tree is refused", code="bad_size")
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}", code="bad_size")
    top_down: list[bytes] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            top_down.append(range_hash(lo + k, hi, get_node))
            hi = lo + k
        else:
            top_down.append(range_hash(lo, lo + k, get_node))
            lo += k
            m -= k
            complete = False
    if not complete:
        top_down.append(range_hash(lo, hi, get_node))
    top_down.reverse()
    return top_down


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ``ProofError`` unless ``proof`` puts the leaf in ``root``."""
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root hash")
    for i, item in enumerate(proof):
        _check_hash(item, f"proof[{i}]")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}", code="bad_index")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path", code="bad_proof")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path", code="bad_proof")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root", code="root_mismatch")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ``ProofError`` unless ``root1`` is a prefix of ``root2``."""
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    for i, item in enumerate(proof):
        _check_hash(item, f"proof[{i}]")
    if size1 <= 0:
        raise ProofError("a consistency proof from the empty tree is refused", code="bad_size")
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}", code="bad_size")
    if size1 == size2:
        # RFC 9162's proof for equal sizes is empty; the roots must then be identical.
        if proof:
            raise ProofError("proof between equal sizes must be empty", code="bad_proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots", code="root_mismatch")
        return
    if not proof:
        raise ProofError("consistency proof is empty", code="bad_proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path", code="bad_proof")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path", code="bad_proof")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root", code="root_mismatch")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root", code="root_mismatch")


@dataclass(slots=True)
class CompactRange:
    """The right edge of a tree: what a sequencer keeps to append and to compute roots.

    ``nodes`` are the hashes of the perfect subtrees whose sizes are the binary digits
    of ``size``, largest (leftmost) first.
    """

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_nodes(cls, size: int, get_node: GetNode) -> CompactRange:
        """Rebuild the right edge of a stored tree in ``O(log n)`` node reads."""
        return cls(size, [get_node(lv, ix) for lv, ix in _perfect_subtrees(0, size)])

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; return every node it completes as ``(level, index, hash)``,
        the leaf itself first, for the storage layer to write."""
        _check_hash(leaf_hash, "leaf hash")
        index = self.size
        done = [(0, index, leaf_hash)]
        acc = leaf_hash
        level = 0
        nodes = self.nodes
        while (index >> level) & 1:
            acc = _sha256(b"\x01" + nodes.pop() + acc).digest()
            level += 1
            done.append((level, index >> level, acc))
        nodes.append(acc)
        self.size = index + 1
        return done

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaves, discarding the completed nodes (for root computation)."""
        nodes = self.nodes
        size = self.size
        sha = _sha256
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                _check_hash(leaf, "leaf hash")
            acc = leaf
            carry = size
            while carry & 1:
                acc = sha(b"\x01" + nodes.pop() + acc).digest()
                carry >>= 1
            nodes.append(acc)
            size += 1
        self.size = size

    def root(self) -> bytes:
        """Root hash of the tree of ``size`` leaves."""
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            acc = hash_children(node, acc)
        return acc


class MerkleTree:
    """An in-memory node store with the same ``get_node`` contract as persistent storage.

    Each level is one ``bytearray`` of concatenated 32-byte hashes, which keeps a
    million-leaf tree near 64 MB.
    """

    __slots__ = ("_edge", "_levels")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = []
        self._edge = CompactRange()
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return self._edge.size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf and store the nodes it completes; return those nodes."""
        done = self._edge.append(leaf_hash)
        levels = self._levels
        for level, _index, node in done:
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node
        return done

    def get_node(self, level: int, index: int) -> bytes:
        """Stored hash of perfect subtree ``(level, index)``; ``KeyError`` if not complete."""
        if level >= len(self._levels) or index < 0:
            raise KeyError((level, index))
        data = self._levels[level]
        start = index * HASH_SIZE
        if start + HASH_SIZE > len(data):
            raise KeyError((level, index))
        return bytes(data[start : start + HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """Root of the first ``size`` leaves (all leaves by default)."""
        if size is None:
            return self._edge.root()
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} is beyond {self.size}", code="bad_size")
        return root_from_nodes(size, self.get_node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError(f"tree size {size} is beyond {self.size}", code="bad_size")
        return inclusion_proof(index, size, self.get_node)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = self.size if size2 is None else size2
        if size2 > self.size:
            raise ProofError(f"tree size {size2} is beyond {self.size}", code="bad_size")
        return consistency_proof(size1, size2, self.get_node)
