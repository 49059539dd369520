#include "vouch/tlog/merkle.h"

#include <algorithm>
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

// ---- Proofs as node IDs --------------------------------------------------------------------

namespace {

// Appends the perfect subtrees that make the leaves [begin, end), largest first.
void append_range(uint64_t begin, uint64_t end, std::vector<NodeId>& out) {
  while (begin < end) {
    int level = std::bit_width(end - begin) - 1;
    if (begin != 0) level = std::min(level, std::countr_zero(begin));
    out.push_back(NodeId{static_cast<uint8_t>(level), begin >> level});
    begin += uint64_t{1} << level;
  }
}

// Appends the siblings on the path from node (level, index) to the root of the tree of `size`
// leaves. Below the level where that path meets the path of the last leaf, each level has a
// sibling; the one at the meeting point is on the right edge and may be ephemeral. Above it,
// only left siblings remain (perfect subtrees).
void append_path(uint64_t index, int level, uint64_t size, ProofNodes& out) {
  const uint64_t last = (size - 1) >> level;
  const int inner = std::bit_width(index ^ last);
  for (int j = 0; j < inner; ++j) {
    const int at = level + j;
    const uint64_t node = index >> j;
    const uint64_t sibling = node ^ 1;
    const uint64_t first_leaf = sibling << at;
    if ((node & 1) || size - first_leaf >= (uint64_t{1} << at)) {
      out.ids.push_back(NodeId{static_cast<uint8_t>(at), sibling});
    } else {
      out.begin = out.ids.size();
      append_range(first_leaf, size, out.ids);
      out.end = out.ids.size();
    }
  }
  for (int j = inner; j < 64 && (index >> j) != 0; ++j) {
    const uint64_t node = index >> j;
    if (node & 1) out.ids.push_back(NodeId{static_cast<uint8_t>(level + j), node ^ 1});
  }
}

}  // namespace

ProofNodes inclusion_nodes(uint64_t index, uint64_t size) {
  ProofNodes out;
  if (index < size) append_path(index, 0, size, out);
  return out;
}

ProofNodes consistency_nodes(uint64_t size1, uint64_t size2) {
  ProofNodes out;
  if (size1 == 0 || size1 >= size2) return out;
  // The seed: the largest perfect subtree that ends with leaf size1-1, in both trees. When it is
  // the whole old tree the verifier has its hash already (the old root) and the proof omits it.
  const int level = std::countr_zero(size1);
  const uint64_t index = (size1 - 1) >> level;
  if (index != 0) out.ids.push_back(NodeId{static_cast<uint8_t>(level), index});
  append_path(index, level, size2, out);
  return out;
}

ProofNodes root_nodes(uint64_t size) {
  ProofNodes out;
  append_range(0, size, out.ids);
  out.end = out.ids.size();
  return out;
}

Result<std::vector<Bytes>> rehash(std::vector<Bytes> hashes, const ProofNodes& nodes) {
  if (hashes.size() != nodes.ids.size())
    return internal_error(fmt::format("merkle proof: {} hashes fetched for {} nodes", hashes.size(), nodes.ids.size()));
  if (nodes.end <= nodes.begin + 1) return hashes;
  if (nodes.end > hashes.size()) return internal_error("merkle proof: ephemeral node out of range");
  // Right to left: RFC 9162 splits a range at its largest power of two, so the smaller
  // subtrees to the right are combined first.
  Bytes node = std::move(hashes[nodes.end - 1]);
  for (size_t i = nodes.end - 1; i-- > nodes.begin;) node = hash_children(hashes[i], node);
  hashes[nodes.begin] = std::move(node);
  hashes.erase(hashes.begin() + static_cast<std::ptrdiff_t>(nodes.begin) + 1,
               hashes.begin() + static_cast<std::ptrdiff_t>(nodes.end));
  return hashes;
}

// ---- Generation in memory ------------------------------------------------------------------

Bytes root_hash(std::span<const Bytes> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const size_t k = split_point(leaves.size());
  return hash_children(root_hash(leaves.first(k)), root_hash(leaves.subspan(k)));
}

namespace {

// The hashes of the proof's nodes, from the leaves.
Result<std::vector<Bytes>> proof_from_leaves(const ProofNodes& nodes, std::span<const Bytes> leaves) {
  std::vector<Bytes> hashes;
  hashes.reserve(nodes.ids.size());
  for (const NodeId& id : nodes.ids)
    hashes.push_back(root_hash(leaves.subspan(id.index << id.level, uint64_t{1} << id.level)));
  return rehash(std::move(hashes), nodes);
}

}  // namespace

Result<std::vector<Bytes>> inclusion_proof(uint64_t index, std::span<const Bytes> leaf_hashes) {
  if (index >= leaf_hashes.size())
    return invalid_input(
        fmt::format("inclusion proof: index {} out of range for tree size {}", index, leaf_hashes.size()));
  return proof_from_leaves(inclusion_nodes(index, leaf_hashes.size()), leaf_hashes);
}

Result<std::vector<Bytes>> consistency_proof(uint64_t size1, std::span<const Bytes> leaf_hashes) {
  if (size1 == 0) return invalid_input("consistency proof: a proof from the empty tree is meaningless");
  if (size1 > leaf_hashes.size())
    return invalid_input(fmt::format("consistency proof: old tree size {} is larger than new tree size {}", size1,
                                     leaf_hashes.size()));
  return proof_from_leaves(consistency_nodes(size1, leaf_hashes.size()), leaf_hashes);
}

}  // namespace vouch::tlog
