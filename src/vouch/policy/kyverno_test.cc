// kyverno-test.yaml: parsing and the result matcher.
#include "vouch/policy/kyverno_test.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "json_field.h"
#include "vouch/policy/document.h"
#include "vouch/policy/jmespath.h"
#include "vouch/policy/report.h"

namespace vouch::policy {

namespace {

std::vector<std::string> string_list(const bj::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.emplace_back(v->get_string());
  } else if (v->is_array()) {
    for (const auto& e : v->get_array())
      if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

std::string string_at(const bj::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool resource_named(const std::string& entry, const ResourceRef& r) {
  return entry == r.name || entry == r.ns + "/" + r.name || entry == r.kind + "/" + r.ns + "/" + r.name ||
         entry == r.kind + "/" + r.name;
}

bool rule_named(const std::string& expected, const RuleResult& r) {
  if (expected == r.rule) return true;
  if (r.autogen) {
    return expected == r.origin_rule || expected == "autogen-" + r.origin_rule ||
           expected == "autogen-cronjob-" + r.origin_rule;
  }
  return false;
}

bool policy_named(const std::string& expected, const RuleResult& r) {
  if (expected == r.policy) return true;
  size_t slash = r.policy.find('/');
  return slash != std::string::npos && expected == r.policy.substr(slash + 1);
}

// Kyverno's Tidy: nulls, empty maps and empty lists removed (nothing left: null).
bj::value tidy(const bj::value& v) {
  if (v.is_object()) {
    bj::object out;
    for (const auto& kv : v.get_object()) {
      bj::value t = tidy(kv.value());
      if (!t.is_null()) out[kv.key()] = std::move(t);
    }
    return out.empty() ? bj::value() : bj::value(std::move(out));
  }
  if (v.is_array()) {
    bj::array out;
    for (const auto& e : v.get_array()) {
      bj::value t = tidy(e);
      if (!t.is_null()) out.push_back(std::move(t));
    }
    return out.empty() ? bj::value() : bj::value(std::move(out));
  }
  return v;
}

bool numbers_equal(const bj::value& a, const bj::value& b) {
  if (!a.is_number() || !b.is_number()) return false;
  return a.to_number<double>() == b.to_number<double>();
}

bool first_difference(const bj::value& a, const bj::value& e, const std::string& path, std::string& diff) {
  if (a.is_object() && e.is_object()) {
    for (const auto& kv : e.get_object()) {
      const bj::value* av = a.get_object().if_contains(kv.key());
      if (!av) {
        diff = fmt::format("{}/{}: only in expected", path, std::string(kv.key()));
        return true;
      }
      if (first_difference(*av, kv.value(), path + "/" + std::string(kv.key()), diff)) return true;
    }
    for (const auto& kv : a.get_object()) {
      if (!e.get_object().contains(kv.key())) {
        diff = fmt::format("{}/{}: only in actual", path, std::string(kv.key()));
        return true;
      }
    }
    return false;
  }
  if (a.is_array() && e.is_array()) {
    const auto& aa = a.get_array();
    const auto& ea = e.get_array();
    for (size_t i = 0; i < std::min(aa.size(), ea.size()); ++i)
      if (first_difference(aa[i], ea[i], fmt::format("{}/{}", path, i), diff)) return true;
    if (aa.size() != ea.size()) {
      diff = fmt::format("{}: {} elements expected, {} found", path.empty() ? "/" : path, ea.size(), aa.size());
      return true;
    }
    return false;
  }
  if (a == e || numbers_equal(a, e)) return false;
  diff = fmt::format("{}: expected {}, found {}", path.empty() ? "/" : path, bj::serialize(e), bj::serialize(a));
  return true;
}

std::string meta_string(const bj::value& v, const char* key) {
  if (!v.is_object()) return "";
  const bj::value* meta = v.get_object().if_contains("metadata");
  if (!meta || !meta->is_object()) return "";
  const bj::value* s = meta->get_object().if_contains(key);
  return s && s->is_string() ? std::string(s->get_string()) : "";
}

std::string top_string(const bj::value& v, const char* key) {
  if (!v.is_object()) return "";
  const bj::value* s = v.get_object().if_contains(key);
  return s && s->is_string() ? std::string(s->get_string()) : "";
}

constexpr std::string_view kNotInManifest = "\x01";  // marks a resource missing from patchedResources

// Why the resource a result's policy mutated is not the expected one ("" when it is): the
// expected document with the same apiVersion, kind, namespace and name, compared.
std::string patched_mismatch(const ExpectedResult& e, const Evaluated& found) {
  const bj::value& actual = found.result.patched_resource;
  if (actual.is_null()) return "no patched resource: the policy's mutate rules did not run";
  std::string ns = meta_string(actual, "namespace");
  if (ns.empty()) ns = found.resource.ns;
  auto same_ns = [&](const std::string& other) { return other == ns || (other.empty() && ns == "default"); };
  for (const auto& doc : e.patched_documents) {
    if (top_string(doc, "apiVersion") != top_string(actual, "apiVersion") || top_string(doc, "kind") != top_string(actual, "kind") ||
        meta_string(doc, "name") != meta_string(actual, "name") || !same_ns(meta_string(doc, "namespace")))
      continue;
    std::string diff;
    if (same_patched_resource(actual, doc, diff)) return "";
    return "Patched resource didn't match the patched resource in the test result: " + diff;
  }
  return fmt::format("{}error: failed to load PatchedResources resource (resource with name {} not found in manifest {})",
                     kNotInManifest, meta_string(actual, "name"), e.patched_resources);
}

}  // namespace

bool same_patched_resource(const bj::value& actual, const bj::value& expected, std::string& diff) {
  bj::value a = tidy(actual);
  bj::value e = tidy(expected);
  // A namespace the expected document leaves out is the default one the resource was read in.
  auto drop_default_ns = [](bj::value& x, const bj::value& other) {
    if (!x.is_object()) return;
    auto* meta = x.get_object().if_contains("metadata");
    if (!meta || !meta->is_object()) return;
    auto* ns = meta->get_object().if_contains("namespace");
    bool other_has = other.is_object() && other.get_object().if_contains("metadata") &&
                     other.get_object().at("metadata").is_object() &&
                     other.get_object().at("metadata").get_object().contains("namespace");
    if (ns && ns->is_string() && ns->get_string() == "default" && !other_has) meta->get_object().erase("namespace");
  };
  drop_default_ns(a, e);
  drop_default_ns(e, a);
  return !first_difference(a, e, "", diff);
}



namespace {

Result<std::vector<GlobalContextEntryValue>> global_context_entries(const bj::value& doc, std::string_view source) {
  std::vector<GlobalContextEntryValue> out;
  JsonField root{&doc, std::string(source)};
  VOUCH_ASSIGN_OR_RETURN(auto entries, root.at("globalContextEntries").list());
  std::set<std::string> names;
  for (const auto& e : entries) {
    if (!e.v->is_object()) return e.err("expected an object");
    VOUCH_RETURN_IF_ERROR(e.object({"name", "data", "resources", "resourceFiles", "fieldPath", "projections"}));
    GlobalContextEntryValue g;
    VOUCH_ASSIGN_OR_RETURN(g.name, e.at("name").str(true));
    if (!names.insert(g.name).second) return e.at("name").err(fmt::format("duplicate name {}", g.name));
    int sources = 0;
    if (e.at("data").present()) {
      if (!e.at("data").v->is_object()) return e.at("data").err("expected an object");
      g.data = *e.at("data").v;
      ++sources;
    }
    if (e.at("resources").present()) {
      VOUCH_ASSIGN_OR_RETURN(auto items, e.at("resources").list());
      g.resources.emplace();
      for (const auto& r : items) {
        if (!r.v->is_object()) return r.err("expected an object");
        g.resources->push_back(*r.v);
      }
      ++sources;
    }
    if (e.at("resourceFiles").present()) {
      VOUCH_ASSIGN_OR_RETURN(g.resource_files, e.at("resourceFiles").strings());
      ++sources;
    }
    if (sources != 1) return e.err("exactly one of data, resources or resourceFiles is required");
    VOUCH_ASSIGN_OR_RETURN(g.field_path, e.at("fieldPath").str());
    VOUCH_ASSIGN_OR_RETURN(auto projections, e.at("projections").list());
    for (const auto& p : projections) {
      VOUCH_RETURN_IF_ERROR(p.object({"name", "path"}));
      VOUCH_ASSIGN_OR_RETURN(std::string name, p.at("name").str(true));
      VOUCH_ASSIGN_OR_RETURN(std::string path, p.at("path").str(true));
      g.projections.emplace_back(std::move(name), std::move(path));
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

Result<bj::value> resolve_global_context_entry(const GlobalContextEntryValue& entry, const std::vector<bj::value>& loaded) {
  bj::value root;
  if (entry.data) {
    root = *entry.data;
  } else {
    bj::array list;
    for (const auto& r : entry.resources ? *entry.resources : loaded) list.push_back(r);
    root = std::move(list);
  }
  auto functions = jmespath::kyverno_functions();
  if (!entry.field_path.empty()) {
    auto r = jmespath::search(entry.field_path, root, functions);
    if (!r.ok()) return invalid_input(fmt::format("globalContextEntries {}: fieldPath: {}", entry.name, r.error().message));
    root = std::move(*r);
  }
  if (entry.projections.empty()) return root;
  bj::object out;
  for (const auto& [name, path] : entry.projections) {
    auto r = jmespath::search(path, root, functions);
    if (!r.ok())
      return invalid_input(fmt::format("globalContextEntries {}: projection {}: {}", entry.name, name, r.error().message));
    out[name] = std::move(*r);
  }
  return bj::value(std::move(out));
}

namespace {

Result<KyvernoTest> parse_kyverno_test_document(const bj::value& doc, std::string_view source) {
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", source));
  const auto& o = doc.get_object();
  if (auto* api = o.if_contains("apiVersion"); api && api->is_string()) {
    if (api->get_string() != "cli.kyverno.io/v1alpha1")
      return invalid_input(fmt::format("{}: apiVersion: expected cli.kyverno.io/v1alpha1", source));
    if (auto* kind = o.if_contains("kind"); !kind || !kind->is_string() || kind->get_string() != "Test")
      return invalid_input(fmt::format("{}: kind: expected Test", source));
  }
  // Kyverno's Test type (cmd/cli/kubectl-kyverno/apis/v1alpha1): a field vouch does not know,
  // or one it knows but does not run, is refused rather than left unchecked.
  for (const auto& [key, value] : o) {
    static const std::set<std::string, std::less<>> kRead = {
        "apiVersion",       "kind",           "metadata",         "name",      "policies",
        "resources",        "jsonPayload",    "jsonPayloads",     "envoyPayloads", "httpPayloads",
        "variables",        "values",         "userinfo",         "results",   "exceptions",
        "context",          "apiCallResponses", "paramResources", "clusterResources", "globalContextEntries"};
    static const std::set<std::string, std::less<>> kNotRun = {"targetResources"};
    if (kRead.count(key)) continue;
    if (kNotRun.count(key)) {
      if (value.is_null() || (value.is_array() && value.get_array().empty())) continue;
      return invalid_input(fmt::format("{}: {}: not supported", source, std::string_view(key)));
    }
    return invalid_input(fmt::format("{}: {}: unknown field", source, std::string_view(key)));
  }
  KyvernoTest test;
  test.policies = string_list(o.if_contains("policies"));
  test.resources = string_list(o.if_contains("resources"));
  test.exceptions = string_list(o.if_contains("exceptions"));
  test.json_payloads = string_list(o.if_contains("jsonPayloads"));
  test.envoy_payloads = string_list(o.if_contains("envoyPayloads"));
  test.http_payloads = string_list(o.if_contains("httpPayloads"));
  test.context = string_at(o, "context");
  test.param_resources = string_list(o.if_contains("paramResources"));
  test.cluster_resources = string_list(o.if_contains("clusterResources"));
  VOUCH_ASSIGN_OR_RETURN(test.global_context_entries, global_context_entries(doc, source));
  if (auto* calls = o.if_contains("apiCallResponses"); calls && !calls->is_null()) {
    // Validated as Kyverno's CLI validates them (ValidateAPICallResponses).
    if (!calls->is_array()) return invalid_input(fmt::format("{}: apiCallResponses: expected a list", source));
    for (size_t i = 0; i < calls->get_array().size(); ++i) {
      const auto& c = calls->get_array()[i];
      auto bad = [&](std::string_view what) { return invalid_input(fmt::format("{}: apiCallResponses[{}]: {}", source, i, what)); };
      if (!c.is_object()) return bad("expected an object");
      for (const auto& [key, _] : c.get_object())
        if (key != "url" && key != "urlPath" && key != "method" && key != "response")
          return bad(fmt::format("unknown field {}", std::string(key)));
      std::string url = string_at(c.get_object(), "url");
      std::string url_path = string_at(c.get_object(), "urlPath");
      std::string method = string_at(c.get_object(), "method");
      if (url.empty() == url_path.empty())
        return bad(url.empty() ? "either url or urlPath is required" : "url and urlPath are mutually exclusive");
      if (!url.empty()) {
        size_t scheme = url.find("://");
        std::string_view s_name = scheme == std::string::npos ? "" : std::string_view(url).substr(0, scheme);
        if (s_name != "http" && s_name != "https") return bad(fmt::format("url {:?} must be an absolute https/http URL", url));
        if (scheme + 3 >= url.size() || url[scheme + 3] == '/') return bad(fmt::format("url {:?} has scheme but no host", url));
      }
      if (!url_path.empty() && url_path.front() != '/')
        return bad(fmt::format("urlPath {:?} must be an absolute path starting with '/'", url_path));
      if (method != "" && method != "GET" && method != "POST") return bad("method must be GET or POST");
      const bj::value* response = c.get_object().if_contains("response");
      if (!response || !response->is_object()) return bad("response: required");
      for (const auto& [key, _] : response->get_object())
        if (key != "statusCode" && key != "body") return bad(fmt::format("response: unknown field {}", std::string(key)));
      int64_t status = 200;
      if (auto* sc = response->get_object().if_contains("statusCode"); sc && !sc->is_null()) {
        if (!sc->is_int64() || (sc->get_int64() != 0 && (sc->get_int64() < 100 || sc->get_int64() > 599)))
          return bad("response.statusCode: expected a number between 100 and 599");
        if (sc->get_int64() != 0) status = sc->get_int64();
      }
      const bj::value* body = response->get_object().if_contains("body");
      if (!body || body->is_null()) return bad("response.body is required");
      if (!body->is_object()) return bad("response.body must be a JSON object");
      std::string where = url.empty() ? url_path : url;
      std::string key = method.empty() ? where : method + ":" + where;
      bj::object answer{{"body", *body}, {"statusCode", status}};
      if (!test.http_responses.emplace(key, std::move(answer)).second)
        return invalid_input(fmt::format("{}: apiCallResponses: duplicate entry for {:?} (key {:?})", source, where, key));
    }
  }
  for (const auto& one : string_list(o.if_contains("jsonPayload"))) test.json_payloads.push_back(one);
  if (test.policies.empty()) return invalid_input(fmt::format("{}: policies: required", source));
  test.values = string_at(o, "variables");
  if (test.values.empty()) test.values = string_at(o, "values");
  if (auto* inline_values = o.if_contains("values"); inline_values && inline_values->is_object())
    test.inline_values = bj::serialize(*inline_values);
  else if (inline_values && !inline_values->is_null() && !inline_values->is_string())
    return invalid_input(fmt::format("{}: values: expected a file name or the values themselves", source));
  test.user_info = string_at(o, "userinfo");
  auto* results = o.if_contains("results");
  if (!results || !results->is_array()) return invalid_input(fmt::format("{}: results: expected a list", source));
  for (size_t i = 0; i < results->get_array().size(); ++i) {
    const auto& r = results->get_array()[i];
    if (!r.is_object()) return invalid_input(fmt::format("{}: results[{}]: expected an object", source, i));
    const auto& ro = r.get_object();
    for (const auto& [key, value] : ro) {
      static const std::set<std::string, std::less<>> kRead = {
          "policy", "rule", "isValidatingAdmissionPolicy", "isMutatingAdmissionPolicy", "isValidatingPolicy",
          "isDeletingPolicy", "isImageValidatingPolicy", "isGeneratingPolicy", "isMutatingPolicy", "result", "status",
          "kind", "namespace", "operation", "patchedResources", "patchedResource", "failOnMissingResources",
          "resources", "resource"};
      static const std::set<std::string, std::less<>> kNotRun = {"generatedResource", "cloneSourceResource",
                                                                 "generatedResources", "resourceSpecs"};
      if (kRead.count(key)) continue;
      if (kNotRun.count(key)) {
        if (value.is_null() || (value.is_string() && value.get_string().empty()) ||
            (value.is_array() && value.get_array().empty()))
          continue;
        return invalid_input(fmt::format("{}: results[{}].{}: not supported", source, i, std::string_view(key)));
      }
      return invalid_input(fmt::format("{}: results[{}].{}: unknown field", source, i, std::string_view(key)));
    }
    ExpectedResult e;
    e.policy = string_at(ro, "policy");
    e.rule = string_at(ro, "rule");
    e.kind = string_at(ro, "kind");
    e.ns = string_at(ro, "namespace");
    e.result = string_at(ro, "result");
    e.operation = string_at(ro, "operation");
    if (!e.operation.empty() && e.operation != "CREATE" && e.operation != "UPDATE" && e.operation != "DELETE" &&
        e.operation != "CONNECT")
      return invalid_input(fmt::format("{}: results[{}].operation: expected CREATE, UPDATE, DELETE or CONNECT", source, i));
    if (e.result.empty()) e.result = string_at(ro, "status");
    e.patched_resources = string_at(ro, "patchedResources");
    if (e.patched_resources.empty()) e.patched_resources = string_at(ro, "patchedResource");
    if (auto* f = ro.if_contains("failOnMissingResources"); f && f->is_bool()) e.fail_on_missing_resources = f->get_bool();
    e.resources = string_list(ro.if_contains("resources"));
    for (const auto& one : string_list(ro.if_contains("resource"))) e.resources.push_back(one);
    static const std::set<std::string> kResults = {"pass", "fail", "warn", "error", "skip"};
    if (!kResults.count(e.result))
      return invalid_input(fmt::format("{}: results[{}].result: expected pass, fail, warn, error or skip", source, i));
    if (e.policy.empty()) return invalid_input(fmt::format("{}: results[{}].policy: required", source, i));
    test.results.push_back(std::move(e));
  }
  return test;
}

}  // namespace

Result<std::vector<KyvernoTest>> parse_kyverno_tests(std::string_view text, std::string_view source) {
  VOUCH_ASSIGN_OR_RETURN(auto docs, parse_documents(text, source));
  if (docs.empty()) return invalid_input(fmt::format("{}: no Test document", source));
  std::vector<KyvernoTest> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string where = docs.size() == 1 ? std::string(source) : fmt::format("{}: document {}", source, i + 1);
    VOUCH_ASSIGN_OR_RETURN(auto test, parse_kyverno_test_document(docs[i], where));
    out.push_back(std::move(test));
  }
  return out;
}

std::vector<TestRow> match_test_results(const std::vector<ExpectedResult>& expected,
                                        const std::map<std::string, std::vector<Evaluated>>& by_operation) {
  static const std::vector<Evaluated> kNone;
  std::vector<TestRow> rows;
  for (const auto& e : expected) {
    auto it = by_operation.find(e.operation);
    const std::vector<Evaluated>& evaluated = it == by_operation.end() ? kNone : it->second;
    size_t slash = e.policy.find('/');
    std::vector<std::string> named = e.resources;
    if (named.empty()) {
      // As `kyverno test`: no resources named, every resource the policy judged.
      for (const auto& ev : evaluated) {
        if (!policy_named(e.policy, ev.result) && !(slash != std::string::npos && ev.result.policy == e.policy)) continue;
        std::string id = ev.resource.kind.empty() ? ev.resource.name : ev.resource.kind + "/" + ev.resource.ns + "/" + ev.resource.name;
        if (std::find(named.begin(), named.end(), id) == named.end()) named.push_back(id);
      }
      if (named.empty()) {
        rows.push_back({e.policy, e.rule, "(any)", e.result, "skip", "no result: the policy judged no resource",
                        e.result == "skip"});
        continue;
      }
    }
    for (const auto& res : named) {
      std::vector<const Evaluated*> found;
      for (const auto& ev : evaluated) {
        if (!policy_named(e.policy, ev.result) && !(slash != std::string::npos && ev.result.policy == e.policy)) continue;
        if (!e.rule.empty() && !ev.ruleless && !rule_named(e.rule, ev.result)) continue;
        if (!resource_named(res, ev.resource)) continue;
        if (!e.kind.empty() && ev.resource.kind != e.kind) continue;
        if (!e.ns.empty() && ev.resource.ns != e.ns) continue;
        found.push_back(&ev);
      }
      TestRow row{e.policy, e.rule, res, e.result, "", "", false};
      if (found.empty()) {
        row.got = "skip";
        row.ok = e.result == "skip";
        row.reason = row.ok ? "" : "no result: the rule did not apply to this resource";
      } else {
        // A rule written for Pods also reports its autogen variants: any result that agrees.
        row.got = std::string(rule_status_name(reported_status(found[0]->result, false)));
        for (const auto* f : found) {
          std::string got(rule_status_name(reported_status(f->result, false)));
          // patchedResources: the mutated resource must be the expected one, whatever the status.
          if (!e.patched_resources.empty() && f->result.type == "Mutation") {
            std::string why = patched_mismatch(e, *f);
            if (why.starts_with(kNotInManifest)) {
              why.erase(0, kNotInManifest.size());
              if (!e.fail_on_missing_resources) {
                // `kyverno test` leaves the row out.
                row.got = "not checked";
                row.ok = true;
                row.reason = why;
                break;
              }
            }
            if (!why.empty()) {
              row.got = got;
              row.reason = why;
              continue;
            }
          }
          if (got == e.result) {
            row.got = got;
            row.ok = true;
            row.reason = f->result.message;
            break;
          }
          row.reason = f->result.message;
        }
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace vouch::policy
