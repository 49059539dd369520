// RFC 6962 / RFC 9162 Merkle tree hashing, and generation and verification of inclusion and
// consistency proofs. Pure functions over SHA-256 hashes.
//
// Errors: kInvalidInput for malformed arguments (a hash that is not 32 bytes, an index beyond
// the tree size, tree sizes out of order); kVerification when the proof does not prove the claim
// (it has the wrong number of hashes for the sizes, or leads to a root other than the expected).
// Messages name the proof and what differs: "inclusion proof has 3 hashes, want 4 for index 5 in
// tree size 9", "inclusion proof: computed root hash <hex> does not match expected <hex>".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::tlog {

inline constexpr size_t kHashSize = 32;  // SHA-256

// SHA-256(0x00 || leaf): the hash of a leaf entry.
Bytes hash_leaf(ByteView leaf);
// SHA-256(0x01 || left || right): the hash of an interior node.
Bytes hash_children(ByteView left, ByteView right);
// SHA-256(""): the root hash of the empty tree.
Bytes empty_root();

// ---- Verification -------------------------------------------------------------------------

// The number of hashes an inclusion proof for leaf `index` in a tree of `size` leaves has.
// Requires index < size.
size_t inclusion_proof_size(uint64_t index, uint64_t size);
// The number of hashes a consistency proof from size1 to size2 has. Requires 0 < size1 <= size2.
size_t consistency_proof_size(uint64_t size1, uint64_t size2);

// The root hash that an inclusion proof for `leaf_hash` at `index` leads to in a tree of `size`.
Result<Bytes> root_from_inclusion_proof(uint64_t index, uint64_t size, ByteView leaf_hash,
                                        const std::vector<Bytes>& proof);
// Checks that `leaf_hash` is the leaf at `index` of the tree of `size` leaves with root `root`.
Status verify_inclusion(uint64_t index, uint64_t size, ByteView leaf_hash, const std::vector<Bytes>& proof,
                        ByteView root);

// The root hash of the tree of size2 that a consistency proof leads to from the tree of size1
// with root1. Also checks that the proof is consistent with root1. Requires 0 < size1 <= size2
// (a consistency proof from the empty tree proves nothing and is rejected).
Result<Bytes> root_from_consistency_proof(uint64_t size1, uint64_t size2, const std::vector<Bytes>& proof,
                                          ByteView root1);
// Checks that the tree of size2 with root2 extends the tree of size1 with root1.
Status verify_consistency(uint64_t size1, uint64_t size2, const std::vector<Bytes>& proof, ByteView root1,
                          ByteView root2);

// Subtree inclusion (draft-ietf-plants-merkle-tree-certs): checks that `leaf_hash` is leaf
// `index` of the subtree [start, end), whose root is `subtree_root`. The subtree must be one a
// Merkle tree has: start is a multiple of the smallest power of two >= end - start.
Status verify_subtree_inclusion(uint64_t index, uint64_t start, uint64_t end, ByteView leaf_hash,
                                const std::vector<Bytes>& proof, ByteView subtree_root);

// ---- Proofs as node IDs --------------------------------------------------------------------
// A proof is computed once, as transparency-dev/merkle's proof package does it: from the sizes
// alone, the IDs of the tree nodes whose hashes make the proof; whoever holds the tree (the
// log's storage, or the leaf hashes in memory) fetches those hashes, and rehash() turns them
// into the proof.

// A perfect subtree of the Merkle tree: the 2^level leaves starting at index << level.
struct NodeId {
  uint8_t level = 0;
  uint64_t index = 0;
  bool operator==(const NodeId&) const = default;
};

// The nodes to fetch for a proof, in proof order. Every ID is a perfect subtree of the tree the
// proof is about. ids[begin, end), when it holds more than one, are the perfect subtrees that
// together make one node on the tree's right edge that is not perfect (an "ephemeral" node, never
// stored): rehash() folds their hashes into it.
struct ProofNodes {
  std::vector<NodeId> ids;
  size_t begin = 0;
  size_t end = 0;
};

// The inclusion proof of leaf `index` in the tree of `size` leaves. Requires index < size.
ProofNodes inclusion_nodes(uint64_t index, uint64_t size);
// The consistency proof from size1 to size2. Requires 0 < size1 <= size2 (empty when equal).
ProofNodes consistency_nodes(uint64_t size1, uint64_t size2);
// The perfect subtrees that make the whole tree of `size` leaves (its compact range), largest
// first; all of them form the one ephemeral node, so rehash() leaves the root hash. Requires size > 0.
ProofNodes root_nodes(uint64_t size);

// The proof from the fetched hashes (one per ID, in order): the ephemeral node's hashes folded into
// one, the others as they are.
Result<std::vector<Bytes>> rehash(std::vector<Bytes> hashes, const ProofNodes& nodes);

// ---- Generation in memory (over all leaf hashes; O(n) hashing per call) --------------------

// The Merkle tree hash (RFC 9162 MTH) of the given leaf hashes; empty_root() for none.
Bytes root_hash(std::span<const Bytes> leaf_hashes);
// The inclusion proof (RFC 9162 PATH) for leaf `index` in the tree of leaf_hashes.size() leaves.
// For an older tree size n, pass leaf_hashes.first(n).
Result<std::vector<Bytes>> inclusion_proof(uint64_t index, std::span<const Bytes> leaf_hashes);
// The consistency proof (RFC 9162 PROOF) from the tree of the first size1 leaves to the tree of
// all leaf_hashes. Requires 0 < size1 <= leaf_hashes.size().
Result<std::vector<Bytes>> consistency_proof(uint64_t size1, std::span<const Bytes> leaf_hashes);

}  // namespace vouch::tlog
