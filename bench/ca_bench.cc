// Certificate issuance throughput of `vouch ca serve`'s pieces, in process: every request goes
// through the CA server's handler (FulcioApi, POST /api/v2/signingCert, the body as a client
// sends it), without sockets between client and CA. Per request: the OIDC token check (a
// distinct ES256 token from an OidcIssuer served on loopback; discovery and JWKS are fetched by
// the warm-up request and cached after), the proof of possession, the precertificate, the CT log
// append made durable (SQLite, synchronous=FULL, so each batch's commit is fsync'd), the SCT and
// the final certificate. Several client threads, so that the CT log batches appends.
// Everything a request needs (key, proof, token) is made before the clock starts.
// scripts/bench.sh sets the figure against the signature limit openssl speed measures.
//
// The CA and its log live under $TMPDIR (std::filesystem::temp_directory_path); a tmpfs there
// would make fsync free, so the benchmark refuses to run on one.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/vfs.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/ca/ca_server.h"
#include "vouch/ca/oidc_issuer.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/sct.h"
#include "vouch/crypto/x509.h"
#include "vouch/net/http_server.h"

namespace {

using namespace vouch;
namespace bj = boost::json;
namespace fs = std::filesystem;

// Requests per run; $VOUCH_BENCH_CA_REQUESTS overrides (e.g. for a short run under a profiler).
int request_count() {
  const char* env = std::getenv("VOUCH_BENCH_CA_REQUESTS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 1000;
}
constexpr auto kTimeLimit = std::chrono::seconds(60);
constexpr long kTmpfsMagic = 0x01021994;

// CPU seconds this process has used, on every thread (the CA's, its CT log's and the clients').
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

// An OIDC issuer on loopback and a CA (with its CT log) in a fresh directory; stopped and
// removed when it goes.
struct Stack {
  fs::path dir;
  std::atomic<ca::OidcIssuer*> issuer_for_http{nullptr};
  std::unique_ptr<net::HttpServer> oidc_http;
  std::unique_ptr<ca::OidcIssuer> issuer;
  std::unique_ptr<ca::CaServer> ca;
  net::HttpHandler ca_handler;

  ~Stack() {
    if (oidc_http) oidc_http->stop();
    oidc_http.reset();
    ca_handler = nullptr;
    ca.reset();
    issuer.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // One request through the CA's handler; FulcioApi answers signing requests on the calling thread.
  net::HttpResponse call(const std::string& body) {
    net::HttpRequest r;
    r.method = "POST";
    r.target = r.path = "/api/v2/signingCert";
    r.content_type = "application/json";
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    net::HttpResponse out;
    bool answered = false;
    ca_handler(std::move(r), [&](net::HttpResponse response) {
      out = std::move(response);
      answered = true;
    });
    if (!answered) return {500, "text/plain", "the handler did not answer on the calling thread", {}};
    return out;
  }
};

Result<std::unique_ptr<Stack>> start_stack() {
  auto s = std::make_unique<Stack>();
  s->dir = fs::temp_directory_path() / fmt::format("vouch-ca-bench-{}", std::random_device{}());
  std::error_code ec;
  fs::create_directories(s->dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", s->dir.string(), ec.message()));
  struct statfs fs_info {};
  if (statfs(s->dir.c_str(), &fs_info) == 0 && static_cast<long>(fs_info.f_type) == kTmpfsMagic)
    return invalid_input(fmt::format("{} is on tmpfs, where fsync costs nothing; set TMPDIR to a directory on disk",
                                     s->dir.string()));

  // The issuer's URL holds its port, so the listener comes first and the issuer behind it after.
  Stack* self = s.get();
  net::HttpServerOptions http;
  http.listen = "127.0.0.1:0";
  http.worker_threads = 1;
  auto server = net::HttpServer::start(http, [self](net::HttpRequest request, net::Responder respond) {
    ca::OidcIssuer* issuer = self->issuer_for_http.load();
    if (!issuer) return respond({503, "text/plain", "starting\n", {}});
    respond(issuer->handle_request(request));
  });
  if (!server.ok()) return std::move(server).error().context("OIDC issuer listener");
  s->oidc_http = std::move(*server);
  ca::OidcIssuerOptions oidc;
  oidc.issuer_url = fmt::format("http://127.0.0.1:{}", s->oidc_http->port());
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey oidc_key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  VOUCH_ASSIGN_OR_RETURN(s->issuer, ca::OidcIssuer::create(std::move(oidc_key), oidc));
  s->issuer_for_http.store(s->issuer.get());

  ca::CaServerOptions options;
  options.dir = s->dir / "ca";
  ca::IssuerConfig github;
  github.issuer_url = s->issuer->issuer_url();
  github.type = ca::IssuerType::kGithubWorkflow;
  options.issuers = {github};
  VOUCH_ASSIGN_OR_RETURN(s->ca, ca::CaServer::open(options));
  s->ca_handler = s->ca->handler();
  return s;
}

// A signing-certificate request as vouch's and cosign's clients send it: a fresh P-256 key, its
// proof of possession over the token's subject, and a fresh GitHub Actions token.
Result<std::vector<std::string>> make_requests(const ca::OidcIssuer& issuer, int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    bj::object claims = issuer.github_claims("sigstore");
    const std::string subject(claims.at("sub").as_string());
    VOUCH_ASSIGN_OR_RETURN(std::string token, issuer.issue(std::move(claims)));
    VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
    VOUCH_ASSIGN_OR_RETURN(Bytes proof, key.sign(as_bytes(subject)));
    bj::object body{
        {"credentials", bj::object{{"oidcIdentityToken", token}}},
        {"publicKeyRequest", bj::object{{"publicKey", bj::object{{"algorithm", "ECDSA"}, {"content", key.public_key().pem()}}},
                                        {"proofOfPossession", base64_encode(proof)}}}};
    out.push_back(json::serialize(body));
  }
  return out;
}

// The answer to a request must be a chain (leaf, intermediate, root) whose leaf carries an SCT
// of the stack's CT log that verifies; checked on the warm-up answer, outside the clock.
Status check_answer(Stack& stack, const net::HttpResponse& response) {
  if (response.status != 200) return verification_failed(fmt::format("CA answered HTTP {}: {}", response.status, response.body));
  auto doc = json::parse(response.body);
  if (!doc.ok() || !doc->is_object()) return verification_failed("CA answer is not a JSON object");
  const auto* embedded = doc->as_object().if_contains("signedCertificateEmbeddedSct");
  if (!embedded || !embedded->is_object()) return verification_failed("CA answer has no signedCertificateEmbeddedSct");
  const auto* chain_obj = embedded->as_object().if_contains("chain");
  const auto* certs = chain_obj && chain_obj->is_object() ? chain_obj->as_object().if_contains("certificates") : nullptr;
  if (!certs || !certs->is_array()) return verification_failed("CA answer has no chain.certificates");
  std::string pem;
  for (const auto& c : certs->as_array())
    if (c.is_string()) pem += std::string(c.as_string());
  VOUCH_ASSIGN_OR_RETURN(auto chain, crypto::Certificate::all_from_pem(pem));
  if (chain.size() != 3) return verification_failed(fmt::format("CA answered a chain of {} certificates", chain.size()));
  return crypto::verify_embedded_scts(chain[0], chain[1], {stack.ca->ct_log()->trust_entry()});
}

void BM_CaIssueCertificates(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  auto stack = start_stack();
  if (!stack.ok()) {
    state.SkipWithError(stack.error().message.c_str());
    return;
  }
  Stack& s = **stack;
  const int count = request_count();
  auto requests = make_requests(*s.issuer, count + 1);
  if (!requests.ok()) {
    state.SkipWithError(requests.error().message.c_str());
    return;
  }
  // The warm-up request fetches discovery and the JWK Set, which are cached after.
  if (Status first = check_answer(s, s.call(requests->back())); !first.ok()) {
    state.SkipWithError(first.error().message.c_str());
    return;
  }
  const uint64_t batches_before = s.ca->ct_log()->log().stats().batches.load();

  for (auto _ : state) {
    std::atomic<int> next{0}, issued{0};
    std::mutex failure_mu;
    std::string first_failure;
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const auto deadline = t0 + kTimeLimit;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&] {
        for (int i; (i = next++) < count && std::chrono::steady_clock::now() < deadline;) {
          net::HttpResponse r = s.call((*requests)[static_cast<size_t>(i)]);
          if (r.status == 200) {
            issued++;
          } else {
            std::lock_guard lock(failure_mu);
            if (first_failure.empty()) first_failure = fmt::format("HTTP {}: {}", r.status, r.body);
          }
        }
      });
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = process_cpu_seconds() - cpu0;
    state.SetIterationTime(secs);
    if (!first_failure.empty()) {
      state.SkipWithError(("a request failed: " + first_failure).c_str());
      break;
    }
    const double batches = static_cast<double>(s.ca->ct_log()->log().stats().batches.load() - batches_before);
    state.counters["certificates_per_s"] = issued / secs;
    state.counters["issued"] = issued.load();
    state.counters["ct_batches"] = batches;
    state.counters["entries_per_batch"] = batches > 0 ? issued / batches : 0;
    state.counters["cpu_ms_per_certificate"] = issued > 0 ? 1000 * cpu / issued : 0;
  }
}

// Args: concurrent clients.
BENCHMARK(BM_CaIssueCertificates)->Arg(1)->Arg(2)->Arg(8)->Arg(32)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
