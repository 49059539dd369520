// ValidatingPolicy and ValidatingAdmissionPolicy: reading, compiling and evaluating, with the
// admission semantics of Kubernetes' CEL admission plugin (match constraints, match conditions,
// variables, validations with messages, failure policy).
#include "vouch/policy/cel_policy.h"

#include <cctype>

#include <fmt/format.h>

#include "cel_autogen.h"
#include "cel_internal.h"
#include "engine_internal.h"
#include "image_policy_internal.h"
#include "json_field.h"
#include "vouch/cel/cel.h"
#include "vouch/policy/engine.h"

namespace vouch::policy {

struct CelPolicy::Compiled {
  cel::Environment env;
  std::vector<cel::Program> match_conditions;
  std::vector<cel::Program> variables;
  std::vector<cel::Program> validations;
  std::vector<std::optional<cel::Program>> messages;  // messageExpression, when given
  std::vector<cel::Program> audit_annotations;        // valueExpression of each
};

namespace {

const bj::object* object_at(const bj::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

// An object's metadata.labels (string values only).
std::map<std::string, std::string> labels_of(const bj::value& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  if (auto* meta = object.get_object().if_contains("metadata"); meta && meta->is_object())
    if (auto* labels = meta->get_object().if_contains("labels"); labels && labels->is_object())
      for (const auto& [k, v] : labels->get_object())
        if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  return out;
}

Result<std::string> string_field(const bj::object& o, std::string_view key, std::string_view where, bool required) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return invalid_input(fmt::format("{}.{}: required", where, key));
    return std::string();
  }
  if (!v->is_string()) return invalid_input(fmt::format("{}.{}: expected a string", where, key));
  return std::string(v->get_string());
}

Result<std::vector<std::string>> strings_field(const bj::object& o, std::string_view key, std::string_view where) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return invalid_input(fmt::format("{}.{}: expected a list", where, key));
  for (const auto& x : v->get_array()) {
    if (!x.is_string()) return invalid_input(fmt::format("{}.{}: expected a list of strings", where, key));
    out.emplace_back(x.get_string());
  }
  return out;
}

// Kyverno's `resource` library, offline: the value bound as `resource` in a ValidatingPolicy,
// and the cluster objects its functions read during one evaluation (null: none to read).
constexpr const char* kResourceContextType = "kyverno.resource.Context";
constexpr const char* kGlobalContextType = "kyverno.globalcontext.Context";
thread_local const CelClusterData* current_cluster = nullptr;


std::string plural_resource(std::string_view kind);

// resource.get(apiVersion, resource, namespace, name) / resource.list(apiVersion, resource,
// namespace): objects by apiVersion and plural resource name; an empty namespace is every one.
cel::Value resource_lookup(const std::string& fn, std::span<const cel::Value> a, bool list) {
  if (a[0].as_message().type_name != kResourceContextType) return cel::Value::no_overload(fn);
  const CelClusterData* cluster = current_cluster;
  if (!cluster) return cel::Value::error(fmt::format("resource.{}: no cluster to read resources from", fn));
  const std::string& api_version = a[1].as_string();
  const std::string& resource = a[2].as_string();
  const std::string& ns = a[3].as_string();
  cel::List items;
  for (const bj::value* r : find_cluster_objects(*cluster, api_version, resource, ns)) {
    if (!list) {
      if (resource_ref(*r).name == a[4].as_string()) return cel::from_json(*r);
      continue;
    }
    items.push_back(cel::from_json(*r));
  }
  if (!list)
    return cel::Value::error(fmt::format("resource.{}: {} {} {}/{} not found", fn, api_version, resource, ns, a[4].as_string()));
  cel::Map out;
  out.insert(cel::Value::string("items"), cel::Value::list(std::move(items)));
  return cel::Value::map(std::move(out));
}

// http.Get(url[, headers]) / http.Post(url, data[, headers]): the answers a test mocks; never
// the network.
constexpr const char* kHttpContextType = "kyverno.http.Context";

cel::Value http_call(const std::string& method, std::span<const cel::Value> a) {
  std::string fn = method == "GET" ? "Get" : "Post";
  if (a[0].as_message().type_name != kHttpContextType) return cel::Value::no_overload(fn);
  const std::string& url = a[1].as_string();
  const CelClusterData* data = current_cluster;
  if (data) {
    if (auto it = data->http_responses.find(method + ":" + url); it != data->http_responses.end()) return cel::from_json(it->second);
    if (auto it = data->http_responses.find(url); it != data->http_responses.end()) return cel::from_json(it->second);
  }
  return cel::Value::error(fmt::format("http.{}: no response for {} {} (no network access; mock it with apiCallResponses)", fn,
                                       method, url));
}

cel::Environment make_env() {
  cel::Environment env(cel_internal::environment_options());
  image_policy_internal::add_image_library(env);
  cel_internal::add_kyverno_libraries(env);
  cel_internal::add_authz_libraries(env);
  cel_internal::add_cluster_libraries(env);
  return env;
}

// Kubernetes' resource name for a kind: lower case, plural.
std::string plural_resource(std::string_view kind) {
  std::string r;
  for (char c : kind) r += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (r.empty() || r == "endpoints") return r;
  auto ends = [&](std::string_view s) { return r.size() >= s.size() && r.compare(r.size() - s.size(), s.size(), s) == 0; };
  if (ends("s") || ends("x") || ends("ch") || ends("sh")) return r + "es";
  if (ends("y") && r.size() > 1 && std::string_view("aeiou").find(r[r.size() - 2]) == std::string_view::npos)
    return r.substr(0, r.size() - 1) + "ies";
  return r + "s";
}

}  // namespace

namespace cel_internal {

// Kyverno's `resource`, `http` and `globalContext` libraries, offline (ValidatingPolicy and
// ImageValidatingPolicy): what they read is the evaluation's cluster data (ClusterScope).
void add_cluster_libraries(cel::Environment& env) {
  using K = cel::Kind;
  auto http = [&env](std::string name, std::string method, size_t extra) {
    std::vector<std::optional<K>> args = {K::kMessage, K::kString};
    args.resize(args.size() + extra, std::nullopt);
    env.add_overload({.name = std::move(name), .receiver = true, .args = std::move(args),
                      .fn = [method](std::span<const cel::Value> a) { return http_call(method, a); }});
  };
  http("Get", "GET", 0);
  http("Get", "GET", 1);   // headers
  http("Post", "POST", 1);  // data
  http("Post", "POST", 2);  // data, headers
  // globalContext.Get(name, projection): the entry's value ("" : all of it), or its projection;
  // an entry not held is null, as Kyverno answers for an entry it has not loaded.
  env.add_overload({.name = "Get", .receiver = true, .args = {K::kMessage, K::kString, K::kString},
                    .fn = [](std::span<const cel::Value> a) {
    if (a[0].as_message().type_name != kGlobalContextType) return cel::Value::no_overload("Get");
    const CelClusterData* cluster = current_cluster;
    if (!cluster) return cel::Value::error("globalContext.Get: no global context entries to read");
    auto it = cluster->global_context.find(a[1].as_string());
    if (it == cluster->global_context.end()) return cel::Value::null();
    const std::string& projection = a[2].as_string();
    if (projection.empty()) return cel::from_json(it->second);
    const bj::value* v = it->second.is_object() ? it->second.get_object().if_contains(projection) : nullptr;
    if (!v)
      return cel::Value::error(fmt::format("projection {} not found in global context entry {}", projection, a[1].as_string()));
    return cel::from_json(*v);
  }});
  for (std::string name : {"get", "Get", "list", "List"}) {
    bool list = name == "list" || name == "List";
    std::vector<std::optional<K>> args = {K::kMessage, K::kString, K::kString, K::kString};
    if (!list) args.push_back(K::kString);  // name
    env.add_overload({.name = name, .receiver = true, .args = std::move(args),
                      .fn = [name, list](std::span<const cel::Value> a) { return resource_lookup(name, a, list); }});
  }
}

void bind_cluster_libraries(cel::Activation& vars) {
  cel::Message resource_library;
  resource_library.type_name = kResourceContextType;
  vars.bind("resource", cel::Value::message(std::move(resource_library)));
  cel::Message http_library;
  http_library.type_name = kHttpContextType;
  vars.bind("http", cel::Value::message(std::move(http_library)));
  cel::Message global_context;
  global_context.type_name = kGlobalContextType;
  vars.bind("globalContext", cel::Value::message(std::move(global_context)));
}

ClusterScope::ClusterScope(const CelClusterData* c) : previous_(current_cluster) { current_cluster = c; }
ClusterScope::~ClusterScope() { current_cluster = previous_; }

namespace {

Result<std::vector<CelResourceRule>> resource_rules(const JsonField& f) {
  std::vector<CelResourceRule> out;
  VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
  for (const auto& r : items) {
    VOUCH_RETURN_IF_ERROR(r.object({"apiGroups", "apiVersions", "operations", "resources", "resourceNames", "scope"}));
    CelResourceRule rule;
    VOUCH_ASSIGN_OR_RETURN(rule.api_groups, r.at("apiGroups").strings());
    VOUCH_ASSIGN_OR_RETURN(rule.api_versions, r.at("apiVersions").strings());
    VOUCH_ASSIGN_OR_RETURN(rule.operations, r.at("operations").strings());
    VOUCH_ASSIGN_OR_RETURN(rule.resources, r.at("resources").strings());
    VOUCH_ASSIGN_OR_RETURN(rule.resource_names, r.at("resourceNames").strings());
    VOUCH_ASSIGN_OR_RETURN(std::string scope, r.at("scope").str());
    // Every object vouch sees is judged by its kind; a scope narrower than "*" would need the
    // API server's discovery to tell namespaced kinds from cluster-scoped ones.
    if (!scope.empty() && scope != "*") return r.at("scope").err(fmt::format("scope {} is not supported (only *)", scope));
    for (const auto& op : rule.operations)
      if (op != "CREATE" && op != "UPDATE" && op != "DELETE" && op != "CONNECT" && op != "*")
        return r.at("operations").err(fmt::format("unknown operation {}", op));
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

Result<CelMatchConstraints> parse_match_constraints(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(
      f.object({"resourceRules", "excludeResourceRules", "namespaceSelector", "objectSelector", "matchPolicy"}));
  CelMatchConstraints m;
  VOUCH_ASSIGN_OR_RETURN(m.resource_rules, resource_rules(f.at("resourceRules")));
  VOUCH_ASSIGN_OR_RETURN(m.exclude_resource_rules, resource_rules(f.at("excludeResourceRules")));
  VOUCH_ASSIGN_OR_RETURN(m.namespace_selector, parse_label_selector(f.at("namespaceSelector")));
  VOUCH_ASSIGN_OR_RETURN(m.object_selector, parse_label_selector(f.at("objectSelector")));
  VOUCH_ASSIGN_OR_RETURN(std::string match_policy, f.at("matchPolicy").str());
  // Equivalent is the API server's default and what matching by kind gives; Exact is the same
  // for objects sent in the version a rule names.
  if (!match_policy.empty() && match_policy != "Equivalent" && match_policy != "Exact")
    return f.at("matchPolicy").err(fmt::format("expected Equivalent or Exact, got {}", match_policy));
  return m;
}

Result<CelPolicySettings> parse_policy_settings(const JsonField& spec, bool json_mode_allowed) {
  CelPolicySettings out;
  if (JsonField e = spec.at("evaluation"); e.present()) {
    VOUCH_RETURN_IF_ERROR(e.object({"mode", "admission", "background"}));
    VOUCH_ASSIGN_OR_RETURN(std::string mode, e.at("mode").str());
    if (json_mode_allowed && !mode.empty() && mode != "Kubernetes" && mode != "JSON" && mode != "Envoy" && mode != "HTTP")
      return e.at("mode").err(fmt::format("expected Kubernetes, JSON, Envoy or HTTP, got {}", mode));
    if (!json_mode_allowed && !mode.empty() && mode != "Kubernetes")
      return e.at("mode").err(fmt::format("{} is not supported (Kubernetes only)", mode));
    out.json_mode = mode == "JSON" || mode == "Envoy" || mode == "HTTP";
    if (out.json_mode) out.payload_mode = mode;
    VOUCH_RETURN_IF_ERROR(e.at("admission").object({"enabled"}));
    VOUCH_RETURN_IF_ERROR(e.at("background").object({"enabled"}));
    VOUCH_ASSIGN_OR_RETURN(out.admission, e.at("admission").at("enabled").boolean(true));
    VOUCH_ASSIGN_OR_RETURN(out.background, e.at("background").at("enabled").boolean(true));
  }
  if (JsonField w = spec.at("webhookConfiguration"); w.present()) {
    VOUCH_RETURN_IF_ERROR(w.object({"timeoutSeconds"}));
    if (const bj::value* t = w.at("timeoutSeconds").v; !t->is_null()) {
      if (!t->is_int64() || t->get_int64() < 1 || t->get_int64() > 30)
        return w.at("timeoutSeconds").err("expected an integer between 1 and 30");
      out.timeout_seconds = static_cast<int>(t->get_int64());
    }
  }
  return out;
}

Result<std::vector<CelValidation>> parse_validations(const JsonField& f) {
  std::vector<CelValidation> out;
  VOUCH_ASSIGN_OR_RETURN(auto validations, f.list());
  if (validations.empty()) return f.err("at least one validation is required");
  for (const auto& e : validations) {
    if (!e.v->is_object()) return e.err("expected an object");
    VOUCH_RETURN_IF_ERROR(e.object({"expression", "message", "messageExpression", "reason"}));
    CelValidation val;
    VOUCH_ASSIGN_OR_RETURN(val.expression, e.at("expression").str(true));
    VOUCH_ASSIGN_OR_RETURN(val.message, e.at("message").str());
    VOUCH_ASSIGN_OR_RETURN(val.message_expression, e.at("messageExpression").str());
    // The API server's status reason for a denial: a ValidatingAdmissionPolicy's denial carries
    // it (and its HTTP code); Kyverno's webhook answers a ValidatingPolicy without one.
    VOUCH_ASSIGN_OR_RETURN(val.reason, e.at("reason").str());
    if (!val.reason.empty() && val.reason != "Unauthorized" && val.reason != "Forbidden" && val.reason != "Invalid" &&
        val.reason != "RequestEntityTooLarge")
      return e.at("reason").err(
          fmt::format("expected Unauthorized, Forbidden, Invalid or RequestEntityTooLarge, got {}", val.reason));
    out.push_back(std::move(val));
  }
  return out;
}

Result<std::vector<CelNamedExpression>> parse_named_expressions(const JsonField& f, std::string_view name_key,
                                                                std::string_view expr_key) {
  std::vector<CelNamedExpression> out;
  VOUCH_ASSIGN_OR_RETURN(auto items, f.list());
  for (const auto& e : items) {
    if (!e.v->is_object()) return e.err("expected an object");
    VOUCH_RETURN_IF_ERROR(e.object({name_key, expr_key}));
    CelNamedExpression n;
    VOUCH_ASSIGN_OR_RETURN(n.name, e.at(name_key).str(true));
    VOUCH_ASSIGN_OR_RETURN(n.expression, e.at(expr_key).str(true));
    out.push_back(std::move(n));
  }
  return out;
}


namespace {

bool listed(const std::vector<std::string>& list, std::string_view value) {
  for (const auto& x : list)
    if (x == "*" || x == value) return true;
  return false;
}

bool rule_matches(const CelResourceRule& r, const RequestFacts& f) {
  // Kyverno reads a rule without operations as matching every operation.
  if (!r.operations.empty() && !listed(r.operations, f.operation)) return false;
  if (!listed(r.api_groups, f.group) || !listed(r.api_versions, f.version)) return false;
  // As the API server's rule matcher: "*" is every resource but no subresource, "*/*" everything,
  // "pods/*" every subresource of pods, "*/scale" the scale subresource of every resource.
  auto split = [](std::string_view s) {
    size_t slash = s.find('/');
    if (slash == std::string_view::npos) return std::pair{s, std::string_view()};
    return std::pair{s.substr(0, slash), s.substr(slash + 1)};
  };
  const auto [op_resource, op_sub] = split(f.resource);
  bool resource = false;
  for (const auto& x : r.resources) {
    const auto [res, sub] = split(x);
    if ((res == "*" || res == op_resource) && (sub == "*" || sub == op_sub)) resource = true;
  }
  if (!resource) return false;
  if (!r.resource_names.empty() && !listed(r.resource_names, f.name)) return false;
  return true;
}

std::string operation_of(const Request& request) {
  if (auto it = request.values.find("request.operation"); it != request.values.end() && it->second.is_string())
    return std::string(it->second.get_string());
  return request.operation;
}

cel::Value string_list(const std::vector<std::string>& items) {
  cel::List l;
  for (const auto& s : items) l.push_back(cel::Value::string(s));
  return cel::Value::list(std::move(l));
}

}  // namespace

bool cel_policy_takes(const CelPolicy& p, const RequestFacts& f, const Request& request) {
  // Not an admission policy: the API server's requests are not JSON payloads.
  // An Envoy or HTTP policy judges only its own kind of payload.
  if (p.json_mode) {
    if (!request.admission.empty()) return false;
    if (p.payload_mode == "JSON") return request.payload_mode.empty() || request.payload_mode == "JSON";
    return request.payload_mode == p.payload_mode;
  }
  if (!request.payload_mode.empty()) return false;
  if (!constraints_match(p.match, f, request)) return false;
  if (p.bindings.empty()) return true;
  for (const auto& b : p.bindings)
    if (!b.match || constraints_match(*b.match, f, request)) return true;
  return false;
}

bool constraints_match(const CelMatchConstraints& m, const RequestFacts& f, const Request& request) {
  bool included = false;
  for (const auto& r : m.resource_rules) included = included || rule_matches(r, f);
  if (!included) return false;
  for (const auto& r : m.exclude_resource_rules)
    if (rule_matches(r, f)) return false;
  if (m.object_selector && !engine_internal::selector_matches(*m.object_selector, f.labels)) return false;
  if (m.namespace_selector && !f.ns.empty()) {
    std::map<std::string, std::string> ns_labels;
    if (auto it = request.namespace_labels.find(f.ns); it != request.namespace_labels.end()) ns_labels = it->second;
    ns_labels.emplace("kubernetes.io/metadata.name", f.ns);
    if (!engine_internal::selector_matches(*m.namespace_selector, ns_labels)) return false;
  }
  return true;
}

RequestFacts request_facts(const Request& request) {
  RequestFacts f;
  ResourceRef ref = resource_ref(request.object.is_null() ? request.old_object : request.object);
  const bj::value& subject = request.object.is_null() ? request.old_object : request.object;
  std::string api_version = ref.api_version;
  size_t slash = api_version.find('/');
  f.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  f.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  f.kind = ref.kind;
  f.resource = plural_resource(ref.kind);
  // From the API server the resource is the one called, not guessed from the kind.
  const bj::object& admitted = request.admission;
  const bj::value* res = admitted.if_contains("resource");
  auto field = [&](std::string_view key) {
    const bj::value* v = res && res->is_object() ? res->get_object().if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  if (!field("resource").empty()) {
    f.group = field("group");
    f.version = field("version");
    f.resource = field("resource");
    if (const bj::value* sub = admitted.if_contains("subResource"); sub && sub->is_string() && !sub->get_string().empty())
      f.resource += "/" + std::string(sub->get_string());
  }
  f.name = ref.name;
  f.ns = ref.ns;
  f.operation = operation_of(request);
  f.labels = labels_of(subject);
  return f;
}

void bind_admission_variables(const Request& request, const RequestFacts& f, cel::Activation& vars) {
  bool is_delete = f.operation == "DELETE";
  cel::Value object = is_delete ? cel::Value::null() : cel::from_json(request.object);
  vars.bind("object", object);
  vars.bind("oldObject", is_delete && request.old_object.is_null() ? cel::from_json(request.object)
                                                                   : cel::from_json(request.old_object));
  {
    cel::Map kind;
    kind.insert(cel::Value::string("group"), cel::Value::string(f.group));
    kind.insert(cel::Value::string("version"), cel::Value::string(f.version));
    kind.insert(cel::Value::string("kind"), cel::Value::string(f.kind));
    cel::Map resource;
    resource.insert(cel::Value::string("group"), cel::Value::string(f.group));
    resource.insert(cel::Value::string("version"), cel::Value::string(f.version));
    resource.insert(cel::Value::string("resource"), cel::Value::string(f.resource));
    cel::Map user;
    user.insert(cel::Value::string("username"), cel::Value::string(request.user.username));
    user.insert(cel::Value::string("groups"), string_list(request.user.groups));
    cel::Map req;
    // The AdmissionRequest's own fields first: insert keeps the first value of a key.
    for (const auto& field : request.admission)
      req.insert(cel::Value::string(std::string(field.key())), cel::from_json(field.value()));
    if (const bj::value* k = request.admission.if_contains("kind"))
      req.insert(cel::Value::string("requestKind"), cel::from_json(*k));
    req.insert(cel::Value::string("kind"), cel::Value::map(kind));
    req.insert(cel::Value::string("resource"), cel::Value::map(std::move(resource)));
    req.insert(cel::Value::string("requestKind"), cel::Value::map(kind));
    req.insert(cel::Value::string("name"), cel::Value::string(f.name));
    req.insert(cel::Value::string("namespace"), cel::Value::string(f.ns));
    req.insert(cel::Value::string("operation"), cel::Value::string(f.operation));
    req.insert(cel::Value::string("userInfo"), cel::Value::map(std::move(user)));
    req.insert(cel::Value::string("dryRun"), cel::Value::boolean(false));
    vars.bind("request", cel::Value::map(std::move(req)));
  }
  const bj::value* ns_object = nullptr;
  if (request.namespace_objects)
    if (auto it = request.namespace_objects->find(f.ns); it != request.namespace_objects->end()) ns_object = &it->second;
  if (ns_object) {
    vars.bind("namespaceObject", cel::from_json(*ns_object));
  } else if (!f.ns.empty()) {
    cel::Map labels;
    if (auto it = request.namespace_labels.find(f.ns); it != request.namespace_labels.end())
      for (const auto& [k, v] : it->second) labels.insert(cel::Value::string(k), cel::Value::string(v));
    cel::Map meta;
    meta.insert(cel::Value::string("name"), cel::Value::string(f.ns));
    meta.insert(cel::Value::string("labels"), cel::Value::map(std::move(labels)));
    cel::Map ns;
    ns.insert(cel::Value::string("metadata"), cel::Value::map(std::move(meta)));
    vars.bind("namespaceObject", cel::Value::map(std::move(ns)));
  } else {
    vars.bind("namespaceObject", cel::Value::null());
  }
  vars.bind("params", cel::Value::null());
}

void bind_json_variables(const bj::value& payload, cel::Activation& vars) {
  vars.bind("object", cel::from_json(payload));
  vars.bind("oldObject", cel::Value::null());
  vars.bind("request", cel::Value::null());
  vars.bind("namespaceObject", cel::Value::null());
  vars.bind("params", cel::Value::null());
}

const CelClusterData* current_cluster_data() { return current_cluster; }

cel::EnvironmentOptions environment_options() {
  cel::EnvironmentOptions options;
  options.libraries = cel::Libraries::kubernetes();
  return options;
}

}  // namespace cel_internal

using cel_internal::RequestFacts;

bool is_cel_policy_kind(std::string_view api_version, std::string_view kind) {
  if (api_version.starts_with("policies.kyverno.io/")) return kind == "ValidatingPolicy";
  if (api_version.starts_with("admissionregistration.k8s.io/"))
    return kind == "ValidatingAdmissionPolicy" || kind == "ValidatingAdmissionPolicyBinding";
  return false;
}

bool is_unsupported_policy_kind(std::string_view api_version, std::string_view kind) {
  if (api_version.starts_with("policies.kyverno.io/"))
    return kind != "ValidatingPolicy" && kind != "ImageValidatingPolicy" && kind != "PolicyException";
  if (api_version.starts_with("admissionregistration.k8s.io/"))
    return kind == "MutatingAdmissionPolicy" || kind == "MutatingAdmissionPolicyBinding";
  return false;
}

Status compile_cel_policy(CelPolicy& p) {
  auto c = std::make_shared<CelPolicy::Compiled>(CelPolicy::Compiled{make_env(), {}, {}, {}, {}, {}});
  auto compile = [&](const std::string& expr, std::string_view where) -> Result<cel::Program> {
    auto r = c->env.compile(expr);
    if (!r.ok()) return invalid_input(fmt::format("{}: {}", where, r.error().message));
    return r;
  };
  for (size_t i = 0; i < p.match_conditions.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(p.match_conditions[i].expression, fmt::format("spec.matchConditions[{}].expression", i)));
    c->match_conditions.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.variables.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(p.variables[i].expression, fmt::format("spec.variables[{}].expression", i)));
    c->variables.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.validations.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(p.validations[i].expression, fmt::format("spec.validations[{}].expression", i)));
    c->validations.push_back(std::move(prog));
    std::optional<cel::Program> message;
    if (!p.validations[i].message_expression.empty()) {
      VOUCH_ASSIGN_OR_RETURN(message, compile(p.validations[i].message_expression,
                                              fmt::format("spec.validations[{}].messageExpression", i)));
    }
    c->messages.push_back(std::move(message));
  }
  for (size_t i = 0; i < p.audit_annotations.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(p.audit_annotations[i].expression,
                                              fmt::format("spec.auditAnnotations[{}].valueExpression", i)));
    c->audit_annotations.push_back(std::move(prog));
  }
  p.compiled = std::move(c);
  return ok_status();
}

Result<Policy> parse_cel_policy(const bj::value& doc) {
  if (!doc.is_object()) return invalid_input("expected an object");
  const bj::object& o = doc.get_object();
  CelPolicy p;
  VOUCH_ASSIGN_OR_RETURN(p.api_version, string_field(o, "apiVersion", "", true));
  VOUCH_ASSIGN_OR_RETURN(p.kind, string_field(o, "kind", "", true));
  const bj::object* meta = object_at(o, "metadata");
  if (!meta) return invalid_input("metadata: required");
  VOUCH_ASSIGN_OR_RETURN(p.name, string_field(*meta, "name", "metadata", true));
  const bj::object* spec = object_at(o, "spec");
  if (!spec) return invalid_input("spec: required");
  JsonField spec_field{&o.at("spec"), "spec"};
  const bool vap = p.kind == "ValidatingAdmissionPolicy";
  if (vap) {
    VOUCH_RETURN_IF_ERROR(spec_field.only({"paramKind", "matchConstraints", "validations", "failurePolicy",
                                           "auditAnnotations", "matchConditions", "variables"}));
  } else {
    VOUCH_RETURN_IF_ERROR(spec_field.only({"matchConstraints", "validations", "failurePolicy", "auditAnnotations",
                                           "matchConditions", "variables", "validationActions", "evaluation",
                                           "autogen", "webhookConfiguration"}));
  }
  if (JsonField k = spec_field.at("paramKind"); k.present()) {
    VOUCH_RETURN_IF_ERROR(k.object({"apiVersion", "kind"}));
    CelParamKind kind;
    VOUCH_ASSIGN_OR_RETURN(kind.api_version, k.at("apiVersion").str(true));
    VOUCH_ASSIGN_OR_RETURN(kind.kind, k.at("kind").str(true));
    p.param_kind = std::move(kind);
  }
  VOUCH_ASSIGN_OR_RETURN(auto settings, cel_internal::parse_policy_settings(spec_field, true));
  p.json_mode = settings.json_mode;
  p.payload_mode = settings.payload_mode;
  // spec.autogen.podControllers is read when the policy's variants for Pod controllers are made
  // (below); Kyverno's other autogen, a ValidatingAdmissionPolicy for the API server to enforce
  // in its place, is refused rather than left without effect.
  if (JsonField a = spec_field.at("autogen"); a.present()) {
    VOUCH_RETURN_IF_ERROR(a.object({"podControllers", "validatingAdmissionPolicy"}));
    VOUCH_RETURN_IF_ERROR(a.at("podControllers").object({"controllers"}));
    VOUCH_ASSIGN_OR_RETURN([[maybe_unused]] auto names, a.at("podControllers").at("controllers").strings());
    VOUCH_RETURN_IF_ERROR(a.at("validatingAdmissionPolicy").object({"enabled"}));
    VOUCH_ASSIGN_OR_RETURN(bool vap_autogen, a.at("validatingAdmissionPolicy").at("enabled").boolean(false));
    if (vap_autogen)
      return a.at("validatingAdmissionPolicy").at("enabled").err(
          "generating a ValidatingAdmissionPolicy is not supported; vouch evaluates the policy itself (set false or "
          "remove)");
  }
  VOUCH_ASSIGN_OR_RETURN(p.match, cel_internal::parse_match_constraints(spec_field.at("matchConstraints")));
  VOUCH_ASSIGN_OR_RETURN(p.match_conditions,
                         cel_internal::parse_named_expressions(spec_field.at("matchConditions"), "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(p.variables,
                         cel_internal::parse_named_expressions(spec_field.at("variables"), "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(p.audit_annotations, cel_internal::parse_named_expressions(spec_field.at("auditAnnotations"),
                                                                                    "key", "valueExpression"));
  VOUCH_ASSIGN_OR_RETURN(p.validations, cel_internal::parse_validations(spec_field.at("validations")));
  VOUCH_ASSIGN_OR_RETURN(p.validation_actions, strings_field(*spec, "validationActions", "spec"));
  for (const auto& a : p.validation_actions)
    if (a != "Deny" && a != "Audit" && a != "Warn")
      return invalid_input(fmt::format("spec.validationActions: unknown action {}", a));
  VOUCH_ASSIGN_OR_RETURN(p.failure_policy, string_field(*spec, "failurePolicy", "spec", false));
  if (p.failure_policy.empty()) p.failure_policy = "Fail";
  if (p.failure_policy != "Fail" && p.failure_policy != "Ignore")
    return invalid_input(fmt::format("spec.failurePolicy: expected Fail or Ignore, got {}", p.failure_policy));
  VOUCH_RETURN_IF_ERROR(compile_cel_policy(p));
  if (p.kind == "ValidatingPolicy" && !p.json_mode) {
    VOUCH_ASSIGN_OR_RETURN(auto specs, cel_autogen_specs(*spec));
    for (auto& variant_spec : specs) {
      bj::object variant = o;
      variant["spec"] = std::move(variant_spec);
      auto parsed = parse_cel_policy(variant);
      if (!parsed.ok())
        return invalid_input(fmt::format("autogen for Pod controllers: {}", parsed.error().message));
      p.autogen.push_back(parsed->cel);
    }
  }

  Policy out;
  out.api_version = p.api_version;
  out.kind = p.kind;
  out.name = p.name;
  out.failure_policy = p.failure_policy;
  out.admission = settings.admission;
  out.background = settings.background;
  out.webhook_timeout_seconds = settings.timeout_seconds;
  out.raw = doc;
  bool deny = p.validation_actions.empty() || std::find(p.validation_actions.begin(), p.validation_actions.end(), "Deny") !=
                                                  p.validation_actions.end();
  out.failure_action = deny ? FailureAction::kEnforce : FailureAction::kAudit;
  out.cel = std::make_shared<const CelPolicy>(std::move(p));
  return out;
}

Status apply_binding(const bj::value& doc, std::vector<Policy>& policies) {
  if (!doc.is_object()) return invalid_input("expected an object");
  JsonField root{&doc, ""};
  JsonField spec = root.at("spec");
  if (!spec.v->is_object()) return invalid_input("spec: required");
  VOUCH_RETURN_IF_ERROR(spec.only({"policyName", "paramRef", "validationActions", "matchResources"}));
  CelBinding binding;
  VOUCH_ASSIGN_OR_RETURN(binding.name, root.at("metadata").at("name").str());
  VOUCH_ASSIGN_OR_RETURN(std::string name, spec.at("policyName").str(true));
  VOUCH_ASSIGN_OR_RETURN(binding.validation_actions, spec.at("validationActions").strings());
  for (const auto& a : binding.validation_actions)
    if (a != "Deny" && a != "Audit" && a != "Warn") return spec.at("validationActions").err(fmt::format("unknown action {}", a));
  if (spec.at("matchResources").present()) {
    VOUCH_ASSIGN_OR_RETURN(binding.match, cel_internal::parse_match_constraints(spec.at("matchResources")));
    // A binding's matchResources without resourceRules matches everything the policy does.
    if (binding.match->resource_rules.empty()) binding.match->resource_rules.push_back({{"*"}, {"*"}, {"*"}, {"*"}, {}});
  }
  if (JsonField r = spec.at("paramRef"); r.present()) {
    VOUCH_RETURN_IF_ERROR(r.object({"name", "namespace", "selector", "parameterNotFoundAction"}));
    CelParamRef ref;
    VOUCH_ASSIGN_OR_RETURN(ref.name, r.at("name").str());
    VOUCH_ASSIGN_OR_RETURN(ref.ns, r.at("namespace").str());
    VOUCH_ASSIGN_OR_RETURN(ref.selector, parse_label_selector(r.at("selector")));
    if (ref.name.empty() == !ref.selector.has_value()) return r.err("exactly one of name or selector is required");
    VOUCH_ASSIGN_OR_RETURN(std::string action, r.at("parameterNotFoundAction").str());
    if (!action.empty() && action != "Allow" && action != "Deny")
      return r.at("parameterNotFoundAction").err(fmt::format("expected Allow or Deny, got {}", action));
    ref.deny_when_not_found = action != "Allow";
    binding.param_ref = std::move(ref);
  }
  for (auto& p : policies) {
    if (!p.cel || p.cel->kind != "ValidatingAdmissionPolicy" || p.name != name) continue;
    if (binding.param_ref && !p.cel->param_kind)
      return spec.at("paramRef").err(fmt::format("policy {} has no paramKind, so its bindings take no paramRef", name));
    CelPolicy copy = *p.cel;
    copy.bindings.push_back(std::move(binding));
    // Enforce when any binding denies.
    bool deny = false;
    for (const auto& b : copy.bindings)
      deny = deny || b.validation_actions.empty() ||
             std::find(b.validation_actions.begin(), b.validation_actions.end(), "Deny") != b.validation_actions.end();
    p.failure_action = deny ? FailureAction::kEnforce : FailureAction::kAudit;
    p.cel = std::make_shared<const CelPolicy>(std::move(copy));
    return ok_status();
  }
  return spec.at("policyName").err(fmt::format("no ValidatingAdmissionPolicy named {} among the policies", name));
}

std::vector<const bj::value*> find_cluster_objects(const CelClusterData& data, std::string_view api_version,
                                                   std::string_view resource, std::string_view ns) {
  std::vector<const bj::value*> out;
  const size_t slash = api_version.find('/');
  const std::string group(slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash));
  for (const auto& r : data.resources) {
    ResourceRef ref = resource_ref(r);
    if (ref.api_version != api_version) continue;
    auto custom = data.plurals.find(group + "/" + ref.kind);
    if ((custom != data.plurals.end() ? custom->second : plural_resource(ref.kind)) != resource) continue;
    if (!ns.empty() && ref.ns != ns) continue;
    out.push_back(&r);
  }
  return out;
}

Result<ClusterResourceFile> parse_cluster_resource(const bj::value& doc, std::string_view source) {
  JsonField root{&doc, std::string(source)};
  if (!doc.is_object()) return root.err("expected an object");
  VOUCH_RETURN_IF_ERROR(root.only({"apiVersion", "kind", "metadata", "spec"}));
  VOUCH_ASSIGN_OR_RETURN(std::string api_version, root.at("apiVersion").str());
  VOUCH_ASSIGN_OR_RETURN(std::string kind, root.at("kind").str());
  if (api_version != "cli.kyverno.io/v1alpha1" || kind != "ClusterResource")
    return root.err(fmt::format("expected a cli.kyverno.io/v1alpha1 ClusterResource, got {} {}", api_version, kind));
  VOUCH_RETURN_IF_ERROR(root.at("spec").object({"crds", "resources"}));
  ClusterResourceFile out;
  VOUCH_ASSIGN_OR_RETURN(out.crds, root.at("spec").at("crds").strings());
  VOUCH_ASSIGN_OR_RETURN(auto resources, root.at("spec").at("resources").list());
  for (const auto& r : resources) {
    if (!r.v->is_object()) return r.err("expected an object");
    out.resources.push_back(*r.v);
  }
  return out;
}

Status add_custom_resource_definition(const bj::value& doc, std::string_view source, CelClusterData& data) {
  JsonField root{&doc, std::string(source)};
  VOUCH_ASSIGN_OR_RETURN(std::string kind, root.at("kind").str());
  if (kind != "CustomResourceDefinition") return root.err(fmt::format("expected a CustomResourceDefinition, got {}", kind));
  VOUCH_ASSIGN_OR_RETURN(std::string group, root.at("spec").at("group").str(true));
  VOUCH_ASSIGN_OR_RETURN(std::string names_kind, root.at("spec").at("names").at("kind").str(true));
  VOUCH_ASSIGN_OR_RETURN(std::string plural, root.at("spec").at("names").at("plural").str(true));
  data.plurals[group + "/" + names_kind] = plural;
  return ok_status();
}

Result<CelClusterData> parse_cel_context(const bj::value& doc, std::string_view source) {
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", source));
  const bj::object& o = doc.get_object();
  VOUCH_ASSIGN_OR_RETURN(auto kind, string_field(o, "kind", source, false));
  if (kind != "Context") return invalid_input(fmt::format("{}: kind: expected Context", source));
  // Kyverno's Context (cmd/cli/kubectl-kyverno/apis/v1alpha1): spec.resources and spec.images.
  JsonField root{&doc, std::string(source)};
  VOUCH_RETURN_IF_ERROR(root.only({"apiVersion", "kind", "metadata", "spec"}));
  VOUCH_RETURN_IF_ERROR(root.at("spec").object({"resources", "images"}));
  CelClusterData out;
  const bj::object* spec = object_at(o, "spec");
  if (!spec) return out;
  // spec.images: image data for the imagedata library, as Kyverno's ImageData marshals it.
  VOUCH_ASSIGN_OR_RETURN(auto images, root.at("spec").at("images").list());
  for (const auto& i : images) {
    if (!i.v->is_object()) return i.err("expected an object");
    VOUCH_RETURN_IF_ERROR(i.object({"image", "resolvedImage", "registry", "repository", "tag", "digest", "imageIndex",
                                    "manifest", "config"}));
    bj::object data;
    for (const char* key : {"image", "resolvedImage", "registry", "repository"}) {
      VOUCH_ASSIGN_OR_RETURN(std::string v, i.at(key).str(std::string_view(key) == "image"));
      data[key] = v;
    }
    for (const char* key : {"tag", "digest"}) {
      VOUCH_ASSIGN_OR_RETURN(std::string v, i.at(key).str());
      if (!v.empty()) data[key] = v;
    }
    for (const char* key : {"imageIndex", "manifest", "config"})
      if (i.at(key).present()) data[key] = *i.at(key).v;
    std::string image(data.at("image").get_string());
    if (!out.images.emplace(image, bj::value(std::move(data))).second) return i.at("image").err("image given twice");
  }
  if (auto* r = spec->if_contains("resources"); r && !r->is_null()) {
    if (!r->is_array()) return invalid_input(fmt::format("{}: spec.resources: expected a list", source));
    for (const auto& e : r->get_array()) {
      if (!e.is_object()) return invalid_input(fmt::format("{}: spec.resources: expected objects", source));
      out.resources.push_back(e);
    }
  }
  return out;
}

namespace {

// One evaluation of a CEL policy under `actions` (its own, or a binding's validationActions) with
// `params` bound: nullopt when there is no decision (a match condition does not hold, or an
// error under failurePolicy Ignore).
std::optional<RuleResult> evaluate_once(const CelPolicy& p, const Request& request, const RequestFacts& f,
                                        std::string_view binding, const std::vector<std::string>& actions,
                                        const cel::Value& params) {
  const auto& c = *p.compiled;
  RuleResult result;
  result.policy = p.name;
  result.rule = p.name;
  result.type = "Validation";
  bool deny = actions.empty() || std::find(actions.begin(), actions.end(), "Deny") != actions.end();
  result.validation_actions = actions.empty() ? std::vector<std::string>{"Deny"} : actions;
  result.action = deny ? FailureAction::kEnforce : FailureAction::kAudit;
  bool ignore = p.failure_policy == "Ignore";
  auto fail_closed = [&](const std::string& message) -> std::optional<RuleResult> {
    // failurePolicy Ignore turns an evaluation error into no decision.
    if (ignore) return std::nullopt;
    result.status = RuleStatus::kError;
    result.message = message;
    result.binding_failures.push_back({std::string(binding), result.validation_actions, message, ""});
    return result;
  };

  cel::Activation vars;
  const bool authz = p.payload_mode == "Envoy" || p.payload_mode == "HTTP";
  if (authz) {
    // kyverno-authz's environment: the request as `object`, and `variables`.
    auto object = cel_internal::authz_request(p.payload_mode, request.object);
    if (!object.ok()) return fail_closed(object.error().message);
    vars.bind("object", std::move(*object));
  } else if (p.json_mode) {
    cel_internal::bind_json_variables(request.object, vars);
  } else {
    cel_internal::bind_admission_variables(request, f, vars);
    vars.bind("params", params);
  }
  if (p.kind == "ValidatingPolicy" && !authz) {
    cel_internal::bind_cluster_libraries(vars);
    vars.bind("image", image_policy_internal::image_data_context());
  }

  // Match conditions: all must hold; an error follows the failure policy.
  for (size_t i = 0; i < c.match_conditions.size(); ++i) {
    auto r = c.match_conditions[i].evaluate(vars);
    if (!r.ok()) return fail_closed(fmt::format("matchConditions[{}] ({}): {}", i, p.match_conditions[i].name, r.error().message));
    if (r->value.is_error())
      return fail_closed(fmt::format("matchConditions[{}] ({}): {}", i, p.match_conditions[i].name, r->value.error_message()));
    if (!r->value.is(cel::Kind::kBool))
      return fail_closed(fmt::format("matchConditions[{}] ({}): expected a bool, got {}", i, p.match_conditions[i].name,
                                     r->value.type_name()));
    if (!r->value.as_bool()) return std::nullopt;
  }
  // Variables, in order; each sees those before it. An error stays in the variable and
  // surfaces in the validations that read it.
  cel::Map variables;
  for (size_t i = 0; i < c.variables.size(); ++i) {
    vars.bind("variables", cel::Value::map(variables));
    auto r = c.variables[i].evaluate(vars);
    if (!r.ok()) return fail_closed(fmt::format("variables.{}: {}", p.variables[i].name, r.error().message));
    variables.insert(cel::Value::string(p.variables[i].name), r->value);
  }
  vars.bind("variables", cel::Value::map(variables));

  if (authz) {
    // The first validation that answers with a response decides; null passes to the next.
    for (size_t i = 0; i < c.validations.size(); ++i) {
      auto r = c.validations[i].evaluate(vars);
      if (!r.ok()) return fail_closed(fmt::format("validations[{}]: {}", i, r.error().message));
      if (r->value.is_error())
        return fail_closed(fmt::format("validations[{}]: expression '{}' resulted in error: {}", i, p.validations[i].expression,
                                       r->value.error_message()));
      if (r->value.is(cel::Kind::kNull)) continue;
      auto decision = cel_internal::authz_decision(p.payload_mode, r->value);
      if (!decision)
        return fail_closed(fmt::format("validations[{}]: rule result is expected to be {}, got {}", i,
                                       cel_internal::authz_response_type(p.payload_mode), r->value.type_name()));
      result.status = decision->status;
      result.message = decision->message;
      return result;
    }
    result.status = RuleStatus::kSkip;
    result.message = "request does not match";
    return result;
  }

  std::vector<std::string> failures;
  for (size_t i = 0; i < c.validations.size(); ++i) {
    const CelValidation& v = p.validations[i];
    auto r = c.validations[i].evaluate(vars);
    if (!r.ok()) return fail_closed(fmt::format("validations[{}]: {}", i, r.error().message));
    if (r->value.is_error())
      return fail_closed(fmt::format("validations[{}]: expression '{}' resulted in error: {}", i, v.expression,
                                     r->value.error_message()));
    if (!r->value.is(cel::Kind::kBool))
      return fail_closed(fmt::format("validations[{}]: expected a bool, got {}", i, r->value.type_name()));
    if (r->value.as_bool()) continue;
    std::string message = v.message;
    if (c.messages[i]) {
      auto m = c.messages[i]->evaluate(vars);
      if (m.ok() && m->value.is(cel::Kind::kString) && !m->value.as_string().empty()) message = m->value.as_string();
    }
    if (message.empty()) message = fmt::format("failed expression: {}", v.expression);
    result.binding_failures.push_back({std::string(binding), result.validation_actions, message, v.reason});
    failures.push_back(std::move(message));
  }
  // auditAnnotations: "<policy>/<key>" for each value that is a string (null leaves the key
  // out), as the API server records them; an evaluation error follows the failure policy.
  // Kyverno's JSON mode has no audit annotations (there is no admission request to annotate).
  for (size_t i = 0; i < c.audit_annotations.size() && !p.json_mode; ++i) {
    const CelNamedExpression& a = p.audit_annotations[i];
    auto r = c.audit_annotations[i].evaluate(vars);
    if (!r.ok()) return fail_closed(fmt::format("auditAnnotations[{}] ({}): {}", i, a.name, r.error().message));
    if (r->value.is_error())
      return fail_closed(fmt::format("auditAnnotations[{}] ({}): {}", i, a.name, r->value.error_message()));
    if (r->value.is(cel::Kind::kNull)) continue;
    if (!r->value.is(cel::Kind::kString))
      return fail_closed(fmt::format("auditAnnotations[{}] ({}): expected a string or null, got {}", i, a.name,
                                     r->value.type_name()));
    result.audit_annotations[p.name + "/" + a.name] = r->value.as_string();
  }
  if (failures.empty()) {
    result.status = RuleStatus::kPass;
  } else {
    bool warn_only = !deny && std::find(actions.begin(), actions.end(), "Warn") != actions.end() &&
                     std::find(actions.begin(), actions.end(), "Audit") == actions.end();
    result.status = warn_only ? RuleStatus::kWarn : RuleStatus::kFail;
    std::string joined;
    for (const auto& m : failures) joined += (joined.empty() ? "" : "; ") + m;
    result.message = std::move(joined);
  }
  return result;
}

// The objects of the policy's paramKind a binding's paramRef picks for this request, as the API
// server picks them: by name or selector, in paramRef.namespace or else the request's namespace
// for a namespaced kind.
Result<std::vector<const bj::value*>> binding_params(const CelPolicy& p, const CelParamRef& ref, const RequestFacts& f,
                                                     const CelClusterData* cluster) {
  const bool namespaced = !engine_internal::cluster_scoped_kind(p.param_kind->kind);
  std::string ns;
  if (namespaced) {
    ns = ref.ns.empty() ? f.ns : ref.ns;
    if (ns.empty()) return invalid_input("can't use namespaced paramRef to match cluster-scoped resources");
  } else if (!ref.ns.empty()) {
    return invalid_input("paramRef.namespace must not be provided for a cluster-scoped paramKind");
  }
  std::vector<const bj::value*> out;
  if (!cluster) return out;
  for (const auto& object : cluster->params) {
    ResourceRef r = resource_ref(object);
    if (r.api_version != p.param_kind->api_version || r.kind != p.param_kind->kind) continue;
    if (namespaced && r.ns != ns) continue;
    if (!ref.name.empty()) {
      if (r.name == ref.name) out.push_back(&object);
      continue;
    }
    if (engine_internal::selector_matches(*ref.selector, labels_of(object))) out.push_back(&object);
  }
  return out;
}

// Several decisions for one policy (bindings, params) as one result: any error, else any
// failure, else a pass; the messages of those that did not pass, joined; enforced when one of
// them is.
RuleResult combined(std::vector<RuleResult> decisions) {
  RuleResult out = std::move(decisions.front());
  for (size_t i = 1; i < decisions.size(); ++i) {
    RuleResult& d = decisions[i];
    auto rank = [](RuleStatus s) {
      return s == RuleStatus::kError ? 3 : s == RuleStatus::kFail ? 2 : s == RuleStatus::kWarn ? 1 : 0;
    };
    if (d.status != RuleStatus::kPass) {
      if (out.status == RuleStatus::kPass) {
        out.message = d.message;
        out.action = d.action;
        out.validation_actions = d.validation_actions;
      } else {
        out.message += "; " + d.message;
        if (d.action == FailureAction::kEnforce) out.action = FailureAction::kEnforce;
        for (const auto& a : d.validation_actions)
          if (std::find(out.validation_actions.begin(), out.validation_actions.end(), a) == out.validation_actions.end())
            out.validation_actions.push_back(a);
      }
    }
    if (rank(d.status) > rank(out.status)) out.status = d.status;
    for (auto& [k, v] : d.audit_annotations) out.audit_annotations.emplace(k, std::move(v));
    for (auto& failure : d.binding_failures) out.binding_failures.push_back(std::move(failure));
  }
  return out;
}

}  // namespace

std::vector<RuleResult> evaluate_cel_policy(const CelPolicy& p, const Request& request, const CelClusterData* cluster) {
  cel_internal::ClusterScope cluster_scope(cluster);
  std::vector<RuleResult> out;
  RequestFacts f = cel_internal::request_facts(request);
  if (!cel_internal::cel_policy_takes(p, f, request)) {
    for (const auto& variant : p.autogen) {
      if (!cel_internal::cel_policy_takes(*variant, f, request)) continue;
      out = evaluate_cel_policy(*variant, request, cluster);
      for (auto& r : out) {
        r.autogen = true;
        r.origin_rule = p.name;
      }
      break;
    }
    return out;
  }
  if (p.bindings.empty()) {
    if (auto r = evaluate_once(p, request, f, "", p.validation_actions, cel::Value::null())) out.push_back(std::move(*r));
    return out;
  }
  // Each binding that takes the request is judged on its own (and, with params, once per
  // parameter object), as the API server judges them; a misconfigured binding is an error
  // under the policy's failurePolicy.
  std::vector<RuleResult> decisions;
  for (const auto& b : p.bindings) {
    if (b.match && !cel_internal::constraints_match(*b.match, f, request)) continue;
    auto error = [&](const std::string& message) {
      if (p.failure_policy == "Ignore") return;
      RuleResult r;
      r.policy = r.rule = p.name;
      r.type = "Validation";
      r.status = RuleStatus::kError;
      r.action = FailureAction::kEnforce;
      r.validation_actions = {"Deny"};  // a misconfigured binding fails closed
      r.message = fmt::format("binding {}: {}", b.name, message);
      r.binding_failures.push_back({b.name, r.validation_actions, fmt::format("failed to configure binding: {}", message), ""});
      decisions.push_back(std::move(r));
    };
    if (!p.param_kind) {
      if (auto r = evaluate_once(p, request, f, b.name, b.validation_actions, cel::Value::null()))
        decisions.push_back(std::move(*r));
      continue;
    }
    if (!b.param_ref) {
      error("the policy has a paramKind, so the binding needs a paramRef");
      continue;
    }
    auto params = binding_params(p, *b.param_ref, f, cluster);
    if (!params.ok()) {
      error(params.error().message);
      continue;
    }
    if (params->empty()) {
      if (!b.param_ref->deny_when_not_found) continue;
      RuleResult r;
      r.policy = r.rule = p.name;
      r.type = "Validation";
      r.status = RuleStatus::kFail;
      r.action = FailureAction::kEnforce;
      r.validation_actions = {"Deny"};  // as the API server: the request is denied
      r.message = fmt::format("no params found for policy binding {} with `Deny` parameterNotFoundAction", b.name);
      r.binding_failures.push_back(
          {b.name, r.validation_actions,
           "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction", ""});
      decisions.push_back(std::move(r));
      continue;
    }
    for (const bj::value* param : *params)
      if (auto r = evaluate_once(p, request, f, b.name, b.validation_actions, cel::from_json(*param)))
        decisions.push_back(std::move(*r));
  }
  if (!decisions.empty()) out.push_back(combined(std::move(decisions)));
  return out;
}

}  // namespace vouch::policy
