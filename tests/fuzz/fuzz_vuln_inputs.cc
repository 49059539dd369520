// libFuzzer target: the untrusted inputs of `vouch scan` and `vouch db import` on arbitrary
// bytes: OSV records, SPDX and CycloneDX documents, OpenVEX, PURLs, version strings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/sbom/purl.h"
#include "vouch/sbom/reader.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/osv.h"
#include "vouch/vuln/version.h"
#include "vouch/vuln/vex.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto record = vuln::parse_osv(input);
  if (record.ok()) {
    auto again = vuln::parse_osv(vuln::serialize_osv_compact(*record));
    if (!again.ok()) __builtin_trap();  // what we store must read back
    for (const auto& a : record->affected) {
      for (const auto& v : a.versions) (void)vuln::check_affected(a, v);
      for (const auto& r : a.ranges)
        for (const auto& e : r.events) (void)vuln::check_affected(a, e.value);
    }
  }
  auto doc = sbom::read_sbom(input);
  if (doc.ok()) {
    for (const auto& p : doc->packages) (void)vuln::match_key(p, doc->distro);
  }
  (void)vuln::parse_openvex(input, "fuzz");
  if (size < 4096) {
    (void)sbom::parse_purl(input);
    size_t mid = input.find(' ');
    std::string_view a = input.substr(0, mid), b = mid == std::string_view::npos ? a : input.substr(mid + 1);
    for (auto scheme : {vuln::VersionScheme::kDebian, vuln::VersionScheme::kAlpine, vuln::VersionScheme::kRpm,
                        vuln::VersionScheme::kSemver, vuln::VersionScheme::kPypi, vuln::VersionScheme::kMaven,
                        vuln::VersionScheme::kRubyGems, vuln::VersionScheme::kPackagist, vuln::VersionScheme::kNuget}) {
      auto ab = vuln::compare_versions(scheme, a, b);
      auto ba = vuln::compare_versions(scheme, b, a);
      if (ab.ok() != ba.ok()) __builtin_trap();
    }
  }
  return 0;
}
