// The admission webhook: answers AdmissionReviews on Kyverno's paths with Kyverno's semantics,
// before the API server's deadline, always.
//
//   /mutate/fail, /mutate/ignore      image verification (verifyImages): pins verified tags to
//                                     their digests (JSON patch) and records the outcome in the
//                                     kyverno.io/verify-images annotation
//   /validate/fail, /validate/ignore  validate rules, and image verification again (from the
//                                     cache), so a resource that skipped the mutating webhook is
//                                     judged all the same
//
// Each path serves the policies whose failurePolicy it names. A request's `?timeout=` (the API
// server's webhook timeout) bounds the answer: what cannot finish in time is an error result,
// denied on the /fail paths and allowed with a warning on the /ignore paths. Evaluation runs on
// its own threads, never on the HTTP server's.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/verification_cache.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/net/http_server.h"
#include "vouch/net/prometheus.h"
#include "vouch/policy/engine.h"

namespace vouch::admission {

// The results of one review, for reports (not called for dry runs).
struct ReviewResults {
  policy::ResourceRef resource;
  std::string resource_uid;
  std::vector<policy::RuleResult> results;
};
using ResultSink = std::function<void(ReviewResults)>;

struct WebhookOptions {
  std::shared_ptr<PolicyDirectory> policies;
  std::shared_ptr<policy::ImageVerifier> verifier;  // usually a CachingImageVerifier
  // The registry behind ImageValidatingPolicy's image functions (not cached: each review
  // verifies again).
  std::shared_ptr<policy::ImagePolicyVerifier> image_policy_verifier;
  ResultSink on_results;                            // may be empty
  // Used when a request has no ?timeout= (the API server always sends one).
  std::chrono::milliseconds default_timeout{10000};
  // The answer leaves this much before the deadline, for the trip back.
  std::chrono::milliseconds deadline_margin{250};
  unsigned evaluation_threads = 16;
  // Namespace labels for namespaceSelector (from `kubectl get namespaces -o json`).
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;
  // The parameter objects ValidatingAdmissionPolicy bindings pick from (may be null: none).
  std::shared_ptr<const policy::CelClusterData> cel_cluster;
};

class Webhook {
 public:
  explicit Webhook(WebhookOptions options);
  ~Webhook();  // waits for evaluations in flight

  // True for the paths this webhook answers.
  static bool serves(std::string_view path);
  // Answers one HTTP request on a webhook path (responds exactly once).
  void handle(net::HttpRequest request, net::Responder respond);
  // Evaluates one decoded review synchronously (no deadline): what handle() answers.
  AdmissionResponse evaluate(const AdmissionReview& review, bool mutate, bool ignore_errors);

  void write_metrics(net::PrometheusText& out) const;

 private:
  // nullopt when `cache_only` is given and the review needed the registry.
  std::optional<AdmissionResponse> evaluate_once(const AdmissionReview& review, bool mutate, bool ignore_errors,
                                                 const CachingImageVerifier::CacheOnlyScope* cache_only);
  struct State;
  WebhookOptions options_;
  std::unique_ptr<State> state_;
};

// Go's duration text as the API server writes ?timeout= ("10s", "1m30s", "500ms").
Result<std::chrono::milliseconds> parse_go_duration(std::string_view text);

}  // namespace vouch::admission
