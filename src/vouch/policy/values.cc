// Kyverno CLI values and user-info files, and the requests they make.
#include "vouch/policy/values.h"

#include <set>

#include <fmt/format.h>

#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/image_policy.h"

namespace vouch::policy {

namespace {

std::map<std::string, bj::value> members(const bj::value* v) {
  std::map<std::string, bj::value> out;
  if (!v || !v->is_object()) return out;
  for (const auto& kv : v->get_object()) out[std::string(kv.key())] = kv.value();
  return out;
}

// The string "name" of an object, or nullptr.
const bj::string* name_of(const bj::value& v) {
  if (!v.is_object()) return nullptr;
  auto* n = v.get_object().if_contains("name");
  return n && n->is_string() ? &n->get_string() : nullptr;
}

std::vector<std::string> strings(const bj::value* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& e : v->get_array())
      if (e.is_string()) out.emplace_back(e.get_string());
  return out;
}

}  // namespace

Result<Values> parse_values(std::string_view text, std::string_view source) {
  Values vals;
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, parse_document(text, source));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", source));
  auto& o = doc.get_object();
  for (const auto& kv : o) {
    static const std::set<std::string_view> kKnown = {"apiVersion", "kind", "metadata", "globalValues",
                                                      "policies", "namespaceSelector", "namespaces",
                                                      "subresources"};
    if (!kKnown.count(kv.key())) return invalid_input(fmt::format("{}: {}: unknown field", source, std::string(kv.key())));
  }
  vals.global = members(o.if_contains("globalValues"));
  if (auto* subs = o.if_contains("subresources"); subs && !subs->is_null()) {
    if (!subs->is_array()) return invalid_input(fmt::format("{}: subresources: expected a list", source));
    for (size_t i = 0; i < subs->get_array().size(); ++i) {
      const auto& e = subs->get_array()[i];
      auto gv = [](const bj::object& r) {
        std::string g = r.contains("group") && r.at("group").is_string() ? std::string(r.at("group").get_string()) : "";
        std::string v = r.contains("version") && r.at("version").is_string() ? std::string(r.at("version").get_string()) : "";
        return g.empty() ? v : g + "/" + v;
      };
      auto str = [](const bj::object& r, const char* k) {
        return r.contains(k) && r.at(k).is_string() ? std::string(r.at(k).get_string()) : std::string();
      };
      const bj::value* parent = e.is_object() ? e.get_object().if_contains("parentResource") : nullptr;
      const bj::value* sub = e.is_object() ? e.get_object().if_contains("subresource") : nullptr;
      if (!parent || !parent->is_object() || !sub || !sub->is_object())
        return invalid_input(fmt::format("{}: subresources[{}]: parentResource and subresource are required", source, i));
      Values::Subresource s;
      s.api_version = gv(sub->get_object());
      s.kind = str(sub->get_object(), "kind");
      s.parent_api_version = gv(parent->get_object());
      s.parent_kind = str(parent->get_object(), "kind");
      std::string name = str(sub->get_object(), "name");
      size_t slash = name.find('/');
      if (s.kind.empty() || s.parent_kind.empty() || slash == std::string::npos || slash + 1 == name.size())
        return invalid_input(fmt::format("{}: subresources[{}]: expected kinds and a name like pods/exec", source, i));
      s.name = name.substr(slash + 1);
      vals.subresources.push_back(std::move(s));
    }
  }
  if (auto* ps = o.if_contains("policies"); ps && ps->is_array()) {
    for (const auto& p : ps->get_array()) {
      if (!p.is_object()) continue;
      const bj::string* pn = name_of(p);
      std::string name = pn ? std::string(*pn) : "";
      // policies[].rules[] and policies[].resources[]: values by the named rule or resource.
      auto collect = [&](const char* key, auto& into) {
        auto* list = p.get_object().if_contains(key);
        if (!list || !list->is_array()) return;
        for (const auto& r : list->get_array())
          if (const bj::string* rn = name_of(r)) into[name][std::string(*rn)] = members(r.get_object().if_contains("values"));
      };
      collect("rules", vals.rules);
      collect("resources", vals.resources);
    }
  }
  if (auto* ns = o.if_contains("namespaceSelector"); ns && ns->is_array()) {
    for (const auto& n : ns->get_array()) {
      const bj::string* nn = name_of(n);
      if (!nn) continue;
      std::map<std::string, std::string> labels;
      if (auto* l = n.get_object().if_contains("labels"); l && l->is_object()) {
        for (const auto& kv : l->get_object())
          if (kv.value().is_string()) labels[std::string(kv.key())] = std::string(kv.value().get_string());
      }
      vals.namespace_labels[std::string(*nn)] = labels;
    }
  }
  if (auto* list = o.if_contains("namespaces"); list && !list->is_null()) {
    // Namespace objects, as Kyverno's CLI reads them: they win over namespaceSelector.
    if (!list->is_array()) return invalid_input(fmt::format("{}: namespaces: expected a list", source));
    auto objects = std::make_shared<std::map<std::string, bj::value>>();
    for (size_t i = 0; i < list->get_array().size(); ++i) {
      const bj::value& n = list->get_array()[i];
      const bj::value* meta = n.is_object() ? n.get_object().if_contains("metadata") : nullptr;
      const bj::string* name = meta ? name_of(*meta) : nullptr;
      if (!name || name->empty())
        return invalid_input(fmt::format("{}: namespaces[{}].metadata.name: required", source, i));
      std::map<std::string, std::string> labels;
      if (auto* l = meta->get_object().if_contains("labels"); l && !l->is_null()) {
        if (!l->is_object())
          return invalid_input(fmt::format("{}: namespaces[{}].metadata.labels: expected an object", source, i));
        for (const auto& kv : l->get_object()) {
          if (!kv.value().is_string())
            return invalid_input(fmt::format("{}: namespaces[{}].metadata.labels.{}: expected a string", source, i,
                                             std::string(kv.key())));
          labels[std::string(kv.key())] = std::string(kv.value().get_string());
        }
      }
      vals.namespace_labels[std::string(*name)] = std::move(labels);
      (*objects)[std::string(*name)] = n;
    }
    vals.namespaces = std::move(objects);
  }
  return vals;
}

Result<UserInfo> parse_user_info(std::string_view text, std::string_view source) {
  UserInfo u;
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, parse_document(text, source));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", source));
  auto& o = doc.get_object();
  u.roles = strings(o.if_contains("roles"));
  u.cluster_roles = strings(o.if_contains("clusterRoles"));
  if (auto* ui = o.if_contains("userInfo"); ui && ui->is_object()) {
    if (auto* n = ui->get_object().if_contains("username"); n && n->is_string()) u.username = std::string(n->get_string());
    u.groups = strings(ui->get_object().if_contains("groups"));
  }
  return u;
}

Request request_for(const Policy& policy, const bj::value& resource, const Values& values, const UserInfo& user,
                    const std::string& operation) {
  Request req;
  req.object = resource;
  req.user = user;
  req.namespace_labels = values.namespace_labels;
  req.namespace_objects = values.namespaces;
  ResourceRef ref = resource_ref(resource);
  for (const auto& s : values.subresources) {
    if (s.kind == ref.kind && s.api_version == ref.api_version) {
      req.parent_api_version = s.parent_api_version;
      req.parent_kind = s.parent_kind;
      req.subresource = s.name;
    }
  }
  req.values = values.global;
  if (auto it = values.resources.find(policy.name); it != values.resources.end()) {
    if (auto jt = it->second.find(ref.name); jt != it->second.end())
      for (const auto& [k, v] : jt->second) req.values[k] = v;
  }
  if (auto it = values.rules.find(policy.name); it != values.rules.end()) {
    for (const auto& [rule, vals] : it->second)
      for (const auto& [k, v] : vals) req.values[k] = v;
  }
  if (auto it = req.values.find("request.operation"); it != req.values.end() && it->second.is_string())
    req.operation = std::string(it->second.get_string());
  if (!operation.empty()) {
    req.operation = operation;
    req.values.erase("request.operation");
  }
  return req;
}

std::vector<Evaluated> evaluate_all(const Engine& engine, const std::vector<Policy>& policies,
                                    const std::vector<bj::value>& resources, const Values& values,
                                    const UserInfo& user, const std::string& operation) {
  std::vector<Evaluated> out;
  // As Kyverno's CLI: every policy's mutate rules first, in order, each on the resource as the
  // policies before it left it; then the other rules, on the mutated resource.
  std::vector<bj::value> mutated = resources;
  for (const auto& p : policies) {
    for (size_t index = 0; index < resources.size(); ++index) {
      Request req = request_for(p, mutated[index], values, user, operation);
      ResourceRef ref = resource_ref(resources[index]);
      for (auto& rr : engine.apply(p, req, Stage::kMutate)) {
        if (!rr.patched_resource.is_null()) mutated[index] = rr.patched_resource;
        out.push_back({ref, index, std::move(rr), p.cel || p.image_policy});
      }
    }
  }
  // ImageValidatingPolicies share what they verified per resource: `required` is settled once
  // all have run, as Kyverno settles it per request.
  std::vector<std::shared_ptr<ImageVerificationLedger>> ledgers(resources.size());
  std::vector<std::pair<size_t, const ImageValidatingPolicy*>> image_results;
  for (const auto& p : policies) {
    for (size_t index = 0; index < resources.size(); ++index) {
      Request req = request_for(p, mutated[index], values, user, operation);
      if (p.image_policy) {
        if (!ledgers[index]) ledgers[index] = std::make_shared<ImageVerificationLedger>();
        req.image_verifications = ledgers[index];
      }
      ResourceRef ref = resource_ref(resources[index]);
      for (auto& rr : engine.apply(p, req, Stage::kValidate)) {
        if (p.image_policy) image_results.emplace_back(out.size(), p.image_policy.get());
        out.push_back({ref, index, std::move(rr), p.cel || p.image_policy});
      }
    }
  }
  for (const auto& [at, policy] : image_results) settle_required(*policy, out[at].result, *ledgers[out[at].resource_index]);
  return out;
}

std::vector<Evaluated> evaluate_json_payloads(const Engine& engine, const std::vector<Policy>& policies,
                                              const std::vector<JsonPayload>& payloads) {
  std::vector<Evaluated> out;
  for (const auto& p : policies) {
    if (!p.cel || !p.cel->json_mode) continue;
    for (size_t index = 0; index < payloads.size(); ++index) {
      if (payloads[index].mode != p.cel->payload_mode) continue;
      Request req;
      req.object = payloads[index].document;
      req.payload_mode = payloads[index].mode;
      ResourceRef ref;
      ref.name = payloads[index].name;
      for (auto& rr : engine.apply(p, req)) out.push_back({ref, index, std::move(rr), true});
    }
  }
  return out;
}

}  // namespace vouch::policy
