// Kyverno's mutate patches: anchors (pkg/engine/mutate/patch/strategicPreprocessing.go), the
// strategic merge kustomize performs for it (kyaml merge2 over the Kubernetes schema), and
// patchesJson6902 with Kyverno's apply options.
#include "mutate_patch.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "vouch/policy/document.h"
#include "vouch/policy/json_patch.h"
#include "vouch/policy/pattern.h"

namespace vouch::policy::mutate_internal {

namespace {

// ---------------------------------------------------------------- anchors

enum class AnchorKind { kNone, kCondition, kGlobal, kAddIfNotPresent, kEquality, kNegation, kExistence };

struct Anchor {
  AnchorKind kind = AnchorKind::kNone;
  std::string key;
};

// `^([+<=X^])?\((.+)\)$` after trimming spaces, as pkg/engine/anchor parses keys.
Anchor parse_anchor(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  Anchor a;
  size_t open = 0;
  AnchorKind kind = AnchorKind::kCondition;
  if (!s.empty()) {
    switch (s.front()) {
      case '+': kind = AnchorKind::kAddIfNotPresent, open = 1; break;
      case '<': kind = AnchorKind::kGlobal, open = 1; break;
      case '=': kind = AnchorKind::kEquality, open = 1; break;
      case 'X': kind = AnchorKind::kNegation, open = 1; break;
      case '^': kind = AnchorKind::kExistence, open = 1; break;
      default: break;
    }
  }
  if (s.size() < open + 3 || s[open] != '(' || s.back() != ')') return a;
  a.kind = kind;
  a.key = std::string(s.substr(open + 1, s.size() - open - 2));
  return a;
}

bool contains_condition(const Anchor& a) { return a.kind == AnchorKind::kCondition || a.kind == AnchorKind::kGlobal; }
bool has_anchor(const Anchor& a) { return contains_condition(a) || a.kind == AnchorKind::kAddIfNotPresent; }
bool is_global(const Anchor& a) { return a.kind == AnchorKind::kGlobal; }

// The text a YAML scalar holds once a JSON value is read as YAML (what kyaml compares).
std::string scalar_text(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "null";
  return bj::serialize(v);
}

bool nil_or_empty(const bj::value& v) {
  return v.is_null() || (v.is_object() && v.get_object().empty()) || (v.is_array() && v.get_array().empty());
}

template <typename Pred>
bool has_anchors(const bj::value& node, Pred pred) {
  if (node.is_object()) {
    for (const auto& kv : node.get_object()) {
      Anchor a = parse_anchor(kv.key());
      if (a.kind != AnchorKind::kNone && pred(a)) return true;
      if (!nil_or_empty(kv.value()) && has_anchors(kv.value(), pred)) return true;
    }
    return false;
  }
  if (node.is_array()) {
    for (const auto& e : node.get_array())
      if (has_anchors(e, pred)) return true;
    return false;
  }
  if (node.is_string()) return contains_condition(parse_anchor(node.get_string()));
  return false;
}

// How the anchor walk ended: a conditional anchor that did not hold skips the list element it
// is in (or the whole patch at the top); a global one skips the whole patch.
enum class Fail { kNone, kCondition, kGlobal, kError };

struct Walk {
  Fail fail = Fail::kNone;
  std::string message;
  static Walk ok() { return {}; }
  static Walk of(Fail f, std::string m) { return {f, std::move(m)}; }
};

std::vector<std::string> keys_of(const bj::object& o) {
  std::vector<std::string> out;
  for (const auto& kv : o) out.emplace_back(kv.key());
  return out;
}

// +(key): dropped when the resource has the key, else the anchor is removed from the key.
int handle_add_if_not_present(bj::value& pattern, const bj::value* resource) {
  if (!pattern.is_object()) return 0;
  auto& po = pattern.get_object();
  int count = 0;
  for (const auto& k : keys_of(po)) {
    Anchor a = parse_anchor(k);
    if (a.kind != AnchorKind::kAddIfNotPresent) continue;
    ++count;
    bj::value value = std::move(po[k]);
    po.erase(k);
    bool present = resource && resource->is_object() && resource->get_object().contains(a.key);
    if (!present) po[a.key] = std::move(value);
  }
  return count;
}

// A condition's pattern against the resource's value, through the validate pattern matcher;
// scalars compare as the YAML text they are.
std::optional<std::string> check_condition(const bj::value& pattern, const bj::value& resource) {
  bool pattern_scalar = !pattern.is_object() && !pattern.is_array();
  bool resource_scalar = !resource.is_object() && !resource.is_array();
  bj::value p = pattern_scalar ? bj::value(scalar_text(pattern)) : pattern;
  bj::value r = resource_scalar ? bj::value(scalar_text(resource)) : resource;
  PatternResult res = match_pattern(r, p);
  if (res.kind == PatternResult::kPass || res.kind == PatternResult::kSkip) return std::nullopt;
  return res.message.empty() ? fmt::format("validation error at path {}", res.path) : res.message;
}

std::optional<std::string> validate_conditions_of(bj::value& pattern, const bj::value* resource, AnchorKind kind) {
  if (!pattern.is_object()) return std::nullopt;
  auto& po = pattern.get_object();
  for (const auto& k : keys_of(po)) {
    Anchor a = parse_anchor(k);
    if (a.kind != kind) continue;
    const bj::value* rv = resource && resource->is_object() ? resource->get_object().if_contains(a.key) : nullptr;
    if (!rv) return fmt::format("could not found \"{}\" key in the resource", a.key);
    bj::value& pv = po[k];
    if (handle_add_if_not_present(pv, rv) > 0) continue;
    if (auto err = check_condition(pv, *rv)) return err;
  }
  return std::nullopt;
}

Walk preprocess(bj::value& pattern, const bj::value* resource);

bool delete_anchors(bj::value& node, bool delete_scalar, bool traverse);

// A conditional element that held for a named resource element is added for that element by
// name, so that the merge updates it.
Walk handle_pattern_name(bj::array& pattern, const bj::value& element, const bj::value& resource_element) {
  if (!resource_element.is_object()) return Walk::ok();
  const bj::value* name = resource_element.get_object().if_contains("name");
  if (!name || name->is_null()) return Walk::ok();
  bj::value node = element;
  if (delete_anchors(node, true, false)) return Walk::ok();
  if (!node.is_object()) return Walk::of(Fail::kError, "failed to update name in pattern: the element is not a map");
  node.get_object()["name"] = *name;
  pattern.push_back(std::move(node));
  return Walk::ok();
}

Walk process_list_of_maps(bj::array& pattern, const bj::value* resource) {
  static const bj::array kEmpty;
  const bj::array* elements = &kEmpty;
  if (resource && resource->is_array()) elements = &resource->get_array();
  else if (resource && !resource->is_null())
    return Walk::of(Fail::kError, "wrong node kind: expected a list in the resource");
  size_t count = pattern.size();
  for (size_t i = 0; i < count; ++i) {
    const bj::value element = pattern[i];
    if (!has_anchors(element, has_anchor)) continue;
    bool global = has_anchors(element, is_global);
    bool any_global_passed = false;
    std::optional<Walk> last_global;
    bj::value copy = element;  // anchors resolved for one resource element stay resolved for the next, as in Kyverno
    for (const auto& re : *elements) {
      Walk w = preprocess(copy, &re);
      if (w.fail == Fail::kCondition) continue;
      if (w.fail == Fail::kGlobal) {
        last_global = w;
        continue;
      }
      if (w.fail != Fail::kNone) return w;
      if (global) {
        any_global_passed = true;
      } else {
        Walk named = handle_pattern_name(pattern, copy, re);
        if (named.fail != Fail::kNone) return named;
      }
    }
    if (!resource) {
      Walk w = preprocess(copy, nullptr);
      if (w.fail == Fail::kCondition) continue;
      if (w.fail != Fail::kNone) return w;
      if (global) any_global_passed = true;
    }
    if (!any_global_passed && last_global) return *last_global;
  }
  return Walk::ok();
}

Walk walk_map(bj::value& pattern, const bj::value* resource) {
  handle_add_if_not_present(pattern, resource);
  if (auto err = validate_conditions_of(pattern, resource, AnchorKind::kGlobal)) return Walk::of(Fail::kGlobal, *err);
  if (auto err = validate_conditions_of(pattern, resource, AnchorKind::kCondition))
    return Walk::of(Fail::kCondition, *err);
  auto& po = pattern.get_object();
  for (const auto& k : keys_of(po)) {
    Anchor a = parse_anchor(k);
    if (a.kind != AnchorKind::kNone && has_anchor(a)) continue;
    const bj::value* rv = resource && resource->is_object() ? resource->get_object().if_contains(k) : nullptr;
    Walk w = preprocess(po[k], rv);
    if (w.fail != Fail::kNone) return w;
  }
  return Walk::ok();
}

Walk preprocess(bj::value& pattern, const bj::value* resource) {
  if (pattern.is_object()) return walk_map(pattern, resource);
  if (pattern.is_array()) {
    auto& list = pattern.get_array();
    if (!list.empty() && list[0].is_object()) return process_list_of_maps(list, resource);
  }
  return Walk::ok();
}

bool delete_anchors_in_map(bj::object& node, bool traverse) {
  bool anchors_exist = false;
  for (const auto& k : keys_of(node)) {
    if (!contains_condition(parse_anchor(k))) continue;
    if (delete_anchors(node[k], true, traverse)) node.erase(k);
    else anchors_exist = true;
  }
  if (anchors_exist) {
    for (const auto& k : keys_of(node)) {
      Anchor a = parse_anchor(k);
      if (!contains_condition(a)) continue;
      bj::value v = std::move(node[k]);
      node.erase(k);
      node[a.key] = std::move(v);
    }
  }
  bool need_to_delete = true;
  for (const auto& k : keys_of(node)) {
    if (delete_anchors(node[k], false, traverse)) node.erase(k);
    else need_to_delete = false;
  }
  return need_to_delete;
}

bool delete_anchors_in_list(bj::array& node, bool traverse) {
  bool was_empty = node.empty();
  // Kyverno removes elements by their index in the list as it shrinks; kept as it does.
  std::vector<size_t> live(node.size());
  for (size_t i = 0; i < live.size(); ++i) live[i] = i;
  auto remove_at = [&](size_t i) {
    if (i < live.size()) live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (size_t i = 0; i < node.size(); ++i) {
    bj::value& element = node[i];
    if (has_anchors(element, has_anchor)) {
      bool should_delete = true;
      if (traverse && element.is_object()) should_delete = delete_anchors(element, true, traverse);
      if (should_delete) remove_at(i);
    } else if (delete_anchors(element, false, traverse)) {
      remove_at(i);
    }
  }
  bj::array kept;
  for (size_t i : live) kept.push_back(std::move(node[i]));
  node = std::move(kept);
  return node.empty() && !was_empty;
}

// Removes the anchors left in a patch; true when nothing but anchors was there.
bool delete_anchors(bj::value& node, bool delete_scalar, bool traverse) {
  if (node.is_object()) return delete_anchors_in_map(node.get_object(), traverse);
  if (node.is_array()) return delete_anchors_in_list(node.get_array(), traverse);
  return delete_scalar;
}

// ---------------------------------------------------------------- the Kubernetes schema

// Which lists of the built-in types merge element by element (x-kubernetes-patch-strategy
// merge) and by which keys (x-kubernetes-list-map-keys, else the patch merge key), as the
// OpenAPI document kustomize compiles in (Kubernetes 1.21) says. Lists not named here, and
// every list of a kind not named here (custom resources), are replaced by the patch's.
struct Type;
struct FieldSchema {
  const Type* type = nullptr;  // the value's type (a list's elements')
  bool merge = false;          // a list merged by keys
  std::vector<std::string> keys;
};
struct Type {
  std::map<std::string, FieldSchema, std::less<>> fields;
};

const Type* schema_for(const bj::value& resource) {
  static const Type object_meta{{{"finalizers", {nullptr, true, {}}}, {"ownerReferences", {nullptr, true, {"uid"}}}}};
  static const Type container{{{"ports", {nullptr, true, {"containerPort", "protocol"}}},
                               {"env", {nullptr, true, {"name"}}},
                               {"volumeMounts", {nullptr, true, {"mountPath"}}},
                               {"volumeDevices", {nullptr, true, {"devicePath"}}}}};
  static const Type pod_spec{{{"containers", {&container, true, {"name"}}},
                              {"initContainers", {&container, true, {"name"}}},
                              {"ephemeralContainers", {&container, true, {"name"}}},
                              {"volumes", {nullptr, true, {"name"}}},
                              {"imagePullSecrets", {nullptr, true, {"name"}}},
                              {"hostAliases", {nullptr, true, {"ip"}}},
                              {"topologySpreadConstraints", {nullptr, true, {"topologyKey", "whenUnsatisfiable"}}}}};
  static const Type pod_template{{{"metadata", {&object_meta, false, {}}}, {"spec", {&pod_spec, false, {}}}}};
  static const Type workload_spec{{{"template", {&pod_template, false, {}}}}};
  static const Type job_template{{{"metadata", {&object_meta, false, {}}}, {"spec", {&workload_spec, false, {}}}}};
  static const Type cron_job_spec{{{"jobTemplate", {&job_template, false, {}}}}};
  static const Type service_spec{{{"ports", {nullptr, true, {"port", "protocol"}}}}};
  static const Type pod{{{"metadata", {&object_meta, false, {}}}, {"spec", {&pod_spec, false, {}}}}};
  static const Type workload{{{"metadata", {&object_meta, false, {}}}, {"spec", {&workload_spec, false, {}}}}};
  static const Type cron_job{{{"metadata", {&object_meta, false, {}}}, {"spec", {&cron_job_spec, false, {}}}}};
  static const Type service{{{"metadata", {&object_meta, false, {}}}, {"spec", {&service_spec, false, {}}}}};
  static const Type pod_template_kind{{{"metadata", {&object_meta, false, {}}}, {"template", {&pod_template, false, {}}}}};
  static const Type meta_only{{{"metadata", {&object_meta, false, {}}}}};
  static const std::map<std::pair<std::string, std::string>, const Type*> kinds = [] {
    std::map<std::pair<std::string, std::string>, const Type*> m;
    m[{"v1", "Pod"}] = &pod;
    m[{"v1", "Service"}] = &service;
    m[{"v1", "PodTemplate"}] = &pod_template_kind;
    m[{"v1", "ReplicationController"}] = &workload;
    for (const char* k : {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}) m[{"apps/v1", k}] = &workload;
    m[{"batch/v1", "Job"}] = &workload;
    m[{"batch/v1", "CronJob"}] = &cron_job;
    m[{"batch/v1beta1", "CronJob"}] = &cron_job;
    const std::vector<std::pair<std::string, std::vector<std::string>>> meta_kinds = {
        {"v1", {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "Endpoints", "PersistentVolumeClaim",
                "PersistentVolume", "Node", "LimitRange", "ResourceQuota", "Event", "Binding"}},
        {"apps/v1", {"ControllerRevision"}},
        {"networking.k8s.io/v1", {"Ingress", "NetworkPolicy", "IngressClass"}},
        {"rbac.authorization.k8s.io/v1", {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}},
        {"policy/v1", {"PodDisruptionBudget"}},
        {"policy/v1beta1", {"PodDisruptionBudget", "PodSecurityPolicy"}},
        {"autoscaling/v1", {"HorizontalPodAutoscaler"}},
        {"autoscaling/v2beta1", {"HorizontalPodAutoscaler"}},
        {"autoscaling/v2beta2", {"HorizontalPodAutoscaler"}},
        {"storage.k8s.io/v1", {"StorageClass", "CSIDriver", "CSINode", "VolumeAttachment"}},
        {"scheduling.k8s.io/v1", {"PriorityClass"}},
        {"coordination.k8s.io/v1", {"Lease"}},
        {"discovery.k8s.io/v1", {"EndpointSlice"}},
        {"node.k8s.io/v1", {"RuntimeClass"}},
        {"certificates.k8s.io/v1", {"CertificateSigningRequest"}},
        {"apiextensions.k8s.io/v1", {"CustomResourceDefinition"}},
        {"admissionregistration.k8s.io/v1", {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}},
        {"apiregistration.k8s.io/v1", {"APIService"}},
    };
    for (const auto& [api, list] : meta_kinds)
      for (const auto& k : list) m[{api, k}] = &meta_only;
    return m;
  }();
  if (!resource.is_object()) return nullptr;
  const auto& o = resource.get_object();
  auto* api = o.if_contains("apiVersion");
  auto* kind = o.if_contains("kind");
  if (!api || !kind || !api->is_string() || !kind->is_string()) return nullptr;
  auto it = kinds.find({std::string(api->get_string()), std::string(kind->get_string())});
  return it == kinds.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------- the strategic merge

enum class Directive { kMerge, kReplace, kDelete };

// `$patch` in a map: removed from it and returned.
Result<Directive> take_map_directive(bj::object& o) {
  auto* v = o.if_contains("$patch");
  if (!v) return Directive::kMerge;
  std::string d = scalar_text(*v);
  Directive out;
  if (d == "delete") out = Directive::kDelete;
  else if (d == "replace") out = Directive::kReplace;
  else if (d == "merge") out = Directive::kMerge;
  else return invalid_input(fmt::format("unknown patch strategy '{}'", d));
  o.erase("$patch");
  return out;
}

// `{$patch: …}` as an element of a list: removed from it and returned.
Result<Directive> take_list_directive(bj::array& a) {
  const bj::object* holder = nullptr;
  for (const auto& e : a) {
    if (e.is_object() && e.get_object().contains("$patch")) {
      holder = &e.get_object();
      break;
    }
  }
  if (!holder || holder->size() > 1) return Directive::kMerge;
  std::string d = scalar_text(holder->at("$patch"));
  Directive out;
  if (d == "delete") out = Directive::kDelete;
  else if (d == "replace") out = Directive::kReplace;
  else if (d == "merge") out = Directive::kMerge;
  else return invalid_input(fmt::format("unknown patch strategy '{}'", d));
  bj::array kept;
  for (auto& e : a) {
    bool directive = e.is_object() && e.get_object().size() == 1 && e.get_object().contains("$patch") &&
                     scalar_text(e.get_object().at("$patch")) == d;
    if (!directive) kept.push_back(std::move(e));
  }
  a = std::move(kept);
  return out;
}

std::string_view kind_name(const bj::value& v) {
  return v.is_object() ? "a map" : v.is_array() ? "a list" : "a scalar";
}

// nullopt: the field goes away.
using Merged = std::optional<bj::value>;

Result<Merged> merge_node(const bj::value* dest, const bj::value* origin, const FieldSchema* fs,
                          const std::string& path);

Result<bj::object> merge_fields(const bj::object& dest, const bj::object& origin, const Type* type,
                                const std::string& path) {
  bj::object out = dest;
  std::set<std::string> names;
  for (const auto& kv : dest) names.insert(std::string(kv.key()));
  for (const auto& kv : origin) names.insert(std::string(kv.key()));
  for (const auto& name : names) {
    const FieldSchema* fs = nullptr;
    if (type) {
      auto it = type->fields.find(name);
      if (it != type->fields.end()) fs = &it->second;
    }
    VOUCH_ASSIGN_OR_RETURN(Merged m, merge_node(dest.if_contains(name), origin.if_contains(name), fs, path + "." + name));
    if (m && !m->is_null()) out[name] = std::move(*m);
    else out.erase(name);
  }
  return out;
}

Result<Merged> merge_map(const bj::value* dest, const bj::value& origin, const Type* type, const std::string& path) {
  if (!dest || dest->is_null()) {
    if (!origin.is_object()) return Merged();
    bj::object o = origin.get_object();
    auto d = take_map_directive(o);  // an unknown directive is kept as a field here, as kyaml does
    if (d.ok() && *d == Directive::kDelete) return Merged();
    if (!d.ok()) o = origin.get_object();
    VOUCH_ASSIGN_OR_RETURN(bj::object merged, merge_fields(o, o, type, path));
    return Merged(bj::value(std::move(merged)));
  }
  if (origin.is_null()) return Merged();
  bj::object o = origin.get_object();
  VOUCH_ASSIGN_OR_RETURN(Directive d, take_map_directive(o));
  if (d == Directive::kDelete) return Merged();
  bool self = dest == &origin;
  if (d == Directive::kReplace || self) {
    VOUCH_ASSIGN_OR_RETURN(bj::object merged, merge_fields(o, o, type, path));
    return Merged(bj::value(std::move(merged)));
  }
  VOUCH_ASSIGN_OR_RETURN(bj::object merged, merge_fields(dest->get_object(), o, type, path));
  return Merged(bj::value(std::move(merged)));
}

using Tuple = std::vector<std::string>;

Tuple tuple_of(const bj::value& element, const std::vector<std::string>& keys) {
  Tuple t(keys.size());
  if (!element.is_object()) return t;
  for (size_t i = 0; i < keys.size(); ++i) {
    const bj::value* v = element.get_object().if_contains(keys[i]);
    if (v && !v->is_null()) t[i] = scalar_text(*v);
  }
  return t;
}

bool empty_tuple(const Tuple& t) {
  return std::all_of(t.begin(), t.end(), [](const std::string& s) { return s.empty(); });
}

// kyaml's match of two key tuples: a shared value and no conflicting ones; the result fills in
// the values one of them lacks.
bool tuples_match(const Tuple& a, const Tuple& b, Tuple& merged) {
  if (a.size() != b.size()) return false;
  bool common = false;
  merged.clear();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) {
      common = true;
      merged.push_back(a[i]);
      continue;
    }
    if (!a[i].empty() && !b[i].empty()) return false;
    merged.push_back(a[i].empty() ? b[i] : a[i]);
  }
  return common;
}

// An element whose key fields agree with the tuple (a key it lacks does not disagree).
bool element_matches(const bj::value& element, const std::vector<std::string>& keys, const Tuple& t) {
  if (!element.is_object()) return false;
  Tuple et = tuple_of(element, keys);
  bool any = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (t[i].empty() || et[i].empty()) continue;
    if (et[i] != t[i]) return false;
    any = true;
  }
  return any;
}

Result<Merged> merge_list(const bj::value* dest, const bj::value& origin, const FieldSchema* fs, const std::string& path) {
  if (!fs || !fs->merge) return origin.is_null() ? Merged() : Merged(origin);  // replaced
  if (origin.is_null()) return Merged();
  // Without a list in the resource, kyaml merges the patch's list with itself.
  bool self = !dest || dest->is_null() || dest == &origin;
  bj::array o = origin.get_array();
  VOUCH_ASSIGN_OR_RETURN(Directive d, take_list_directive(o));
  if (d == Directive::kDelete) return Merged();
  self = self || d == Directive::kReplace;
  const bj::array& base = self ? o : dest->get_array();
  FieldSchema element_schema{fs->type, false, {}};
  const bj::array* const sources[] = {&o, &base};  // the patch's elements first, as kustomize lists them
  bj::array out;
  if (fs->keys.empty()) {
    // A list of scalars merged as a set: the patch's values first, then the resource's others.
    std::set<std::string> seen;
    for (const bj::array* list : sources) {
      for (const auto& e : *list) {
        if (e.is_null()) continue;
        if (seen.insert(scalar_text(e)).second) out.push_back(e);
      }
    }
    return Merged(bj::value(std::move(out)));
  }
  const auto& keys = fs->keys;
  std::vector<Tuple> tuples;
  for (const bj::array* list : sources) {
    for (const auto& e : *list) {
      Tuple t = tuple_of(e, keys);
      if (empty_tuple(t)) continue;
      if (std::find(tuples.begin(), tuples.end(), t) == tuples.end()) tuples.push_back(std::move(t));
    }
  }
  if (keys.size() > 1) {
    Tuple merged;
    for (size_t i = 0; i < tuples.size(); ++i)
      for (size_t j = 0; j < tuples.size(); ++j)
        if (tuples_match(tuples[i], tuples[j], merged)) tuples[i] = tuples[j] = merged;
  }
  std::vector<Tuple> done;
  for (const auto& t : tuples) {
    if (std::find(done.begin(), done.end(), t) != done.end()) continue;
    done.push_back(t);
    const bj::value* de = nullptr;
    const bj::value* oe = nullptr;
    for (const auto& e : base)
      if (!de && element_matches(e, keys, t)) de = &e;
    for (const auto& e : o)
      if (!oe && element_matches(e, keys, t)) oe = &e;
    if (self) de = oe;
    std::string at = fmt::format("{}[{}]", path, t[0]);
    VOUCH_ASSIGN_OR_RETURN(Merged m, merge_node(de, oe, &element_schema, at));
    if (!m || m->is_null() || (m->is_object() && m->get_object().empty())) continue;  // deleted
    if (m->is_object()) {
      for (size_t i = 0; i < keys.size(); ++i)
        if (!m->get_object().contains(keys[i]) && !t[i].empty()) m->get_object()[keys[i]] = t[i];
    }
    out.push_back(std::move(*m));
  }
  // Elements without any key cannot be matched: the resource's stay, the patch's are added.
  for (const bj::array* list : sources) {
    if (list == &base && self) break;
    for (const auto& e : *list)
      if (!e.is_null() && empty_tuple(tuple_of(e, keys)) && !(e.is_object() && e.get_object().empty())) out.push_back(e);
  }
  return Merged(bj::value(std::move(out)));
}

Result<Merged> merge_node(const bj::value* dest, const bj::value* origin, const FieldSchema* fs,
                          const std::string& path) {
  if (!origin) return dest ? Merged(*dest) : Merged();
  bool dest_missing = !dest || dest->is_null();
  const bj::value* first = !dest_missing ? dest : (!origin->is_null() ? origin : nullptr);
  if (!first) return Merged();
  auto wrong = [&](const bj::value& v) {
    return invalid_input(fmt::format("wrong node kind at {}: expected {}, was {}", path.empty() ? "." : path,
                                     kind_name(*first), kind_name(v)));
  };
  for (const bj::value* v : {dest_missing ? nullptr : dest, origin->is_null() ? nullptr : origin}) {
    if (!v) continue;
    if (first->is_object() != v->is_object() || first->is_array() != v->is_array()) return wrong(*v);
  }
  if (first->is_object()) return merge_map(dest_missing ? nullptr : dest, *origin, fs ? fs->type : nullptr, path);
  if (first->is_array()) return merge_list(dest_missing ? nullptr : dest, *origin, fs, path);
  if (origin->is_null()) return Merged();
  return Merged(*origin);
}

}  // namespace

Result<StrategicMergeOutcome> resolve_anchors(const bj::value& resource, const bj::value& patch) {
  StrategicMergeOutcome out;
  bj::value pattern = patch;
  Walk w = preprocess(pattern, &resource);
  if (w.fail == Fail::kCondition || w.fail == Fail::kGlobal) {
    out.condition_failed = (w.fail == Fail::kGlobal ? "global condition failed: " : "condition failed: ") + w.message;
    out.resource = bj::object{};
    return out;
  }
  if (w.fail == Fail::kError) return invalid_input("failed to preProcess rule: " + w.message);
  if (!pattern.is_object()) return invalid_input("failed to preProcess rule: the patch is not a map");
  auto& po = pattern.get_object();
  for (const auto& k : keys_of(po)) {
    if (delete_anchors(po[k], contains_condition(parse_anchor(k)), false)) po.erase(k);
  }
  out.resource = std::move(pattern);
  return out;
}

Result<bj::value> merge_patch(const bj::value& resource, const bj::value& patch) {
  FieldSchema root{schema_for(resource), false, {}};
  VOUCH_ASSIGN_OR_RETURN(Merged m, merge_node(&resource, &patch, &root, ""));
  if (!m) return bj::value(bj::object{});
  return std::move(*m);
}

Result<StrategicMergeOutcome> strategic_merge(const bj::value& resource, const bj::value& patch) {
  VOUCH_ASSIGN_OR_RETURN(StrategicMergeOutcome resolved, resolve_anchors(resource, patch));
  StrategicMergeOutcome out;
  out.condition_failed = resolved.condition_failed;
  if (!out.condition_failed.empty()) {
    out.resource = resource;
    return out;
  }
  VOUCH_ASSIGN_OR_RETURN(out.resource, merge_patch(resource, resolved.resource));
  return out;
}

Result<bj::value> apply_json6902(const bj::value& resource, const std::string& patches) {
  auto parsed = parse_document(patches, "patchesJson6902");
  if (!parsed.ok()) return invalid_input("failed to decode patches: " + parsed.error().message);
  if (!parsed->is_array()) return invalid_input("failed to decode patches: expected a list of operations");
  JsonPatchOptions options{.negative_indices = true, .missing_path_on_remove = true, .create_path_on_add = true};
  return apply_json_patch(resource, parsed->get_array(), options);
}

namespace {

std::string pointer_escape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

void diff_into(const bj::value& a, const bj::value& b, const std::string& path, std::vector<bj::object>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    const auto& ao = a.get_object();
    const auto& bo = b.get_object();
    for (const auto& kv : ao)
      if (!bo.contains(kv.key()))
        out.push_back(bj::object{{"op", "remove"}, {"path", path + "/" + pointer_escape(kv.key())}});
    for (const auto& kv : bo) {
      std::string p = path + "/" + pointer_escape(kv.key());
      if (const bj::value* av = ao.if_contains(kv.key())) diff_into(*av, kv.value(), p, out);
      else out.push_back(bj::object{{"op", "add"}, {"path", p}, {"value", kv.value()}});
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const auto& aa = a.get_array();
    const auto& ba = b.get_array();
    size_t common = std::min(aa.size(), ba.size());
    for (size_t i = 0; i < common; ++i) diff_into(aa[i], ba[i], fmt::format("{}/{}", path, i), out);
    for (size_t i = common; i < ba.size(); ++i)
      out.push_back(bj::object{{"op", "add"}, {"path", fmt::format("{}/{}", path, i)}, {"value", ba[i]}});
    for (size_t i = aa.size(); i > common; --i)
      out.push_back(bj::object{{"op", "remove"}, {"path", fmt::format("{}/{}", path, i - 1)}});
    return;
  }
  out.push_back(bj::object{{"op", "replace"}, {"path", path}, {"value", b}});
}

}  // namespace

std::vector<bj::object> json_diff(const bj::value& from, const bj::value& to) {
  std::vector<bj::object> out;
  diff_into(from, to, "", out);
  return out;
}

}  // namespace vouch::policy::mutate_internal
