#include "vouch/vuln/vex.h"

#include <algorithm>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/sbom/purl.h"

namespace vouch::vuln {
namespace {

Result<std::string> id_of(const json::Node& n) {
  if (n.is_string()) return n.string();
  return n.get_string("@id");
}

Result<std::string> optional_string(const json::Node& n, std::string_view key) {
  auto f = n.find(key);
  if (!f) return std::string();
  return f->string();
}

// Two purls name the same package when type, namespace, name and version agree and every
// qualifier the statement gives is the package's too.
bool purl_matches(std::string_view statement, std::string_view package) {
  if (statement == package) return true;
  auto a = sbom::parse_purl(statement);
  auto b = sbom::parse_purl(package);
  if (!a.ok() || !b.ok()) return false;
  if (a->type != b->type || a->namespace_ != b->namespace_ || a->name != b->name) return false;
  if (!a->version.empty() && a->version != b->version) return false;
  for (const auto& [k, v] : a->qualifiers)
    if (b->qualifier(k) != v) return false;
  return true;
}

}  // namespace

Result<std::vector<VexStatement>> parse_openvex(std::string_view text, std::string_view source) {
  auto run = [&]() -> Result<std::vector<VexStatement>> {
    VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(text, {64 << 20, 64}));
    json::Node root = json::Node::root(doc);
    if (!root.is_object()) return root.error("expected an object");
    VOUCH_ASSIGN_OR_RETURN(std::string context, root.get_string("@context"));
    if (!context.starts_with("https://openvex.dev/ns"))
      return invalid_input(fmt::format("@context: '{}' is not an OpenVEX context", context));
    VOUCH_ASSIGN_OR_RETURN(std::string doc_id, optional_string(root, "@id"));
    if (doc_id.empty()) doc_id = std::string(source);
    VOUCH_ASSIGN_OR_RETURN(json::Node statements, root.get("statements"));
    VOUCH_ASSIGN_OR_RETURN(auto items, statements.array());
    std::vector<VexStatement> out;
    for (const auto& item : items) {
      VexStatement s;
      s.document = doc_id;
      VOUCH_ASSIGN_OR_RETURN(json::Node vuln, item.get("vulnerability"));
      if (vuln.is_string()) {
        VOUCH_ASSIGN_OR_RETURN(std::string name, vuln.string());
        s.vulnerability.push_back(name);
      } else {
        VOUCH_ASSIGN_OR_RETURN(std::string name, vuln.get_string("name"));
        s.vulnerability.push_back(name);
        if (auto aliases = vuln.find("aliases")) {
          VOUCH_ASSIGN_OR_RETURN(auto list, aliases->array());
          for (const auto& a : list) {
            VOUCH_ASSIGN_OR_RETURN(std::string alias, a.string());
            s.vulnerability.push_back(alias);
          }
        }
      }
      if (auto products = item.find("products")) {
        VOUCH_ASSIGN_OR_RETURN(auto list, products->array());
        for (const auto& p : list) {
          VOUCH_ASSIGN_OR_RETURN(std::string id, id_of(p));
          s.products.push_back(id);
          if (p.is_object()) {
            if (auto subs = p.find("subcomponents")) {
              VOUCH_ASSIGN_OR_RETURN(auto sublist, subs->array());
              for (const auto& sc : sublist) {
                VOUCH_ASSIGN_OR_RETURN(std::string sid, id_of(sc));
                s.subcomponents.push_back(sid);
              }
            }
          }
        }
      }
      if (auto subs = item.find("subcomponents")) {  // v0.0.1 puts them on the statement
        VOUCH_ASSIGN_OR_RETURN(auto sublist, subs->array());
        for (const auto& sc : sublist) {
          VOUCH_ASSIGN_OR_RETURN(std::string sid, id_of(sc));
          s.subcomponents.push_back(sid);
        }
      }
      VOUCH_ASSIGN_OR_RETURN(s.status, item.get_string("status"));
      if (s.status != "not_affected" && s.status != "affected" && s.status != "fixed" &&
          s.status != "under_investigation")
        return invalid_input(fmt::format("{}.status: '{}' is not an OpenVEX status", item.path(), s.status));
      VOUCH_ASSIGN_OR_RETURN(s.justification, optional_string(item, "justification"));
      VOUCH_ASSIGN_OR_RETURN(s.impact_statement, optional_string(item, "impact_statement"));
      VOUCH_ASSIGN_OR_RETURN(s.action_statement, optional_string(item, "action_statement"));
      out.push_back(std::move(s));
    }
    return out;
  };
  auto r = run();
  if (!r.ok()) return std::move(r).error().context(source);
  return r;
}

void apply_vex(const std::vector<VexStatement>& statements, std::string_view subject, MatchReport& report) {
  std::vector<Finding> kept;
  for (auto& f : report.vulnerabilities) {
    const VexStatement* last = nullptr;
    for (const auto& s : statements) {
      bool names_vuln = false;
      for (const auto& v : s.vulnerability)
        names_vuln = names_vuln || v == f.id || std::find(f.aliases.begin(), f.aliases.end(), v) != f.aliases.end();
      if (!names_vuln) continue;
      bool names_package = false;
      for (const auto& sc : s.subcomponents) names_package = names_package || purl_matches(sc, f.package.purl);
      for (const auto& p : s.products) {
        if (purl_matches(p, f.package.purl)) names_package = true;
        if (s.subcomponents.empty() && !subject.empty() && p == subject) names_package = true;
      }
      if (names_package) last = &s;  // later statements supersede earlier ones
    }
    if (last && (last->status == "not_affected" || last->status == "fixed")) {
      f.vex_status = last->status;
      f.vex_justification = last->justification;
      std::string why = !last->impact_statement.empty() ? last->impact_statement : last->action_statement;
      f.vex_statement = why.empty() ? last->document : fmt::format("{} ({})", why, last->document);
      report.suppressed.push_back(std::move(f));
    } else {
      kept.push_back(std::move(f));
    }
  }
  report.vulnerabilities = std::move(kept);
}

}  // namespace vouch::vuln
