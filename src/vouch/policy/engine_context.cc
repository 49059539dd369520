// Variables and context (Kyverno's pkg/engine/context and variables): the context a rule sees,
// JMESPath queries over it, variable substitution and context entries.
#include "engine_internal.h"
#include "vouch/policy/cel_policy.h"

#include <fmt/format.h>
#include <re2/re2.h>

namespace vouch::policy {

namespace engine_internal {

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

void set_path(bj::object& root, std::span<const std::string> parts, const bj::value& value) {
  bj::object* cur = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    bj::value& next = (*cur)[parts[i]];
    if (!next.is_object()) next = bj::object();
    cur = &next.get_object();
  }
  (*cur)[parts.back()] = value;
}

void set_dotted(bj::object& root, const std::string& name, const bj::value& value) {
  set_path(root, split_dotted(name), value);
}

// Counts the nodes of a value, stopping once past `limit`.
size_t count_nodes(const bj::value& v, size_t limit, size_t seen) {
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

}  // namespace engine_internal

using namespace engine_internal;

void EvalContext::erase_entry(const std::string& key) {
  auto* existing = obj().if_contains(key);
  if (!existing) return;
  size_t before = count_nodes(*existing, kMaxContextTotal);
  obj().erase(key);
  if (!nodes) return;
  if (*nodes > kMaxContextTotal || before > kMaxContextTotal) nodes.reset();
  else *nodes -= before;
}

// Sets a dotted variable (request.object.metadata.name) in the context.
void EvalContext::set_variable(const std::string& name, const bj::value& value) {
  auto parts = split_dotted(name);
  change_entry(parts.front(), [&](bj::value& slot) {
    if (parts.size() == 1) {
      slot = value;
      return;
    }
    if (!slot.is_object()) slot = bj::object();
    set_path(slot.get_object(), std::span(parts).subspan(1), value);
  });
}

// ctx.Query: JMESPath over the context. A plain field path that names a missing key is
// an error ("Unknown key"), as in Kyverno's JMESPath.
Result<bj::value> EvalContext::search(const std::string& expression, const bj::value& data) {
  VOUCH_ASSIGN_OR_RETURN(auto compiled, engine.compile(expression));
  auto result = compiled->search(data);
  if (!result.ok() && jmespath::error_kind(result.error()) == jmespath::ErrorKind::kLimit) return result.error();
  if (!result.ok()) return invalid_input(fmt::format("JMESPath query failed: {}", result.error().message));
  return result;
}

Result<bj::value> EvalContext::query(const std::string& raw) {
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
  if (!result.ok() && jmespath::error_kind(result.error()) == jmespath::ErrorKind::kLimit) return result.error();
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

Result<bj::value> EvalContext::substitute_string(const std::string& s, const std::string& path) {
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

Result<bj::value> EvalContext::substitute(const bj::value& doc, const std::string& path) {
  if (!mentions_reference(doc)) return substitute_variables(doc, path);
  VOUCH_ASSIGN_OR_RETURN(bj::value resolved, substitute_references(doc, reference_base(path)));
  return substitute_variables(resolved, path);
}

Result<bj::value> EvalContext::substitute_variables(const bj::value& doc, const std::string& path, unsigned depth) {
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
      VOUCH_ASSIGN_OR_RETURN(bj::value v, substitute_variables(e, fmt::format("{}{}/", path, i++), depth + 1));
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
      VOUCH_ASSIGN_OR_RETURN(bj::value v, substitute_variables(kvp.value(), path + key + "/", depth + 1));
      out[key] = std::move(v);
    }
    return bj::value(std::move(out));
  }
  return doc;
}

// A string member of a context entry's `kind` object (configMap.name, apiCall.urlPath, …) with
// its variables substituted; "" when absent or not a string.
Result<std::string> EvalContext::entry_text(const ContextEntry& e, std::string_view kind, std::string_view key) {
  const bj::value* spec = e.raw.is_object() ? e.raw.get_object().if_contains(kind) : nullptr;
  const bj::value* v = spec && spec->is_object() ? spec->get_object().if_contains(key) : nullptr;
  if (!v || !v->is_string()) return std::string();
  VOUCH_ASSIGN_OR_RETURN(bj::value s, substitute(*v));
  return s.is_string() ? std::string(s.get_string()) : std::string();
}

// Sets a context entry to what was fetched for it, through the entry's `<kind>.jmesPath`.
Status EvalContext::set_fetched(const ContextEntry& e, std::string_view kind, bj::value value) {
  VOUCH_ASSIGN_OR_RETURN(std::string jmes_path, entry_text(e, kind, "jmesPath"));
  if (!jmes_path.empty()) {
    VOUCH_ASSIGN_OR_RETURN(auto compiled, engine.compile(jmes_path));
    auto r = compiled->search(value);
    if (!r.ok()) return invalid_input(fmt::format("context entry '{}': {}", e.name, r.error().message));
    value = std::move(*r);
  }
  if (count_nodes(value, kMaxContextNodes) > kMaxContextNodes)
    return invalid_input(fmt::format("context entry '{}': value too large", e.name));
  set_variable(e.name, value);
  return ok_status();
}

// A configMap context entry from the cluster's objects (a kyverno-test.yaml's clusterResources),
// as Kyverno loads it: {"data": …, "metadata": …} of the ConfigMap named, after substitution.
Status EvalContext::load_config_map(const ContextEntry& e, const CelClusterData& cluster) {
  VOUCH_ASSIGN_OR_RETURN(std::string name, entry_text(e, "configMap", "name"));
  VOUCH_ASSIGN_OR_RETURN(std::string ns, entry_text(e, "configMap", "namespace"));
  if (ns.empty()) ns = "default";
  for (const auto& object : cluster.resources) {
    ResourceRef r = resource_ref(object);
    if (r.api_version != "v1" || r.kind != "ConfigMap" || r.name != name || r.ns != ns) continue;
    bj::object loaded;
    const bj::object& o = object.get_object();
    loaded["data"] = o.contains("data") ? o.at("data") : bj::value(bj::object{});
    loaded["metadata"] = o.contains("metadata") ? o.at("metadata") : bj::value(bj::object{});
    set_variable(e.name, bj::value(std::move(loaded)));
    return ok_status();
  }
  return invalid_input(fmt::format("context entry '{}': ConfigMap {}/{} is not among the cluster's resources", e.name, ns, name));
}

// An apiCall context entry answered offline, as Kyverno's CLI answers it: from a test's
// apiCallResponses (service URL or API path), else from its clusterResources: a GET of /api/v1/…
// or /apis/GROUP/VERSION/… (namespaces/NS/ for a namespaced lookup) yields the object named, or
// a list of them; then apiCall.jmesPath. Anything else (an unanswered service call, POST, a
// query string) has no offline answer and is an error.
Status EvalContext::load_api_call(const ContextEntry& e, const CelClusterData& cluster) {
  const bj::value* spec = e.raw.is_object() ? e.raw.get_object().if_contains("apiCall") : nullptr;
  const bj::object* call = spec && spec->is_object() ? &spec->get_object() : nullptr;
  auto text = [&](std::string_view key) { return entry_text(e, "apiCall", key); };
  VOUCH_ASSIGN_OR_RETURN(std::string method, text("method"));
  VOUCH_ASSIGN_OR_RETURN(std::string path, text("urlPath"));
  const bool service = call && call->contains("service") && !call->at("service").is_null();
  // A test's apiCallResponses answer a service URL or an API path first, as Kyverno's CLI
  // answers them: by "METHOD:url", else by the URL alone; a status outside 2xx fails the entry.
  std::string url = path;
  if (service) {
    const bj::value& svc = call->at("service");
    if (const bj::value* u = svc.is_object() ? svc.get_object().if_contains("url") : nullptr; u && u->is_string()) {
      VOUCH_ASSIGN_OR_RETURN(bj::value substituted, substitute(*u));
      url = substituted.is_string() ? std::string(substituted.get_string()) : std::string();
    } else {
      url.clear();
    }
  }
  if (!url.empty()) {
    const auto& mocks = cluster.http_responses;
    auto it = mocks.find((method.empty() ? std::string("GET") : method) + ":" + url);
    if (it == mocks.end()) it = mocks.find(url);
    if (it != mocks.end()) {
      const bj::object& answer = it->second.get_object();
      int64_t status = answer.at("statusCode").to_number<int64_t>();
      if (status < 200 || status >= 300)
        return invalid_input(fmt::format("context entry '{}': HTTP {} from the test's apiCallResponses", e.name, status));
      return set_fetched(e, "apiCall", answer.at("body"));
    }
  }
  if (service || path.empty() || (!method.empty() && method != "GET") || path.find('?') != std::string::npos)
    return invalid_input(fmt::format("context entry '{}': only a GET of an API path is answered from the cluster's "
                                     "resources; supply this apiCall's value in a values file", e.name));
  std::vector<std::string> parts;
  for (size_t at = 0; at < path.size();) {
    size_t next = path.find('/', at);
    if (next == std::string::npos) next = path.size();
    if (next > at) parts.push_back(path.substr(at, next - at));
    at = next + 1;
  }
  std::string api_version;
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    api_version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    api_version = parts[1] + "/" + parts[2];
    i = 3;
  } else {
    return invalid_input(fmt::format("context entry '{}': {}: not an API path", e.name, path));
  }
  std::string ns;
  if (parts.size() - i >= 3 && parts[i] == "namespaces") {
    ns = parts[i + 1];
    i += 2;
  }
  if (i >= parts.size() || parts.size() - i > 2)
    return invalid_input(fmt::format("context entry '{}': {}: expected RESOURCE or RESOURCE/NAME", e.name, path));
  const std::string& resource = parts[i];
  auto found = find_cluster_objects(cluster, api_version, resource, ns);
  bj::value value;
  if (parts.size() - i == 2) {
    const std::string& name = parts[i + 1];
    auto it = std::find_if(found.begin(), found.end(), [&](const bj::value* o) { return resource_ref(*o).name == name; });
    if (it == found.end())
      return invalid_input(fmt::format("context entry '{}': {}: not found among the cluster's resources", e.name, path));
    value = **it;
  } else {
    bj::array items;
    for (const bj::value* o : found) items.push_back(*o);
    std::string kind = found.empty() ? std::string("List") : resource_ref(*found.front()).kind + "List";
    value = bj::object{{"apiVersion", api_version}, {"kind", kind}, {"metadata", bj::object{}}, {"items", std::move(items)}};
  }
  return set_fetched(e, "apiCall", std::move(value));
}

// A globalReference context entry from the test's globalContextEntries: the entry's value, then
// the reference's jmesPath.
Status EvalContext::load_global_reference(const ContextEntry& e, const CelClusterData& cluster) {
  VOUCH_ASSIGN_OR_RETURN(std::string name, entry_text(e, "globalReference", "name"));
  auto it = cluster.global_context.find(name);
  if (it == cluster.global_context.end())
    return invalid_input(fmt::format("context entry '{}': global context entry {} is not among the test's "
                                     "globalContextEntries", e.name, name));
  return set_fetched(e, "globalReference", it->second);
}

Status EvalContext::load_context(const std::vector<ContextEntry>& entries, const Request& request) {
  for (const auto& e : entries) {
    // Values supplied from outside take precedence (the CLI's values files).
    if (request.values.count(e.name)) {
      set_variable(e.name, request.values.at(e.name));
      continue;
    }
    bool supplied = false;
    for (const auto& [k, v] : request.values) {
      if (k.starts_with(e.name + ".")) {
        set_variable(k, v);
        supplied = true;
      }
    }
    if (supplied) continue;
    if (e.kind == "configMap" && engine.options_.cel_cluster) {
      VOUCH_RETURN_IF_ERROR(load_config_map(e, *engine.options_.cel_cluster));
      continue;
    }
    if (e.kind == "globalReference" && engine.options_.cel_cluster) {
      VOUCH_RETURN_IF_ERROR(load_global_reference(e, *engine.options_.cel_cluster));
      continue;
    }
    if (e.kind == "apiCall" && engine.options_.cel_cluster) {
      VOUCH_RETURN_IF_ERROR(load_api_call(e, *engine.options_.cel_cluster));
      continue;
    }
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
      Result<bj::value> r = bj::value();
      if (e.value) {
        VOUCH_ASSIGN_OR_RETURN(auto compiled, engine.compile(expr));
        r = compiled->search(value);
      } else {
        r = query(expr);
      }
      // An evaluation error makes the entry null (and its default applies), as in Kyverno; an
      // exceeded budget does not: the entry, and so the rule, fails with the reason.
      if (!r.ok() && jmespath::error_kind(r.error()) == jmespath::ErrorKind::kLimit)
        return invalid_input(fmt::format("context entry '{}': {}", e.name, r.error().message));
      value = r.ok() ? *r : bj::value();
    }
    if (value.is_null() && e.default_value) {
      VOUCH_ASSIGN_OR_RETURN(value, substitute(*e.default_value));
    }
    if (count_nodes(value, kMaxContextNodes) > kMaxContextNodes)
      return invalid_input(fmt::format("context entry '{}': value too large", e.name));
    if (value.is_null() && !e.default_value && !e.jmes_path.empty() && !e.value) {
      return invalid_input(fmt::format("context entry '{}': failed to evaluate '{}'", e.name, e.jmes_path));
    }
    set_variable(e.name, value);
    if (context_nodes() > kMaxContextTotal)
      return invalid_input(fmt::format("context entry '{}': the context grows too large", e.name));
  }
  return ok_status();
}

}  // namespace vouch::policy
