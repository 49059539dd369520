// vouch admission serve: the Kyverno-compatible admission webhook (and the `admission` group).
#include <csignal>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/policy_inputs.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/report_store.h"
#include "vouch/admission/report_writer.h"
#include "vouch/admission/verification_cache.h"
#include "vouch/admission/webhook.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/net/http_server.h"
#include "vouch/net/prometheus.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/document.h"
#include "vouch/policy/lint.h"
#include "vouch/verifiers/cosign.h"
#include "vouch/verifiers/image_policy.h"

namespace vouch::cli {
namespace {

// `policy lint`'s findings, one warning line each, when policies are loaded and reloaded.
void log_lint_findings(const admission::PolicySnapshot& snap) {
  for (const auto& lp : snap.policies)
    for (const auto& f : policy::lint_policy(lp.full))
      server_log("policy warning", {{"policy", f.policy}, {"path", f.path}, {"warning", f.message}});
}

namespace bj = boost::json;

struct ServeFlags {
  std::string policies;
  std::string tls_cert, tls_key;
  std::string listen = "0.0.0.0:9443";
  std::string reports;
  bool no_reports = false;
  bool cache_enabled = true;
  size_t cache_size = 1000;
  std::string cache_ttl = "60m", negative_cache_ttl = "30s", tag_cache_ttl = "30s";
  std::string default_timeout = "10s";
  std::string registry_timeout = "30s";
  std::string reload_interval = "2s";
  std::string namespace_labels;
  std::vector<std::string> parameter_resources;
  unsigned threads = 16;
  unsigned io_threads = 2;
  bool allow_insecure_registry = false;
  TrustedRootFlags trust;
};

Result<std::chrono::milliseconds> duration_flag(const std::string& name, const std::string& text) {
  auto d = admission::parse_go_duration(text);
  if (!d.ok()) return invalid_input(fmt::format("{}: {}", name, d.error().message));
  return d;
}

// Namespace labels from `kubectl get namespaces -o json` (a List of Namespaces).
Result<std::map<std::string, std::map<std::string, std::string>>> load_namespace_labels(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, 64 << 20));
  VOUCH_ASSIGN_OR_RETURN(auto docs, policy::parse_documents(text, path));
  std::map<std::string, std::map<std::string, std::string>> out;
  auto add = [&](const bj::value& ns) -> Status {
    const bj::value* meta = ns.is_object() ? ns.get_object().if_contains("metadata") : nullptr;
    const bj::value* name = meta && meta->is_object() ? meta->get_object().if_contains("name") : nullptr;
    if (!name || !name->is_string()) return invalid_input(fmt::format("{}: a Namespace without metadata.name", path));
    auto& labels = out[std::string(name->get_string())];
    if (const bj::value* l = meta->get_object().if_contains("labels"); l && l->is_object()) {
      for (const auto& kv : l->get_object()) {
        if (!kv.value().is_string())
          return invalid_input(fmt::format("{}: namespace {}: label {} is not a string", path, name->get_string(),
                                           std::string(kv.key())));
        labels[std::string(kv.key())] = std::string(kv.value().get_string());
      }
    }
    return ok_status();
  };
  for (const auto& d : docs) {
    const bj::value* items = d.is_object() ? d.get_object().if_contains("items") : nullptr;
    if (items && items->is_array()) {
      for (const auto& ns : items->get_array()) VOUCH_RETURN_IF_ERROR(add(ns));
    } else {
      VOUCH_RETURN_IF_ERROR(add(d));
    }
  }
  return out;
}

Status serve(const ServeFlags& f) {
  if (f.tls_cert.empty() || f.tls_key.empty())
    return invalid_input("--tls-cert and --tls-key are required: the API server calls webhooks over HTTPS only");
  VOUCH_ASSIGN_OR_RETURN(auto cache_ttl, duration_flag("--cache-ttl", f.cache_ttl));
  VOUCH_ASSIGN_OR_RETURN(auto negative_ttl, duration_flag("--negative-cache-ttl", f.negative_cache_ttl));
  VOUCH_ASSIGN_OR_RETURN(auto tag_ttl, duration_flag("--tag-cache-ttl", f.tag_cache_ttl));
  VOUCH_ASSIGN_OR_RETURN(auto default_timeout, duration_flag("--webhook-timeout", f.default_timeout));
  VOUCH_ASSIGN_OR_RETURN(auto registry_timeout, duration_flag("--registry-timeout", f.registry_timeout));
  VOUCH_ASSIGN_OR_RETURN(auto reload_interval, duration_flag("--reload-interval", f.reload_interval));
  if (reload_interval.count() < 100) return invalid_input("--reload-interval: at least 100ms");
  if (f.threads == 0 || f.threads > 1024) return invalid_input("--threads: between 1 and 1024");
  if (f.no_reports && !f.reports.empty()) return invalid_input("--reports and --no-reports are exclusive");

  VOUCH_ASSIGN_OR_RETURN(std::unique_ptr<admission::PolicyDirectory> dir, admission::PolicyDirectory::open(f.policies));
  log_lint_findings(*dir->current());
  std::shared_ptr<admission::PolicyDirectory> policies = std::move(dir);

  admission::WebhookOptions options;
  options.policies = policies;
  options.default_timeout = default_timeout;
  options.evaluation_threads = f.threads;
  if (!f.namespace_labels.empty()) {
    VOUCH_ASSIGN_OR_RETURN(options.namespace_labels, load_namespace_labels(f.namespace_labels));
  }
  if (!f.parameter_resources.empty()) {
    auto cluster = std::make_shared<policy::CelClusterData>();
    VOUCH_ASSIGN_OR_RETURN(cluster->params, load_resources_at(f.parameter_resources));
    options.cel_cluster = std::move(cluster);
  }

  verifiers::CosignOptions v;
  v.store.allow_insecure = f.allow_insecure_registry;
  v.store.timeout = registry_timeout;
  v.store.max_retries = 1;
  VOUCH_ASSIGN_OR_RETURN(v.trusted_material, f.trust.load());
  if (!v.trusted_material) {
    v.trusted_material_source = [trust = f.trust] {
      return trust.load_or_tuf(true, std::chrono::steady_clock::now() + std::chrono::seconds(20));
    };
  }
  std::shared_ptr<policy::ImagePolicyVerifier> image_policy = verifiers::image_policy_verifier(v);
  std::shared_ptr<policy::ImageVerifier> cosign = verifiers::cosign_image_verifier(std::move(v));
  std::shared_ptr<admission::CachingImageVerifier> cache;
  std::shared_ptr<admission::CachingImagePolicyVerifier> image_policy_cache;
  if (f.cache_enabled) {
    admission::VerificationCacheOptions co;
    co.max_entries = f.cache_size;
    co.ttl = std::chrono::duration_cast<std::chrono::seconds>(cache_ttl);
    co.negative_ttl = std::chrono::duration_cast<std::chrono::seconds>(negative_ttl);
    co.tag_ttl = std::chrono::duration_cast<std::chrono::seconds>(tag_ttl);
    cache = std::make_shared<admission::CachingImageVerifier>(cosign, co);
    options.verifier = cache;
    image_policy_cache = std::make_shared<admission::CachingImagePolicyVerifier>(image_policy, co);
    options.image_policy_verifier = image_policy_cache;
  } else {
    options.verifier = cosign;
    options.image_policy_verifier = image_policy;
  }

  std::unique_ptr<admission::ReportWriter> writer;
  std::string reports_url;
  if (!f.no_reports) {
    reports_url = f.reports.empty() ? admission::default_report_store_url() : f.reports;
    VOUCH_ASSIGN_OR_RETURN(std::unique_ptr<admission::ReportStore> store, admission::open_report_store(reports_url));
    writer = std::make_unique<admission::ReportWriter>(std::shared_ptr<admission::ReportStore>(std::move(store)));
    options.on_results = [w = writer.get()](admission::ReviewResults r) { w->submit(std::move(r)); };
  }

  auto webhook = std::make_unique<admission::Webhook>(std::move(options));
  policies->watch(reload_interval, [policies](const Result<bool>& r) {
    if (r.ok()) {
      auto snap = policies->current();
      server_log("policies reloaded", {{"dir", policies->dir()},
                                       {"policies", static_cast<int64_t>(snap->policies.size())},
                                       {"version", snap->version}});
      log_lint_findings(*snap);
    } else {
      server_log("policies not reloaded: the last good set keeps serving",
                 {{"dir", policies->dir()}, {"error", r.error().message}});
    }
  });

  net::HttpServerOptions http;
  http.listen = f.listen;
  http.io_threads = f.io_threads;
  http.worker_threads = 4;
  http.tls_cert_file = f.tls_cert;
  http.tls_key_file = f.tls_key;
  http.max_body_bytes = (3 << 20) + (64 << 10);  // 3 MiB reviews, as the API server sends at most
  http.read_timeout = std::chrono::seconds(10);
  http.request_deadline = std::chrono::seconds(35);  // after the longest webhook timeout (30 s)
  http.server_name = "vouch-admission";

  admission::Webhook* wh = webhook.get();
  admission::ReportWriter* rw = writer.get();
  auto handler = [wh, rw, policies, cache, image_policy_cache](net::HttpRequest req, net::Responder respond) {
    if (admission::Webhook::serves(req.path)) {
      wh->handle(std::move(req), std::move(respond));
      return;
    }
    net::HttpResponse r;
    if (req.path == "/healthz" || req.path == "/health/liveness") {
      r.content_type = "text/plain";
      r.body = "ok\n";
    } else if (req.path == "/readyz" || req.path == "/health/readiness") {
      // Ready while a policy set serves; a broken reload is reported here but does not take
      // the replica out of the Service (the last good set still answers).
      auto snap = policies->current();
      bj::object body{{"ready", true},
                      {"policies", static_cast<int64_t>(snap->policies.size())},
                      {"version", snap->version},
                      {"loadedAt", format_rfc3339(snap->loaded_at)}};
      if (auto err = policies->last_error(); !err.empty()) body["policyError"] = err;
      if (rw) {
        if (auto err = rw->last_error(); !err.empty()) body["reportError"] = err;
      }
      r.body = json::serialize(body);
    } else if (req.path == "/metrics") {
      net::PrometheusText m;
      wh->write_metrics(m);
      if (cache) {
        auto s = cache->stats();
        m.counter("vouch_admission_verify_cache_hits_total", "Image verifications answered from the cache (verified)", s.hits);
        m.counter("vouch_admission_verify_cache_negative_hits_total",
                  "Image verifications answered from the cache (failed recently)", s.negative_hits);
        m.counter("vouch_admission_verify_cache_misses_total", "Image verifications run against the registry", s.misses);
        m.counter("vouch_admission_verify_cache_coalesced_total",
                  "Image verifications that waited for the same verification already running", s.coalesced);
        m.counter("vouch_admission_verify_cache_evictions_total", "Cache entries evicted for size", s.evictions);
        m.gauge("vouch_admission_verify_cache_entries", "Cached verification outcomes", static_cast<double>(s.entries));
        m.gauge("vouch_admission_verify_cache_bytes", "Approximate size of the cached outcomes", static_cast<double>(s.bytes));
        m.counter("vouch_admission_tag_cache_hits_total", "Tag to digest lookups answered from the cache", s.tag_hits);
        m.counter("vouch_admission_tag_cache_misses_total", "Tag to digest lookups sent to the registry", s.tag_misses);
        m.counter("vouch_admission_tag_cache_coalesced_total", "Tag lookups that waited for the same lookup",
                  s.tag_coalesced);
      }
      if (image_policy_cache) {
        auto s = image_policy_cache->stats();
        m.counter("vouch_admission_image_policy_cache_hits_total",
                  "ImageValidatingPolicy registry answers (image data, referrers, verified outcomes) from the cache",
                  s.hits);
        m.counter("vouch_admission_image_policy_cache_negative_hits_total",
                  "ImageValidatingPolicy verifications answered from the cache (failed recently)", s.negative_hits);
        m.counter("vouch_admission_image_policy_cache_misses_total",
                  "ImageValidatingPolicy registry questions sent to the registry", s.misses);
        m.counter("vouch_admission_image_policy_cache_coalesced_total",
                  "ImageValidatingPolicy registry questions that waited for the same question", s.coalesced);
        m.gauge("vouch_admission_image_policy_cache_entries", "Cached ImageValidatingPolicy answers",
                static_cast<double>(s.entries));
      }
      if (rw) rw->write_metrics(m);
      r.content_type = std::string(net::PrometheusText::kContentType);
      r.body = m.take();
    } else {
      r.status = 404;
      r.content_type = "text/plain";
      r.body = fmt::format("{}: not found\n", req.path);
    }
    respond(std::move(r));
  };
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, handler));
  {
    auto snap = policies->current();
    server_log("admission webhook serving",
               {{"address", server->address()},
                {"policies", static_cast<int64_t>(snap->policies.size())},
                {"version", snap->version},
                {"reports", reports_url.empty() ? bj::value(nullptr) : bj::value(reports_url)},
                {"cache", f.cache_enabled}});
  }
  // SIGHUP: the serving certificate was rotated (a Secret updated in place).
  static std::atomic<bool> hup{false};
  std::signal(SIGHUP, [](int) { hup = true; });
  std::atomic<bool> done{false};
  std::thread tls_watch([&] {
    // A mounted Secret changes in place: reload when the files' modification times do, or on SIGHUP.
    namespace fs = std::filesystem;
    auto stamp = [&] {
      std::error_code e1, e2;
      auto a = fs::last_write_time(f.tls_cert, e1), b = fs::last_write_time(f.tls_key, e2);
      return std::make_pair(e1 ? fs::file_time_type{} : a, e2 ? fs::file_time_type{} : b);
    };
    auto last = stamp();
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto now = stamp();
      if (now == last && !hup.exchange(false)) continue;
      last = now;
      Status st = server->reload_tls();
      if (st.ok()) server_log("serving certificate reloaded", {{"cert", f.tls_cert}});
      else server_log("serving certificate not reloaded: the previous one keeps serving", {{"error", st.error().message}});
    }
  });
  server->run_until_signal();
  done = true;
  tls_watch.join();
  webhook.reset();  // evaluations in flight finish first
  writer.reset();   // then their results are written
  server_log("admission webhook stopped", {});
  return ok_status();
}

}  // namespace

void register_admission_commands(CLI::App& app, int& exit_code) {
  auto* adm = app.add_subcommand("admission", "The Kubernetes admission webhook: serve, scan existing resources, deploy");
  adm->require_subcommand(1);
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = adm->add_subcommand(
      "serve",
      "Serve Kyverno's admission webhook over HTTPS for ClusterPolicy and Policy documents.\n"
      "Paths as Kyverno's: /mutate/fail and /mutate/ignore verify images (verifyImages), pin verified\n"
      "tags to their digests and set the kyverno.io/verify-images annotation; /validate/fail and\n"
      "/validate/ignore run validate rules and check images again (from the cache). Each path serves the\n"
      "policies whose failurePolicy it names. Enforce failures are denied with Kyverno's message, Audit\n"
      "failures are admitted with a warning; every result goes to the report store (vouch report get).\n"
      "A review is answered before the API server's ?timeout=: what cannot finish in time is denied on\n"
      "/…/fail and admitted with a warning on /…/ignore. Image verification outcomes are cached by\n"
      "digest and attestors (attestation conditions are evaluated on every hit), failures briefly, and\n"
      "concurrent verifications of one image run once. The policy directory (a mounted ConfigMap) is\n"
      "watched: a changed set is installed atomically, a broken one is reported in the log, /metrics and\n"
      "/readyz while the last good set keeps serving. The serving certificate is reloaded when its files\n"
      "change or on SIGHUP. Also /healthz, /readyz, /metrics. SIGTERM drains requests in flight.");
  cmd->add_option("--policies", f->policies, "Directory of ClusterPolicy/Policy YAML or JSON files")->required();
  cmd->add_option("--tls-cert", f->tls_cert, "Serving certificate (PEM, leaf first)")->required();
  cmd->add_option("--tls-key", f->tls_key, "Its private key (PEM)")->required();
  cmd->add_option("--listen", f->listen, "HOST:PORT to listen on")->capture_default_str();
  cmd->add_option("--reports", f->reports,
                  "Report store: a SQLite file or postgres://… shared by replicas (default $VOUCH_REPORTS or "
                  "./vouch-reports.db)");
  cmd->add_flag("--no-reports", f->no_reports, "Keep no reports");
  cmd->add_flag("!--no-cache", f->cache_enabled, "Verify images on every request (Kyverno's --imageVerifyCacheEnabled=false)");
  cmd->add_option("--cache-size", f->cache_size, "Verification outcomes kept (Kyverno's --imageVerifyCacheMaxSize)")
      ->capture_default_str();
  cmd->add_option("--cache-ttl", f->cache_ttl, "How long a verified outcome is kept (Kyverno's --imageVerifyCacheTTLDuration)")
      ->capture_default_str();
  cmd->add_option("--negative-cache-ttl", f->negative_cache_ttl, "How long a failed verification is kept (0s: not at all)")
      ->capture_default_str();
  cmd->add_option("--tag-cache-ttl", f->tag_cache_ttl, "How long a tag's digest is kept")->capture_default_str();
  cmd->add_option("--webhook-timeout", f->default_timeout, "Deadline of a review sent without ?timeout=")
      ->capture_default_str();
  cmd->add_option("--registry-timeout", f->registry_timeout, "Deadline of one image verification's registry requests")
      ->capture_default_str();
  cmd->add_option("--reload-interval", f->reload_interval, "How often the policy directory is checked for changes")
      ->capture_default_str();
  cmd->add_option("--namespace-labels", f->namespace_labels,
                  "Namespaces with their labels (kubectl get namespaces -o json), for namespaceSelector");
  cmd->add_option("--parameter-resource", f->parameter_resources,
                  "Files or directories of ValidatingAdmissionPolicy parameter objects (ConfigMaps, custom\n"
                  "resources) their bindings' paramRef picks from (read at start)");
  cmd->add_option("--threads", f->threads, "Evaluation threads (image verification waits on the registry here)")
      ->capture_default_str();
  cmd->add_option("--io-threads", f->io_threads, "Threads reading and writing connections")->capture_default_str();
  cmd->add_flag("--allow-insecure-registry", f->allow_insecure_registry,
                "Plain HTTP or unverified TLS to registries other than localhost");
  f->trust.add(cmd, "Trusted root (JSON) for keyless attestors and log checks; default: Sigstore's over TUF");
  on_run(cmd, exit_code, [f] { return serve(*f); });
  add_admission_scan_command(*adm, exit_code);
  add_admission_manifests_command(*adm, exit_code);
}

}  // namespace vouch::cli
