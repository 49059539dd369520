// vouch admission scan: existing resources evaluated into the report store, as Kyverno's background scan.
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_inputs.h"
#include "vouch/admission/report_store.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/values.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

struct ScanOptions {
  std::vector<std::string> policies;
  std::vector<std::string> resources;
  std::string reports;
  bool registry = false;
  bool allow_insecure_registry = false;
  TrustedRootFlags trust;
};

bool names_requester(const policy::MatchResources& m) {
  auto any = [](const std::vector<policy::ResourceFilter>& filters) {
    for (const auto& f : filters)
      if (!f.subjects.empty() || !f.roles.empty() || !f.cluster_roles.empty()) return true;
    return false;
  };
  return any(m.any) || any(m.all);
}

// The policies as a background scan applies them: those with background: true, without the rules
// that cannot be decided on a resource alone. Says on stderr what was left out.
std::vector<policy::Policy> background_policies(std::vector<policy::Policy> policies, bool registry) {
  std::vector<policy::Policy> out;
  for (auto& p : policies) {
    if (!p.background) {
      fmt::print(stderr, "skipped policy {}: background: false (admission only)\n", p.name);
      continue;
    }
    std::vector<policy::Rule> kept;
    for (auto& r : p.rules) {
      if (names_requester(r.match) || names_requester(r.exclude)) {
        if (!r.autogen) fmt::print(stderr, "skipped rule {}/{}: it matches on who makes the request (admission only)\n", p.name, r.name);
        continue;
      }
      if (!r.verify_images.empty() && !registry) {
        if (!r.autogen) fmt::print(stderr, "skipped rule {}/{}: verifyImages needs --registry\n", p.name, r.name);
        continue;
      }
      kept.push_back(std::move(r));
    }
    if (kept.empty()) continue;
    p.rules = std::move(kept);
    out.push_back(std::move(p));
  }
  return out;
}

std::string uid_of(const bj::value& resource) {
  const auto* o = resource.if_object();
  const auto* meta = o ? o->if_contains("metadata") : nullptr;
  const auto* uid = meta && meta->is_object() ? meta->get_object().if_contains("uid") : nullptr;
  return uid && uid->is_string() ? std::string(uid->get_string()) : std::string();
}

Status scan(const ScanOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto pfiles, expand_paths(o.policies));
  VOUCH_ASSIGN_OR_RETURN(auto all_policies, load_policies(pfiles));
  if (all_policies.empty()) return invalid_input("no ClusterPolicy or Policy found in the given files");
  std::vector<policy::Policy> policies = background_policies(std::move(all_policies), o.registry);
  if (policies.empty()) return invalid_input("no policy has a rule a background scan applies");
  VOUCH_ASSIGN_OR_RETURN(auto rfiles, expand_paths(o.resources));
  VOUCH_ASSIGN_OR_RETURN(auto resources, load_resources(rfiles));

  // Namespace labels, for namespaceSelector, from the Namespaces among the resources.
  policy::Values values;
  for (const auto& r : resources) {
    const auto* obj = r.if_object();
    if (!obj) continue;
    policy::ResourceRef ref = policy::resource_ref(r);
    if (ref.kind != "Namespace") continue;
    auto& labels = values.namespace_labels[ref.name];
    const auto* meta = obj->if_contains("metadata");
    const auto* l = meta && meta->is_object() ? meta->get_object().if_contains("labels") : nullptr;
    if (l && l->is_object())
      for (const auto& [k, v] : l->get_object())
        if (v.is_string()) labels[std::string(k)] = std::string(v.get_string());
  }
  std::shared_ptr<policy::ImageVerifier> verifier;
  std::shared_ptr<policy::ImagePolicyVerifier> image_policy_verifier;
  if (o.registry) {
    VOUCH_ASSIGN_OR_RETURN(verifier, make_image_verifier(o.allow_insecure_registry, o.trust));
    VOUCH_ASSIGN_OR_RETURN(image_policy_verifier, make_image_policy_verifier(o.allow_insecure_registry, o.trust));
  }
  // Open the store before the evaluation, so that a wrong URL fails before registry round trips.
  const std::string url = o.reports.empty() ? admission::default_report_store_url() : o.reports;
  VOUCH_ASSIGN_OR_RETURN(auto store, admission::open_report_store(url));

  policy::Engine engine({.verifier = std::move(verifier), .image_policy_verifier = std::move(image_policy_verifier)});
  // As Kyverno's background scan: each resource as if it were created, by no one in particular.
  auto evaluated = policy::evaluate_all(engine, policies, resources, values, policy::UserInfo{}, "CREATE");
  const UnixSeconds now = now_unix();
  std::vector<admission::RecordedResult> recorded;
  recorded.reserve(evaluated.size());
  std::map<std::string, int> counts;
  for (auto& e : evaluated) {
    counts[std::string(policy::rule_status_name(e.result.status))]++;
    recorded.push_back(admission::RecordedResult{std::move(e.result), e.resource, uid_of(resources[e.resource_index]),
                                                 std::string(admission::kProcessBackgroundScan), now});
  }
  VOUCH_RETURN_IF_ERROR(store->record(recorded));
  fmt::print("scanned {} resource(s) with {} policy(ies): {} result(s) recorded in {} (pass: {}, fail: {}, warn: {}, "
             "error: {}, skip: {})\n",
             resources.size(), policies.size(), recorded.size(), url, counts["pass"], counts["fail"], counts["warn"],
             counts["error"], counts["skip"]);
  return ok_status();
}

}  // namespace

void add_admission_scan_command(CLI::App& admission, int& exit_code) {
  auto o = std::make_shared<ScanOptions>();
  auto* cmd = admission.add_subcommand(
      "scan",
      "Evaluate existing resources (e.g. `kubectl get pods,deployments -A -o json`, Lists expand to their items) with\n"
      "the policies, as Kyverno's background scan does, and record the results in the report store with\n"
      "properties.process \"background scan\", beside what the webhook records.\n"
      "As a background scan: only policies with background: true; each resource is evaluated as a CREATE by no\n"
      "particular user, so rules that match on the requester (subjects, roles, clusterRoles) are skipped, and rules\n"
      "limited to other operations do not match. verifyImages rules verify against registries with --registry and\n"
      "are skipped without it. Namespace labels for namespaceSelector come from the Namespaces among the resources.\n"
      "Exit 0 once the results are recorded, whatever they are (see `vouch report get`); 2 on bad input or a store\n"
      "that cannot be written.");
  cmd->add_option("-p,--policies", o->policies, "Policy files or directories")->required();
  cmd->add_option("-r,--resource", o->resources, "Resource files or directories (YAML or JSON, multi-document, Lists)")
      ->required();
  cmd->add_option("--reports", o->reports,
                  "The report store: a SQLite file (created when missing) or a postgres:// URL (default: $VOUCH_REPORTS, "
                  "else ./vouch-reports.db)");
  cmd->add_flag("--registry", o->registry, "Verify images (verifyImages) against their registries");
  cmd->add_flag("--allow-insecure-registry", o->allow_insecure_registry,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  o->trust.add(cmd, "trusted_root.json for keyless attestors and transparency-log checks (default: $SIGSTORE_ROOT_FILE, "
                    "else Sigstore's over TUF: vouch initialize)");
  on_run(cmd, exit_code, [o] { return scan(*o); });
}

}  // namespace vouch::cli
