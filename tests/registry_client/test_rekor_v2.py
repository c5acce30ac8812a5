"""A real Rekor v2 bundle: its checkpoint verifies and its entry is included.

Vector: sigstore/sigstore-python ``test/assets/staging-rekor-v2.txt.sigstore.json``
(Apache-2.0), copied into ``shared/vectors/rekor-v2``.
"""

from __future__ import annotations

import pytest
from registry_vectors import b64, load

from registry_client.checkpoint import verify_checkpoint
from registry_client.errors import ProofError
from registry_client.merkle import leaf_hash, verify_inclusion
from registry_client.note import KeyType, VerifierKey

# The staging log's Ed25519 key as SubjectPublicKeyInfo; its last 32 bytes are the key.
LOG_SPKI = b64("MCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=")
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
ORIGIN = "log2025-alpha1.rekor.sigstage.dev"


def test_rekor_v2_bundle_checkpoint_and_inclusion() -> None:
    bundle = load("rekor-v2/staging-rekor-v2.txt.sigstore.json")
    (entry,) = bundle["verificationMaterial"]["tlogEntries"]
    proof = entry["inclusionProof"]

    assert LOG_SPKI.startswith(ED25519_SPKI_PREFIX)
    log = VerifierKey(name=ORIGIN, key_type=KeyType.ED25519, public_key=LOG_SPKI[12:])
    assert (
        log.format()
        == "log2025-alpha1.rekor.sigstage.dev+f30d5a99+AT5/gERB6AWme8IEtcwaqcZi0hp8ocV4+JRcUnVlQfKP"
    )

    checkpoint = verify_checkpoint(proof["checkpoint"]["envelope"], log).checkpoint
    assert checkpoint.size == int(proof["treeSize"]) == 646
    assert checkpoint.root_hash == b64(proof["rootHash"])

    leaf = leaf_hash(b64(entry["canonicalizedBody"]))
    hashes = [b64(h) for h in proof["hashes"]]
    index = int(proof["logIndex"])
    assert index == int(entry["logIndex"]) == 645
    verify_inclusion(leaf, index, checkpoint.size, hashes, checkpoint.root_hash)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index - 1, checkpoint.size, hashes, checkpoint.root_hash)
