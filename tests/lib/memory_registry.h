// A registry in memory for tests, without the referrers API: manifests and blobs by digest,
// tags naming digests, and the sha256-<hex> tag index kept up to date on pushes of manifests
// with a subject, by default as cosign 3 writes it (the empty artifact type on its descriptors).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/oci/store.h"

namespace vouch::testing {

class MemoryRegistry : public oci::Store {
 public:
  std::map<std::string, std::string> blobs;      // digest -> bytes
  std::map<std::string, std::string> manifests;  // digest -> bytes
  std::map<std::string, std::string> tags;       // tag -> digest
  std::string root_tag = "v1";
  bool cosign_empty_artifact_type = true;

  std::string describe() const override { return "memory"; }
  bool supports_tags() const override { return true; }
  Result<oci::Manifest> get_root() override {
    VOUCH_ASSIGN_OR_RETURN(auto m, get_tagged(root_tag));
    if (!m) return not_found("root");
    return *m;
  }
  Result<std::optional<oci::Manifest>> get_tagged(std::string_view tag) override {
    auto it = tags.find(std::string(tag));
    if (it == tags.end()) return std::optional<oci::Manifest>();
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest m, oci::parse_manifest(manifests.at(it->second)));
    return std::optional<oci::Manifest>(std::move(m));
  }
  Result<oci::Manifest> get_manifest(const oci::Descriptor& d) override {
    auto it = manifests.find(d.digest.str());
    if (it == manifests.end()) return not_found(d.digest.str());
    return oci::parse_manifest(it->second);
  }
  Result<std::unique_ptr<oci::BlobReader>> open_blob(const oci::Descriptor& d) override {
    auto it = blobs.find(d.digest.str());
    if (it == blobs.end()) return not_found(d.digest.str());
    return oci::verifying_reader(oci::bytes_reader(it->second), d, "blob");
  }
  Result<std::vector<oci::Descriptor>> referrers(const oci::Digest& subject) override {
    VOUCH_ASSIGN_OR_RETURN(auto idx, get_tagged(oci::digest_tag(subject)));
    if (idx && idx->is_index()) return idx->manifests;
    return std::vector<oci::Descriptor>{};
  }
  Result<bool> has_blob(const oci::Descriptor& d) override { return blobs.count(d.digest.str()) > 0; }
  Status put_blob(const oci::Descriptor& d, oci::BlobReader& from) override {
    VOUCH_ASSIGN_OR_RETURN(std::string data, oci::read_all(from, 1 << 24, "blob"));
    blobs[d.digest.str()] = data;
    return ok_status();
  }
  Status put_manifest(const oci::Manifest& m, const std::optional<std::string>& tag, bool) override {
    manifests[m.digest.str()] = m.bytes;
    if (tag) tags[*tag] = m.digest.str();
    if (m.subject) {
      std::string fallback = oci::digest_tag(m.subject->digest);
      boost::json::array list;
      if (auto it = tags.find(fallback); it != tags.end())
        list = json::parse(manifests[it->second])->as_object()["manifests"].as_array();
      oci::Descriptor self = m.descriptor();
      if (cosign_empty_artifact_type) self.artifact_type = std::string(oci::media_type::kOciEmpty);
      self.annotations = m.annotations;
      list.push_back(self.to_json());
      boost::json::object idx{
          {"schemaVersion", 2}, {"mediaType", std::string(oci::media_type::kOciIndex)}, {"manifests", list}};
      tag_bytes(fallback, json::serialize(idx));
    }
    return ok_status();
  }

  oci::Descriptor add_blob(std::string_view media_type, std::string data) {
    oci::Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = oci::Digest::sha256_of(as_bytes(data));
    d.size = static_cast<int64_t>(data.size());
    blobs[d.digest.str()] = std::move(data);
    return d;
  }
  // Stores manifest bytes as they are and points `tag` at them.
  std::string tag_bytes(const std::string& tag, std::string bytes) {
    std::string d = oci::Digest::sha256_of(as_bytes(bytes)).str();
    manifests[d] = std::move(bytes);
    tags[tag] = d;
    return d;
  }
  // Adds an image (one layer) under `tag` and returns its manifest.
  oci::Manifest add_image(const std::string& tag, const std::string& layer) {
    oci::Descriptor cd = add_blob(oci::media_type::kOciConfig,
                                  R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})");
    oci::Descriptor ld = add_blob("application/vnd.oci.image.layer.v1.tar", layer);
    std::string m = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}})",
        cd.digest.str(), cd.size, ld.digest.str(), ld.size);
    tag_bytes(tag, m);
    return *oci::parse_manifest(m);
  }
};

}  // namespace vouch::testing
