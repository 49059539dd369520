#include "vouch/tlog/merkle.h"

#include <bit>

#include <fmt/format.h>

#include "vouch/crypto/digest.h"

namespace vouch::tlog {
namespace {

Status check_hash(ByteView hash, std::string_view what) {
  if (hash.size() != kHashSize)
    return invalid_input(fmt::format("{} is {} bytes, want {}", what, hash.size(), kHashSize));
  return ok_status();
}

Status check_proof_hashes(const std::vector<Bytes>& proof) {
  for (size_t i = 0; i < proof.size(); ++i)
    VOUCH_RETURN_IF_ERROR(check_hash(proof[i], fmt::format("hash {}", i)));
  return ok_status();
}

Status check_root(ByteView computed, ByteView expected, std::string_view what) {
  if (!bytes_equal(computed, expected))
    return verification_failed(fmt::format("computed {} {} does not match expected {}", what, hex_encode(computed),
                                           hex_encode(expected)));
  return ok_status();
}

// The largest power of two smaller than n (n >= 2): where RFC 9162 splits a tree of n leaves.
uint64_t split_point(uint64_t n) { return std::bit_floor(n - 1); }

// Where the paths from leaf `index` and from the last leaf of a tree of `size` leaves meet:
// below this level a proof has one sibling per level ("inner" nodes, left or right); above it
// only left siblings, one for each set bit of the remaining index ("border" nodes).
struct ProofShape {
  int inner = 0;
  int border = 0;
};
ProofShape inclusion_shape(uint64_t index, uint64_t size) {
  ProofShape s;
  s.inner = std::bit_width(index ^ (size - 1));
  s.border = std::popcount(index >> s.inner);
  return s;
}

}  // namespace

Bytes hash_leaf(ByteView leaf) {
  crypto::Hasher h(crypto::HashAlgorithm::kSha256);
  const uint8_t prefix = 0x00;
  h.update(ByteView(&prefix, 1));
  h.update(leaf);
  return h.finish();
}

Bytes hash_children(ByteView left, ByteView right) {
  Bytes buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back(0x01);
  buf.insert(buf.end(), left.begin(), left.end());
  buf.insert(buf.end(), right.begin(), right.end());
  return crypto::sha256(buf);
}

Bytes empty_root() { return crypto::sha256(ByteView{}); }

size_t inclusion_proof_size(uint64_t index, uint64_t size) {
  if (index >= size) return 0;
  ProofShape s = inclusion_shape(index, size);
  return static_cast<size_t>(s.inner + s.border);
}

size_t consistency_proof_size(uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 >= size2) return 0;
  // The proof is the inclusion proof of leaf size1-1 in the tree of size2, starting at the
  // level of the largest complete subtree that ends at size1 (both trees share it), preceded
  // by that subtree's hash unless it is the whole old tree (then the verifier knows it: root1).
  const int shift = std::countr_zero(size1);
  ProofShape s = inclusion_shape(size1 - 1, size2);
  const bool seed_is_root1 = size1 == (uint64_t{1} << shift);
  return static_cast<size_t>((seed_is_root1 ? 0 : 1) + (s.inner - shift) + s.border);
}

Result<Bytes> root_from_inclusion_proof(uint64_t index, uint64_t size, ByteView leaf_hash,
                                        const std::vector<Bytes>& proof) {
  if (index >= size)
    return invalid_input(fmt::format("inclusion proof: index {} out of range for tree size {}", index, size));
  if (auto st = check_hash(leaf_hash, "leaf hash"); !st.ok()) return std::move(st).error().context("inclusion proof");
  if (auto st = check_proof_hashes(proof); !st.ok()) return std::move(st).error().context("inclusion proof");
  const ProofShape shape = inclusion_shape(index, size);
  const size_t want = static_cast<size_t>(shape.inner + shape.border);
  if (proof.size() != want)
    return verification_failed(fmt::format("inclusion proof has {} hashes, want {} for index {} in tree size {}",
                                           proof.size(), want, index, size));
  Bytes node(leaf_hash.begin(), leaf_hash.end());
  size_t i = 0;
  for (; i < static_cast<size_t>(shape.inner); ++i) {
    // Bit i of the index says whether the path is a right child (sibling on the left) at level i.
    node = ((index >> i) & 1) ? hash_children(proof[i], node) : hash_children(node, proof[i]);
  }
  for (; i < proof.size(); ++i) node = hash_children(proof[i], node);
  return node;
}

Status verify_inclusion(uint64_t index, uint64_t size, ByteView leaf_hash, const std::vector<Bytes>& proof,
                        ByteView root) {
  if (auto st = check_hash(root, "expected root hash"); !st.ok())
    return std::move(st).error().context("inclusion proof");
  VOUCH_ASSIGN_OR_RETURN(Bytes computed, root_from_inclusion_proof(index, size, leaf_hash, proof));
  if (auto st = check_root(computed, root, "root hash"); !st.ok())
    return std::move(st).error().context("inclusion proof");
  return ok_status();
}

Result<Bytes> root_from_consistency_proof(uint64_t size1, uint64_t size2, const std::vector<Bytes>& proof,
                                          ByteView root1) {
  if (size1 > size2)
    return invalid_input(fmt::format("consistency proof: old tree size {} is larger than new tree size {}", size1, size2));
  if (size1 == 0) return invalid_input("consistency proof: a proof from the empty tree is meaningless");
  if (auto st = check_hash(root1, "old root hash"); !st.ok()) return std::move(st).error().context("consistency proof");
  if (auto st = check_proof_hashes(proof); !st.ok()) return std::move(st).error().context("consistency proof");
  if (size1 == size2) {
    if (!proof.empty())
      return verification_failed(
          fmt::format("consistency proof has {} hashes, want 0 for equal tree sizes {}", proof.size(), size1));
    return Bytes(root1.begin(), root1.end());
  }

  const int shift = std::countr_zero(size1);
  const ProofShape shape = inclusion_shape(size1 - 1, size2);
  const int inner = shape.inner - shift;  // > 0 because size1 < size2
  const bool seed_is_root1 = size1 == (uint64_t{1} << shift);
  const size_t start = seed_is_root1 ? 0 : 1;
  const size_t want = start + static_cast<size_t>(inner + shape.border);
  if (proof.size() != want)
    return verification_failed(fmt::format("consistency proof has {} hashes, want {} from tree size {} to {}",
                                           proof.size(), want, size1, size2));

  // The seed is the largest complete subtree ending at leaf size1-1, common to both trees.
  const Bytes seed = seed_is_root1 ? Bytes(root1.begin(), root1.end()) : proof[0];
  const uint64_t path = (size1 - 1) >> shift;  // the seed's index on its level
  Bytes old_root = seed;
  Bytes new_root = seed;
  for (int level = 0; level < inner; ++level) {
    const Bytes& sibling = proof[start + static_cast<size_t>(level)];
    if ((path >> level) & 1) {
      // A left sibling: a complete subtree that both trees have.
      old_root = hash_children(sibling, old_root);
      new_root = hash_children(sibling, new_root);
    } else {
      // A right sibling: only in the new tree (in the old one the node is promoted).
      new_root = hash_children(new_root, sibling);
    }
  }
  for (size_t i = start + static_cast<size_t>(inner); i < proof.size(); ++i) {
    old_root = hash_children(proof[i], old_root);
    new_root = hash_children(proof[i], new_root);
  }
  if (!seed_is_root1) {
    if (auto st = check_root(old_root, root1, "old root hash"); !st.ok())
      return std::move(st).error().context("consistency proof");
  }
  return new_root;
}

Status verify_consistency(uint64_t size1, uint64_t size2, const std::vector<Bytes>& proof, ByteView root1,
                          ByteView root2) {
  if (size1 <= size2 && size1 != 0) {
    if (auto st = check_hash(root2, "new root hash"); !st.ok())
      return std::move(st).error().context("consistency proof");
  }
  VOUCH_ASSIGN_OR_RETURN(Bytes computed, root_from_consistency_proof(size1, size2, proof, root1));
  if (size1 == size2) {
    if (!bytes_equal(root1, root2))
      return verification_failed(fmt::format("consistency proof: tree size {} has two different root hashes {} and {}",
                                             size1, hex_encode(root1), hex_encode(root2)));
    return ok_status();
  }
  if (auto st = check_root(computed, root2, "new root hash"); !st.ok())
    return std::move(st).error().context("consistency proof");
  return ok_status();
}

Status verify_subtree_inclusion(uint64_t index, uint64_t start, uint64_t end, ByteView leaf_hash,
                                const std::vector<Bytes>& proof, ByteView subtree_root) {
  if (start >= end)
    return invalid_input(fmt::format("subtree inclusion proof: empty subtree [{}, {})", start, end));
  const uint64_t width = end - start;
  // start must be a multiple of bit_ceil(width); a subtree wider than 2^63 can only start at 0.
  if (start != 0 && (width > (uint64_t{1} << 63) || start % std::bit_ceil(width) != 0))
    return invalid_input(fmt::format("subtree inclusion proof: [{}, {}) is not a subtree of a Merkle tree", start, end));
  if (index < start || index >= end)
    return invalid_input(
        fmt::format("subtree inclusion proof: index {} out of range for subtree [{}, {})", index, start, end));
  if (auto st = check_hash(subtree_root, "expected subtree root hash"); !st.ok())
    return std::move(st).error().context("subtree inclusion proof");
  VOUCH_ASSIGN_OR_RETURN(Bytes computed, root_from_inclusion_proof(index - start, width, leaf_hash, proof));
  if (auto st = check_root(computed, subtree_root, "subtree root hash"); !st.ok())
    return std::move(st).error().context("subtree inclusion proof");
  return ok_status();
}

// ---- Generation ----------------------------------------------------------------------------

Bytes root_hash(std::span<const Bytes> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const size_t k = split_point(leaves.size());
  return hash_children(root_hash(leaves.first(k)), root_hash(leaves.subspan(k)));
}

namespace {

// RFC 9162 PATH(m, D[n]), appending to `out` from the bottom level up.
void path(uint64_t m, std::span<const Bytes> leaves, std::vector<Bytes>& out) {
  if (leaves.size() <= 1) return;
  const size_t k = split_point(leaves.size());
  if (m < k) {
    path(m, leaves.first(k), out);
    out.push_back(root_hash(leaves.subspan(k)));
  } else {
    path(m - k, leaves.subspan(k), out);
    out.push_back(root_hash(leaves.first(k)));
  }
}

// RFC 9162 SUBPROOF(m, D[n], b).
void subproof(uint64_t m, std::span<const Bytes> leaves, bool whole_old_tree, std::vector<Bytes>& out) {
  if (m == leaves.size()) {
    if (!whole_old_tree) out.push_back(root_hash(leaves));
    return;
  }
  const size_t k = split_point(leaves.size());
  if (m <= k) {
    subproof(m, leaves.first(k), whole_old_tree, out);
    out.push_back(root_hash(leaves.subspan(k)));
  } else {
    subproof(m - k, leaves.subspan(k), false, out);
    out.push_back(root_hash(leaves.first(k)));
  }
}

}  // namespace

Result<std::vector<Bytes>> inclusion_proof(uint64_t index, std::span<const Bytes> leaf_hashes) {
  if (index >= leaf_hashes.size())
    return invalid_input(
        fmt::format("inclusion proof: index {} out of range for tree size {}", index, leaf_hashes.size()));
  std::vector<Bytes> out;
  path(index, leaf_hashes, out);
  return out;
}

Result<std::vector<Bytes>> consistency_proof(uint64_t size1, std::span<const Bytes> leaf_hashes) {
  if (size1 == 0) return invalid_input("consistency proof: a proof from the empty tree is meaningless");
  if (size1 > leaf_hashes.size())
    return invalid_input(fmt::format("consistency proof: old tree size {} is larger than new tree size {}", size1,
                                     leaf_hashes.size()));
  std::vector<Bytes> out;
  if (size1 < leaf_hashes.size()) subproof(size1, leaf_hashes, true, out);
  return out;
}

}  // namespace vouch::tlog
