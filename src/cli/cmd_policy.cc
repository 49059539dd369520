// policy apply, policy test: Kyverno's `kyverno apply` and `kyverno test`, offline.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/verifiers/cosign.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using policy::RuleStatus;

constexpr size_t kMaxFileBytes = 16 << 20;

bool is_yaml_or_json(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".yaml" || e == ".yml" || e == ".json";
}

Result<std::vector<fs::path>> expand_paths(const std::vector<std::string>& args) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(a, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && is_yaml_or_json(it->path())) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else if (fs::exists(a, ec)) {
      out.emplace_back(a);
    } else {
      return not_found(fmt::format("{}: no such file or directory", a));
    }
  }
  return out;
}

Result<std::vector<policy::Policy>> load_policies(const std::vector<fs::path>& files) {
  std::vector<policy::Policy> out;
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxFileBytes));
    VOUCH_ASSIGN_OR_RETURN(auto ps, policy::parse_policies(text, f.string()));
    for (auto& p : ps) out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<bj::value>> load_resources(const std::vector<fs::path>& files) {
  std::vector<bj::value> out;
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxFileBytes));
    VOUCH_ASSIGN_OR_RETURN(auto docs, policy::parse_documents(text, f.string()));
    for (size_t i = 0; i < docs.size(); ++i) {
      auto& d = docs[i];
      if (!d.is_object()) return invalid_input(fmt::format("{}: document {}: expected an object", f.string(), i + 1));
      auto& o = d.get_object();
      // A List expands to its items.
      if (auto* k = o.if_contains("kind"); k && k->is_string() && k->get_string().ends_with("List")) {
        if (auto* items = o.if_contains("items"); items && items->is_array()) {
          for (auto& it : items->get_array()) out.push_back(it);
          continue;
        }
      }
      auto* kind = o.if_contains("kind");
      auto* api = o.if_contains("apiVersion");
      if (!kind || !kind->is_string() || kind->get_string().empty())
        return invalid_input(fmt::format("{}: document {}: kind: required", f.string(), i + 1));
      if (!api || !api->is_string() || api->get_string().empty())
        return invalid_input(fmt::format("{}: document {}: apiVersion: required", f.string(), i + 1));
      auto* meta = o.if_contains("metadata");
      if (!meta || !meta->is_object())
        return invalid_input(fmt::format("{}: document {}: metadata: expected an object", f.string(), i + 1));
      out.push_back(std::move(d));
    }
  }
  return out;
}

// ---------------------------------------------------------------- values files

struct Values {
  std::map<std::string, bj::value> global;
  // policy -> rule -> values; policy -> resource -> values
  std::map<std::string, std::map<std::string, std::map<std::string, bj::value>>> rules;
  std::map<std::string, std::map<std::string, std::map<std::string, bj::value>>> resources;
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;
};

std::map<std::string, bj::value> flat(const bj::value* v) {
  std::map<std::string, bj::value> out;
  if (!v || !v->is_object()) return out;
  for (const auto& kv : v->get_object()) out[std::string(kv.key())] = kv.value();
  return out;
}

Result<Values> load_values(const fs::path& path) {
  Values vals;
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxFileBytes));
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, policy::parse_document(text, path.string()));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", path.string()));
  auto& o = doc.get_object();
  vals.global = flat(o.if_contains("globalValues"));
  if (auto* ps = o.if_contains("policies"); ps && ps->is_array()) {
    for (const auto& p : ps->get_array()) {
      if (!p.is_object()) continue;
      std::string name = p.get_object().contains("name") && p.at("name").is_string() ? std::string(p.at("name").get_string()) : "";
      if (auto* rs = p.get_object().if_contains("rules"); rs && rs->is_array()) {
        for (const auto& r : rs->get_array()) {
          if (!r.is_object() || !r.get_object().contains("name") || !r.at("name").is_string()) continue;
          vals.rules[name][std::string(r.at("name").get_string())] = flat(r.get_object().if_contains("values"));
        }
      }
      if (auto* rs = p.get_object().if_contains("resources"); rs && rs->is_array()) {
        for (const auto& r : rs->get_array()) {
          if (!r.is_object() || !r.get_object().contains("name") || !r.at("name").is_string()) continue;
          vals.resources[name][std::string(r.at("name").get_string())] = flat(r.get_object().if_contains("values"));
        }
      }
    }
  }
  if (auto* ns = o.if_contains("namespaceSelector"); ns && ns->is_array()) {
    for (const auto& n : ns->get_array()) {
      if (!n.is_object() || !n.get_object().contains("name") || !n.at("name").is_string()) continue;
      std::map<std::string, std::string> labels;
      if (auto* l = n.get_object().if_contains("labels"); l && l->is_object()) {
        for (const auto& kv : l->get_object())
          if (kv.value().is_string()) labels[std::string(kv.key())] = std::string(kv.value().get_string());
      }
      vals.namespace_labels[std::string(n.at("name").get_string())] = labels;
    }
  }
  return vals;
}

Result<policy::UserInfo> load_user_info(const fs::path& path) {
  policy::UserInfo u;
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxFileBytes));
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, policy::parse_document(text, path.string()));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", path.string()));
  auto strings = [](const bj::value* v) {
    std::vector<std::string> out;
    if (v && v->is_array())
      for (const auto& e : v->get_array())
        if (e.is_string()) out.emplace_back(e.get_string());
    return out;
  };
  auto& o = doc.get_object();
  u.roles = strings(o.if_contains("roles"));
  u.cluster_roles = strings(o.if_contains("clusterRoles"));
  if (auto* ui = o.if_contains("userInfo"); ui && ui->is_object()) {
    if (auto* n = ui->get_object().if_contains("username"); n && n->is_string()) u.username = std::string(n->get_string());
    u.groups = strings(ui->get_object().if_contains("groups"));
  }
  return u;
}

struct Evaluated {
  policy::ResourceRef resource;
  size_t resource_index = 0;  // into the resources evaluated
  policy::RuleResult result;
};

// Applies every policy to every resource, with the values that apply to each pair.
std::vector<Evaluated> evaluate(const std::vector<policy::Policy>& policies, const std::vector<bj::value>& resources,
                                const Values& values, const policy::UserInfo& user,
                                std::shared_ptr<policy::ImageVerifier> verifier, const std::string& operation = "") {
  policy::Engine engine({.verifier = std::move(verifier)});
  std::vector<Evaluated> out;
  for (const auto& p : policies) {
    for (size_t index = 0; index < resources.size(); ++index) {
      const bj::value& r = resources[index];
      policy::Request req;
      req.object = r;
      req.user = user;
      req.namespace_labels = values.namespace_labels;
      policy::ResourceRef ref = policy::resource_ref(r);
      req.values = values.global;
      if (auto it = values.resources.find(p.name); it != values.resources.end()) {
        if (auto jt = it->second.find(ref.name); jt != it->second.end())
          for (const auto& [k, v] : jt->second) req.values[k] = v;
      }
      if (auto it = values.rules.find(p.name); it != values.rules.end()) {
        for (const auto& [rule, vals] : it->second)
          for (const auto& [k, v] : vals) req.values[k] = v;
      }
      if (auto it = req.values.find("request.operation"); it != req.values.end() && it->second.is_string())
        req.operation = std::string(it->second.get_string());
      if (!operation.empty()) {
        req.operation = operation;
        req.values.erase("request.operation");
      }
      for (auto& rr : engine.apply(p, req)) out.push_back({ref, index, std::move(rr)});
    }
  }
  return out;
}

std::string resource_id(const policy::ResourceRef& r) {
  if (r.ns.empty()) return fmt::format("{}/{}", r.kind, r.name);
  return fmt::format("{}/{}/{}", r.kind, r.ns, r.name);
}

// ---------------------------------------------------------------- apply

struct ApplyOptions {
  std::vector<std::string> policies;
  std::vector<std::string> resources;
  std::string values;
  std::string user_info;
  std::string output = "text";
  bool audit_warn = false;
  int warn_exit_code = 0;
  bool detailed = false;
  // verifyImages against registries (as `kyverno apply --registry`).
  bool registry = false;
  bool allow_insecure_registry = false;
  TrustedRootFlags trust;
};

Result<std::shared_ptr<policy::ImageVerifier>> make_image_verifier(const ApplyOptions& opts) {
  verifiers::CosignOptions v;
  v.store.allow_insecure = opts.allow_insecure_registry;
  VOUCH_ASSIGN_OR_RETURN(v.trusted_material, opts.trust.load());
  return verifiers::cosign_image_verifier(std::move(v));
}

// Applies JSON Patch "replace" operations (the only kind the engine makes) to a copy.
Result<bj::value> patched(bj::value resource, const std::vector<bj::object>& patches) {
  for (const auto& p : patches) {
    std::string path(p.at("path").as_string());
    boost::system::error_code ec;
    bj::value* target = resource.find_pointer(path, ec);
    if (!target) return internal_error(fmt::format("patch {}: no such field in the resource", path));
    *target = p.at("value");
  }
  return resource;
}

int apply(const ApplyOptions& opts) {
  std::vector<bj::value> resources;
  auto run = [&]() -> Result<std::vector<Evaluated>> {
    VOUCH_ASSIGN_OR_RETURN(auto pfiles, expand_paths(opts.policies));
    VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(pfiles));
    if (policies.empty()) return invalid_input("no ClusterPolicy or Policy found in the given files");
    VOUCH_ASSIGN_OR_RETURN(auto rfiles, expand_paths(opts.resources));
    VOUCH_ASSIGN_OR_RETURN(resources, load_resources(rfiles));
    Values values;
    if (!opts.values.empty()) {
      VOUCH_ASSIGN_OR_RETURN(values, load_values(opts.values));
    }
    policy::UserInfo user;
    if (!opts.user_info.empty()) {
      VOUCH_ASSIGN_OR_RETURN(user, load_user_info(opts.user_info));
    }
    std::shared_ptr<policy::ImageVerifier> verifier;
    if (opts.registry) {
      VOUCH_ASSIGN_OR_RETURN(verifier, make_image_verifier(opts));
    }
    return evaluate(policies, resources, values, user, verifier);
  };
  auto evaluated = run();
  if (!evaluated.ok()) return report(evaluated.error());
  std::map<std::string, int> counts{{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}};
  // Patches per resource, in rule order (verifyImages' mutateDigest).
  std::map<size_t, std::vector<bj::object>> patches;
  bj::array results;
  for (auto& e : *evaluated) {
    RuleStatus s = e.result.status;
    if (s == RuleStatus::kFail && opts.audit_warn && e.result.action == policy::FailureAction::kAudit) s = RuleStatus::kWarn;
    e.result.status = s;
    counts[std::string(policy::rule_status_name(s))]++;
    bj::object r{{"policy", e.result.policy},
                 {"rule", e.result.rule},
                 {"resource", bj::object{{"apiVersion", e.resource.api_version},
                                         {"kind", e.resource.kind},
                                         {"namespace", e.resource.ns},
                                         {"name", e.resource.name}}},
                 {"result", policy::rule_status_name(s)},
                 {"message", e.result.message},
                 {"type", e.result.type},
                 {"failureAction", policy::failure_action_name(e.result.action)},
                 {"source", "kyverno"}};
    if (!e.result.patches.empty()) {
      bj::array ops(e.result.patches.begin(), e.result.patches.end());
      r["properties"] = bj::object{{"patches", bj::serialize(ops)}};
      auto& list = patches[e.resource_index];
      list.insert(list.end(), e.result.patches.begin(), e.result.patches.end());
    }
    results.push_back(std::move(r));
  }
  std::vector<std::pair<size_t, bj::value>> mutated;
  for (const auto& [index, ops] : patches) {
    auto m = patched(resources[index], ops);
    if (!m.ok()) return report(m.error());
    mutated.emplace_back(index, std::move(*m));
  }
  if (opts.output == "json") {
    bj::object summary;
    for (const auto& [k, v] : counts) summary[k] = v;
    print_json(bj::object{{"apiVersion", "wgpolicyk8s.io/v1alpha2"},
                          {"kind", "ClusterPolicyReport"},
                          {"metadata", bj::object{{"name", "merged"}}},
                          {"summary", std::move(summary)},
                          {"results", std::move(results)}});
  } else {
    fmt::print("\nApplied policies: {} rule result(s)\n", evaluated->size());
    for (const auto& e : *evaluated) {
      if (e.result.status == RuleStatus::kFail || e.result.status == RuleStatus::kError ||
          e.result.status == RuleStatus::kWarn || opts.detailed) {
        const char* verdict = e.result.status == RuleStatus::kPass   ? "passed"
                              : e.result.status == RuleStatus::kSkip ? "skipped"
                              : e.result.status == RuleStatus::kWarn ? "warned"
                                                                     : "failed";
        fmt::print("\npolicy {} -> resource {} {}:\n1. {}: {}\n", e.result.policy, resource_id(e.resource), verdict,
                   e.result.rule, e.result.message);
      }
    }
    for (const auto& [index, resource] : mutated) {
      fmt::print("\nmutated resource {}:\n", resource_id(policy::resource_ref(resource)));
      print_json(resource);
    }
    fmt::print("\npass: {}, fail: {}, warn: {}, error: {}, skip: {} \n", counts["pass"], counts["fail"], counts["warn"],
               counts["error"], counts["skip"]);
  }
  if (counts["fail"] > 0 || counts["error"] > 0) return kExitFailed;
  if (counts["warn"] > 0 && opts.warn_exit_code != 0) return opts.warn_exit_code;
  return kExitOk;
}

// ---------------------------------------------------------------- test

struct Expected {
  std::string policy, rule, kind, ns, result, operation;
  std::vector<std::string> resources;
};

struct TestOptions {
  std::vector<std::string> dirs;
  std::string file_name = "kyverno-test.yaml";
  bool fail_only = false;
  bool detailed = false;
  std::string output = "text";
};

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

bool resource_named(const std::string& entry, const policy::ResourceRef& r) {
  return entry == r.name || entry == r.ns + "/" + r.name || entry == r.kind + "/" + r.ns + "/" + r.name ||
         entry == r.kind + "/" + r.name;
}

bool rule_named(const std::string& expected, const policy::RuleResult& r) {
  if (expected == r.rule) return true;
  if (r.autogen) {
    return expected == r.origin_rule || expected == "autogen-" + r.origin_rule ||
           expected == "autogen-cronjob-" + r.origin_rule;
  }
  return false;
}

bool policy_named(const std::string& expected, const policy::RuleResult& r) {
  if (expected == r.policy) return true;
  size_t slash = r.policy.find('/');
  return slash != std::string::npos && expected == r.policy.substr(slash + 1);
}

struct TestRow {
  std::string policy, rule, resource, want, got, reason;
  bool ok;
};

Result<std::vector<TestRow>> run_test_file(const fs::path& file) {
  fs::path dir = file.parent_path();
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(file, kMaxFileBytes));
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, policy::parse_document(text, file.string()));
  if (!doc.is_object()) return invalid_input(fmt::format("{}: expected an object", file.string()));
  auto& o = doc.get_object();
  if (auto* api = o.if_contains("apiVersion"); api && api->is_string()) {
    if (api->get_string() != "cli.kyverno.io/v1alpha1")
      return invalid_input(fmt::format("{}: apiVersion: expected cli.kyverno.io/v1alpha1", file.string()));
    if (auto* kind = o.if_contains("kind"); !kind || !kind->is_string() || kind->get_string() != "Test")
      return invalid_input(fmt::format("{}: kind: expected Test", file.string()));
  }
  auto rel = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : dir / p; };
  std::vector<std::string> pargs, rargs;
  for (const auto& p : string_list(o.if_contains("policies"))) pargs.push_back(rel(p).string());
  for (const auto& r : string_list(o.if_contains("resources"))) rargs.push_back(rel(r).string());
  if (pargs.empty()) return invalid_input(fmt::format("{}: policies: required", file.string()));
  VOUCH_ASSIGN_OR_RETURN(auto pfiles, expand_paths(pargs));
  VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(pfiles));
  VOUCH_ASSIGN_OR_RETURN(auto rfiles, expand_paths(rargs));
  VOUCH_ASSIGN_OR_RETURN(auto resources, load_resources(rfiles));
  Values values;
  if (auto* v = o.if_contains("variables"); v && v->is_string() && !v->get_string().empty()) {
    VOUCH_ASSIGN_OR_RETURN(values, load_values(rel(std::string(v->get_string()))));
  } else if (auto* v2 = o.if_contains("values"); v2 && v2->is_string() && !v2->get_string().empty()) {
    VOUCH_ASSIGN_OR_RETURN(values, load_values(rel(std::string(v2->get_string()))));
  }
  policy::UserInfo user;
  if (auto* u = o.if_contains("userinfo"); u && u->is_string() && !u->get_string().empty()) {
    VOUCH_ASSIGN_OR_RETURN(user, load_user_info(rel(std::string(u->get_string()))));
  }
  auto evaluated = evaluate(policies, resources, values, user, nullptr);

  std::vector<Expected> expected;
  auto* results = o.if_contains("results");
  if (!results || !results->is_array()) return invalid_input(fmt::format("{}: results: expected a list", file.string()));
  for (size_t i = 0; i < results->get_array().size(); ++i) {
    const auto& r = results->get_array()[i];
    if (!r.is_object()) return invalid_input(fmt::format("{}: results[{}]: expected an object", file.string(), i));
    Expected e;
    auto s = [&](const char* k) {
      auto* v = r.get_object().if_contains(k);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    e.policy = s("policy");
    e.rule = s("rule");
    e.kind = s("kind");
    e.ns = s("namespace");
    e.result = s("result");
    e.operation = s("operation");
    if (!e.operation.empty() && e.operation != "CREATE" && e.operation != "UPDATE" && e.operation != "DELETE" &&
        e.operation != "CONNECT")
      return invalid_input(fmt::format("{}: results[{}].operation: expected CREATE, UPDATE, DELETE or CONNECT", file.string(), i));
    if (e.result.empty()) e.result = s("status");
    e.resources = string_list(r.get_object().if_contains("resources"));
    for (const auto& one : string_list(r.get_object().if_contains("resource"))) e.resources.push_back(one);
    static const std::set<std::string> kResults = {"pass", "fail", "warn", "error", "skip"};
    if (!kResults.count(e.result))
      return invalid_input(fmt::format("{}: results[{}].result: expected pass, fail, warn, error or skip", file.string(), i));
    if (e.policy.empty()) return invalid_input(fmt::format("{}: results[{}].policy: required", file.string(), i));
    expected.push_back(std::move(e));
  }
  // Results that name an operation are checked against an evaluation with that operation.
  std::map<std::string, std::vector<Evaluated>> by_operation;
  for (const auto& e : expected) {
    if (!e.operation.empty() && !by_operation.count(e.operation))
      by_operation[e.operation] = evaluate(policies, resources, values, user, nullptr, e.operation);
  }
  std::vector<TestRow> rows;
  for (const auto& e : expected) {
    const std::vector<Evaluated>& evaluated_for = e.operation.empty() ? evaluated : by_operation[e.operation];
    std::string policy_name = e.policy;
    size_t slash = policy_name.find('/');
    for (const auto& res : e.resources) {
      std::vector<const Evaluated*> found;
      for (const auto& ev : evaluated_for) {
        if (!policy_named(policy_name, ev.result) && !(slash != std::string::npos && ev.result.policy == policy_name))
          continue;
        if (!e.rule.empty() && !rule_named(e.rule, ev.result)) continue;
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
        row.got = std::string(policy::rule_status_name(found[0]->result.status));
        for (const auto* f : found) {
          std::string got(policy::rule_status_name(f->result.status));
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

int test(const TestOptions& opts) {
  std::vector<fs::path> files;
  for (const auto& d : opts.dirs) {
    std::error_code ec;
    if (fs::is_regular_file(d, ec)) {
      files.emplace_back(d);
      continue;
    }
    if (!fs::is_directory(d, ec)) return report(not_found(fmt::format("{}: no such directory", d)));
    for (auto it = fs::recursive_directory_iterator(d, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().filename() == opts.file_name) files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return report(not_found(fmt::format("no {} found", opts.file_name)));
  int passed = 0, failed = 0, load_errors = 0;
  bj::array json_out;
  for (const auto& f : files) {
    auto rows = run_test_file(f);
    if (opts.output != "json") fmt::print("Loading test ( {} ) ...\n", f.string());
    if (!rows.ok()) {
      ++load_errors;
      if (opts.output == "json") json_out.push_back(bj::object{{"test", f.string()}, {"error", rows.error().message}});
      else fmt::print("  Error: {}\n", rows.error().message);
      continue;
    }
    size_t id = 0;
    for (const auto& r : *rows) {
      ++id;
      (r.ok ? passed : failed)++;
      if (opts.output == "json") {
        json_out.push_back(bj::object{{"test", f.string()}, {"policy", r.policy}, {"rule", r.rule}, {"resource", r.resource},
                                      {"want", r.want}, {"got", r.got}, {"ok", r.ok}, {"reason", r.reason}});
      } else if (!opts.fail_only || !r.ok) {
        fmt::print("  {:>3} {} {} {} {}: want {}, got {}{}\n", id, r.ok ? "Pass" : "Fail", r.policy, r.rule, r.resource,
                   r.want, r.got, (!r.ok || opts.detailed) && !r.reason.empty() ? " (" + r.reason + ")" : "");
      }
    }
  }
  if (opts.output == "json") {
    print_json(bj::object{{"passed", passed}, {"failed", failed}, {"errors", load_errors}, {"results", std::move(json_out)}});
  } else {
    fmt::print("\nTest Summary: {} tests passed and {} tests failed\n", passed, failed);
    if (load_errors) fmt::print("{} test file(s) could not be loaded\n", load_errors);
  }
  if (load_errors) return kExitUsage;
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

void register_policy_commands(CLI::App& app, int& exit_code) {
  auto* policy_cmd = app.add_subcommand("policy", "Kyverno policies offline, as `kyverno apply` and `kyverno test`.");
  policy_cmd->require_subcommand(1);
  auto a = std::make_shared<ApplyOptions>();
  auto* apply_cmd = policy_cmd->add_subcommand(
      "apply",
      "Apply ClusterPolicies/Policies to resources and report pass/fail/warn/error/skip per rule and resource.\n"
      "verifyImages rules verify cosign signatures and attestations in the registry with --registry (as\n"
      "`kyverno apply --registry`); without it they report error. Verified tags are pinned to their digests\n"
      "(mutateDigest) and the mutated resources printed.\n"
      "Exit 0 when nothing failed, 1 on a fail or error result, 2 on bad input.");
  apply_cmd->add_option("-p,--policy,policies", a->policies, "Policy files or directories")->required();
  apply_cmd->add_option("-r,--resource", a->resources, "Resource files or directories (YAML or JSON, multi-document)")->required();
  apply_cmd->add_option("-f,--values-file", a->values, "Values file (cli.kyverno.io/v1alpha1 Values)");
  apply_cmd->add_option("-u,--userinfo", a->user_info, "Admission user info file (roles, clusterRoles, userInfo)");
  apply_cmd->add_flag("--audit-warn", a->audit_warn, "Report failures of Audit rules as warn");
  apply_cmd->add_option("--warn-exit-code", a->warn_exit_code, "Exit code when there are warnings (default 0)");
  apply_cmd->add_flag("--detailed-results", a->detailed, "Print every result, not only failures");
  apply_cmd->add_flag("--registry", a->registry, "Verify images (verifyImages) against their registries");
  apply_cmd->add_flag("--allow-insecure-registry", a->allow_insecure_registry,
                      "Allow plain HTTP and unverified TLS for registries other than localhost");
  a->trust.add(apply_cmd, "trusted_root.json for keyless attestors and transparency-log checks (default: $SIGSTORE_ROOT_FILE)");
  apply_cmd->add_option("-o,--output", a->output, "Output format: text or json (a PolicyReport)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  apply_cmd->callback([a, &exit_code] { exit_code = apply(*a); });

  auto t = std::make_shared<TestOptions>();
  auto* test_cmd = policy_cmd->add_subcommand(
      "test",
      "Run Kyverno CLI test directories: every kyverno-test.yaml below DIR (cli.kyverno.io/v1alpha1 Test, or the\n"
      "older form without apiVersion), with values files and user info.\n"
      "Exit 0 when every expected result holds, 1 when one does not, 2 on bad input.");
  test_cmd->add_option("DIR", t->dirs, "Test directories (or test files)")->required();
  test_cmd->add_option("-f,--file-name", t->file_name, "Test file name")->capture_default_str();
  test_cmd->add_flag("--fail-only", t->fail_only, "Print failed results only");
  test_cmd->add_flag("--detailed-results", t->detailed, "Print the reason of every result");
  test_cmd->add_option("-o,--output", t->output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  test_cmd->callback([t, &exit_code] { exit_code = test(*t); });
}

}  // namespace vouch::cli
