#include "vouch/vuln/osv.h"

#include <fmt/format.h>

#include "vouch/base/json.h"

namespace vouch::vuln {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxListEntries = 100000;

Result<std::vector<std::string>> string_list(const json::Node& parent, std::string_view key) {
  std::vector<std::string> out;
  auto node = parent.find(key);
  if (!node) return out;
  VOUCH_ASSIGN_OR_RETURN(auto items, node->array());
  if (items.size() > kMaxListEntries) return node->error("too many entries");
  for (const auto& item : items) {
    VOUCH_ASSIGN_OR_RETURN(std::string s, item.string());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> optional_string(const json::Node& parent, std::string_view key) {
  auto node = parent.find(key);
  if (!node) return std::string();
  return node->string();
}

Result<std::vector<OsvSeverity>> severities(const json::Node& parent) {
  std::vector<OsvSeverity> out;
  auto node = parent.find("severity");
  if (!node) return out;
  VOUCH_ASSIGN_OR_RETURN(auto items, node->array());
  for (const auto& item : items) {
    OsvSeverity s;
    VOUCH_ASSIGN_OR_RETURN(s.type, item.get_string("type"));
    VOUCH_ASSIGN_OR_RETURN(s.score, item.get_string("score"));
    out.push_back(std::move(s));
  }
  return out;
}

bool is_commit(std::string_view v) {
  if (v == "0") return true;
  if (v.size() != 40 && v.size() != 64) return false;
  for (char c : v)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<OsvRange> parse_range(const json::Node& node, std::vector<std::string>& warnings) {
  OsvRange r;
  VOUCH_ASSIGN_OR_RETURN(r.type, node.get_string("type"));
  VOUCH_ASSIGN_OR_RETURN(r.repo, optional_string(node, "repo"));
  if (r.type != "ECOSYSTEM" && r.type != "SEMVER" && r.type != "GIT")
    warnings.push_back(fmt::format("{}.type: unknown range type '{}'", node.path(), r.type));
  VOUCH_ASSIGN_OR_RETURN(json::Node events, node.get("events"));
  VOUCH_ASSIGN_OR_RETURN(auto items, events.array());
  if (items.size() > kMaxListEntries) return events.error("too many events");
  for (const auto& ev : items) {
    if (!ev.is_object() || ev.raw().get_object().size() != 1)
      return ev.error("an event has exactly one of introduced, fixed, last_affected, limit");
    const auto& member = *ev.raw().get_object().begin();
    OsvEvent e;
    std::string_view key = member.key();
    if (key == "introduced") e.kind = EventKind::kIntroduced;
    else if (key == "fixed") e.kind = EventKind::kFixed;
    else if (key == "last_affected") e.kind = EventKind::kLastAffected;
    else if (key == "limit") e.kind = EventKind::kLimit;
    else return ev.error(fmt::format("unknown event '{}'", key));
    VOUCH_ASSIGN_OR_RETURN(auto value_node, ev.get(key));
    VOUCH_ASSIGN_OR_RETURN(e.value, value_node.string());
    if (r.type == "GIT" && !is_commit(e.value))
      warnings.push_back(fmt::format("{}: '{}' is not a commit hash", value_node.path(), e.value));
    r.events.push_back(std::move(e));
  }
  return r;
}

Result<OsvAffected> parse_affected(const json::Node& node, std::vector<std::string>& warnings) {
  OsvAffected a;
  if (auto pkg = node.find("package")) {
    VOUCH_ASSIGN_OR_RETURN(a.ecosystem, pkg->get_string("ecosystem"));
    VOUCH_ASSIGN_OR_RETURN(a.name, pkg->get_string("name"));
    VOUCH_ASSIGN_OR_RETURN(a.purl, optional_string(*pkg, "purl"));
  }
  if (auto ranges = node.find("ranges")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, ranges->array());
    for (const auto& item : items) {
      VOUCH_ASSIGN_OR_RETURN(OsvRange r, parse_range(item, warnings));
      a.ranges.push_back(std::move(r));
    }
  }
  VOUCH_ASSIGN_OR_RETURN(a.versions, string_list(node, "versions"));
  VOUCH_ASSIGN_OR_RETURN(a.severity, severities(node));
  if (auto db = node.find("database_specific"); db && db->is_object()) {
    if (auto info = db->find("informational"); info && info->is_string()) a.informational = *info->string();
  }
  return a;
}

}  // namespace

Result<OsvRecord> parse_osv(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(text, {kMaxOsvRecordBytes, 64}));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("expected an object");
  OsvRecord r;
  VOUCH_ASSIGN_OR_RETURN(r.id, root.get_string("id"));
  if (r.id.empty() || r.id.size() > 256) return invalid_input("id: empty or too long");
  auto with_id = [&](Error e) { return std::move(e.context(r.id)); };
  auto modified = root.get_string("modified");
  if (!modified.ok()) return with_id(std::move(modified).error());
  r.modified = *modified;
  auto t = parse_rfc3339(r.modified);
  if (!t.ok()) return with_id(invalid_input(fmt::format("modified: '{}' is not an RFC 3339 time", r.modified)));
  r.modified_unix = *t;
  auto rest = [&]() -> Status {
    VOUCH_ASSIGN_OR_RETURN(r.published, optional_string(root, "published"));
    if (auto w = root.find("withdrawn")) {
      VOUCH_ASSIGN_OR_RETURN(std::string ws, w->string());
      r.withdrawn = ws;
    }
    VOUCH_ASSIGN_OR_RETURN(r.aliases, string_list(root, "aliases"));
    VOUCH_ASSIGN_OR_RETURN(r.related, string_list(root, "related"));
    VOUCH_ASSIGN_OR_RETURN(r.upstream, string_list(root, "upstream"));
    VOUCH_ASSIGN_OR_RETURN(r.summary, optional_string(root, "summary"));
    VOUCH_ASSIGN_OR_RETURN(r.details, optional_string(root, "details"));
    VOUCH_ASSIGN_OR_RETURN(r.severity, severities(root));
    if (auto db = root.find("database_specific"); db && db->is_object()) {
      if (auto sev = db->find("severity"); sev && sev->is_string()) r.database_severity = *sev->string();
    }
    if (auto affected = root.find("affected")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, affected->array());
      if (items.size() > kMaxListEntries) return affected->error("too many entries");
      for (const auto& item : items) {
        VOUCH_ASSIGN_OR_RETURN(OsvAffected a, parse_affected(item, r.warnings));
        r.affected.push_back(std::move(a));
      }
    }
    if (auto refs = root.find("references")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, refs->array());
      for (const auto& item : items) {
        VOUCH_ASSIGN_OR_RETURN(std::string url, item.get_string("url"));
        r.references.push_back(std::move(url));
      }
    }
    return ok_status();
  };
  Status s = rest();
  if (!s.ok()) return with_id(std::move(s).error());
  return r;
}

namespace {
bj::array to_array(const std::vector<std::string>& v) {
  bj::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}
bj::array severity_array(const std::vector<OsvSeverity>& v) {
  bj::array a;
  for (const auto& s : v) a.push_back(bj::object{{"type", s.type}, {"score", s.score}});
  return a;
}
const char* event_key(EventKind k) {
  switch (k) {
    case EventKind::kIntroduced: return "introduced";
    case EventKind::kFixed: return "fixed";
    case EventKind::kLastAffected: return "last_affected";
    case EventKind::kLimit: return "limit";
  }
  return "introduced";
}
}  // namespace

std::string serialize_osv_compact(const OsvRecord& r) {
  bj::object o;
  o["id"] = r.id;
  o["modified"] = r.modified;
  if (!r.published.empty()) o["published"] = r.published;
  if (r.withdrawn) o["withdrawn"] = *r.withdrawn;
  if (!r.aliases.empty()) o["aliases"] = to_array(r.aliases);
  if (!r.upstream.empty()) o["upstream"] = to_array(r.upstream);
  if (!r.summary.empty()) o["summary"] = r.summary;
  if (!r.severity.empty()) o["severity"] = severity_array(r.severity);
  if (!r.database_severity.empty()) o["database_specific"] = bj::object{{"severity", r.database_severity}};
  bj::array affected;
  for (const auto& a : r.affected) {
    bj::object ao;
    bj::object pkg{{"ecosystem", a.ecosystem}, {"name", a.name}};
    if (!a.purl.empty()) pkg["purl"] = a.purl;
    ao["package"] = std::move(pkg);
    bj::array ranges;
    for (const auto& rg : a.ranges) {
      bj::object ro{{"type", rg.type}};
      if (!rg.repo.empty()) ro["repo"] = rg.repo;
      bj::array events;
      for (const auto& e : rg.events) events.push_back(bj::object{{event_key(e.kind), e.value}});
      ro["events"] = std::move(events);
      ranges.push_back(std::move(ro));
    }
    if (!ranges.empty()) ao["ranges"] = std::move(ranges);
    if (!a.versions.empty()) ao["versions"] = to_array(a.versions);
    if (!a.severity.empty()) ao["severity"] = severity_array(a.severity);
    if (!a.informational.empty()) ao["database_specific"] = bj::object{{"informational", a.informational}};
    affected.push_back(std::move(ao));
  }
  o["affected"] = std::move(affected);
  if (!r.references.empty()) {
    bj::array refs;
    for (const auto& url : r.references) refs.push_back(bj::object{{"url", url}});
    o["references"] = std::move(refs);
  }
  return json::serialize(o);
}

std::string normalize_package_name(std::string_view ecosystem, std::string_view name) {
  std::string out;
  if (ecosystem == "PyPI") {
    bool sep = false;
    for (char c : name) {
      if (c == '-' || c == '_' || c == '.') {
        sep = true;
        continue;
      }
      if (sep && !out.empty()) out += '-';
      sep = false;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  }
  return std::string(name);
}

}  // namespace vouch::vuln
