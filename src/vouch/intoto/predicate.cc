#include "vouch/intoto/predicate.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace vouch::intoto {

Result<std::string> predicate_type_for(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kNames{{
      {"custom", kCosignCustomPredicate},
      {"slsaprovenance", kSlsaProvenanceV02},
      {"slsaprovenance02", kSlsaProvenanceV02},
      {"slsaprovenance1", kSlsaProvenanceV1},
      {"spdx", kSpdxPredicate},
      {"spdxjson", kSpdxPredicate},
      {"cyclonedx", kCycloneDxPredicate},
      {"link", kLinkPredicate},
      {"vuln", kCosignVulnPredicate},
      {"openvex", kOpenVexPredicate},
  }};
  for (const auto& [name, uri] : kNames)
    if (type == name) return std::string(uri);
  auto scheme = type.find("://");
  if (scheme != std::string_view::npos && scheme > 0 && type.size() > scheme + 3) return std::string(type);
  return invalid_input(fmt::format(
      "unknown predicate type '{}': want custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, "
      "cyclonedx, link, vuln, openvex or a URI",
      type));
}

boost::json::value custom_predicate(std::string_view data, std::string_view timestamp) {
  return boost::json::object{{"Data", data}, {"Timestamp", timestamp}};
}

}  // namespace vouch::intoto
