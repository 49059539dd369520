// A Distribution API (OCI distribution-spec) client for one registry: ping, anonymous,
// bearer-token (WWW-Authenticate challenge) and basic auth with credentials from docker's
// config.json (credentials.h), manifests and blobs checked against their
// digests, streamed blob reads following redirects, monolithic and chunked blob uploads,
// manifest pushes, tag listing and the referrers API with the sha256-<hex> tag fallback.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/net/http.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/credentials.h"
#include "vouch/oci/manifest.h"

namespace vouch::oci {

struct RegistryOptions {
  bool allow_insecure = false;     // plain HTTP / unverified TLS for registries other than localhost
  std::string docker_config;       // config.json; default $DOCKER_CONFIG/config.json or ~/.docker/config.json
  std::string username, password;  // explicit credentials override config.json
  std::string ca_file;             // extra trust anchors for registries
  size_t chunk_size = 0;           // registry uploads: 0 monolithic, else chunked PATCHes of this size
  int max_retries = 4;
  // Every request of a client ends within this time from when the client is made (cosign's
  // --timeout), and a transfer slower than 1 KiB/s for 30 s is abandoned.
  std::chrono::milliseconds timeout = std::chrono::minutes(5);
};

class RegistryClient {
 public:
  RegistryClient(std::string registry, RegistryOptions options, bool push);
  ~RegistryClient();

  const std::string& registry() const { return registry_; }
  std::string base_url();

  Status ping();
  // nullopt on 404.
  Result<std::optional<Manifest>> get_manifest(const std::string& repo, const std::string& identifier,
                                               std::string_view expected_media_type = {});
  Result<std::unique_ptr<BlobReader>> open_blob(const std::string& repo, const Descriptor& d);
  Result<bool> has_blob(const std::string& repo, const Digest& d);
  Status push_blob(const std::string& repo, const Descriptor& d, BlobReader& from);
  // Returns the response headers' OCI-Subject when the registry processed a subject.
  Result<bool> push_manifest(const std::string& repo, const std::string& identifier, const Manifest& m);
  // DELETE of a manifest by digest; false when the registry has no such manifest.
  Result<bool> delete_manifest(const std::string& repo, const Digest& digest);
  Result<std::vector<std::string>> list_tags(const std::string& repo);
  // nullopt when the registry has no referrers API (404).
  Result<std::optional<std::vector<Descriptor>>> referrers_api(const std::string& repo, const Digest& subject);

 private:
  Result<net::Response> request(net::Request req, const std::string& repo, size_t max_body = 16 << 20);
  Result<std::unique_ptr<net::ResponseStream>> request_stream(net::Request req, const std::string& repo);
  Status authenticate(const std::string& challenge_header, const std::string& repo);
  void apply_auth(net::Request& req, const std::string& repo);
  Result<Credentials> credentials();
  std::string scope(const std::string& repo) const;
  // A Location or Link URL given in answer to `request_url`, resolved and checked like a redirect.
  Result<std::string> resolve_location(const std::string& request_url, const std::string& location);

  std::string registry_;
  std::string host_;  // where requests go (registry-1.docker.io for docker.io)
  RegistryOptions options_;
  bool push_;
  std::string scheme_;
  std::chrono::steady_clock::time_point deadline_;  // from options_.timeout
  std::unique_ptr<net::Client> http_;
  std::optional<Credentials> creds_;
  std::map<std::string, std::string> auth_by_repo_;  // repo -> Authorization header value
};

}  // namespace vouch::oci
