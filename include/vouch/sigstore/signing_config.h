// Where to sign: a SigningConfig (protobuf-specs sigstore_trustroot.proto, v0.2) names the
// certificate authorities, OIDC providers, transparency logs and timestamp authorities a client
// uses, each with its API version and the window in which it is in service. Clients pick from it
// as sigstore-go does: only services of an API version they speak, in service now, and among
// those the newest API version.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/sigstore/trusted_material.h"

namespace vouch::sigstore {

inline constexpr std::string_view kSigningConfigMediaType = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

struct Service {
  std::string url;
  uint32_t major_api_version = 1;
  ValidityWindow valid_for;
  std::string operator_name;  // "operator"
};

// How many of the listed services a client uses (ServiceConfiguration).
struct ServiceSelection {
  enum class Selector { kAll, kAny, kExact };
  Selector selector = Selector::kAny;
  uint32_t count = 0;  // for kExact
};

struct SigningConfig {
  std::string media_type = std::string(kSigningConfigMediaType);
  std::vector<Service> ca_urls;
  std::vector<Service> oidc_urls;
  std::vector<Service> rekor_tlog_urls;
  ServiceSelection rekor_tlog_config;
  std::vector<Service> tsa_urls;
  ServiceSelection tsa_config;
};

// Parses a v0.2 SigningConfig (protojson). Unknown members and media types are refused, naming
// their path.
Result<SigningConfig> parse_signing_config(std::string_view json);
boost::json::object signing_config_json(const SigningConfig& config);

// The one service to use among `services` at time `now`, speaking one of `api_versions`: the
// newest API version, then the latest start. kNotFound naming `what` when none qualifies.
Result<Service> select_service(const std::vector<Service>& services, const std::vector<uint32_t>& api_versions,
                               UnixSeconds now, std::string_view what);

// The services to use under `selection` (ALL: every one qualifying; ANY: one; EXACT: that
// many, an error when fewer qualify). Empty when the list is empty (the service is optional).
Result<std::vector<Service>> select_services(const std::vector<Service>& services, const ServiceSelection& selection,
                                             const std::vector<uint32_t>& api_versions, UnixSeconds now,
                                             std::string_view what);

}  // namespace vouch::sigstore
