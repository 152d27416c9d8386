"""The Merkle tree and signature code the platform and the independent verifier share."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from civic_verify import ed25519
from civic_verify.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_from_leaves,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"ballot {i}".encode()) for i in range(70)]


def rfc_root(leaves):
    """MTH exactly as RFC 9162 section 2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(rfc_root(leaves[:k]), rfc_root(leaves[k:]))


def test_the_root_is_rfc_9162s_for_every_size():
    assert root_of([]) == EMPTY_ROOT
    for size in range(1, 70):
        assert root_of(LEAVES[:size]) == rfc_root(LEAVES[:size])


def test_an_inclusion_proof_checks_for_every_leaf_of_every_size():
    for size in range(1, 40):
        node = nodes_from_leaves(LEAVES[:size])
        root = root_of(LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, node)
            assert verify_inclusion(index, size, LEAVES[index], proof, root)
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, LEAVES[index], proof, root)


def test_consistency_proofs_hold_between_every_pair_of_sizes_and_catch_rewrites():
    for second in range(1, 40):
        node = nodes_from_leaves(LEAVES[:second])
        second_root = root_of(LEAVES[:second])
        for first in range(0, second + 1):
            proof = consistency_proof(first, second, node)
            first_root = root_of(LEAVES[:first])
            assert verify_consistency(first, second, first_root, second_root, proof)
            if 0 < first < second:
                rewritten = [leaf_hash(b"changed"), *LEAVES[1:first]]
                assert not verify_consistency(first, second, root_of(rewritten), second_root, proof)


def test_a_proof_with_a_changed_hash_fails():
    node = nodes_from_leaves(LEAVES[:13])
    proof = consistency_proof(5, 13, node)
    proof[-1] = hashlib.sha256(b"x").digest()
    assert not verify_consistency(5, 13, root_of(LEAVES[:5]), root_of(LEAVES[:13]), proof)


@pytest.mark.parametrize("message", [b"", b"tree head", "дерево".encode() * 50])
def test_the_plain_python_ed25519_agrees_with_the_cryptography_package(message):
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = private.sign(message)
    assert ed25519.verify(public, message, signature)
    assert not ed25519.verify(public, message + b"!", signature)
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    assert not ed25519.verify(public, message, forged)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert not ed25519.verify(other, message, signature)
