"""The Merkle tree of RFC 9162 (section 2.1): leaf and node hashes, roots, and inclusion
and consistency proofs, built and checked.

Building a proof needs the hashes of complete, aligned subtrees ("nodes": the subtree of
``2**level`` leaves starting at leaf ``index * 2**level``); the platform reads them from
its database, a verifier computes them from the leaves. Every function that builds takes
``node(level, index) -> bytes`` for that.
"""

import hashlib
from collections.abc import Callable, Sequence

NodeReader = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The tree hash of these leaf hashes: pairs upwards level by level; a lone node at a
    level's end moves up unchanged, which gives RFC 9162's tree."""
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def subtree_hash(start: int, end: int, node: NodeReader) -> bytes:
    """The hash of leaves ``[start, end)``, where ``start`` is aligned as RFC 9162's
    recursion aligns it: from complete subtrees only."""
    size = end - start
    if size & (size - 1) == 0:  # a power of two: one complete subtree
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*path(m, start, start + k), subtree_hash(start + k, end, node)]
        return [*path(m - k, start + k, end), subtree_hash(start, start + k, node)]

    if not 0 <= index < size:
        raise ValueError("the leaf is not in the tree")
    return path(index, 0, size)


def consistency_proof(first: int, second: int, node: NodeReader) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1 (empty when nothing to prove)."""

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_hash(start, end, node)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree_hash(start + k, end, node)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(start, start + k, node)]

    if not 0 <= first <= second:
        raise ValueError("the first tree must not be larger than the second")
    if first in (0, second):
        return []
    return subproof(first, 0, second, True)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, plus the trivial cases it leaves out (an empty first tree
    is consistent with anything; equal sizes need equal roots and an empty proof)."""
    if first > second:
        return False
    if first == 0:
        return not proof
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if not path:
        return False
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


def nodes_from_leaves(leaves: Sequence[bytes]) -> NodeReader:
    """A node reader over leaf hashes held in memory (for verifiers and tests)."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return lambda level, index: levels[level][index]
