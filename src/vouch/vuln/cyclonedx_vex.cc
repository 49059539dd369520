#include "vouch/vuln/cyclonedx_vex.h"

#include <map>

#include <boost/json.hpp>

#include "vouch/base/time.h"
#include "vouch/vuln/cvss.h"

namespace vouch::vuln {

namespace bj = boost::json;

namespace {

// CycloneDX's severity words are lower case; "negligible" has no counterpart.
std::string cyclonedx_severity(Severity s) {
  switch (s) {
    case Severity::kCritical: return "critical";
    case Severity::kHigh: return "high";
    case Severity::kMedium: return "medium";
    case Severity::kLow: return "low";
    case Severity::kNegligible: return "info";
    case Severity::kUnknown: break;
  }
  return "unknown";
}

// The component of a finding's package: its bom-ref is the purl when there is one.
std::string bom_ref(const FindingPackage& p) {
  return !p.purl.empty() ? p.purl : p.id.empty() ? p.name + "@" + p.version : p.id;
}

// OpenVEX justifications map onto CycloneDX's where one exists.
std::string cyclonedx_justification(const std::string& openvex) {
  if (openvex == "component_not_present") return "requires_dependency";
  if (openvex == "vulnerable_code_not_present") return "code_not_present";
  if (openvex == "vulnerable_code_not_in_execute_path") return "code_not_reachable";
  if (openvex == "vulnerable_code_cannot_be_controlled_by_adversary") return "protected_by_mitigating_control";
  if (openvex == "inline_mitigations_already_exist") return "protected_by_mitigating_control";
  return "";
}

bj::object vulnerability(const Finding& f) {
  bj::object rating{{"severity", cyclonedx_severity(f.severity)}};
  if (f.score) rating["score"] = *f.score;
  if (!f.score_vector.empty()) {
    rating["vector"] = f.score_vector;
    rating["method"] = f.score_vector.starts_with("CVSS:4") ? "CVSSv4" : f.score_vector.starts_with("CVSS:3.1") ? "CVSSv31" : "CVSSv3";
  }
  bj::object v{{"bom-ref", f.id + "?package=" + bom_ref(f.package)},
               {"id", f.id},
               {"source", bj::object{{"name", "osv"}, {"url", "https://osv.dev/vulnerability/" + f.id}}},
               {"ratings", bj::array{std::move(rating)}},
               {"affects", bj::array{bj::object{{"ref", bom_ref(f.package)}}}}};
  if (!f.summary.empty()) v["description"] = f.summary;
  if (!f.fixed_versions.empty()) {
    std::string fixed;
    for (const auto& version : f.fixed_versions) fixed += (fixed.empty() ? "" : ", ") + version;
    v["recommendation"] = "Upgrade " + f.package.name + " to " + fixed;
  }
  bj::array references;
  for (const auto& alias : f.aliases)
    references.push_back(bj::object{{"id", alias}, {"source", bj::object{{"url", "https://osv.dev/vulnerability/" + alias}}}});
  if (!references.empty()) v["references"] = std::move(references);
  if (!f.vex_status.empty()) {
    bj::object analysis{{"state", f.vex_status == "fixed" ? "resolved" : "not_affected"}};
    if (std::string j = cyclonedx_justification(f.vex_justification); !j.empty()) analysis["justification"] = j;
    if (!f.vex_statement.empty()) analysis["detail"] = f.vex_statement;
    v["analysis"] = std::move(analysis);
  }
  return v;
}

}  // namespace

bj::value report_cyclonedx_vex(const MatchReport& report, const ScanContext& ctx,
                               const std::vector<sbom::Package>& packages) {
  std::map<std::string, bj::object> components;  // by bom-ref: one component per package
  auto add_component = [&](const FindingPackage& p) {
    std::string ref = bom_ref(p);
    if (components.contains(ref)) return;
    bj::object c{{"bom-ref", ref}, {"type", "library"}, {"name", p.name}, {"version", p.version}};
    if (!p.purl.empty()) c["purl"] = p.purl;
    components.emplace(ref, std::move(c));
  };
  // The same identity the matcher gives a finding's package, so that affects[].ref names it.
  for (const auto& p : packages) add_component(FindingPackage{p.id, p.name, p.version, p.type, p.purl});
  bj::array vulnerabilities;
  for (const auto* findings : {&report.vulnerabilities, &report.suppressed}) {
    for (const auto& f : *findings) {
      add_component(f.package);
      vulnerabilities.push_back(vulnerability(f));
    }
  }
  bj::array component_list;
  for (auto& [ref, c] : components) component_list.push_back(std::move(c));
  return bj::object{
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.6"},
      {"version", 1},
      {"metadata", bj::object{{"timestamp", format_rfc3339(ctx.finished ? ctx.finished : ctx.started)},
                              {"tools", bj::object{{"components", bj::array{bj::object{{"type", "application"},
                                                                                        {"name", "vouch"},
                                                                                        {"version", ctx.scanner_version}}}}}},
                              {"component", bj::object{{"type", "container"}, {"name", ctx.subject}}}}},
      {"components", std::move(component_list)},
      {"vulnerabilities", std::move(vulnerabilities)}};
}

}  // namespace vouch::vuln
