// Transparency log throughput over HTTP on loopback, with `vouch log serve`'s pieces in process
// (HttpServer + RekorApi + Log): durable appends per second with concurrent clients (each
// POST answered only once its batch is committed and fsync'd), and proof requests per second
// (GET by log index, which returns an inclusion proof and checkpoint, and consistency proofs).
// Storage: SQLite in a temporary directory, and PostgreSQL when $VOUCH_BENCH_POSTGRES_URL names
// a server (scripts/bench.sh starts one). Bounded: kEntries appends, at most 60 s per run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/net/http.h"
#include "vouch/net/http_server.h"
#include "vouch/tlog/log.h"
#include "vouch/tlog/rekor_api.h"

namespace {

using namespace vouch;
namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr int kEntries = 3000;
constexpr auto kTimeLimit = std::chrono::seconds(60);

// One request, no retries (a failure counts as one), 30 seconds at most.
Result<net::Response> request(std::string method, std::string url, std::string body = {}) {
  net::ClientOptions options;
  options.max_retries = 0;
  options.timeout = std::chrono::seconds(30);
  net::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  if (r.method == "POST") r.headers.add("Content-Type", "application/json");
  return net::Client(options).send(r);
}

std::vector<std::string> make_proposals(int n, int salt) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  std::string pem_b64 = base64_encode(as_bytes(key.public_key().pem()));
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string artifact = fmt::format("bench artifact {} {} {}", salt, i, std::random_device{}());
    Bytes sig = *key.sign(as_bytes(artifact));
    bj::object o{{"apiVersion", "0.0.1"},
                 {"kind", "hashedrekord"},
                 {"spec", bj::object{{"data", bj::object{{"hash", bj::object{{"algorithm", "sha256"},
                                                                             {"value", hex_encode(crypto::sha256(artifact))}}}}},
                                     {"signature", bj::object{{"content", base64_encode(sig)},
                                                              {"publicKey", bj::object{{"content", pem_b64}}}}}}}};
    out.push_back(json::serialize(o));
  }
  return out;
}

// A log and its Rekor API on loopback, over SQLite in its own directory or over
// $VOUCH_BENCH_POSTGRES_URL; stopped and removed when it goes.
struct Server {
  fs::path dir;
  std::unique_ptr<tlog::Log> log;
  std::unique_ptr<tlog::RekorApi> api;
  std::unique_ptr<net::HttpServer> http;
  std::string url;

  ~Server() {
    if (http) http->stop();
    if (log) log->stop();
    http.reset();
    api.reset();
    log.reset();
    fs::remove_all(dir);
  }
};

// storage: 0 SQLite, 1 PostgreSQL. nullptr (and the benchmark marked skipped) when it cannot run.
std::unique_ptr<Server> start(benchmark::State& state, int storage_kind) {
  auto s = std::make_unique<Server>();
  s->dir = fs::temp_directory_path() / fmt::format("vouch-tlog-bench-{}", std::random_device{}());
  fs::create_directories(s->dir);
  std::string storage_url = "sqlite:" + (s->dir / "bench.db").string();
  if (storage_kind == 1) {
    const char* pg = std::getenv("VOUCH_BENCH_POSTGRES_URL");
    if (!pg) {
      state.SkipWithError("no PostgreSQL server ($VOUCH_BENCH_POSTGRES_URL)");
      return nullptr;
    }
    storage_url = pg;
  }
  auto storage = tlog::open_storage(storage_url);
  if (!storage.ok()) {
    state.SkipWithError(storage.error().message.c_str());
    return nullptr;
  }
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  s->log = std::move(*tlog::Log::open(std::move(*storage), key, tlog::LogOptions{"127.0.0.1", 1024}));
  s->api = std::make_unique<tlog::RekorApi>(*s->log, 2);
  net::HttpServerOptions opts;
  opts.listen = "127.0.0.1:0";
  opts.worker_threads = 4;
  auto http = net::HttpServer::start(opts, s->api->handler());
  if (!http.ok()) {
    state.SkipWithError("server did not start");
    return nullptr;
  }
  s->http = std::move(*http);
  s->url = fmt::format("http://127.0.0.1:{}", s->http->port());
  return s;
}

// Runs `clients` threads, each taking the next of `n` jobs until done or out of time.
template <typename Job>
std::pair<int, double> run_clients(int clients, int n, Job job) {
  std::atomic<int> next{0}, done{0};
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + kTimeLimit;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i; (i = next++) < n && std::chrono::steady_clock::now() < deadline;)
        if (job(i)) done++;
    });
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {done.load(), secs};
}

void BM_TlogDurableAppends(benchmark::State& state) {
  int kind = static_cast<int>(state.range(0)), clients = static_cast<int>(state.range(1));
  auto server = start(state, kind);
  if (!server) return;
  auto proposals = make_proposals(kEntries, static_cast<int>(std::random_device{}()));
  for (auto _ : state) {
    auto [ok, secs] = run_clients(clients, kEntries, [&](int i) {
      auto r = request("POST", server->url + "/api/v1/log/entries", proposals[i]);
      return r.ok() && r->status == 201;
    });
    state.SetIterationTime(secs);
    state.counters["appends_per_s"] = ok / secs;
    state.counters["acknowledged"] = ok;
    state.counters["batches"] = static_cast<double>(server->log->stats().batches.load());
  }
}

void BM_TlogProofRequests(benchmark::State& state) {
  int kind = static_cast<int>(state.range(0)), clients = static_cast<int>(state.range(1));
  auto server = start(state, kind);
  if (!server) return;
  // A tree of 2000 entries, appended in process.
  auto proposals = make_proposals(2000, static_cast<int>(std::random_device{}()));
  run_clients(16, 2000, [&](int i) {
    auto r = request("POST", server->url + "/api/v1/log/entries", proposals[i]);
    return r.ok() && r->status == 201;
  });
  uint64_t size = server->log->head().size;
  for (auto _ : state) {
    auto [ok, secs] = run_clients(clients, 6000, [&](int i) {
      std::mt19937_64 rng(static_cast<uint64_t>(i));
      std::string path = i % 2 ? fmt::format("/api/v1/log/entries?logIndex={}", rng() % size)
                               : fmt::format("/api/v1/log/proof?firstSize={}&lastSize={}", 1 + rng() % size, size);
      auto r = request("GET", server->url + path);
      return r.ok() && r->status == 200;
    });
    state.SetIterationTime(secs);
    state.counters["proofs_per_s"] = ok / secs;
  }
}

// Args: storage (0 SQLite, 1 PostgreSQL), concurrent clients.
BENCHMARK(BM_TlogDurableAppends)->ArgsProduct({{0, 1}, {1, 8, 32}})->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_TlogProofRequests)->ArgsProduct({{0, 1}, {8}})->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
