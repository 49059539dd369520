// The policy engine (Kyverno's pkg/engine): match/exclude, context, variables, preconditions,
// validate and verifyImages.
#include "vouch/policy/engine.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "kyverno_internal.h"
#include "vouch/policy/pattern.h"
#include "vouch/base/json.h"

namespace vouch::policy {

namespace kv = jmespath::kyverno;

namespace {

constexpr size_t kMaxSubstitutions = 10000;
constexpr size_t kMaxContextNodes = 200000;           // per context value: variables cannot double the context unboundedly
constexpr size_t kMaxSubstitutedBytes = 1 << 20;
constexpr size_t kMaxContextTotal = 1000000;        // the whole context      // a string after variable substitution
constexpr unsigned kMaxDepth = 128;

const std::set<std::string, std::less<>> kClusterScoped = {
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ClusterPolicy", "APIService", "CSIDriver", "CSINode", "IngressClass", "RuntimeClass", "VolumeAttachment",
    "PodSecurityPolicy", "ClusterPolicyReport", "CertificateSigningRequest", "ComponentStatus",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ClusterCleanupPolicy"};

std::string str_at(const bj::value& v, std::initializer_list<std::string_view> path) {
  const bj::value* cur = &v;
  for (auto k : path) {
    if (!cur->is_object()) return "";
    cur = cur->get_object().if_contains(k);
    if (!cur) return "";
  }
  return cur->is_string() ? std::string(cur->get_string()) : "";
}

const bj::object* obj_at(const bj::value& v, std::initializer_list<std::string_view> path) {
  const bj::value* cur = &v;
  for (auto k : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->get_object().if_contains(k);
    if (!cur) return nullptr;
  }
  return cur->is_object() ? &cur->get_object() : nullptr;
}

// fmt.Sprint of a JSON value as Go prints interface{} values.
std::string go_sprint(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    auto t = jmespath::to_json_text(v);
    return t.ok() ? *t : "";
  }
  if (v.is_null()) return "<nil>";
  auto t = jmespath::to_json_text(v);
  return t.ok() ? *t : "";
}

// ---------------------------------------------------------------- images

struct ImageInfo {
  std::string registry, name, path, tag, digest, reference, reference_with_tag;
};

std::optional<ImageInfo> parse_image(const std::string& image) {
  if (image.empty()) return std::nullopt;
  ImageInfo i;
  std::string rest = image;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    i.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  size_t slash = rest.find('/');
  std::string first = slash == std::string::npos ? "" : rest.substr(0, slash);
  if (slash != std::string::npos && (first.find_first_of(".:") != std::string::npos || first == "localhost")) {
    i.registry = first;
    rest = rest.substr(slash + 1);
  } else {
    i.registry = "docker.io";
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    i.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (i.tag.empty() && i.digest.empty()) i.tag = "latest";
  i.path = rest;
  size_t last = rest.rfind('/');
  i.name = last == std::string::npos ? rest : rest.substr(last + 1);
  std::string base = i.registry + "/" + i.path;
  i.reference_with_tag = i.tag.empty() ? "" : base + ":" + i.tag;
  i.reference = !i.digest.empty() ? base + "@" + i.digest : base + ":" + i.tag;
  return i;
}

bj::object image_json(const ImageInfo& i) {
  return bj::object{{"registry", i.registry}, {"name", i.name},           {"path", i.path},
                    {"tag", i.tag},           {"digest", i.digest},       {"reference", i.reference},
                    {"referenceWithTag", i.reference_with_tag}};
}

// The Pod spec of a Pod or a Pod controller.
// The pod spec of a Pod or a Pod controller, and its JSON pointer in the resource.
std::pair<const bj::object*, std::string> pod_spec_at(const bj::value& resource) {
  std::string kind = str_at(resource, {"kind"});
  if (kind == "Pod") return {obj_at(resource, {"spec"}), "/spec"};
  if (kind == "CronJob")
    return {obj_at(resource, {"spec", "jobTemplate", "spec", "template", "spec"}), "/spec/jobTemplate/spec/template/spec"};
  return {obj_at(resource, {"spec", "template", "spec"}), "/spec/template/spec"};
}

struct ContainerImage {
  std::string group;  // containers, initContainers, ephemeralContainers
  std::string container;
  std::string image;
  std::string pointer;  // JSON pointer of the image field ("/spec/containers/0/image")
};

std::vector<ContainerImage> container_images(const bj::value& resource) {
  std::vector<ContainerImage> out;
  auto [spec, spec_pointer] = pod_spec_at(resource);
  if (!spec) return out;
  for (const char* group : {"initContainers", "containers", "ephemeralContainers"}) {
    auto* list = spec->if_contains(group);
    if (!list || !list->is_array()) continue;
    size_t index = 0;
    for (const auto& c : list->get_array()) {
      std::string image = str_at(c, {"image"});
      if (!image.empty())
        out.push_back({group, str_at(c, {"name"}), image, fmt::format("{}/{}/{}/image", spec_pointer, group, index)});
      ++index;
    }
  }
  return out;
}

bj::object images_variable(const bj::value& resource) {
  bj::object images;
  for (const auto& ci : container_images(resource)) {
    auto info = parse_image(ci.image);
    if (!info) continue;
    auto& group = images[ci.group];
    if (!group.is_object()) group = bj::object();
    group.get_object()[ci.container] = image_json(*info);
  }
  return images;
}

// A dotted variable name, with JMESPath-quoted segments: request.object.metadata.labels."app.kubernetes.io/name".
std::vector<std::string> split_dotted(const std::string& name) {
  std::vector<std::string> parts;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '\\' && quoted && i + 1 < name.size()) {
      cur.push_back(name[++i]);
    } else if (c == '.' && !quoted) {
      parts.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(std::move(cur));
  return parts;
}

void set_dotted(bj::object& root, const std::string& name, const bj::value& value) {
  auto parts = split_dotted(name);
  bj::object* cur = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    bj::value& next = (*cur)[parts[i]];
    if (!next.is_object()) next = bj::object();
    cur = &next.get_object();
  }
  (*cur)[parts.back()] = value;
}

// ---------------------------------------------------------------- matching

bool wildcard_any(const std::vector<std::string>& patterns, const std::string& value) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return kv::wildcard(p, value); });
}

bool kind_matches(const std::string& selector, const std::string& api_version, const std::string& kind) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = selector.find('/', start);
    parts.push_back(selector.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string group = "*", version = "*", k, sub;
  if (parts.size() == 1) k = parts[0];
  else if (parts.size() == 2) version = parts[0], k = parts[1];
  else if (parts.size() == 3) group = parts[0], version = parts[1], k = parts[2];
  else group = parts[0], version = parts[1], k = parts[2], sub = parts[3];
  if (!sub.empty() && sub != "*") return false;  // subresources are not applied offline
  std::string rg, rv;
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) rv = api_version;
  else rg = api_version.substr(0, slash), rv = api_version.substr(slash + 1);
  if (group == "core") group = "";
  return kv::wildcard(group, rg) && kv::wildcard(version, rv) && kv::wildcard(k, kind);
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

struct MatchInput {
  const bj::value* resource;
  ResourceRef ref;
  const Request* request;
  std::string operation;
};

bool description_matches(const ResourceDescription& d, const MatchInput& in) {
  if (!d.kinds.empty()) {
    bool any = std::any_of(d.kinds.begin(), d.kinds.end(),
                           [&](const std::string& k) { return kind_matches(k, in.ref.api_version, in.ref.kind); });
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

}  // namespace

std::string_view rule_status_name(RuleStatus s) {
  switch (s) {
    case RuleStatus::kPass: return "pass";
    case RuleStatus::kFail: return "fail";
    case RuleStatus::kWarn: return "warn";
    case RuleStatus::kError: return "error";
    case RuleStatus::kSkip: return "skip";
  }
  return "error";
}

ResourceRef resource_ref(const bj::value& resource) {
  ResourceRef r;
  r.api_version = str_at(resource, {"apiVersion"});
  r.kind = str_at(resource, {"kind"});
  r.name = str_at(resource, {"metadata", "name"});
  if (r.name.empty()) r.name = str_at(resource, {"metadata", "generateName"});
  r.ns = str_at(resource, {"metadata", "namespace"});
  if (kClusterScoped.count(r.kind)) r.ns.clear();
  else if (r.ns.empty()) r.ns = "default";
  return r;
}

// ---------------------------------------------------------------- evaluation

// Counts the nodes of a value, stopping once past `limit`.
size_t count_nodes(const bj::value& v, size_t limit, size_t seen = 0) {
  ++seen;
  if (seen > limit) return seen;
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      seen = count_nodes(e, limit, seen);
      if (seen > limit) return seen;
    }
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      seen = count_nodes(kv.value(), limit, seen);
      if (seen > limit) return seen;
    }
  } else if (v.is_string()) {
    seen += v.get_string().size() / 64;
  }
  return seen;
}

struct EvalContext {
  const Engine& engine;
  bj::value data;  // an object; kept as a value so that queries read it in place
  bj::object& obj() { return data.as_object(); }
  bool is_delete = false;
  size_t substitutions = 0;

  // ctx.Query: JMESPath over the context. A plain field path that names a missing key is
  // an error ("Unknown key"), as in Kyverno's JMESPath.
  Result<bj::value> query(const std::string& raw) {
    std::string expr = raw;
    if (is_delete) {  // variables of a DELETE request read the old object
      size_t p = 0;
      while ((p = expr.find("request.object", p)) != std::string::npos) {
        expr.replace(p, 14, "request.oldObject");
        p += 17;
      }
    }
    while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.back()))) expr.pop_back();
    while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.front()))) expr.erase(expr.begin());
    if (expr.empty()) return invalid_input("invalid query (nil)");
    VOUCH_ASSIGN_OR_RETURN(auto compiled, engine.compile(expr));
    const bj::value& root = data;
    auto result = compiled->search(root);
    if (!result.ok()) return invalid_input(fmt::format("JMESPath query failed: {}", result.error().message));
    if (result->is_null()) {
      static const RE2 kPath(R"(^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$)");
      if (RE2::FullMatch(expr, kPath)) {
        const bj::value* cur = &root;
        size_t start = 0;
        while (true) {
          size_t dot = expr.find('.', start);
          std::string key = expr.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
          if (!cur->is_object()) break;
          auto* next = cur->get_object().if_contains(key);
          if (!next) return not_found(fmt::format("Unknown key \"{}\" in path", key));
          cur = next;
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
      }
    }
    return result;
  }

  Result<bj::value> substitute_string(const std::string& s, const std::string& path) {
    static const RE2 kVar(R"((^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\}))");
    std::string value = s;
    for (int round = 0; round < 100; ++round) {
      re2::StringPiece input(value);
      std::string pre, var;
      if (!RE2::PartialMatch(input, kVar, &pre, &var)) break;
      if (++substitutions > kMaxSubstitutions) return invalid_input("too many variable substitutions");
      std::string inner = var.substr(2, var.size() - 4);
      while (!inner.empty() && std::isspace(static_cast<unsigned char>(inner.front()))) inner.erase(inner.begin());
      while (!inner.empty() && std::isspace(static_cast<unsigned char>(inner.back()))) inner.pop_back();
      bool shallow = false;
      if (!inner.empty() && inner[0] == '-') {
        shallow = true;
        inner.erase(0, 1);
      }
      auto resolved = query(inner);
      if (!resolved.ok()) {
        if (resolved.error().code == ErrorCode::kNotFound) return resolved.error();
        return invalid_input(fmt::format("failed to resolve {} at path {}: {}", inner, path, resolved.error().message));
      }
      if (count_nodes(*resolved, kMaxContextNodes) > kMaxContextNodes)
        return invalid_input(fmt::format("variable {} at path {} is too large", inner, path));
      if (value == var) return resolved;
      std::string text;
      if (resolved->is_string()) text = std::string(resolved->get_string());
      else {
        auto t = jmespath::to_json_text(*resolved);
        if (!t.ok()) return t.error();
        text = *t;
      }
      if (shallow) {
        size_t p = 0;
        while ((p = text.find("{{", p)) != std::string::npos) {
          text.insert(p, "\\");
          p += 3;
        }
      }
      size_t pos = value.find(var);
      if (pos == std::string::npos) break;
      if (value.size() - var.size() + text.size() > kMaxSubstitutedBytes)
        return invalid_input(fmt::format("variable substitution at path {} makes a string larger than {} bytes", path,
                                         kMaxSubstitutedBytes));
      value.replace(pos, var.size(), text);
      if (shallow) break;
    }
    size_t p = 0;
    while ((p = value.find("\\{{", p)) != std::string::npos) value.erase(p, 1);
    return bj::value(value);
  }

  Result<bj::value> substitute(const bj::value& doc, const std::string& path = "/", unsigned depth = 0) {
    if (depth > kMaxDepth) return invalid_input("document nested too deeply");
    if (doc.is_string()) {
      std::string_view s = doc.get_string();
      if (s.find("{{") == std::string_view::npos) return doc;
      return substitute_string(std::string(s), path);
    }
    if (doc.is_array()) {
      bj::array out;
      size_t i = 0;
      for (const auto& e : doc.get_array()) {
        VOUCH_ASSIGN_OR_RETURN(bj::value v, substitute(e, fmt::format("{}{}/", path, i++), depth + 1));
        out.push_back(std::move(v));
      }
      return bj::value(std::move(out));
    }
    if (doc.is_object()) {
      bj::object out;
      for (const auto& kvp : doc.get_object()) {
        std::string key(kvp.key());
        if (key.find("{{") != std::string::npos) {
          VOUCH_ASSIGN_OR_RETURN(bj::value k, substitute_string(key, path));
          if (k.is_string()) key = std::string(k.get_string());
        }
        VOUCH_ASSIGN_OR_RETURN(bj::value v, substitute(kvp.value(), path + key + "/", depth + 1));
        out[key] = std::move(v);
      }
      return bj::value(std::move(out));
    }
    return doc;
  }

  Status load_context(const std::vector<ContextEntry>& entries, const Request& request) {
    for (const auto& e : entries) {
      // Values supplied from outside take precedence (the CLI's values files).
      if (request.values.count(e.name)) {
        set_dotted(obj(), e.name, request.values.at(e.name));
        continue;
      }
      bool supplied = false;
      for (const auto& [k, v] : request.values) {
        if (k.starts_with(e.name + ".")) {
          set_dotted(obj(), k, v);
          supplied = true;
        }
      }
      if (supplied) continue;
      if (e.kind != "variable") {
        return invalid_input(fmt::format("context entry '{}': {} is not available offline; supply its value in a "
                                         "values file", e.name, e.kind));
      }
      bj::value value;
      if (e.value) {
        VOUCH_ASSIGN_OR_RETURN(value, substitute(*e.value));
      }
      if (!e.jmes_path.empty()) {
        VOUCH_ASSIGN_OR_RETURN(bj::value p, substitute(bj::value(e.jmes_path)));
        std::string expr = p.is_string() ? std::string(p.get_string()) : e.jmes_path;
        if (e.value) {
          VOUCH_ASSIGN_OR_RETURN(auto compiled, engine.compile(expr));
          auto r = compiled->search(value);
          value = r.ok() ? *r : bj::value();
        } else {
          auto r = query(expr);
          value = r.ok() ? *r : bj::value();
        }
      }
      if (value.is_null() && e.default_value) {
        VOUCH_ASSIGN_OR_RETURN(value, substitute(*e.default_value));
      }
      if (count_nodes(value, kMaxContextNodes) > kMaxContextNodes)
        return invalid_input(fmt::format("context entry '{}': value too large", e.name));
      if (value.is_null() && !e.default_value && !e.jmes_path.empty() && !e.value) {
        return invalid_input(fmt::format("context entry '{}': failed to evaluate '{}'", e.name, e.jmes_path));
      }
      set_dotted(obj(), e.name, value);
      if (count_nodes(data, kMaxContextTotal) > kMaxContextTotal)
        return invalid_input(fmt::format("context entry '{}': the context grows too large", e.name));
    }
    return ok_status();
  }
};

namespace {

// ---------------------------------------------------------------- operators

std::optional<double> as_number(const bj::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) return jmespath::to_double(v);
  if (v.is_string()) {
    std::string_view s = v.get_string();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return std::nullopt;
}

std::optional<int64_t> as_duration(const bj::value& v) {
  if (v.is_int64() || v.is_uint64() || v.is_double()) return static_cast<int64_t>(jmespath::to_double(v) * 1e9);
  if (v.is_string()) {
    auto d = kv::parse_go_duration(v.get_string());
    if (d.ok()) return *d;
  }
  return std::nullopt;
}

bool equals(const bj::value& key, const bj::value& value) {
  if (key.is_bool()) return value.is_bool() && value.get_bool() == key.get_bool();
  if (key.is_int64() || key.is_uint64() || key.is_double()) return match_scalar(value, key) ||
                                                                     (as_number(value) && *as_number(value) == jmespath::to_double(key));
  if (key.is_string()) {
    auto dk = kv::parse_go_duration(key.get_string());
    if (dk.ok()) {
      auto dv = as_duration(value);
      if (dv) return *dk == *dv;
    }
    if (value.is_string()) {
      if (auto c = kv::compare_quantities(key.get_string(), value.get_string())) {
        if (*c == 0) return true;
      }
      return kv::wildcard(value.get_string(), key.get_string());
    }
    return false;
  }
  if (key.is_object() || key.is_array()) return jmespath::values_equal(key, value);
  if (key.is_null()) return value.is_null();
  return false;
}

std::vector<std::string> value_list(const bj::value& value, bool& ok) {
  ok = true;
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& v : value.get_array()) out.push_back(go_sprint(v));
    return out;
  }
  if (value.is_string()) {
    auto parsed = json::parse(value.get_string());
    if (parsed.ok() && parsed->is_array()) {
      for (const auto& v : parsed->get_array()) {
        if (!v.is_string()) {
          ok = false;
          return {};
        }
        out.emplace_back(v.get_string());
      }
      return out;
    }
    out.emplace_back(value.get_string());
    return out;
  }
  if (value.is_number() || value.is_bool()) {
    out.push_back(go_sprint(value));
    return out;
  }
  ok = false;
  return out;
}

bool wild_either(const std::string& a, const std::string& b) { return kv::wildcard(a, b) || kv::wildcard(b, a); }

bool in_range(const std::string& key, const bj::value& value) {
  return value.is_string() && match_scalar(bj::value(key), value);
}

bool is_range(const bj::value& value) {
  if (!value.is_string()) return false;
  static const RE2 re(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)!?-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  return RE2::FullMatch(std::string(value.get_string()), re);
}

// AnyIn/AllIn/AnyNotIn/AllNotIn.
bool set_operator(const std::string& op, const bj::value& key, const bj::value& value) {
  std::vector<std::string> keys;
  if (key.is_array()) {
    for (const auto& k : key.get_array()) keys.push_back(go_sprint(k));
  } else if (key.is_string() || key.is_number() || key.is_bool()) {
    keys.push_back(go_sprint(key));
  } else {
    return false;
  }
  bool negate = op == "AnyNotIn" || op == "AllNotIn";
  bool any_mode = op == "AnyIn" || op == "AnyNotIn";
  auto contained = [&](const std::string& k, const std::vector<std::string>& values) {
    if (is_range(value)) {
      std::string r(value.get_string());
      return in_range(k, bj::value(r));
    }
    return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return wild_either(k, v); });
  };
  bool ok = true;
  std::vector<std::string> values = value_list(value, ok);
  if (!ok) return false;
  if (value.is_string() && !is_range(value) && kv::wildcard(std::string(value.get_string()), keys.size() == 1 ? keys[0] : "\x01")) {
    values = {std::string(value.get_string())};
  }
  size_t in = 0;
  for (const auto& k : keys) in += contained(k, values) ? 1 : 0;
  if (any_mode) return negate ? in < keys.size() : in > 0;
  return negate ? in == 0 : in == keys.size();
}

// The deprecated In/NotIn: a key (or every key of a list) among the values.
bool in_operator(const bj::value& key, const bj::value& value) {
  bool ok = true;
  std::vector<std::string> values = value_list(value, ok);
  if (!ok) return false;
  auto has = [&](const std::string& k) {
    return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return kv::wildcard(v, k); });
  };
  if (key.is_array()) {
    for (const auto& k : key.get_array())
      if (!has(go_sprint(k))) return false;
    return true;
  }
  if (key.is_string() || key.is_number() || key.is_bool()) return has(go_sprint(key));
  return false;
}

std::optional<int> compare_numeric(const bj::value& key, const bj::value& value, bool durations_only) {
  if (!durations_only) {
    if ((key.is_number() || key.is_string()) && (value.is_number() || value.is_string())) {
      auto a = as_number(key), b = as_number(value);
      if (a && b) return *a < *b ? -1 : (*a > *b ? 1 : 0);
    }
  }
  // Durations (numbers count as seconds).
  auto da = as_duration(key), db = as_duration(value);
  if (da && db && (key.is_string() || value.is_string())) {
    bool key_dur = key.is_string() ? kv::parse_go_duration(key.get_string()).ok() : true;
    bool val_dur = value.is_string() ? kv::parse_go_duration(value.get_string()).ok() : true;
    if (key_dur && val_dur) return *da < *db ? -1 : (*da > *db ? 1 : 0);
  }
  if (durations_only) return std::nullopt;
  if (key.is_string() && value.is_string()) {
    if (auto c = kv::compare_quantities(key.get_string(), value.get_string())) return c;
  }
  if (key.is_string() && value.is_number()) {
    if (auto c = kv::compare_quantities(key.get_string(), go_sprint(value))) return c;
  }
  if (key.is_number() && value.is_string()) {
    if (auto c = kv::compare_quantities(go_sprint(key), value.get_string())) return c;
  }
  return std::nullopt;
}

bool evaluate_operator(const std::string& op, const bj::value& key, const bj::value& value) {
  if (op == "Equals" || op == "Equal") return equals(key, value);
  if (op == "NotEquals" || op == "NotEqual") return !equals(key, value);
  if (op == "In") return in_operator(key, value);
  if (op == "NotIn") return !in_operator(key, value);
  if (op == "AnyIn" || op == "AllIn" || op == "AnyNotIn" || op == "AllNotIn") return set_operator(op, key, value);
  bool dur = op.starts_with("Duration");
  std::string cmp = dur ? op.substr(8) : op;
  auto c = compare_numeric(key, value, dur);
  if (!c) return false;
  if (cmp == "GreaterThan") return *c > 0;
  if (cmp == "GreaterThanOrEquals") return *c >= 0;
  if (cmp == "LessThan") return *c < 0;
  if (cmp == "LessThanOrEquals") return *c <= 0;
  return false;
}

std::string join_non_empty(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

struct CondResult {
  bool value = false;
  std::string message;
};

Result<bool> evaluate_condition(EvalContext& ctx, const Condition& c, std::string& message) {
  auto key = ctx.substitute(c.key);
  if (!key.ok()) return invalid_input("failed to substitute variables in condition key: " + key.error().message);
  auto value = ctx.substitute(c.value);
  if (!value.ok()) return invalid_input("failed to substitute variables in condition value: " + value.error().message);
  message = c.message;
  return evaluate_operator(c.op, *key, *value);
}

Result<CondResult> evaluate_conditions(EvalContext& ctx, const Conditions& conds) {
  bool any_result = true, all_result = true;
  std::vector<std::string> true_msgs, false_msgs;
  if (conds.any) {
    any_result = false;
    for (const auto& c : *conds.any) {
      std::string msg;
      VOUCH_ASSIGN_OR_RETURN(bool v, evaluate_condition(ctx, c, msg));
      if (v) {
        any_result = true;
        true_msgs.push_back(msg);
        break;
      }
      false_msgs.push_back(msg);
    }
  }
  for (const auto& c : conds.all) {
    std::string msg;
    VOUCH_ASSIGN_OR_RETURN(bool v, evaluate_condition(ctx, c, msg));
    if (!v) {
      all_result = false;
      false_msgs.push_back(msg);
      break;
    }
    true_msgs.push_back(msg);
  }
  bool result = any_result && all_result;
  return CondResult{result, join_non_empty(result ? true_msgs : false_msgs, "; ")};
}

// ---------------------------------------------------------------- validate

struct Outcome {
  RuleStatus status = RuleStatus::kPass;
  std::string message;
  bool none = false;  // nothing was applied (a foreach over empty lists)
};

struct Validator {
  EvalContext& ctx;
  const Rule& rule;
  const Request& request;
  const std::string& message;  // validate.message

  std::string substituted_message() {
    auto m = ctx.substitute(bj::value(message));
    if (!m.ok()) return fmt::format("failed to substitute variables in message: {}", m.error().message);
    return m->is_string() ? std::string(m->get_string()) : "the produced message didn't resolve to a string, check your policy definition.";
  }

  std::string error_message(const std::string& err, const std::string& path) {
    if (message.empty()) {
      if (!path.empty()) return fmt::format("validation error: rule {} failed at path {}", rule.name, path);
      return fmt::format("validation error: rule {} execution error: {}", rule.name, err);
    }
    std::string msg = substituted_message();
    if (!msg.ends_with(".")) msg += ".";
    if (!path.empty()) return fmt::format("validation error: {} rule {} failed at path {}", msg, rule.name, path);
    return fmt::format("validation error: {} rule {} execution error: {}", msg, rule.name, err);
  }

  Outcome patterns(const bj::value& resource, const std::optional<bj::value>& pattern,
                   const std::optional<bj::array>& any_pattern) {
    if (pattern) {
      auto p = ctx.substitute(*pattern);
      if (!p.ok()) return {RuleStatus::kError, "variable substitution failed: " + p.error().message};
      auto r = match_pattern(resource, *p);
      switch (r.kind) {
        case PatternResult::kPass: return {RuleStatus::kPass, fmt::format("validation rule '{}' passed.", rule.name)};
        case PatternResult::kSkip: return {RuleStatus::kSkip, r.message};
        case PatternResult::kFail: return {RuleStatus::kFail, error_message(r.message, r.path)};
        case PatternResult::kError: return {RuleStatus::kError, error_message(r.message, "")};
      }
    }
    std::vector<std::string> failed, skipped;
    for (size_t i = 0; i < any_pattern->size(); ++i) {
      auto p = ctx.substitute((*any_pattern)[i]);
      if (!p.ok()) return {RuleStatus::kError, "variable substitution failed: " + p.error().message};
      auto r = match_pattern(resource, *p);
      if (r.kind == PatternResult::kPass)
        return {RuleStatus::kPass, fmt::format("validation rule '{}' anyPattern[{}] passed.", rule.name, i)};
      if (r.kind == PatternResult::kSkip) {
        skipped.push_back(fmt::format("rule {}[{}] skipped: {}", rule.name, i, r.message));
      } else if (r.path.empty()) {
        failed.push_back(fmt::format("rule {}[{}] failed: {}", rule.name, i, r.message));
      } else {
        failed.push_back(fmt::format("rule {}[{}] failed at path {}", rule.name, i, r.path));
      }
    }
    if (failed.empty() && !skipped.empty()) return {RuleStatus::kSkip, join_non_empty(skipped, " ")};
    std::string joined = join_non_empty(failed, " ");
    if (message.empty()) return {RuleStatus::kFail, fmt::format("validation error: {}", joined)};
    std::string msg = substituted_message();
    if (!msg.ends_with(".")) msg += ".";
    return {RuleStatus::kFail, fmt::format("validation error: {} {}", msg, joined)};
  }

  Outcome deny(const Conditions& conds) {
    auto r = evaluate_conditions(ctx, conds);
    if (!r.ok()) return {RuleStatus::kError, "failed to check deny conditions: " + r.error().message};
    if (!r->value) return {RuleStatus::kPass, fmt::format("validation rule '{}' passed.", rule.name)};
    if (message.empty() && r->message.empty())
      return {RuleStatus::kFail, fmt::format("validation error: rule {} failed", rule.name)};
    auto m = ctx.substitute(bj::value(join_non_empty({message, r->message}, "; ")));
    if (!m.ok()) return {RuleStatus::kFail, r->message};
    return {RuleStatus::kFail, m->is_string() ? std::string(m->get_string()) : "the produced message didn't resolve to a string, check your policy definition."};
  }

  Outcome foreach_list(const std::vector<ForEachValidation>& list, unsigned nesting) {
    int applied = 0;
    std::optional<std::string> list_error;
    for (const auto& fe : list) {
      auto elements = ctx.query(fe.list);
      if (!elements.ok()) {
        if (elements.error().message.find("Unknown key") != std::string::npos) continue;
        list_error = elements.error().message;
        continue;
      }
      if (elements->is_null()) continue;
      if (!elements->is_array()) {
        list_error = fmt::format("failed to evaluate list {}: expected a list", fe.list);
        continue;
      }
      int count = 0;
      Outcome r = foreach_elements(fe, elements->get_array(), nesting, count);
      if (r.status != RuleStatus::kPass) return r;
      applied += count;
    }
    if (applied == 0) {
      if (list_error) return {RuleStatus::kError, "failed to evaluate list: " + *list_error};
      return {RuleStatus::kSkip, "", true};
    }
    return {RuleStatus::kPass, "rule passed"};
  }

  Outcome foreach_elements(const ForEachValidation& fe, const bj::array& elements, unsigned nesting, int& applied) {
    bj::value saved = ctx.data;
    for (size_t i = 0; i < elements.size(); ++i) {
      const auto& element = elements[i];
      if (element.is_null()) continue;
      if (fe.element_scope.value_or(false) && !element.is_object()) {
        ctx.data = saved;
        return {RuleStatus::kError,
                fmt::format("failed to process foreach: cannot use elementScope=true foreach rules for elements that are "
                            "not maps, expected type=map got type={}", element.is_string() ? "string" : jmespath::type_name(element))};
      }
      ctx.data = saved;
      auto& o = ctx.obj();
      o["element"] = element;
      o["elementIndex"] = static_cast<int64_t>(i);
      o[fmt::format("element{}", nesting)] = element;
      o[fmt::format("elementIndex{}", nesting)] = static_cast<int64_t>(i);
      Outcome r = foreach_one(fe, element, nesting);
      if (r.none || r.status == RuleStatus::kSkip) continue;
      if (r.status != RuleStatus::kPass) {
        if (r.status == RuleStatus::kError && r.message.find("failed to evaluate preconditions") != std::string::npos) continue;
        ctx.data = saved;
        return {r.status, fmt::format("validation failure: {}", r.message)};
      }
      ++applied;
    }
    ctx.data = saved;
    return {RuleStatus::kPass, ""};
  }

  Outcome foreach_one(const ForEachValidation& fe, const bj::value& element, unsigned nesting) {
    auto st = ctx.load_context(fe.context, request);
    if (!st.ok()) return {RuleStatus::kError, "failed to load context: " + st.error().message};
    if (fe.preconditions) {
      auto p = evaluate_conditions(ctx, *fe.preconditions);
      if (!p.ok()) return {RuleStatus::kError, "failed to evaluate preconditions: " + p.error().message};
      if (!p->value) return {RuleStatus::kSkip, join_non_empty({"preconditions not met", p->message}, "; ")};
    }
    if (fe.deny) return deny(*fe.deny);
    if (fe.pattern || fe.any_pattern) {
      bool scope = fe.element_scope.value_or(element.is_object());
      bj::value target = scope ? element : ctx.obj()["request"].as_object()["object"];
      return patterns(target, fe.pattern, fe.any_pattern);
    }
    return foreach_list(fe.foreach, nesting + 1);
  }
};

FailureAction action_for(const Policy& p, const Rule& r, const std::string& ns, const Request& req) {
  FailureAction a = p.failure_action;
  const std::vector<FailureActionOverride>* overrides = &p.overrides;
  if (r.validate) {
    if (r.validate->failure_action) a = *r.validate->failure_action;
    if (!r.validate->overrides.empty()) overrides = &r.validate->overrides;
  } else if (!r.verify_images.empty() && r.verify_images[0].failure_action) {
    a = *r.verify_images[0].failure_action;
  }
  for (const auto& o : *overrides) {
    bool ns_match = !o.namespaces.empty() && wildcard_any(o.namespaces, ns);
    bool sel_match = false;
    if (o.namespace_selector) {
      auto it = req.namespace_labels.find(ns);
      if (it != req.namespace_labels.end()) sel_match = selector_matches(*o.namespace_selector, it->second);
    }
    if (o.namespaces.empty() && o.namespace_selector) ns_match = true;
    if (ns_match && (!o.namespace_selector || sel_match)) return o.action;
  }
  return a;
}

bool image_selected(const ImageVerification& iv, const std::string& image) {
  auto info = parse_image(image);
  std::string normalized = info ? info->reference : image;
  auto matches = [&](const std::vector<std::string>& patterns) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return kv::wildcard(p, image) || kv::wildcard(p, normalized); });
  };
  return matches(iv.image_references) && !matches(iv.skip_image_references);
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(std::move(options)), functions_(jmespath::kyverno_functions()) {}

Result<std::shared_ptr<const jmespath::Expression>> Engine::compile(const std::string& expression) const {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(expression);
    if (it != cache_.end()) return it->second;
  }
  jmespath::Limits limits;
  limits.budget = options_.jmespath_budget;
  auto compiled = jmespath::Expression::compile(expression, functions_, limits);
  if (!compiled.ok()) return invalid_input(fmt::format("incorrect query {}: {}", expression, compiled.error().message));
  auto ptr = std::make_shared<const jmespath::Expression>(std::move(compiled).value());
  if (expression.size() > 4096) return ptr;  // long expressions are not kept
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= 2048) cache_.clear();
  cache_[expression] = ptr;
  return ptr;
}

std::vector<RuleResult> Engine::apply(const Policy& policy, const Request& original) const {
  // Values that name fields of request.object (the CLI's values files) change the resource
  // itself, for matching as for validation.
  std::optional<Request> changed;
  for (const auto& [k, v] : original.values) {
    if (!k.starts_with("request.object.") || !original.object.is_object()) continue;
    if (!changed) changed = original;
    set_dotted(changed->object.get_object(), k.substr(15), v);
  }
  const Request& request = changed ? *changed : original;
  std::vector<RuleResult> out;
  ResourceRef ref = resource_ref(request.object);
  if (policy.kind == "Policy" && ref.ns != policy.ns) return out;  // a Policy applies in its own namespace
  std::string operation = request.operation;
  if (auto it = request.values.find("request.operation"); it != request.values.end() && it->second.is_string())
    operation = std::string(it->second.get_string());
  MatchInput in{&request.object, ref, &request, operation};
  std::string policy_name = policy.kind == "Policy" ? policy.ns + "/" + policy.name : policy.name;

  bj::object base;
  {
    // A DELETE request carries the resource as oldObject only.
    bool is_delete = operation == "DELETE";
    bj::object req{{"operation", operation},
                   {"object", is_delete ? bj::value() : request.object},
                   {"oldObject", is_delete && request.old_object.is_null() ? request.object : request.old_object},
                   {"namespace", ref.ns},
                   {"name", ref.name},
                   {"kind", bj::object{{"kind", ref.kind}}},
                   {"userInfo", bj::object{{"username", request.user.username}}},
                   {"roles", bj::array(request.user.roles.begin(), request.user.roles.end())},
                   {"clusterRoles", bj::array(request.user.cluster_roles.begin(), request.user.cluster_roles.end())}};
    bj::array groups;
    for (const auto& g : request.user.groups) groups.push_back(bj::value(g));
    req["userInfo"].as_object()["groups"] = std::move(groups);
    base["request"] = std::move(req);
    std::string sa_name, sa_ns;
    const std::string prefix = "system:serviceaccount:";
    if (request.user.username.starts_with(prefix)) {
      std::string rest = request.user.username.substr(prefix.size());
      size_t colon = rest.find(':');
      if (colon != std::string::npos) sa_ns = rest.substr(0, colon), sa_name = rest.substr(colon + 1);
    }
    base["serviceAccountName"] = sa_name;
    base["serviceAccountNamespace"] = sa_ns;
    base["images"] = images_variable(request.object);
    for (const auto& [k, v] : request.values) set_dotted(base, k, v);
  }

  for (const Rule& rule : policy.rules) {
    if (!rule.validate && rule.verify_images.empty()) continue;  // mutate/generate are not applied offline
    if (!rule_matches(rule, in)) continue;
    RuleResult result;
    result.policy = policy_name;
    result.rule = rule.name;
    result.autogen = rule.autogen;
    result.origin_rule = rule.origin;
    result.type = rule.validate ? "Validation" : "ImageVerify";
    result.action = action_for(policy, rule, ref.ns, request);
    EvalContext ctx{*this, bj::value(base), operation == "DELETE"};
    auto finish = [&](RuleStatus s, std::string msg) {
      result.status = s;
      result.message = std::move(msg);
      out.push_back(result);
    };
    if (auto st = ctx.load_context(rule.context, request); !st.ok()) {
      finish(RuleStatus::kError, "failed to load context: " + st.error().message);
      continue;
    }
    if (rule.preconditions) {
      auto p = evaluate_conditions(ctx, *rule.preconditions);
      if (!p.ok()) {
        finish(RuleStatus::kError, "failed to evaluate preconditions: " + p.error().message);
        continue;
      }
      if (!p->value) {
        finish(RuleStatus::kSkip, join_non_empty({"preconditions not met", p->message}, "; "));
        continue;
      }
    }
    if (rule.validate) {
      const Validation& v = *rule.validate;
      if (v.unsupported) {
        finish(RuleStatus::kError, fmt::format("validate.{} is not supported", v.unsupported_kind));
        continue;
      }
      Validator validator{ctx, rule, request, v.message};
      Outcome o;
      if (v.deny) o = validator.deny(*v.deny);
      else if (v.pattern || v.any_pattern) o = validator.patterns(request.object, v.pattern, v.any_pattern);
      else o = validator.foreach_list(v.foreach, 0);
      if (o.none) continue;  // nothing to validate: no result, as Kyverno
      finish(o.status, o.message);
      // applyRules: One stops after the first rule that applied (passed or failed).
      if (policy.apply_rules == "One" && (o.status == RuleStatus::kPass || o.status == RuleStatus::kFail)) break;
      continue;
    }
    // verifyImages.
    std::vector<std::string> failures;
    bool any_image = false;
    bool errored = false;
    for (const auto& iv : rule.verify_images) {
      for (const auto& ci : container_images(request.object)) {
        if (!image_selected(iv, ci.image)) continue;
        any_image = true;
        if (iv.attestors.empty() && iv.attestations.empty()) {
          // Only the digest requirement: checked on the reference itself.
          if (iv.verify_digest && ci.image.find('@') == std::string::npos)
            failures.push_back(fmt::format("missing digest for {}", ci.image));
          else if (iv.required)
            failures.push_back(fmt::format("image {} is not verified: verification is required and the rule has no "
                                           "attestors", ci.image));
          continue;
        }
        if (!options_.verifier) {
          errored = true;
          failures.push_back(fmt::format("failed to verify image {}: no image verifier is available", ci.image));
          continue;
        }
        bool has_digest = ci.image.find('@') != std::string::npos;
        std::string verified_digest;  // what the reference resolved to, from any verification
        size_t failures_before = failures.size();
        for (size_t s = 0; s < iv.attestors.size(); ++s) {
          auto r = options_.verifier->verify(ci.image, iv, iv.attestors[s], nullptr);
          if (!r.ok()) {
            errored = true;
            failures.push_back(fmt::format("failed to verify image {}: .attestors[{}]: {}", ci.image, s, r.error().message));
          } else if (!r->verified) {
            failures.push_back(fmt::format("failed to verify image {}: .attestors[{}]: {}", ci.image, s, r->reason));
          } else if (!r->digest.empty()) {
            verified_digest = r->digest;
          }
        }
        for (size_t a = 0; a < iv.attestations.size(); ++a) {
          const Attestation& att = iv.attestations[a];
          std::vector<AttestorSet> sets = att.attestors.empty() ? iv.attestors : att.attestors;
          if (sets.empty()) sets.push_back(AttestorSet{});
          for (size_t s = 0; s < sets.size(); ++s) {
            auto r = options_.verifier->verify(ci.image, iv, sets[s], &att);
            if (!r.ok()) {
              errored = true;
              failures.push_back(fmt::format("failed to verify image {}: .attestations[{}].attestors[{}]: {}", ci.image, a, s,
                                             r.error().message));
              continue;
            }
            if (!r->verified) {
              failures.push_back(fmt::format("failed to verify image {}: .attestations[{}].attestors[{}]: {}", ci.image, a, s,
                                             r->reason));
              continue;
            }
            if (!r->digest.empty()) verified_digest = r->digest;
            for (const auto& predicate : r->predicates) {
              for (const auto& conds : att.conditions) {
                EvalContext pctx{*this, predicate.is_object() ? predicate : bj::value(bj::object{}), false};
                for (const auto& kvp : ctx.obj()) {
                  if (!pctx.obj().contains(kvp.key())) pctx.obj()[kvp.key()] = kvp.value();
                }
                auto c = evaluate_conditions(pctx, conds);
                if (!c.ok()) {
                  errored = true;
                  failures.push_back(fmt::format("failed to evaluate attestation conditions for image {}: {}", ci.image, c.error().message));
                } else if (!c->value) {
                  failures.push_back(fmt::format("image attestations verification failed, verifiedCount: 0, requiredCount: 1, "
                                                 "error: .attestations[{}].attestors[{}]: {}", a, s,
                                                 c->message.empty() ? "attestation checks failed" : c->message));
                }
              }
            }
          }
        }
        if (failures.size() != failures_before || has_digest) continue;
        // Verified by tag: pin the tag to the digest that verified (mutateDigest), or, when
        // the rule may not change the resource, require the digest (verifyDigest).
        bool patched = std::any_of(result.patches.begin(), result.patches.end(),
                                   [&](const bj::object& p) { return p.at("path") == bj::value(ci.pointer); });
        if (patched) continue;
        if (iv.mutate_digest && !verified_digest.empty()) {
          result.patches.push_back(bj::object{{"op", "replace"}, {"path", ci.pointer},
                                              {"value", ci.image + "@" + verified_digest}});
        } else if (iv.verify_digest) {
          failures.push_back(fmt::format("missing digest for {}", ci.image));
        }
      }
    }
    if (!any_image) continue;  // no image of the resource is selected: the rule does not apply
    if (!failures.empty()) result.patches.clear();
    if (failures.empty()) {
      finish(RuleStatus::kPass, "verified image signatures");
    } else {
      finish(errored ? RuleStatus::kError : RuleStatus::kFail, join_non_empty(failures, "; "));
    }
  }
  return out;
}

}  // namespace vouch::policy
