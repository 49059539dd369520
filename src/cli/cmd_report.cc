// vouch report get, vouch rollout status|plan: the report store read as PolicyReports and as the audit → enforce ladder.
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_inputs.h"
#include "vouch/admission/manifests.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/admission/report_store.h"
#include "vouch/admission/rollout.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

// A store that must already exist: reading never creates an empty one.
Result<std::unique_ptr<admission::ReportStore>> open_for_reading(const std::string& flag) {
  const std::string url = flag.empty() ? admission::default_report_store_url() : flag;
  return admission::open_report_store(url, {.must_exist = true});
}

// YAML documents (block style) with `notes` as comments before them.
std::string yaml_stream(std::vector<bj::object> documents, std::vector<std::string> notes) {
  return admission::to_yaml(admission::Manifests{std::move(documents), std::move(notes)});
}

void add_reports_flag(CLI::App* cmd, std::string& reports) {
  cmd->add_option("--reports", reports,
                  "The report store: a SQLite file or a postgres:// URL (default: $VOUCH_REPORTS, else "
                  "./vouch-reports.db, as `vouch admission serve` and `vouch admission scan` use)");
}

// ---------------------------------------------------------------- report get

struct GetOptions {
  std::string reports;
  std::string ns;
  bool all_namespaces = false;
  std::string output = "json";
};

Status get(const GetOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, open_for_reading(o.reports));
  std::optional<std::string> ns;
  if (!o.ns.empty()) ns = o.ns;
  VOUCH_ASSIGN_OR_RETURN(auto latest, store->latest(ns));
  bj::object list = admission::policy_report_list(latest, ns);
  if (o.output == "yaml") {
    fmt::print("{}", yaml_stream({std::move(list)}, {}));
  } else {
    print_json(list);
  }
  return ok_status();
}

// ---------------------------------------------------------------- rollout

struct StatusOptions {
  std::string reports;
  int days = 14;
  std::string ns;
  std::string output = "table";
};

Status status(const StatusOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, open_for_reading(o.reports));
  VOUCH_ASSIGN_OR_RETURN(admission::RolloutStatus st, admission::rollout_status(*store, {.days = o.days}));
  std::optional<std::string> ns;
  if (!o.ns.empty()) ns = o.ns;
  if (o.output == "json") {
    print_json(admission::rollout_status_json(st, ns));
  } else {
    fmt::print("{}", admission::rollout_status_table(st, ns));
  }
  return ok_status();
}

struct PlanOptions {
  std::vector<std::string> policies;
  std::string reports;
  int days = 14;
  std::string output = "yaml";
};

Status plan(const PlanOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(o.policies));
  VOUCH_ASSIGN_OR_RETURN(auto policies, load_policies(files));
  if (policies.empty()) return invalid_input("no ClusterPolicy or Policy found in the given files");
  VOUCH_ASSIGN_OR_RETURN(auto store, open_for_reading(o.reports));
  VOUCH_ASSIGN_OR_RETURN(admission::RolloutStatus st, admission::rollout_status(*store, {.days = o.days}));
  admission::RolloutPlan p = admission::plan_rollout(policies, st);
  std::vector<std::string> notes;
  for (const auto& c : p.changes) notes.push_back("change: " + c);
  for (const auto& h : p.held_back) notes.push_back("held back: " + h);
  if (p.documents.empty())
    notes.push_back(fmt::format("nothing to change: no rule of these policies has a namespace that is GO and still in "
                                "Audit over the last {} days (vouch rollout status shows why)",
                                o.days));
  if (o.output == "json") {
    for (const auto& n : notes) fmt::print(stderr, "{}\n", n);
    bj::array items(p.documents.begin(), p.documents.end());
    print_json(bj::object{{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}});
  } else {
    if (!p.documents.empty())
      notes.insert(notes.begin(), fmt::format("vouch rollout plan over the last {} days: review, then kubectl apply -f", o.days));
    std::vector<bj::object> docs;
    for (auto& d : p.documents)
      if (d.is_object()) docs.push_back(std::move(d.get_object()));
    fmt::print("{}", yaml_stream(std::move(docs), std::move(notes)));
  }
  return ok_status();
}

}  // namespace

void register_report_commands(CLI::App& app, int& exit_code) {
  auto* report_cmd = app.add_subcommand("report", "PolicyReports from the report store, as Kyverno writes them.");
  report_cmd->require_subcommand(1);
  auto g = std::make_shared<GetOptions>();
  auto* get_cmd = report_cmd->add_subcommand(
      "get",
      "Print the PolicyReports (wgpolicyk8s.io/v1alpha2) of the latest result per resource, policy and rule that the\n"
      "admission webhook and `vouch admission scan` recorded: one PolicyReport per namespace (polr-ns-<namespace>)\n"
      "and the ClusterPolicyReport (clusterpolicyreport) for cluster-scoped resources, in a v1 List, as\n"
      "`kubectl get policyreport -o json` prints them, so the same jq works:\n"
      "  vouch report get -A -o json | jq -r '.items[].results[] | select(.result==\"fail\") | .resources[0].name'\n"
      "Without -n, every namespace and the ClusterPolicyReport (-A). JSON by default, as scripts read it.\n"
      "Exit 0, whatever the results; 2 when the store cannot be read (a missing file is not created).");
  auto* ns_opt = get_cmd->add_option("-n,--namespace", g->ns, "Only this namespace's PolicyReport");
  get_cmd->add_flag("-A,--all-namespaces", g->all_namespaces,
                    "Every namespace's PolicyReport and the ClusterPolicyReport (the default)")
      ->excludes(ns_opt);
  add_reports_flag(get_cmd, g->reports);
  add_output_flag(get_cmd, g->output, {"json", "yaml"}, "a v1 List of PolicyReports");
  on_run(get_cmd, exit_code, [g] { return get(*g); });

  auto* rollout_cmd = app.add_subcommand(
      "rollout", "The audit -> enforce ladder from the report store's history: what is ready to enforce, and the change.");
  rollout_cmd->require_subcommand(1);
  auto s = std::make_shared<StatusOptions>();
  auto* status_cmd = rollout_cmd->add_subcommand(
      "status",
      "For each policy rule and namespace over the last --days: the rule's action there (Audit or Enforce, as its\n"
      "newest result applied it), its results, the fail and error results by resource, and a verdict:\n"
      "  GO      no fail or error result in the whole window, and reports for at least the window\n"
      "          (\"only N days of reports\" otherwise): ready for Enforce in that namespace (partial enforce)\n"
      "  NO-GO   failures to triage (sign the image, exclude the workload, or replace it), or too little history\n"
      "  ENFORCED  already enforcing\n"
      "Full enforce is GO when every namespace with results (and the cluster-scoped resources) is GO or enforcing.\n"
      "History is kept for 90 days by default. `vouch rollout plan` writes the policy change.\n"
      "Exit 0 whatever the verdicts; 2 when the store cannot be read.");
  status_cmd->add_option("--days", s->days, "The audit window in days")->check(CLI::Range(1, 3650))->capture_default_str();
  status_cmd->add_option("-n,--namespace", s->ns, "Only this namespace's rows (the full-enforce verdict covers all)");
  add_reports_flag(status_cmd, s->reports);
  add_output_flag(status_cmd, s->output, {"table", "json"});
  on_run(status_cmd, exit_code, [s] { return status(*s); });

  auto pl = std::make_shared<PlanOptions>();
  auto* plan_cmd = rollout_cmd->add_subcommand(
      "plan",
      "The policies changed so that every namespace that is GO (see rollout status) enforces the rule:\n"
      "  partial enforce  validate.failureActionOverrides (validate rules) or spec.validationFailureActionOverrides\n"
      "                   (verifyImages rules) gain {action: Enforce, namespaces: [the GO ones]}\n"
      "  full enforce     failureAction: Enforce on the rule, when every namespace with results is GO\n"
      "Only changed policies are printed, without server-set fields, ready for review and `kubectl apply -f`;\n"
      "what changed and what was held back is written as comments (YAML) or on stderr (JSON). Planning again\n"
      "after applying changes nothing. Exit 0 (also when nothing is ready); 2 on bad input or an unreadable store.");
  plan_cmd->add_option("-p,--policies", pl->policies, "The policies as applied in the cluster: files or directories")
      ->required();
  plan_cmd->add_option("--days", pl->days, "The audit window in days")->check(CLI::Range(1, 3650))->capture_default_str();
  add_reports_flag(plan_cmd, pl->reports);
  add_output_flag(plan_cmd, pl->output, {"yaml", "json"}, "the changed policies");
  on_run(plan_cmd, exit_code, [pl] { return plan(*pl); });
}

}  // namespace vouch::cli
