// What every image verifier shares: Kyverno's attestor-set rule (`count` entries of the set, or
// all of them, must verify) and resolving an image reference to the digest it names now.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vouch/oci/image.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"
#include "vouch/policy/policy.h"

namespace vouch::verifiers {

// How many entries of `set` must verify: its `count` (at least 1), else every entry.
inline size_t attestors_needed(const policy::AttestorSet& set) {
  return set.count ? static_cast<size_t>(std::max(*set.count, 1)) : set.entries.size();
}

// The set's verdict from how many entries passed; the reason joins the failed entries' reasons.
inline void settle_attestor_set(policy::ImageVerificationOutcome& out, size_t passed, size_t needed,
                                const std::vector<std::string>& reasons) {
  out.verified = passed >= needed;
  if (out.verified) return;
  std::string joined;
  for (const auto& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
  out.reason = fmt::format("{} of {} required attestor(s) verified: {}", passed, needed, joined);
}

// The digest `image` names: its own, or its tag's manifest's now.
inline Result<std::string> resolve_image_digest(const std::string& image, const oci::StoreOptions& store_options) {
  auto ref = oci::parse_image_ref(image);
  if (!ref.ok()) return invalid_input(fmt::format("image {}: {}", image, ref.error().message));
  if (ref->reference.digest) return ref->reference.digest->str();
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(*ref, store_options, false));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  return root.digest.str();
}

}  // namespace vouch::verifiers
