// CVSS v3.0 / v3.1 base score (FIRST CVSS v3.1 specification, section 7.1 and Appendix A).
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/vuln/cvss.h"

namespace vouch::vuln {
namespace {

// Roundup as v3.1 defines it (Appendix A), which avoids floating-point surprises.
double roundup31(double value) {
  long long i = std::llround(value * 100000.0);
  if (i % 10000 == 0) return static_cast<double>(i) / 100000.0;
  return (std::floor(static_cast<double>(i) / 10000.0) + 1.0) / 10.0;
}

double roundup30(double value) { return std::ceil(value * 10.0) / 10.0; }

}  // namespace

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kUnknown: return "Unknown";
    case Severity::kNegligible: return "Negligible";
    case Severity::kLow: return "Low";
    case Severity::kMedium: return "Medium";
    case Severity::kHigh: return "High";
    case Severity::kCritical: return "Critical";
  }
  return "Unknown";
}

Result<Severity> parse_severity(std::string_view text) {
  std::string s = lower(text);
  if (s == "negligible" || s == "none") return Severity::kNegligible;
  if (s == "low") return Severity::kLow;
  if (s == "medium" || s == "moderate") return Severity::kMedium;
  if (s == "high" || s == "important") return Severity::kHigh;
  if (s == "critical") return Severity::kCritical;
  return invalid_input(fmt::format("severity '{}': expected low, medium, high or critical", text));
}

Severity severity_for_score(double score) {
  if (score <= 0.0) return Severity::kNegligible;
  if (score < 4.0) return Severity::kLow;
  if (score < 7.0) return Severity::kMedium;
  if (score < 9.0) return Severity::kHigh;
  return Severity::kCritical;
}

Result<double> cvss3_base_score(std::string_view vector) {
  auto bad = [&](std::string_view why) { return invalid_input(fmt::format("CVSS vector '{}': {}", vector, why)); };
  bool v30;
  if (vector.starts_with("CVSS:3.1/")) v30 = false;
  else if (vector.starts_with("CVSS:3.0/")) v30 = true;
  else return bad("does not start with CVSS:3.0/ or CVSS:3.1/");
  std::map<std::string, std::string, std::less<>> m;
  std::string_view rest = vector.substr(9);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == part.size())
      return bad(fmt::format("'{}' is not METRIC:VALUE", part));
    std::string key(part.substr(0, colon));
    if (m.count(key)) return bad(fmt::format("metric {} given twice", key));
    m[key] = std::string(part.substr(colon + 1));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  auto metric = [&](const char* key, std::initializer_list<std::pair<const char*, double>> values,
                    double& out) -> Status {
    auto it = m.find(key);
    if (it == m.end()) return bad(fmt::format("base metric {} missing", key));
    for (const auto& [name, weight] : values) {
      if (it->second == name) {
        out = weight;
        return ok_status();
      }
    }
    return bad(fmt::format("{}:{} is not a valid value", key, it->second));
  };
  auto sit = m.find("S");
  if (sit == m.end()) return bad("base metric S missing");
  if (sit->second != "U" && sit->second != "C") return bad(fmt::format("S:{} is not a valid value", sit->second));
  bool changed = sit->second == "C";
  double av, ac, pr, ui, c, i, a;
  VOUCH_RETURN_IF_ERROR(metric("AV", {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}}, av));
  VOUCH_RETURN_IF_ERROR(metric("AC", {{"L", 0.77}, {"H", 0.44}}, ac));
  VOUCH_RETURN_IF_ERROR(
      metric("PR", {{"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}}, pr));
  VOUCH_RETURN_IF_ERROR(metric("UI", {{"N", 0.85}, {"R", 0.62}}, ui));
  VOUCH_RETURN_IF_ERROR(metric("C", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, c));
  VOUCH_RETURN_IF_ERROR(metric("I", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, i));
  VOUCH_RETURN_IF_ERROR(metric("A", {{"H", 0.56}, {"L", 0.22}, {"N", 0}}, a));
  double iss = 1 - ((1 - c) * (1 - i) * (1 - a));
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0.0;
  auto roundup = v30 ? roundup30 : roundup31;
  if (changed) return roundup(std::min(1.08 * (impact + exploitability), 10.0));
  return roundup(std::min(impact + exploitability, 10.0));
}

}  // namespace vouch::vuln
