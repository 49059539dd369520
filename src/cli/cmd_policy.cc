// policy apply, policy test: Kyverno's `kyverno apply` and `kyverno test`, offline.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_inputs.h"
#include "vouch/base/file.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/base/json.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/json_patch.h"
#include "vouch/policy/kyverno_test.h"
#include "vouch/policy/lint.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/report.h"
#include "vouch/policy/values.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using policy::RuleStatus;

Result<policy::Values> load_values(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxPolicyInputBytes));
  return policy::parse_values(text, path.string());
}

Result<policy::UserInfo> load_user_info(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxPolicyInputBytes));
  return policy::parse_user_info(text, path.string());
}

std::string resource_id(const policy::ResourceRef& r) {
  if (r.kind.empty()) return r.name;  // a JSON payload, by its file name
  if (r.ns.empty()) return fmt::format("{}/{}", r.kind, r.name);
  return fmt::format("{}/{}/{}", r.kind, r.ns, r.name);
}

// ---------------------------------------------------------------- lint

// What `policy lint` reports, as warnings on stderr before a command uses the policies.
void print_lint_warnings(const std::vector<policy::Policy>& policies) {
  for (const auto& p : policies)
    for (const auto& f : policy::lint_policy(p))
      fmt::print(stderr, "warning: {}: {}: {}\n", f.policy, f.path, printable_line(f.message));
}

struct LintOptions {
  std::vector<std::string> paths;
  std::string output = "text";
};

Status lint(const LintOptions& opts, int& exit_code) {
  VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(opts.paths));
  VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(files));
  if (policies.empty()) return invalid_input("no ClusterPolicy or Policy found in the given files");
  std::vector<policy::LintFinding> findings;
  for (const auto& p : policies)
    for (auto& f : policy::lint_policy(p)) findings.push_back(std::move(f));
  if (opts.output == "json") {
    bj::array items;
    for (const auto& f : findings)
      items.push_back(bj::object{{"policy", f.policy}, {"path", f.path}, {"message", f.message}});
    print_json(bj::object{{"policies", policies.size()}, {"findings", std::move(items)}});
  } else {
    for (const auto& f : findings) fmt::print("{}: {}: {}\n", f.policy, f.path, printable_line(f.message));
    fmt::print(stderr, "{} policies, {} findings\n", policies.size(), findings.size());
  }
  exit_code = findings.empty() ? kExitOk : kExitFailed;
  return ok_status();
}

// ---------------------------------------------------------------- apply

// A Kyverno CLI Context file (`kyverno apply --context-file`, a test's `context`).
Result<std::shared_ptr<const policy::CelClusterData>> load_cel_context(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, read_policy_document(path));
  VOUCH_ASSIGN_OR_RETURN(auto data, policy::parse_cel_context(doc, path.string()));
  return std::make_shared<const policy::CelClusterData>(std::move(data));
}

// JSON payloads (`kyverno apply --json`, a test's jsonPayloads): each file one JSON (or YAML)
// object, named as given.
// Envoy and HTTP payloads (a test's envoyPayloads, httpPayloads) the same, for those modes.
template <typename Resolve>
Result<std::vector<policy::JsonPayload>> load_json_payloads(const std::vector<std::string>& names, Resolve resolve,
                                                            const std::string& mode = "JSON") {
  std::vector<policy::JsonPayload> out;
  for (const auto& name : names) {
    fs::path path = resolve(name);
    VOUCH_ASSIGN_OR_RETURN(bj::value doc, read_policy_document(path));
    if (!doc.is_object()) return invalid_input(fmt::format("{}: a {} payload must be an object", path.string(), mode));
    out.push_back({name, std::move(doc), mode});
  }
  return out;
}


struct ApplyOptions {
  std::vector<std::string> policies;
  std::vector<std::string> resources;
  std::vector<std::string> json_payloads;  // --json: payloads for JSON-mode ValidatingPolicies
  std::string context_file;                // --context-file: what the `resource` library reads
  std::vector<std::string> parameter_resources;  // --parameter-resource: ValidatingAdmissionPolicy params
  std::string values;
  std::string user_info;
  std::vector<std::string> exceptions;
  std::string output = "text";
  bool audit_warn = false;
  int warn_exit_code = 0;
  bool detailed = false;
  // verifyImages against registries (as `kyverno apply --registry`).
  bool registry = false;
  bool allow_insecure_registry = false;
  TrustedRootFlags trust;
};

int apply(const ApplyOptions& opts) {
  std::vector<bj::value> resources;
  auto run = [&]() -> Result<std::vector<policy::Evaluated>> {
    VOUCH_ASSIGN_OR_RETURN(auto pfiles, expand_paths(opts.policies));
    VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(pfiles));
    if (policies.empty()) return invalid_input("no ClusterPolicy or Policy found in the given files");
    print_lint_warnings(policies);
    if (opts.resources.empty() && opts.json_payloads.empty())
      return invalid_input("nothing to apply the policies to: give --resource or --json");
    VOUCH_ASSIGN_OR_RETURN(auto rfiles, expand_paths(opts.resources));
    VOUCH_ASSIGN_OR_RETURN(resources, load_resources(rfiles));
    VOUCH_ASSIGN_OR_RETURN(auto payloads, load_json_payloads(opts.json_payloads, [](const std::string& p) { return fs::path(p); }));
    policy::Values values;
    if (!opts.values.empty()) {
      VOUCH_ASSIGN_OR_RETURN(values, load_values(opts.values));
    }
    policy::UserInfo user;
    if (!opts.user_info.empty()) {
      VOUCH_ASSIGN_OR_RETURN(user, load_user_info(opts.user_info));
    }
    std::shared_ptr<policy::ImageVerifier> verifier;
    std::shared_ptr<policy::ImagePolicyVerifier> image_policy_verifier;
    if (opts.registry) {
      VOUCH_ASSIGN_OR_RETURN(verifier, make_image_verifier(opts.allow_insecure_registry, opts.trust));
      VOUCH_ASSIGN_OR_RETURN(image_policy_verifier, make_image_policy_verifier(opts.allow_insecure_registry, opts.trust));
    }
    // ImageValidatingPolicy pins tags in the mutating webhook and validates in the validating
    // one: with the registry, tags are pinned first (mutateDigest) and the pinned resources
    // validated, as the API server would send them.
    std::vector<policy::Evaluated> pinning;
    if (image_policy_verifier) {
      for (const auto& p : policies) {
        if (!p.image_policy) continue;
        for (size_t index = 0; index < resources.size(); ++index) {
          auto m = policy::mutate_image_digests(*p.image_policy, policy::request_for(p, resources[index], values, user),
                                                image_policy_verifier.get());
          policy::ResourceRef ref = policy::resource_ref(resources[index]);
          if (!m.patches.empty()) {
            VOUCH_ASSIGN_OR_RETURN(resources[index], policy::apply_json_patch(resources[index], m.patches));
            policy::RuleResult pinned;
            pinned.policy = p.name;
            pinned.rule = "mutateDigest";
            pinned.type = "ImageVerify";
            pinned.status = RuleStatus::kPass;
            pinned.message = "image tags pinned to their digests";
            pinned.patches = std::move(m.patches);
            pinning.push_back({ref, index, std::move(pinned)});
          }
          if (m.error) pinning.push_back({ref, index, std::move(*m.error)});
        }
      }
    }
    VOUCH_ASSIGN_OR_RETURN(auto exceptions, load_exceptions(opts.exceptions));
    std::shared_ptr<const policy::CelClusterData> cluster;
    if (!opts.context_file.empty()) {
      VOUCH_ASSIGN_OR_RETURN(cluster, load_cel_context(opts.context_file));
    }
    if (!opts.parameter_resources.empty()) {
      auto more = std::make_shared<policy::CelClusterData>(cluster ? *cluster : policy::CelClusterData{});
      VOUCH_ASSIGN_OR_RETURN(more->params, load_resources_at(opts.parameter_resources));
      cluster = std::move(more);
    }
    policy::Engine engine({.verifier = std::move(verifier),
                           .image_policy_verifier = std::move(image_policy_verifier),
                           .exceptions = std::move(exceptions),
                           .cel_cluster = std::move(cluster)});
    auto evaluated = policy::evaluate_all(engine, policies, resources, values, user);
    pinning.insert(pinning.end(), std::make_move_iterator(evaluated.begin()), std::make_move_iterator(evaluated.end()));
    // Payload results carry no patches, so their resource_index never reaches `resources`.
    for (auto& e : policy::evaluate_json_payloads(engine, policies, payloads)) pinning.push_back(std::move(e));
    return pinning;
  };
  auto evaluated = run();
  if (!evaluated.ok()) return report(evaluated.error());
  policy::ReportSummary summary;
  // Patches per resource, in rule order (verifyImages' mutateDigest).
  std::map<size_t, std::vector<bj::object>> patches;
  std::vector<admission::RecordedResult> reported;
  const UnixSeconds now = now_unix();
  for (auto& e : *evaluated) {
    e.result.status = policy::reported_status(e.result, opts.audit_warn);
    summary.add(e.result.status);
    reported.push_back({e.result, e.resource, {}, {}, now});
    auto& list = patches[e.resource_index];
    list.insert(list.end(), e.result.patches.begin(), e.result.patches.end());
  }
  std::vector<std::pair<size_t, bj::value>> mutated;
  for (const auto& [index, ops] : patches) {
    if (ops.empty()) continue;
    auto m = policy::apply_json_patch(resources[index], ops);
    if (!m.ok()) return report(m.error());
    mutated.emplace_back(index, std::move(*m));
  }
  if (opts.output == "json") {
    // As `kubectl get policyreport,clusterpolicyreport -A -o json` shows them: a List of one
    // PolicyReport per namespace and a ClusterPolicyReport for cluster-scoped resources.
    print_json(admission::policy_report_list(reported, std::nullopt));
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
    fmt::print("\npass: {}, fail: {}, warn: {}, error: {}, skip: {} \n", summary["pass"], summary["fail"],
               summary["warn"], summary["error"], summary["skip"]);
  }
  if (summary["fail"] > 0 || summary["error"] > 0) return kExitFailed;
  if (summary["warn"] > 0 && opts.warn_exit_code != 0) return opts.warn_exit_code;
  return kExitOk;
}

// ---------------------------------------------------------------- test

struct TestOptions {
  std::vector<std::string> dirs;
  std::string file_name = "kyverno-test.yaml";
  bool fail_only = false;
  bool detailed = false;
  std::string output = "text";
};

// What a test gives the CEL libraries and context entries in place of a cluster: its context
// file, clusterResources (with their CRDs' plurals), paramResources, globalContextEntries and
// apiCallResponses; null when it gives none.
template <typename Resolve>
Result<std::shared_ptr<const policy::CelClusterData>> test_cluster_data(const policy::KyvernoTest& spec, Resolve rel) {
  std::shared_ptr<const policy::CelClusterData> context;
  if (!spec.context.empty()) {
    VOUCH_ASSIGN_OR_RETURN(context, load_cel_context(rel(spec.context)));
  }
  if (spec.http_responses.empty() && spec.param_resources.empty() && spec.cluster_resources.empty() &&
      spec.global_context_entries.empty())
    return context;
  auto data = std::make_shared<policy::CelClusterData>(context ? *context : policy::CelClusterData{});
  data->http_responses = spec.http_responses;
  auto relative = [&](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) out.push_back(rel(n).string());
    return out;
  };
  VOUCH_ASSIGN_OR_RETURN(data->params, load_resources_at(relative(spec.param_resources)));
  for (const auto& entry : spec.global_context_entries) {
    std::vector<bj::value> loaded;
    if (entry.resource_files) {
      VOUCH_ASSIGN_OR_RETURN(loaded, load_resources_at(relative(*entry.resource_files)));
    }
    VOUCH_ASSIGN_OR_RETURN(data->global_context[entry.name], policy::resolve_global_context_entry(entry, loaded));
  }
  for (const auto& name : spec.cluster_resources) {
    fs::path path = rel(name);
    VOUCH_ASSIGN_OR_RETURN(bj::value doc, read_policy_document(path));
    VOUCH_ASSIGN_OR_RETURN(auto file, policy::parse_cluster_resource(doc, path.string()));
    for (auto& r : file.resources) data->resources.push_back(std::move(r));
    for (const auto& crd : file.crds) {
      VOUCH_ASSIGN_OR_RETURN(bj::value crd_doc, read_policy_document(rel(crd)));
      VOUCH_RETURN_IF_ERROR(policy::add_custom_resource_definition(crd_doc, rel(crd).string(), *data));
    }
  }
  return std::shared_ptr<const policy::CelClusterData>(std::move(data));
}

Result<std::vector<policy::TestRow>> run_test(policy::KyvernoTest spec, const fs::path& file) {
  fs::path dir = file.parent_path();
  auto rel = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : dir / p; };
  for (auto& e : spec.results) {
    if (e.patched_resources.empty()) continue;
    VOUCH_ASSIGN_OR_RETURN(std::string patched, read_file(rel(e.patched_resources), kMaxPolicyInputBytes));
    VOUCH_ASSIGN_OR_RETURN(e.patched_documents, policy::parse_documents(patched, rel(e.patched_resources).string()));
  }
  std::vector<std::string> pargs, rargs;
  for (const auto& p : spec.policies) pargs.push_back(rel(p).string());
  for (const auto& r : spec.resources) rargs.push_back(rel(r).string());
  VOUCH_ASSIGN_OR_RETURN(auto pfiles, expand_paths(pargs));
  VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(pfiles));
  VOUCH_ASSIGN_OR_RETURN(auto rfiles, expand_paths(rargs));
  VOUCH_ASSIGN_OR_RETURN(auto resources, load_resources(rfiles));
  policy::Values values;
  if (!spec.values.empty()) {
    VOUCH_ASSIGN_OR_RETURN(values, load_values(rel(spec.values)));
  } else if (!spec.inline_values.empty()) {
    VOUCH_ASSIGN_OR_RETURN(values, policy::parse_values(spec.inline_values, file.string() + ": values"));
  }
  policy::UserInfo user;
  if (!spec.user_info.empty()) {
    VOUCH_ASSIGN_OR_RETURN(user, load_user_info(rel(spec.user_info)));
  }
  std::vector<std::string> eargs;
  for (const auto& e : spec.exceptions) eargs.push_back(rel(e).string());
  VOUCH_ASSIGN_OR_RETURN(auto exceptions, load_exceptions(eargs));
  // Results that name an operation are checked against an evaluation with that operation.
  // ImageValidatingPolicy reads the images from their registries, as `kyverno test` does.
  VOUCH_ASSIGN_OR_RETURN(auto image_policy_verifier, make_image_policy_verifier(false, TrustedRootFlags{}));
  VOUCH_ASSIGN_OR_RETURN(auto cluster, test_cluster_data(spec, rel));
  policy::Engine engine({.verifier = nullptr,
                         .image_policy_verifier = std::move(image_policy_verifier),
                         .exceptions = std::move(exceptions),
                         .cel_cluster = std::move(cluster)});
  VOUCH_ASSIGN_OR_RETURN(auto payloads, load_json_payloads(spec.json_payloads, rel));
  VOUCH_ASSIGN_OR_RETURN(auto envoy_payloads, load_json_payloads(spec.envoy_payloads, rel, "Envoy"));
  VOUCH_ASSIGN_OR_RETURN(auto http_payloads, load_json_payloads(spec.http_payloads, rel, "HTTP"));
  payloads.insert(payloads.end(), std::make_move_iterator(envoy_payloads.begin()), std::make_move_iterator(envoy_payloads.end()));
  payloads.insert(payloads.end(), std::make_move_iterator(http_payloads.begin()), std::make_move_iterator(http_payloads.end()));
  std::map<std::string, std::vector<policy::Evaluated>> by_operation;
  by_operation[""] = policy::evaluate_all(engine, policies, resources, values, user);
  for (auto& e : policy::evaluate_json_payloads(engine, policies, payloads)) by_operation[""].push_back(std::move(e));
  for (const auto& e : spec.results) {
    if (!e.operation.empty() && !by_operation.count(e.operation))
      by_operation[e.operation] = policy::evaluate_all(engine, policies, resources, values, user, e.operation);
  }
  return policy::match_test_results(spec.results, by_operation);
}

// A test file may hold several Test documents; their rows are reported together, in order.
Result<std::vector<policy::TestRow>> run_test_file(const fs::path& file) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(file, kMaxPolicyInputBytes));
  VOUCH_ASSIGN_OR_RETURN(auto specs, policy::parse_kyverno_tests(text, file.string()));
  std::vector<policy::TestRow> rows;
  for (auto& spec : specs) {
    VOUCH_ASSIGN_OR_RETURN(auto some, run_test(std::move(spec), file));
    for (auto& r : some) rows.push_back(std::move(r));
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
  apply_cmd->add_option("-r,--resource", a->resources, "Resource files or directories (YAML or JSON, multi-document)");
  apply_cmd->add_option("--json", a->json_payloads,
                        "JSON payload files, judged by ValidatingPolicies with spec.evaluation.mode JSON (as\n"
                        "`kyverno apply --json`); give --resource, --json or both");
  apply_cmd->add_option("--context-file", a->context_file,
                        "Context file (cli.kyverno.io/v1alpha1 Context): the resources ValidatingPolicies' resource.get\n"
                        "and resource.list read (without it those calls are errors)");
  apply_cmd->add_option("--parameter-resource", a->parameter_resources,
                        "Files or directories of parameter objects for ValidatingAdmissionPolicies (what their\n"
                        "bindings' paramRef picks by name or selector, as `kyverno apply --parameter-resource`)");
  apply_cmd->add_option("-f,--values-file", a->values, "Values file (cli.kyverno.io/v1alpha1 Values)");
  apply_cmd->add_option("-u,--userinfo", a->user_info, "Admission user info file (roles, clusterRoles, userInfo)");
  apply_cmd->add_option("-e,--exception", a->exceptions,
                        "PolicyException files or directories (kyverno.io/v2: the rules they name skip the resources\n"
                        "they match; policies.kyverno.io: the CEL policies they name skip the resources their\n"
                        "matchConditions hold for), as in the cluster");
  apply_cmd->add_flag("--audit-warn", a->audit_warn, "Report failures of Audit rules as warn");
  apply_cmd->add_option("--warn-exit-code", a->warn_exit_code, "Exit code when there are warnings (default 0)");
  apply_cmd->add_flag("--detailed-results", a->detailed, "Print every result, not only failures");
  apply_cmd->add_flag("--registry", a->registry, "Verify images (verifyImages) against their registries");
  apply_cmd->add_flag("--allow-insecure-registry", a->allow_insecure_registry,
                      "Allow plain HTTP and unverified TLS for registries other than localhost");
  a->trust.add(apply_cmd, "trusted_root.json for keyless attestors and transparency-log checks (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF: vouch initialize)");
  add_output_flag(apply_cmd, a->output, {"text", "json"},
                  "a List of PolicyReports, one per namespace, and a ClusterPolicyReport for cluster-scoped resources");
  apply_cmd->callback([a, &exit_code] { exit_code = apply(*a); });

  auto l = std::make_shared<LintOptions>();
  auto* lint_cmd = policy_cmd->add_subcommand(
      "lint",
      "Check ClusterPolicies/Policies for what is legal but almost surely wrong: a keyless subject or issuer\n"
      "written as a regular expression (compared literally: only * is a wildcard), a subjectRegExp or\n"
      "issuerRegExp that accepts anything, an imageReferences entry of '*', Enforce with failurePolicy Ignore,\n"
      "a verifyImages entry with mutateDigest and verifyDigest both false. `policy apply` and `admission\n"
      "serve` print the same findings as warnings.\n"
      "Exit 0 when there is nothing to report, 1 when there are findings, 2 on bad input.");
  lint_cmd->add_option("POLICY", l->paths, "Policy files or directories")->required();
  add_output_flag(lint_cmd, l->output);
  lint_cmd->callback([l, &exit_code] {
    Status st = lint(*l, exit_code);
    if (!st.ok()) exit_code = report(st.error());
  });

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
  add_output_flag(test_cmd, t->output);
  test_cmd->callback([t, &exit_code] { exit_code = test(*t); });
}

}  // namespace vouch::cli
