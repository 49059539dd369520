// The webhook: decoding, evaluation on its own threads, the deadline race, Kyverno's answers.
#include "vouch/admission/webhook.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "vouch/admission/policy_reports.h"
#include "vouch/admission/verification_cache.h"
#include "vouch/base/ascii.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/image_policy.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;
using policy::RuleStatus;

constexpr std::chrono::milliseconds kMaxTimeout{30000};  // the API server's own cap
constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// A fixed set of threads running queued tasks; the destructor finishes what was queued.
class TaskPool {
 public:
  explicit TaskPool(unsigned threads) {
    for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { run(); });
  }
  ~TaskPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  size_t queued() const {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

// Callbacks at points in time, on one thread; cancelled ones never run.
class DeadlineTimer {
 public:
  using Id = uint64_t;
  DeadlineTimer() : thread_([this] { run(); }) {}
  ~DeadlineTimer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Id at(Clock::time_point when, std::function<void()> fn) {
    std::lock_guard lock(mu_);
    Id id = ++next_;
    bool earliest = timers_.empty() || when < timers_.begin()->first.first;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    if (earliest) cv_.notify_one();
    return id;
  }
  void cancel(Clock::time_point when, Id id) {
    std::lock_guard lock(mu_);
    timers_.erase(std::make_pair(when, id));
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = timers_.begin();
      // A copy: the entry may be cancelled (and freed) while the lock is released in the wait.
      const Clock::time_point due = first->first.first;
      if (due > Clock::now()) {
        cv_.wait_until(lock, due);
        continue;
      }
      auto fn = std::move(first->second);
      timers_.erase(first);
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<Clock::time_point, Id>, std::function<void()>> timers_;
  Id next_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// The four webhook paths, and Kyverno's bare /mutate and /validate (failurePolicy Fail).
struct Route {
  bool mutate = false;
  bool ignore = false;
  size_t index = 0;  // for metrics
};
constexpr std::array<std::string_view, 4> kPaths = {"/mutate/fail", "/mutate/ignore", "/validate/fail",
                                                     "/validate/ignore"};

std::optional<Route> route_of(std::string_view path) {
  if (path == "/mutate") path = "/mutate/fail";
  if (path == "/validate") path = "/validate/fail";
  for (size_t i = 0; i < kPaths.size(); ++i) {
    if (path == kPaths[i]) return Route{i < 2, i % 2 == 1, i};
  }
  return std::nullopt;
}

constexpr std::array<double, 14> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,    1,     2.5,  5,    10,   30};

struct PathMetrics {
  std::atomic<uint64_t> allowed{0}, denied{0}, timeouts{0}, rejected{0};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size()> buckets{};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_micros{0};

  void observe(Clock::duration d) {
    double seconds = std::chrono::duration<double>(d).count();
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
      if (seconds <= kLatencyBuckets[i]) buckets[i]++;
    count++;
    sum_micros += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }
};

net::HttpResponse text_response(int status, std::string message) {
  net::HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(message) + "\n";
  return r;
}

bool is_json_content_type(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return lower(media) == "application/json";
}

// A JSON Pointer token (RFC 6901).
std::string pointer_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

// What the CEL policies (ValidatingPolicy, ValidatingAdmissionPolicy) decided: Kyverno's vpol
// handler answers each failed validation with "Policy <name> failed: <message>", as an error
// under the Deny action and as a warning under Warn; Audit only reports.
struct CelVerdict {
  std::vector<std::string> denials;
  std::vector<std::string> warnings;
  std::vector<policy::RuleResult> results;
  std::string reason;  // of the first ValidatingAdmissionPolicy denial
};

// The HTTP code of a status reason, as the API server maps a ValidatingAdmissionPolicy's.
int reason_code(std::string_view reason) {
  if (reason == "Unauthorized") return 401;
  if (reason == "Forbidden") return 403;
  if (reason == "RequestEntityTooLarge") return 413;
  return 422;  // Invalid
}

// A ValidatingAdmissionPolicy's failures worded as the API server words them: a denial
// "ValidatingAdmissionPolicy 'P' with binding 'B' denied request: <message>" (with the
// validation's reason, Invalid by default), a warning "Validation failed for
// ValidatingAdmissionPolicy 'P' with binding 'B': <message>"; Audit only reports.
void judge_admission_policy(const policy::CelPolicy& p, const policy::RuleResult& r, CelVerdict& verdict) {
  for (const auto& f : r.binding_failures) {
    std::string with_binding = f.binding.empty() ? "" : fmt::format(" with binding '{}'", f.binding);
    auto has = [&](std::string_view action) { return std::find(f.actions.begin(), f.actions.end(), action) != f.actions.end(); };
    if (has("Deny")) {
      if (verdict.reason.empty()) verdict.reason = f.reason.empty() ? "Invalid" : f.reason;
      verdict.denials.push_back(fmt::format("ValidatingAdmissionPolicy '{}'{} denied request: {}", p.name, with_binding, f.message));
    }
    if (has("Warn"))
      verdict.warnings.push_back(fmt::format("Validation failed for ValidatingAdmissionPolicy '{}'{}: {}", p.name, with_binding, f.message));
  }
}

bool has_action(const policy::CelPolicy& p, std::string_view action) {
  if (p.validation_actions.empty()) return action == "Deny";
  return std::find(p.validation_actions.begin(), p.validation_actions.end(), action) != p.validation_actions.end();
}

void judge_cel(const policy::CelPolicy& p, std::vector<policy::RuleResult> results, CelVerdict& verdict) {
  for (auto& r : results) {
    // A failed validation under Warn alone comes back as warn; Kyverno reports it as a fail.
    if (r.status == RuleStatus::kWarn) r.status = RuleStatus::kFail;
    if (p.kind == "ValidatingAdmissionPolicy") {
      judge_admission_policy(p, r, verdict);
    } else if (r.status == RuleStatus::kFail || r.status == RuleStatus::kError) {
      std::string text = fmt::format("Policy {} {}: {}", p.name, r.status == RuleStatus::kFail ? "failed" : "error",
                                     r.message);
      // The actions of what judged it: a ValidatingAdmissionPolicy's bindings, else the policy's.
      auto has = [&](std::string_view action) {
        if (r.validation_actions.empty()) return has_action(p, action);
        return std::find(r.validation_actions.begin(), r.validation_actions.end(), action) != r.validation_actions.end();
      };
      if (has("Deny")) verdict.denials.push_back(text);
      if (has("Warn")) verdict.warnings.push_back(std::move(text));
    }
    r.type = cel_result_type(p.kind);
    verdict.results.push_back(std::move(r));
  }
}

// What the ImageValidatingPolicies decided, as Kyverno's ivpol handler answers: "Policy <name>
// failed: <message>" (or "error") denies under Deny and warns under Warn.
void judge_image_policy(const policy::ImageValidatingPolicy& p, std::vector<policy::RuleResult> results,
                        CelVerdict& verdict, bool report) {
  auto has = [&](std::string_view action) {
    if (p.validation_actions.empty()) return action == "Deny";
    return std::find(p.validation_actions.begin(), p.validation_actions.end(), action) != p.validation_actions.end();
  };
  for (auto& r : results) {
    if (r.status == RuleStatus::kFail || r.status == RuleStatus::kError) {
      std::string text = fmt::format("Policy {} {}: {}", p.name, r.status == RuleStatus::kFail ? "failed" : "error",
                                     r.message);
      if (has("Deny")) verdict.denials.push_back(text);
      if (has("Warn")) verdict.warnings.push_back(std::move(text));
    }
    r.type = "KyvernoImageValidatingPolicy/ImageVerify";
    if (report) verdict.results.push_back(std::move(r));
  }
}

}  // namespace

struct Webhook::State {
  explicit State(const WebhookOptions& o)
      : engine({.verifier = o.verifier, .image_policy_verifier = o.image_policy_verifier, .cel_cluster = o.cel_cluster}),
        cached_verifier(dynamic_cast<CachingImageVerifier*>(o.verifier.get()) != nullptr),
        cached_image_policy_verifier(!o.image_policy_verifier ||
                                     dynamic_cast<CachingImagePolicyVerifier*>(o.image_policy_verifier.get()) != nullptr),
        pool(o.evaluation_threads) {}
  policy::Engine engine;
  bool cached_verifier;
  bool cached_image_policy_verifier;  // none at all counts: nothing would wait on a registry
  std::array<PathMetrics, kPaths.size()> paths;
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> in_flight{0};
  DeadlineTimer timer;
  TaskPool pool;  // declared last: drained first, while the timer it cancels still exists
};

Webhook::Webhook(WebhookOptions options) : options_(std::move(options)), state_(std::make_unique<State>(options_)) {}

Webhook::~Webhook() = default;

bool Webhook::serves(std::string_view path) { return route_of(path).has_value(); }

Result<std::chrono::milliseconds> parse_go_duration(std::string_view text) {
  if (text.empty()) return invalid_input("empty duration");
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return invalid_input(fmt::format("duration {}: expected a number", text));
    double n = 0;
    try {
      n = std::stod(std::string(text.substr(start, i - start)));
    } catch (...) {
      return invalid_input(fmt::format("duration {}: bad number", text));
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "h") scale = 3600e3;
    else if (unit == "m") scale = 60e3;
    else if (unit == "s") scale = 1e3;
    else if (unit == "ms") scale = 1;
    else if (unit == "us" || unit == "µs") scale = 1e-3;
    else if (unit == "ns") scale = 1e-6;
    else return invalid_input(fmt::format("duration {}: unknown unit '{}'", text, unit));
    total_ms += n * scale;
    if (total_ms > 1e12) return invalid_input(fmt::format("duration {}: too long", text));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

AdmissionResponse Webhook::evaluate(const AdmissionReview& review, bool mutate, bool ignore_errors) {
  return *evaluate_once(review, mutate, ignore_errors, nullptr);
}

std::optional<AdmissionResponse> Webhook::evaluate_once(const AdmissionReview& review, bool mutate, bool ignore_errors,
                                                        const CachingImageVerifier::CacheOnlyScope* cache_only) {
  const AdmissionRequest& req = review.request;
  AdmissionResponse out;
  if (mutate && req.operation == "DELETE") return out;  // nothing is admitted: no image to verify

  // Rules are matched against the kind of the resource that was called (pods/exec: Pod, "exec").
  // Kyverno answers a request whose kind it cannot find with an error; vouch's look-up can miss
  // only for want of discovery, so the error follows the path's failurePolicy.
  auto matched = matched_kind(req);
  if (!matched.ok()) {
    if (ignore_errors) {
      out.warnings.push_back(fmt::format("vouch: {}; allowed because failurePolicy is Ignore", matched.error().message));
    } else {
      out.allowed = false;
      out.message = fmt::format("vouch: {} (failurePolicy Fail)", matched.error().message);
    }
    return out;
  }

  policy::Request pr;
  pr.object = req.operation == "DELETE" ? req.old_object : req.object;
  pr.old_object = req.old_object;
  pr.operation = req.operation;
  pr.user = req.user;
  if (!matched->sub_resource.empty()) {
    pr.parent_api_version = matched->api_version;
    pr.parent_kind = matched->kind;
    pr.subresource = matched->sub_resource;
  }
  pr.admission = admitted_fields(review);
  // Only the request's namespace is ever looked up: copy its labels, not the whole cluster's.
  if (auto it = options_.namespace_labels.find(req.ns); it != options_.namespace_labels.end())
    pr.namespace_labels.emplace(it->first, it->second);
  // The API server leaves metadata.namespace (and, with generateName, the name) to be filled in
  // after admission; Kyverno judges the object in the request's namespace.
  if (pr.object.is_object()) {
    bj::value& meta = pr.object.as_object()["metadata"];
    if (!meta.is_object()) meta = bj::object{};
    if (!req.ns.empty() && !meta.as_object().contains("namespace")) meta.as_object()["namespace"] = req.ns;
    if (!req.name.empty() && !meta.as_object().contains("name")) meta.as_object()["name"] = req.name;
  }
  const policy::ResourceRef ref = policy::resource_ref(pr.object);

  std::shared_ptr<const PolicySnapshot> snapshot = options_.policies->current();
  pr.exceptions = snapshot->exceptions;
  std::vector<policy::RuleResult> results;
  CelVerdict cel;
  std::vector<bj::object> pinned;  // ImageValidatingPolicy's mutateDigest
  // ImageValidatingPolicies share what they verified, and `required` is settled once all have run.
  pr.image_verifications = std::make_shared<policy::ImageVerificationLedger>();
  std::vector<std::pair<const policy::ImageValidatingPolicy*, std::vector<policy::RuleResult>>> image_results;
  for (const LoadedPolicy& lp : snapshot->policies) {
    if (!lp.full.admission) continue;
    if ((lp.full.failure_policy == "Ignore") != ignore_errors) continue;
    if (lp.full.image_policy) {
      // Its image functions read the registry: on the I/O thread only through the cache, whose
      // misses send the review to the evaluation threads.
      if (cache_only && !state_->cached_image_policy_verifier) return std::nullopt;
      const policy::ImageValidatingPolicy& ip = *lp.full.image_policy;
      if (mutate) {
        auto m = policy::mutate_image_digests(ip, pr, options_.image_policy_verifier.get());
        pinned.insert(pinned.end(), m.patches.begin(), m.patches.end());
        // A tag that cannot be pinned is reported as the mutating webhook reports it, not
        // recorded (the validating webhook reports the policy).
        if (m.error) judge_image_policy(ip, {std::move(*m.error)}, cel, false);
      } else {
        image_results.emplace_back(&ip, state_->engine.apply(lp.full, pr));
      }
      continue;
    }
    if (lp.full.cel) {
      if (!mutate) judge_cel(*lp.full.cel, state_->engine.apply(lp.full, pr), cel);
      continue;
    }
    const policy::Policy& view = mutate ? lp.mutate_view : lp.validate_view;
    if (view.rules.empty()) continue;
    // (An UPDATE that keeps an existing violation is skipped by the engine itself:
    // validate.allowExistingViolations.)
    for (auto& r : state_->engine.apply(view, pr)) {
      // The next policy mutates the resource as this one left it (Kyverno's mutation handler).
      if (mutate && r.type == "Mutation" && !r.patched_resource.is_null()) pr.object = r.patched_resource;
      results.push_back(std::move(r));
    }
  }
  if (cache_only && cache_only->missed()) return std::nullopt;  // needs the registry: not on this thread
  for (auto& [ip, rs] : image_results) {
    for (auto& r : rs) {
      policy::settle_required(*ip, r, *pr.image_verifications);
      r.images.clear();  // the selected images: not Kyverno's verify-images annotation
    }
    judge_image_policy(*ip, std::move(rs), cel, true);
  }

  std::vector<BlockedRule> blocked;
  std::vector<bj::object> mutations;  // mutate rules' patches, in the order they applied
  std::vector<bj::object> patches;
  std::map<std::string, std::string> verified_images;
  for (const auto& r : results) {
    bool failed = r.status == RuleStatus::kFail || r.status == RuleStatus::kError;
    if (failed) {
      // failurePolicy Ignore lets errors (an unreachable registry) through, not failures.
      bool blocking = r.action == policy::FailureAction::kEnforce && !(ignore_errors && r.status == RuleStatus::kError);
      if (blocking) blocked.push_back({r.policy, r.rule, r.message});
      else out.warnings.push_back(rule_warning(r.policy, r.rule, r.message));
    } else if (r.status == RuleStatus::kWarn) {
      out.warnings.push_back(rule_warning(r.policy, r.rule, r.message));
    }
    if (mutate && r.type == "Mutation" && r.status == RuleStatus::kPass)
      mutations.insert(mutations.end(), r.patches.begin(), r.patches.end());
    if (mutate && r.type == "ImageVerify") {
      if (r.status == RuleStatus::kPass) patches.insert(patches.end(), r.patches.begin(), r.patches.end());
      for (const auto& [image, status] : r.images) {
        auto& slot = verified_images[image];
        if (slot != "fail") slot = std::string(policy::rule_status_name(status));
      }
    }
  }
  out.warnings.insert(out.warnings.end(), cel.warnings.begin(), cel.warnings.end());
  for (const auto& r : cel.results) out.audit_annotations.insert(r.audit_annotations.begin(), r.audit_annotations.end());
  if (!blocked.empty() || !cel.denials.empty()) {
    out.allowed = false;
    // Several failed validations read as Go's multierr writes them: joined by "; ".
    std::string cel_message;
    for (const auto& d : cel.denials) cel_message += (cel_message.empty() ? "" : "; ") + d;
    if (blocked.empty()) {
      out.message = std::move(cel_message);
      // A ValidatingAdmissionPolicy's denial carries its reason and code, as the API server's.
      if (!cel.reason.empty()) {
        out.reason = cel.reason;
        out.code = reason_code(cel.reason);
      }
    } else {
      out.message = blocked_message(ref, blocked) + (cel_message.empty() ? "" : "; " + cel_message);
    }
  } else if (mutate && (!mutations.empty() || !verified_images.empty() || !pinned.empty())) {
    // Two rules may pin the same image field; the first patch wins. Mutations come first:
    // images were verified on the mutated resource.
    std::vector<bj::object> unique;
    for (auto& p : patches) {
      bool seen = std::any_of(unique.begin(), unique.end(), [&](const bj::object& u) { return u.at("path") == p.at("path"); });
      if (!seen) unique.push_back(std::move(p));
    }
    for (auto& p : pinned) {
      bool seen = std::any_of(unique.begin(), unique.end(), [&](const bj::object& u) { return u.at("path") == p.at("path"); });
      if (!seen) unique.push_back(std::move(p));
    }
    out.patch = std::move(mutations);
    out.patch.insert(out.patch.end(), std::make_move_iterator(unique.begin()), std::make_move_iterator(unique.end()));
    if (!verified_images.empty()) {  // ImageValidatingPolicy sets no annotation
      bj::object annotation;
      for (const auto& [image, status] : verified_images) annotation[image] = status;
      const bj::value* meta = pr.object.is_object() ? pr.object.get_object().if_contains("metadata") : nullptr;
      const bj::value* annotations = meta && meta->is_object() ? meta->get_object().if_contains("annotations") : nullptr;
      if (!annotations || !annotations->is_object())
        out.patch.push_back(bj::object{{"op", "add"}, {"path", "/metadata/annotations"}, {"value", bj::object{}}});
      out.patch.push_back(bj::object{{"op", "add"},
                                     {"path", "/metadata/annotations/" + pointer_token("kyverno.io/verify-images")},
                                     {"value", bj::serialize(annotation)}});
    }
  }

  results.insert(results.end(), std::make_move_iterator(cel.results.begin()), std::make_move_iterator(cel.results.end()));
  if (options_.on_results && !req.dry_run && !results.empty()) {
    // Image verification is reported from the mutating webhook, validation from the validating one.
    ReviewResults rr;
    rr.resource = ref;
    // A subresource's results belong to the resource it is part of (Kyverno reports a Scale under
    // its Deployment's uid); the options of a CONNECT (PodExecOptions) are no resource of their own.
    if (!matched->sub_resource.empty()) {
      rr.resource.api_version = matched->api_version;
      rr.resource.kind = matched->kind;
      if (!req.name.empty()) rr.resource.name = req.name;
      rr.resource.ns = req.ns;
    }
    if (pr.object.is_object()) {
      if (const auto* meta = pr.object.get_object().if_contains("metadata"); meta && meta->is_object()) {
        if (const auto* uid = meta->get_object().if_contains("uid"); uid && uid->is_string())
          rr.resource_uid = std::string(uid->get_string());
      }
    }
    for (auto& r : results) {
      if ((r.type == "ImageVerify" || r.type == "Mutation") == mutate) rr.results.push_back(std::move(r));
    }
    if (!rr.results.empty()) options_.on_results(std::move(rr));
  }
  return out;
}

void Webhook::handle(net::HttpRequest request, net::Responder respond) {
  const auto received = Clock::now();
  auto route = route_of(request.path);
  if (!route) {
    respond(text_response(404, fmt::format("{}: not a webhook path", request.path)));
    return;
  }
  PathMetrics& metrics = state_->paths[route->index];
  if (request.method != "POST") {
    metrics.rejected++;
    auto r = text_response(405, fmt::format("{} {}: the webhook takes POST", request.method, request.path));
    r.headers.emplace_back("Allow", "POST");
    respond(std::move(r));
    return;
  }
  if (!is_json_content_type(request.content_type)) {
    metrics.rejected++;
    respond(text_response(415, fmt::format("Content-Type={}, expected application/json", request.content_type)));
    return;
  }
  std::chrono::milliseconds timeout = options_.default_timeout;
  if (auto it = request.query.find("timeout"); it != request.query.end()) {
    auto t = parse_go_duration(it->second);
    if (!t.ok()) {
      metrics.rejected++;
      respond(text_response(400, "timeout: " + t.error().message));
      return;
    }
    timeout = std::min(*t, kMaxTimeout);
  }
  auto decoded = decode_review(request.body);
  if (auto* err = std::get_if<ReviewError>(&decoded)) {
    metrics.rejected++;
    respond(text_response(err->status, err->message));
    return;
  }
  auto review = std::make_shared<AdmissionReview>(std::move(std::get<AdmissionReview>(decoded)));
  const bool mutate = route->mutate, ignore = route->ignore;

  // Fast path: when every image verification the review needs is cached, it is answered here,
  // without a thread hop or a timer; otherwise it goes to the evaluation threads.
  if (state_->cached_verifier) {
    std::optional<AdmissionResponse> fast;
    {
      CachingImageVerifier::CacheOnlyScope scope;
      fast = evaluate_once(*review, mutate, ignore, &scope);
    }
    if (fast) {
      (fast->allowed ? metrics.allowed : metrics.denied)++;
      net::HttpResponse r;
      r.content_type = std::string(kJsonContentType);
      r.body = encode_review_response(*review, *fast);
      metrics.observe(Clock::now() - received);
      respond(std::move(r));
      return;
    }
  }

  // The answer races the deadline: whichever comes first responds, the other does nothing.
  struct Pending {
    std::atomic<bool> answered{false};
    net::Responder respond;
    Clock::time_point deadline;
    DeadlineTimer::Id timer = 0;
  };
  auto margin = std::min(options_.deadline_margin, timeout / 10);
  auto pending = std::make_shared<Pending>();
  pending->respond = std::move(respond);
  pending->deadline = received + timeout - margin;
  auto send = [&metrics, received](Pending& p, std::string body) {
    net::HttpResponse r;
    r.content_type = std::string(kJsonContentType);
    r.body = std::move(body);
    metrics.observe(Clock::now() - received);
    p.respond(std::move(r));
  };
  pending->timer = state_->timer.at(pending->deadline, [pending, review, mutate, ignore, timeout, send, &metrics] {
    if (pending->answered.exchange(true)) return;
    metrics.timeouts++;
    AdmissionResponse r;
    const policy::ResourceRef ref = policy::resource_ref(review->request.object.is_null() ? review->request.old_object
                                                                                          : review->request.object);
    std::string why = fmt::format("policy evaluation did not finish within the webhook timeout ({} ms){}",
                                  timeout.count(), mutate ? " while verifying images" : "");
    if (ignore) {
      r.warnings.push_back(fmt::format("vouch: {}; allowed because failurePolicy is Ignore", why));
      metrics.allowed++;
    } else {
      r.allowed = false;
      r.message = fmt::format("\n\nresource {}/{}/{} was blocked: {} (failurePolicy Fail)", ref.kind,
                              review->request.ns.empty() ? ref.ns : review->request.ns,
                              review->request.name.empty() ? ref.name : review->request.name, why);
      metrics.denied++;
    }
    send(*pending, encode_review_response(*review, r));
  });
  state_->in_flight++;
  state_->pool.post([this, pending, review, mutate, ignore, send, &metrics] {
    AdmissionResponse r = evaluate(*review, mutate, ignore);
    state_->in_flight--;
    if (pending->answered.exchange(true)) return;  // the deadline answered already
    state_->timer.cancel(pending->deadline, pending->timer);
    (r.allowed ? metrics.allowed : metrics.denied)++;
    send(*pending, encode_review_response(*review, r));
  });
}

void Webhook::write_metrics(net::PrometheusText& out) const {
  out.family("vouch_admission_requests_total", "counter", "Admission reviews answered, by path and decision");
  for (size_t i = 0; i < kPaths.size(); ++i) {
    const auto& m = state_->paths[i];
    out.sample("vouch_admission_requests_total", m.allowed.load(), {{"path", kPaths[i]}, {"decision", "allowed"}});
    out.sample("vouch_admission_requests_total", m.denied.load(), {{"path", kPaths[i]}, {"decision", "denied"}});
    out.sample("vouch_admission_requests_total", m.rejected.load(), {{"path", kPaths[i]}, {"decision", "bad_request"}});
  }
  out.family("vouch_admission_deadline_exceeded_total", "counter",
             "Reviews answered by the deadline, before their evaluation finished");
  for (size_t i = 0; i < kPaths.size(); ++i)
    out.sample("vouch_admission_deadline_exceeded_total", state_->paths[i].timeouts.load(), {{"path", kPaths[i]}});
  out.family("vouch_admission_request_duration_seconds", "histogram", "Time from request to answer");
  for (size_t i = 0; i < kPaths.size(); ++i) {
    const auto& m = state_->paths[i];
    for (size_t b = 0; b < kLatencyBuckets.size(); ++b) {
      std::string le = fmt::format("{}", kLatencyBuckets[b]);
      out.sample("vouch_admission_request_duration_seconds_bucket", m.buckets[b].load(), {{"path", kPaths[i]}, {"le", le}});
    }
    out.sample("vouch_admission_request_duration_seconds_bucket", m.count.load(), {{"path", kPaths[i]}, {"le", "+Inf"}});
    out.sample("vouch_admission_request_duration_seconds_sum", static_cast<double>(m.sum_micros.load()) / 1e6,
               {{"path", kPaths[i]}});
    out.sample("vouch_admission_request_duration_seconds_count", m.count.load(), {{"path", kPaths[i]}});
  }
  out.family("vouch_admission_evaluations_in_flight", "gauge", "Reviews being evaluated");
  out.sample("vouch_admission_evaluations_in_flight", state_->in_flight.load());
  if (options_.policies) {
    auto snap = options_.policies->current();
    out.family("vouch_admission_policies", "gauge", "Policies serving");
    out.sample("vouch_admission_policies", static_cast<uint64_t>(snap->policies.size()));
    out.counter("vouch_admission_policy_reloads_total", "Policy sets installed after a change of the files",
                options_.policies->reloads());
    out.counter("vouch_admission_policy_reload_failures_total", "Policy reloads refused (the last good set kept serving)",
                options_.policies->reload_failures());
    out.gauge("vouch_admission_policy_reload_error", "1 while the policy files do not load",
              options_.policies->last_error().empty() ? 0.0 : 1.0);
  }
}

}  // namespace vouch::admission
