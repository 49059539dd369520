// Matching (Kyverno's match/exclude): resource descriptions, user info, label selectors.
#include "engine_internal.h"

#include <re2/re2.h>

#include <algorithm>

#include <fmt/format.h>

#include "kyverno_internal.h"

namespace vouch::policy {
namespace kv = jmespath::kyverno;

namespace engine_internal {

// ---------------------------------------------------------------- matching

bool wildcard_any(const std::vector<std::string>& patterns, const std::string& value) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return kv::wildcard(p, value); });
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(sep, start);
    parts.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// Kyverno's ParseKindSelector + CheckKind: "Kind", "version/Kind", "Kind/subresource",
// "*/subresource", "version/Kind/subresource", "group/version/Kind[/subresource]"; a selector
// without a subresource matches only the resource itself.
bool kind_matches(const std::string& selector, const std::string& api_version, const std::string& kind,
                  const std::string& subresource) {
  std::vector<std::string> parts = split(selector, '/');
  {
    // The last part may itself be dotted ("Kind.subresource" forms), as Kyverno splits it.
    std::string last = parts.back();
    parts.pop_back();
    for (auto& p : split(last, '.')) parts.push_back(std::move(p));
  }
  static const RE2 kVersion(R"(^(v\d+((alpha|beta)\d+)?|\*)$)");
  std::string group = "*", version = "*", k, sub;
  auto lower = [](std::string x) {
    for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return x;
  };
  switch (parts.size()) {
    case 1: k = parts[0]; break;
    case 2:
      if (parts[0] == "*" && parts[1] == "*") k = "*", sub = "*";
      else if (parts[0] == "*" && lower(parts[1]) == parts[1]) k = "*", sub = parts[1];
      else if (RE2::FullMatch(parts[0], kVersion)) version = parts[0], k = parts[1];
      else k = parts[0], sub = parts[1];
      break;
    case 3:
      if (RE2::FullMatch(parts[0], kVersion)) version = parts[0], k = parts[1], sub = parts[2];
      else group = parts[0], version = parts[1], k = parts[2];
      break;
    case 4: group = parts[0], version = parts[1], k = parts[2], sub = parts[3]; break;
    default: return false;
  }
  std::string rg, rv;
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) rv = api_version;
  else rg = api_version.substr(0, slash), rv = api_version.substr(slash + 1);
  if (group == "core") group = "";
  if (!kv::wildcard(group, rg) || !kv::wildcard(version, rv) || !kv::wildcard(k, kind)) return false;
  if (kv::wildcard(sub, subresource)) return true;
  // Ephemeral containers are updated through a Pod subresource that Pod rules still see.
  return kind == "Pod" && rv == "v1" && rg.empty() && subresource == "ephemeralcontainers";
}

bool selector_matches(const LabelSelector& s, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : s.match_labels) {
    bool found = false;
    for (const auto& [lk, lv] : labels) {
      if (kv::wildcard(k, lk) && kv::wildcard(v, lv)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const auto& e : s.match_expressions) {
    auto it = labels.find(e.key);
    bool has = it != labels.end();
    bool in = has && std::find(e.values.begin(), e.values.end(), it->second) != e.values.end();
    if (e.op == "In" && !in) return false;
    if (e.op == "NotIn" && in) return false;
    if (e.op == "Exists" && !has) return false;
    if (e.op == "DoesNotExist" && has) return false;
  }
  return true;
}

std::map<std::string, std::string> string_map(const bj::object* o) {
  std::map<std::string, std::string> out;
  if (!o) return out;
  for (const auto& kv : *o) {
    if (kv.value().is_string()) out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return out;
}

bool description_matches(const ResourceDescription& d, const MatchInput& in) {
  if (!d.kinds.empty()) {
    bool any = std::any_of(d.kinds.begin(), d.kinds.end(),
                           [&](const std::string& k) {
                             // A subresource (values' subresources) is matched as its parent's.
                             if (in.request && !in.request->parent_kind.empty())
                               return kind_matches(k, in.request->parent_api_version, in.request->parent_kind,
                                                   in.request->subresource);
                             return kind_matches(k, in.ref.api_version, in.ref.kind, "");
                           });
    if (!any) return false;
  }
  if (!d.names.empty() && !wildcard_any(d.names, in.ref.name)) return false;
  if (!d.namespaces.empty()) {
    std::string ns = in.ref.kind == "Namespace" ? in.ref.name : in.ref.ns;
    if (!wildcard_any(d.namespaces, ns)) return false;
  }
  if (!d.operations.empty() &&
      std::find(d.operations.begin(), d.operations.end(), in.operation) == d.operations.end())
    return false;
  if (!d.annotations.empty()) {
    auto ann = string_map(obj_at(*in.resource, {"metadata", "annotations"}));
    for (const auto& [k, v] : d.annotations) {
      bool found = false;
      for (const auto& [ak, av] : ann) {
        if (kv::wildcard(k, ak) && kv::wildcard(v, av)) found = true;
      }
      if (!found) return false;
    }
  }
  if (d.selector) {
    if (!selector_matches(*d.selector, string_map(obj_at(*in.resource, {"metadata", "labels"})))) return false;
  }
  if (d.namespace_selector) {
    std::string ns = in.ref.kind == "Namespace" ? in.ref.name : in.ref.ns;
    std::map<std::string, std::string> labels;
    if (in.ref.kind == "Namespace") {
      labels = string_map(obj_at(*in.resource, {"metadata", "labels"}));
    } else {
      auto it = in.request->namespace_labels.find(ns);
      if (it == in.request->namespace_labels.end()) return false;
      labels = it->second;
    }
    if (!selector_matches(*d.namespace_selector, labels)) return false;
  }
  return true;
}

bool user_matches(const ResourceFilter& f, const MatchInput& in) {
  const UserInfo& u = in.request->user;
  // Without admission information (a resource applied offline with no user info), Kyverno
  // ignores the user conditions.
  if (u.username.empty() && u.groups.empty() && u.roles.empty() && u.cluster_roles.empty()) return true;
  if (!f.roles.empty()) {
    bool any = std::any_of(u.roles.begin(), u.roles.end(), [&](const std::string& r) { return wildcard_any(f.roles, r); });
    if (!any) return false;
  }
  if (!f.cluster_roles.empty()) {
    bool any = std::any_of(u.cluster_roles.begin(), u.cluster_roles.end(),
                           [&](const std::string& r) { return wildcard_any(f.cluster_roles, r); });
    if (!any) return false;
  }
  if (!f.subjects.empty()) {
    bool any = false;
    for (const auto& s : f.subjects) {
      if (s.kind == "ServiceAccount") {
        any = any || u.username == fmt::format("system:serviceaccount:{}:{}", s.ns, s.name);
      } else if (s.kind == "Group") {
        any = any || std::any_of(u.groups.begin(), u.groups.end(), [&](const std::string& g) { return kv::wildcard(s.name, g); });
      } else {
        any = any || kv::wildcard(s.name, u.username);
      }
    }
    if (!any) return false;
  }
  return true;
}

bool filter_matches(const ResourceFilter& f, const MatchInput& in) {
  bool has_user = !f.roles.empty() || !f.cluster_roles.empty() || !f.subjects.empty();
  if (f.resources.empty() && !has_user) return false;
  return description_matches(f.resources, in) && user_matches(f, in);
}

bool match_resources(const MatchResources& m, const MatchInput& in) {
  if (!m.any.empty()) {
    if (!std::any_of(m.any.begin(), m.any.end(), [&](const ResourceFilter& f) { return filter_matches(f, in); }))
      return false;
  }
  if (!m.all.empty()) {
    if (!std::all_of(m.all.begin(), m.all.end(), [&](const ResourceFilter& f) { return filter_matches(f, in); }))
      return false;
  }
  return !m.empty();
}

bool rule_matches(const Rule& r, const MatchInput& in) {
  if (!match_resources(r.match, in)) return false;
  if (!r.exclude.empty() && match_resources(r.exclude, in)) return false;
  return true;
}

}  // namespace engine_internal

}  // namespace vouch::policy
