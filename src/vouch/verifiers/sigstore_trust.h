// The Sigstore trust an image verifier checks with: the trusted material it was given, else the
// material its source yields (asked once), each prepared for verification once and kept.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/sigstore/verifier.h"
#include "vouch/verifiers/cosign.h"

namespace vouch::verifiers {

class SigstoreTrust {
 public:
  using Material = std::shared_ptr<const sigstore::TrustedMaterial>;

  explicit SigstoreTrust(const CosignOptions& options)
      : given_(options.trusted_material), source_(options.trusted_material_source) {}

  // The trust to check with; an error saying `why` it is needed when there is none.
  Result<Material> material(std::string_view why) {
    if (given_) return given_;
    if (!source_) return invalid_input(std::string(why));
    std::lock_guard lock(source_mutex_);
    if (!sourced_) sourced_ = source_();
    if (!sourced_->ok()) return Error(sourced_->error()).context(why);
    return sourced_->value();
  }

  // A verifier for `material`, prepared once (CA stores, logs, the chain cache) and kept; at
  // most kKept of them, as policies' inline trusted roots come and go.
  std::shared_ptr<const sigstore::Verifier> prepared_for(const Material& material) {
    std::lock_guard lock(verifiers_mutex_);
    for (const auto& v : verifiers_)
      if (v->trusted_material() == material) return v;
    if (verifiers_.size() >= kKept) verifiers_.erase(verifiers_.begin());
    verifiers_.push_back(std::make_shared<const sigstore::Verifier>(material));
    return verifiers_.back();
  }

 private:
  static constexpr size_t kKept = 16;
  Material given_;
  std::function<Result<Material>()> source_;
  std::mutex source_mutex_;
  std::optional<Result<Material>> sourced_;
  std::mutex verifiers_mutex_;
  std::vector<std::shared_ptr<const sigstore::Verifier>> verifiers_;
};

}  // namespace vouch::verifiers
