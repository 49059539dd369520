// CVSS v4.0 scores (FIRST CVSS v4.0 specification, "Scoring": MacroVectors, equivalence
// classes EQ1–EQ6 and the published score of each MacroVector, with the interpolation within
// a MacroVector that FIRST's calculator performs).
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vouch/vuln/cvss.h"

namespace vouch::vuln {
namespace {

// The metrics of a v4.0 vector in the order a vector string must list them (specification
// "Vector String"), with their allowed values; the first 11 are mandatory.
struct MetricSpec {
  const char* key;
  std::initializer_list<const char*> values;
};
const MetricSpec kMetrics[] = {
    {"AV", {"N", "A", "L", "P"}}, {"AC", {"L", "H"}},      {"AT", {"N", "P"}},
    {"PR", {"N", "L", "H"}},      {"UI", {"N", "P", "A"}}, {"VC", {"H", "L", "N"}},
    {"VI", {"H", "L", "N"}},      {"VA", {"H", "L", "N"}}, {"SC", {"H", "L", "N"}},
    {"SI", {"H", "L", "N"}},      {"SA", {"H", "L", "N"}},
    // Threat
    {"E", {"X", "A", "P", "U"}},
    // Environmental
    {"CR", {"X", "H", "M", "L"}}, {"IR", {"X", "H", "M", "L"}}, {"AR", {"X", "H", "M", "L"}},
    {"MAV", {"X", "N", "A", "L", "P"}}, {"MAC", {"X", "L", "H"}}, {"MAT", {"X", "N", "P"}},
    {"MPR", {"X", "N", "L", "H"}}, {"MUI", {"X", "N", "P", "A"}}, {"MVC", {"X", "H", "L", "N"}},
    {"MVI", {"X", "H", "L", "N"}}, {"MVA", {"X", "H", "L", "N"}}, {"MSC", {"X", "H", "L", "N"}},
    {"MSI", {"X", "S", "H", "L", "N"}}, {"MSA", {"X", "S", "H", "L", "N"}},
    // Supplemental (no effect on the score)
    {"S", {"X", "N", "P"}}, {"AU", {"X", "N", "Y"}}, {"R", {"X", "A", "U", "I"}},
    {"V", {"X", "D", "C"}}, {"RE", {"X", "L", "M", "H"}}, {"U", {"X", "Clear", "Green", "Amber", "Red"}},
};
constexpr size_t kMetricCount = std::size(kMetrics);
constexpr size_t kBaseMetrics = 11;

size_t metric_index(std::string_view key) {
  for (size_t i = 0; i < kMetricCount; ++i)
    if (key == kMetrics[i].key) return i;
  return kMetricCount;
}

// The score of every MacroVector (EQ1..EQ6 as six digits), as FIRST publishes them.
struct MacroScore {
  const char* macro;
  double score;
};
const MacroScore kMacroScores[] = {
    {"000000", 10.0}, {"000001", 9.9}, {"000010", 9.8}, {"000011", 9.5}, {"000020", 9.5}, {"000021", 9.2},
    {"000100", 10.0}, {"000101", 9.6}, {"000110", 9.3}, {"000111", 8.7}, {"000120", 9.1}, {"000121", 8.1},
    {"000200", 9.3}, {"000201", 9.0}, {"000210", 8.9}, {"000211", 8.0}, {"000220", 8.1}, {"000221", 6.8},
    {"001000", 9.8}, {"001001", 9.5}, {"001010", 9.5}, {"001011", 9.2}, {"001020", 9.0}, {"001021", 8.4},
    {"001100", 9.3}, {"001101", 9.2}, {"001110", 8.9}, {"001111", 8.1}, {"001120", 8.1}, {"001121", 6.5},
    {"001200", 8.8}, {"001201", 8.0}, {"001210", 7.8}, {"001211", 7.0}, {"001220", 6.9}, {"001221", 4.8},
    {"002001", 9.2}, {"002011", 8.2}, {"002021", 7.2}, {"002101", 7.9}, {"002111", 6.9}, {"002121", 5.0},
    {"002201", 6.9}, {"002211", 5.5}, {"002221", 2.7}, {"010000", 9.9}, {"010001", 9.7}, {"010010", 9.5},
    {"010011", 9.2}, {"010020", 9.2}, {"010021", 8.5}, {"010100", 9.5}, {"010101", 9.1}, {"010110", 9.0},
    {"010111", 8.3}, {"010120", 8.4}, {"010121", 7.1}, {"010200", 9.2}, {"010201", 8.1}, {"010210", 8.2},
    {"010211", 7.1}, {"010220", 7.2}, {"010221", 5.3}, {"011000", 9.5}, {"011001", 9.3}, {"011010", 9.2},
    {"011011", 8.5}, {"011020", 8.5}, {"011021", 7.3}, {"011100", 9.2}, {"011101", 8.2}, {"011110", 8.0},
    {"011111", 7.2}, {"011120", 7.0}, {"011121", 5.9}, {"011200", 8.4}, {"011201", 7.0}, {"011210", 7.1},
    {"011211", 5.2}, {"011220", 5.0}, {"011221", 3.0}, {"012001", 8.6}, {"012011", 7.5}, {"012021", 5.2},
    {"012101", 7.1}, {"012111", 5.2}, {"012121", 2.9}, {"012201", 6.3}, {"012211", 2.9}, {"012221", 1.7},
    {"100000", 9.8}, {"100001", 9.5}, {"100010", 9.4}, {"100011", 8.7}, {"100020", 9.1}, {"100021", 8.1},
    {"100100", 9.4}, {"100101", 8.9}, {"100110", 8.6}, {"100111", 7.4}, {"100120", 7.7}, {"100121", 6.4},
    {"100200", 8.7}, {"100201", 7.5}, {"100210", 7.4}, {"100211", 6.3}, {"100220", 6.3}, {"100221", 4.9},
    {"101000", 9.4}, {"101001", 8.9}, {"101010", 8.8}, {"101011", 7.7}, {"101020", 7.6}, {"101021", 6.7},
    {"101100", 8.6}, {"101101", 7.6}, {"101110", 7.4}, {"101111", 5.8}, {"101120", 5.9}, {"101121", 5.0},
    {"101200", 7.2}, {"101201", 5.7}, {"101210", 5.7}, {"101211", 5.2}, {"101220", 5.2}, {"101221", 2.5},
    {"102001", 8.3}, {"102011", 7.0}, {"102021", 5.4}, {"102101", 6.5}, {"102111", 5.8}, {"102121", 2.6},
    {"102201", 5.3}, {"102211", 2.1}, {"102221", 1.3}, {"110000", 9.5}, {"110001", 9.0}, {"110010", 8.8},
    {"110011", 7.6}, {"110020", 7.6}, {"110021", 7.0}, {"110100", 9.0}, {"110101", 7.7}, {"110110", 7.5},
    {"110111", 6.2}, {"110120", 6.1}, {"110121", 5.3}, {"110200", 7.7}, {"110201", 6.6}, {"110210", 6.8},
    {"110211", 5.9}, {"110220", 5.2}, {"110221", 3.0}, {"111000", 8.9}, {"111001", 7.8}, {"111010", 7.6},
    {"111011", 6.7}, {"111020", 6.2}, {"111021", 5.8}, {"111100", 7.4}, {"111101", 5.9}, {"111110", 5.7},
    {"111111", 5.7}, {"111120", 4.7}, {"111121", 2.3}, {"111200", 6.1}, {"111201", 5.2}, {"111210", 5.7},
    {"111211", 2.9}, {"111220", 2.4}, {"111221", 1.6}, {"112001", 7.1}, {"112011", 5.9}, {"112021", 3.0},
    {"112101", 5.8}, {"112111", 2.6}, {"112121", 1.5}, {"112201", 2.3}, {"112211", 1.3}, {"112221", 0.6},
    {"200000", 9.3}, {"200001", 8.7}, {"200010", 8.6}, {"200011", 7.2}, {"200020", 7.5}, {"200021", 5.8},
    {"200100", 8.6}, {"200101", 7.4}, {"200110", 7.4}, {"200111", 6.1}, {"200120", 5.6}, {"200121", 3.4},
    {"200200", 7.0}, {"200201", 5.4}, {"200210", 5.2}, {"200211", 4.0}, {"200220", 4.0}, {"200221", 2.2},
    {"201000", 8.5}, {"201001", 7.5}, {"201010", 7.4}, {"201011", 5.5}, {"201020", 6.2}, {"201021", 5.1},
    {"201100", 7.2}, {"201101", 5.7}, {"201110", 5.5}, {"201111", 4.1}, {"201120", 4.6}, {"201121", 1.9},
    {"201200", 5.3}, {"201201", 3.6}, {"201210", 3.4}, {"201211", 1.9}, {"201220", 1.9}, {"201221", 0.8},
    {"202001", 6.4}, {"202011", 5.1}, {"202021", 2.0}, {"202101", 4.7}, {"202111", 2.1}, {"202121", 1.1},
    {"202201", 2.4}, {"202211", 0.9}, {"202221", 0.4}, {"210000", 8.8}, {"210001", 7.5}, {"210010", 7.3},
    {"210011", 5.3}, {"210020", 6.0}, {"210021", 5.0}, {"210100", 7.3}, {"210101", 5.5}, {"210110", 5.9},
    {"210111", 4.0}, {"210120", 4.1}, {"210121", 2.0}, {"210200", 5.4}, {"210201", 4.3}, {"210210", 4.5},
    {"210211", 2.2}, {"210220", 2.0}, {"210221", 1.1}, {"211000", 7.5}, {"211001", 5.5}, {"211010", 5.8},
    {"211011", 4.5}, {"211020", 4.0}, {"211021", 2.1}, {"211100", 6.1}, {"211101", 5.1}, {"211110", 4.8},
    {"211111", 1.8}, {"211120", 2.0}, {"211121", 0.9}, {"211200", 4.6}, {"211201", 1.8}, {"211210", 1.7},
    {"211211", 0.7}, {"211220", 0.8}, {"211221", 0.2}, {"212001", 5.3}, {"212011", 2.4}, {"212021", 1.4},
    {"212101", 2.4}, {"212111", 1.2}, {"212121", 0.5}, {"212201", 1.0}, {"212211", 0.3}, {"212221", 0.1},
};

std::optional<double> macro_score(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) {
  char key[7];
  for (int d : {eq1, eq2, eq3, eq4, eq5, eq6})
    if (d < 0 || d > 9) return std::nullopt;
  std::snprintf(key, sizeof key, "%d%d%d%d%d%d", eq1, eq2, eq3, eq4, eq5, eq6);
  for (const auto& m : kMacroScores)
    if (std::string_view(m.macro) == key) return m.score;
  return std::nullopt;
}

// Severity levels of each metric value, in tenths: the distance of a vector from the most
// severe vector of its MacroVector is measured with them.
double level(std::string_view metric, std::string_view value) {
  auto pick = [&](std::initializer_list<std::pair<const char*, double>> table) {
    for (const auto& [v, l] : table)
      if (value == v) return l;
    return 0.0;
  };
  if (metric == "AV") return pick({{"N", 0.0}, {"A", 0.1}, {"L", 0.2}, {"P", 0.3}});
  if (metric == "PR") return pick({{"N", 0.0}, {"L", 0.1}, {"H", 0.2}});
  if (metric == "UI") return pick({{"N", 0.0}, {"P", 0.1}, {"A", 0.2}});
  if (metric == "AC") return pick({{"L", 0.0}, {"H", 0.1}});
  if (metric == "AT") return pick({{"N", 0.0}, {"P", 0.1}});
  if (metric == "VC" || metric == "VI" || metric == "VA") return pick({{"H", 0.0}, {"L", 0.1}, {"N", 0.2}});
  if (metric == "SC") return pick({{"H", 0.1}, {"L", 0.2}, {"N", 0.3}});
  if (metric == "SI" || metric == "SA") return pick({{"S", 0.0}, {"H", 0.1}, {"L", 0.2}, {"N", 0.3}});
  if (metric == "CR" || metric == "IR" || metric == "AR") return pick({{"H", 0.0}, {"M", 0.1}, {"L", 0.2}});
  return 0.0;
}

// The most severe vectors of each equivalence class (for EQ3, per EQ6 value), as the
// specification's calculator lists them; a vector is compared with the first of their
// combinations that is at least as severe in every metric.
struct EqMaxes {
  std::vector<const char*> eq1[3] = {
      {"AV:N/PR:N/UI:N"}, {"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"}, {"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"}};
  std::vector<const char*> eq2[2] = {{"AC:L/AT:N"}, {"AC:H/AT:N", "AC:L/AT:P"}};
  std::vector<const char*> eq3eq6[3][2] = {
      {{"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"}, {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"}},
      {{"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"},
       {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
        "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"}},
      {{}, {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"}}};
  std::vector<const char*> eq4[3] = {{"SC:H/SI:S/SA:S"}, {"SC:H/SI:H/SA:H"}, {"SC:L/SI:L/SA:L"}};
};

// Depth of each MacroVector (its largest severity distance + 1), in steps of 0.1.
constexpr int kDepthEq1[3] = {1, 4, 5};
constexpr int kDepthEq2[2] = {1, 2};
constexpr int kDepthEq3Eq6[3][2] = {{7, 6}, {8, 8}, {0, 10}};
constexpr int kDepthEq4[3] = {6, 5, 4};

// "AV:N/PR:N/UI:N" -> value of `metric`, or "" when absent.
std::string_view value_in(std::string_view parts, std::string_view metric) {
  while (!parts.empty()) {
    size_t slash = parts.find('/');
    std::string_view part = parts.substr(0, slash);
    size_t colon = part.find(':');
    if (part.substr(0, colon) == metric) return part.substr(colon + 1);
    if (slash == std::string_view::npos) break;
    parts.remove_prefix(slash + 1);
  }
  return {};
}

}  // namespace

Result<double> cvss4_score(std::string_view vector) {
  auto bad = [&](std::string_view why) { return invalid_input(fmt::format("CVSS vector '{}': {}", vector, why)); };
  constexpr std::string_view kPrefix = "CVSS:4.0/";
  if (vector.size() > 512) return invalid_input("CVSS v4.0 vector: longer than 512 characters");
  if (!vector.starts_with(kPrefix)) return bad("does not start with CVSS:4.0/");
  std::string_view values[kMetricCount];
  std::string_view rest = vector.substr(kPrefix.size());
  size_t last = 0;
  bool any = false;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == part.size())
      return bad(fmt::format("'{}' is not METRIC:VALUE", part));
    std::string_view key = part.substr(0, colon), value = part.substr(colon + 1);
    size_t i = metric_index(key);
    if (i == kMetricCount) return bad(fmt::format("unknown metric {}", key));
    if (!values[i].empty()) return bad(fmt::format("metric {} given twice", key));
    if (any && i < last) return bad(fmt::format("metric {} out of the specified order", key));
    bool allowed = false;
    for (const char* v : kMetrics[i].values) allowed = allowed || value == v;
    if (!allowed) return bad(fmt::format("{}:{} is not a valid value", key, value));
    values[i] = value;
    last = i;
    any = true;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  for (size_t i = 0; i < kBaseMetrics; ++i)
    if (values[i].empty()) return bad(fmt::format("base metric {} missing", kMetrics[i].key));

  auto raw = [&](std::string_view key) -> std::string_view {
    std::string_view v = values[metric_index(key)];
    return v.empty() ? "X" : v;
  };
  // The value that counts: a Modified metric overrides its base metric; undefined (X) threat
  // and security requirement metrics count as their most severe value.
  auto m = [&](std::string_view key) -> std::string_view {
    if (key == "E" && raw(key) == "X") return "A";
    if ((key == "CR" || key == "IR" || key == "AR") && raw(key) == "X") return "H";
    std::string modified = "M" + std::string(key);
    if (metric_index(modified) != kMetricCount && raw(modified) != "X") return raw(modified);
    return raw(key);
  };

  bool no_impact = true;
  for (const char* k : {"VC", "VI", "VA", "SC", "SI", "SA"}) no_impact = no_impact && m(k) == "N";
  if (no_impact) return 0.0;

  // Equivalence classes (specification, "Equivalence Sets").
  int eq1, eq2, eq3, eq4, eq5, eq6;
  bool av_n = m("AV") == "N", pr_n = m("PR") == "N", ui_n = m("UI") == "N";
  if (av_n && pr_n && ui_n) eq1 = 0;
  else if ((av_n || pr_n || ui_n) && m("AV") != "P") eq1 = 1;
  else eq1 = 2;
  eq2 = (m("AC") == "L" && m("AT") == "N") ? 0 : 1;
  bool vc_h = m("VC") == "H", vi_h = m("VI") == "H", va_h = m("VA") == "H";
  if (vc_h && vi_h) eq3 = 0;
  else if (vc_h || vi_h || va_h) eq3 = 1;
  else eq3 = 2;
  if (m("MSI") == "S" || m("MSA") == "S") eq4 = 0;
  else if (m("SC") == "H" || m("SI") == "H" || m("SA") == "H") eq4 = 1;
  else eq4 = 2;
  eq5 = m("E") == "A" ? 0 : m("E") == "P" ? 1 : 2;
  eq6 = ((m("CR") == "H" && vc_h) || (m("IR") == "H" && vi_h) || (m("AR") == "H" && va_h)) ? 0 : 1;

  auto value = macro_score(eq1, eq2, eq3, eq4, eq5, eq6);
  if (!value) return internal_error(fmt::format("CVSS v4.0: no score for MacroVector {}{}{}{}{}{}", eq1, eq2, eq3, eq4, eq5, eq6));

  // The scores of the next lower MacroVector along each equivalence class, where one exists.
  auto lower_eq1 = macro_score(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
  auto lower_eq2 = macro_score(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
  std::optional<double> lower_eq3eq6;
  if (eq3 == 0 && eq6 == 0) {
    auto left = macro_score(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
    auto right = macro_score(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
    if (left && right) lower_eq3eq6 = std::max(*left, *right);
  } else if (eq3 == 1 && eq6 == 0) {
    lower_eq3eq6 = macro_score(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
  } else if (eq6 == 1 && eq3 < 2) {
    lower_eq3eq6 = macro_score(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
  }
  auto lower_eq4 = macro_score(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
  auto lower_eq5 = macro_score(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

  // The severity distance from the first most-severe vector of the MacroVector that is at
  // least as severe as this one in every metric.
  static const EqMaxes kMaxes;
  static const char* const kDistanceMetrics[] = {"AV", "PR", "UI", "AC", "AT", "VC", "VI",
                                                 "VA", "SC", "SI", "SA", "CR", "IR", "AR"};
  double dist[std::size(kDistanceMetrics)] = {};
  bool found = false;
  for (const char* m1 : kMaxes.eq1[eq1]) {
    for (const char* m2 : kMaxes.eq2[eq2]) {
      for (const char* m3 : kMaxes.eq3eq6[eq3][eq6]) {
        for (const char* m4 : kMaxes.eq4[eq4]) {
          std::string max = fmt::format("{}/{}/{}/{}", m1, m2, m3, m4);
          bool all = true;
          for (size_t i = 0; i < std::size(kDistanceMetrics); ++i) {
            std::string_view k = kDistanceMetrics[i];
            dist[i] = level(k, m(k)) - level(k, value_in(max, k));
            all = all && dist[i] >= 0;
          }
          if (all) {
            found = true;
            break;
          }
        }
        if (found) break;
      }
      if (found) break;
    }
    if (found) break;
  }
  double d_eq1 = dist[0] + dist[1] + dist[2];
  double d_eq2 = dist[3] + dist[4];
  double d_eq3eq6 = dist[5] + dist[6] + dist[7] + dist[11] + dist[12] + dist[13];
  double d_eq4 = dist[8] + dist[9] + dist[10];

  constexpr double kStep = 0.1;
  int n = 0;
  double sum = 0;
  auto add = [&](const std::optional<double>& lower, double distance, int depth) {
    if (!lower) return;
    ++n;
    double available = *value - *lower;
    sum += available * (distance / (depth * kStep));
  };
  add(lower_eq1, d_eq1, kDepthEq1[eq1]);
  add(lower_eq2, d_eq2, kDepthEq2[eq2]);
  add(lower_eq3eq6, d_eq3eq6, kDepthEq3Eq6[eq3][eq6]);
  add(lower_eq4, d_eq4, kDepthEq4[eq4]);
  if (lower_eq5) ++n;  // EQ5 has no distance within its MacroVector
  double mean = n == 0 ? 0.0 : sum / n;
  double score = std::max(0.0, std::min(10.0, *value - mean));
  // One decimal, with the small epsilon FIRST's calculator adds so that 4.25 rounds to 4.3.
  return std::floor((score + 1e-6) * 10.0 + 0.5) / 10.0;
}

}  // namespace vouch::vuln
