// The registry behind the Store interface: a RegistryClient for one repository, with the
// referrers tag schema kept up to date where the registry has no referrers API.
#include "store_common.h"
#include "vouch/base/json.h"
#include "vouch/oci/registry.h"

namespace vouch::oci {
namespace {

namespace bj = boost::json;

class RegistryStore final : public Store {
 public:
  RegistryStore(ImageRef ref, const StoreOptions& options, bool push)
      : ref_(std::move(ref)), client_(ref_.reference.registry, options, push) {}

  std::string describe() const override { return ref_.str(); }
  bool supports_tags() const override { return true; }
  const std::string& repo() const { return ref_.reference.repository; }

  Result<Manifest> get_root() override {
    VOUCH_ASSIGN_OR_RETURN(auto m, client_.get_manifest(repo(), ref_.reference.identifier()));
    if (!m) return not_found(fmt::format("{}: manifest unknown", ref_.reference.str()));
    if (ref_.reference.digest && m->digest != *ref_.reference.digest)
      return verification_failed(fmt::format("{}: served manifest {}", ref_.reference.str(), m->digest.str()));
    return *m;
  }

  Result<std::optional<Manifest>> get_tagged(std::string_view tag) override {
    return client_.get_manifest(repo(), std::string(tag));
  }

  Result<Manifest> get_manifest(const Descriptor& d) override {
    if (d.size > static_cast<int64_t>(kMaxManifestBytes))
      return invalid_input(fmt::format("{}: manifest {} of {} bytes exceeds the limit", ref_.reference.name(), d.digest.str(), d.size));
    VOUCH_ASSIGN_OR_RETURN(auto m, client_.get_manifest(repo(), d.digest.str(), d.media_type));
    if (!m) return not_found(fmt::format("{}@{}: manifest unknown", ref_.reference.name(), d.digest.str()));
    if (d.size >= 0 && static_cast<int64_t>(m->bytes.size()) != d.size)
      return verification_failed(fmt::format("{}@{}: {} bytes, the descriptor says {}", ref_.reference.name(), d.digest.str(),
                                             m->bytes.size(), d.size));
    return *m;
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) override { return client_.open_blob(repo(), d); }

  Result<std::vector<Descriptor>> referrers(const Digest& subject) override {
    VOUCH_ASSIGN_OR_RETURN(auto api, client_.referrers_api(repo(), subject));
    if (api) return *api;
    VOUCH_ASSIGN_OR_RETURN(auto tagged, get_tagged(digest_tag(subject)));
    if (tagged && tagged->is_index()) return tagged->manifests;
    return std::vector<Descriptor>{};
  }

  Result<bool> has_blob(const Descriptor& d) override { return client_.has_blob(repo(), d.digest); }
  Result<bool> delete_manifest(const Digest& d) override { return client_.delete_manifest(repo(), d); }
  Status put_blob(const Descriptor& d, BlobReader& from) override { return client_.push_blob(repo(), d, from); }

  Status put_manifest(const Manifest& m, const std::optional<std::string>& tag, bool root) override {
    std::string identifier = m.digest.str();
    if (tag) identifier = *tag;
    else if (root && ref_.reference.tag && !ref_.reference.digest) identifier = *ref_.reference.tag;
    VOUCH_ASSIGN_OR_RETURN(bool subject_processed, client_.push_manifest(repo(), identifier, m));
    if (m.subject && !subject_processed) {
      // No referrers API: keep the sha256-<hex> tag index up to date.
      std::string fallback = digest_tag(m.subject->digest);
      VOUCH_ASSIGN_OR_RETURN(auto existing, get_tagged(fallback));
      bj::array list;
      if (existing && existing->is_index())
        for (const auto& d : existing->manifests)
          if (d.digest != m.digest) list.push_back(d.to_json());
      Descriptor self = m.descriptor();
      self.annotations = m.annotations;
      list.push_back(self.to_json());
      bj::object idx{{"schemaVersion", 2}, {"mediaType", std::string(media_type::kOciIndex)}, {"manifests", std::move(list)}};
      VOUCH_ASSIGN_OR_RETURN(Manifest index, parse_manifest(json::serialize(idx)));
      VOUCH_ASSIGN_OR_RETURN(bool ignored, client_.push_manifest(repo(), fallback, index));
      (void)ignored;
    }
    return ok_status();
  }

 private:
  ImageRef ref_;
  RegistryClient client_;
};

}  // namespace

namespace detail {
Result<std::unique_ptr<Store>> make_registry_store(const ImageRef& ref, const StoreOptions& options, bool for_writing) {
  return std::unique_ptr<Store>(std::make_unique<RegistryStore>(ref, options, for_writing));
}
}  // namespace detail

}  // namespace vouch::oci
