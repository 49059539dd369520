// Transparency log throughput over HTTP on loopback, with `vouch log serve`'s pieces in process
// (HttpServer + RekorApi + Log): durable appends per second with concurrent clients (each
// POST answered only once its batch is committed and fsync'd), with the latency of each append
// (p50, p99), and proof requests per second (GET by log index, which returns an inclusion proof
// and checkpoint, and consistency proofs). The clients are keep-alive HTTP/1.1 connections on
// one I/O thread, each with one request outstanding (a closed loop), as a fleet of signers would
// be; the entries are signed by one key, or each by a key of its own (as keyless signing does).
// Each run also measures the disk's fsync rate where the storage is, for the limit it sets.
// Storage: SQLite in a temporary directory, and PostgreSQL when $VOUCH_BENCH_POSTGRES_URL names
// a server (bench/tlog_bench.sh starts one). Bounded: at most kMaxEntries appends, 60 s a run.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/net/http_server.h"
#include "vouch/tlog/log.h"
#include "vouch/tlog/rekor_api.h"

namespace {

using namespace vouch;
namespace bj = boost::json;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kMaxEntries = 20000;
constexpr int kEntriesPerClient = 400;  // a run appends min(kMaxEntries, clients × this)
constexpr auto kTimeLimit = std::chrono::seconds(60);

// hashedrekord proposals of distinct artifacts, signed with one key (a build system's) or each
// with a key of its own (as keyless signing does, each with a fresh certificate).
std::vector<std::string> make_proposals(int n, int salt, bool key_each = false) {
  auto key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  std::string pem_b64 = base64_encode(as_bytes(key.public_key().pem()));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    if (key_each && i > 0) {
      key = *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
      pem_b64 = base64_encode(as_bytes(key.public_key().pem()));
    }
    std::string artifact = fmt::format("bench artifact {} {}", salt, i);
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

// fdatasync()s per second of a 4 KiB write in `dir` (rewriting a preallocated file, as a WAL is
// rewritten after a checkpoint), over about half a second: one commit's physical cost.
double fsyncs_per_second(const fs::path& dir) {
  const fs::path path = dir / "fsync-probe";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  constexpr int kBlocks = 1024;
  std::vector<char> block(4096, 'x');
  for (int i = 0; i < kBlocks; ++i)
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) < 0) break;
  ::fsync(fd);
  int n = 0;
  auto t0 = Clock::now();
  while (Clock::now() - t0 < std::chrono::milliseconds(500) && n < kBlocks) {
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(n) * 4096) < 0 || ::fdatasync(fd) != 0) break;
    ++n;
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  fs::remove(path);
  return n / secs;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A log and its Rekor API on loopback, over SQLite in its own directory or over
// $VOUCH_BENCH_POSTGRES_URL; stopped and removed when it goes.
struct Server {
  fs::path dir;
  std::unique_ptr<tlog::Log> log;
  std::unique_ptr<tlog::RekorApi> api;
  std::unique_ptr<net::HttpServer> http;
  uint16_t port = 0;

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
// The server is set up as `vouch log serve` sets it up (2 I/O threads, 4 workers, batches of up
// to 1024).
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
  s->port = s->http->port();
  return s;
}

struct Load {
  int ok = 0;
  int failed = 0;
  double secs = 0;
  std::vector<double> latency_ms;  // of the requests answered with the expected status

  double percentile(double p) {
    if (latency_ms.empty()) return 0;
    std::sort(latency_ms.begin(), latency_ms.end());
    return latency_ms[std::min(latency_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latency_ms.size())))];
  }
};

// One request of a load: method, target, body; and the status that counts as success.
struct LoadRequest {
  http::verb method;
  std::string target;
  std::string body;
  unsigned expect;
};

// `connections` keep-alive connections to 127.0.0.1:port, each sending the next of `n` requests
// once the previous one is answered, until all are sent or the time is up; one thread.
class LoadRun {
 public:
  LoadRun(uint16_t port, int n, std::function<LoadRequest(int)> make) : endpoint_(asio::ip::make_address("127.0.0.1"), port), n_(n), make_(std::move(make)) {}

  Load run(int connections) {
    t0_ = Clock::now();
    deadline_ = t0_ + kTimeLimit;
    for (int c = 0; c < connections; ++c) std::make_shared<Connection>(*this)->connect();
    ioc_.run();
    load_.secs = std::chrono::duration<double>(Clock::now() - t0_).count();
    return std::move(load_);
  }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(LoadRun& r) : run(r), socket(r.ioc_) {}
    LoadRun& run;
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::optional<http::response_parser<http::string_body>> parser;
    unsigned expect = 0;
    Clock::time_point sent;

    void connect() {
      socket = tcp::socket(run.ioc_);
      socket.async_connect(run.endpoint_, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->fail();
        self->socket.set_option(tcp::no_delay(true));
        self->next();
      });
    }
    void fail() {
      run.load_.failed++;
      boost::system::error_code ignored;
      socket.close(ignored);
      buffer.clear();
      if (run.next_ < run.n_ && Clock::now() < run.deadline_) connect();
    }
    void next() {
      if (run.next_ >= run.n_ || Clock::now() >= run.deadline_) return;
      LoadRequest r = run.make_(run.next_++);
      request = {r.method, r.target, 11};
      request.set(http::field::host, "127.0.0.1");
      request.keep_alive(true);
      if (r.method == http::verb::post) request.set(http::field::content_type, "application/json");
      request.body() = std::move(r.body);
      request.prepare_payload();
      expect = r.expect;
      sent = Clock::now();
      http::async_write(socket, request, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) return self->fail();
        self->parser.emplace();
        self->parser->body_limit(16 << 20);
        http::async_read(self->socket, self->buffer, *self->parser,
                         [self](boost::system::error_code ec, size_t) { self->on_response(ec); });
      });
    }
    void on_response(boost::system::error_code ec) {
      if (ec) return fail();
      const auto& res = parser->get();
      if (res.result_int() == expect) {
        run.load_.ok++;
        run.load_.latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
      } else {
        run.load_.failed++;
      }
      if (!res.keep_alive()) {
        boost::system::error_code ignored;
        socket.close(ignored);
        return connect();
      }
      next();
    }
  };

  asio::io_context ioc_;
  tcp::endpoint endpoint_;
  int n_;
  int next_ = 0;
  std::function<LoadRequest(int)> make_;
  Clock::time_point t0_, deadline_;
  Load load_;
};

void BM_TlogDurableAppends(benchmark::State& state) {
  int kind = static_cast<int>(state.range(0)), clients = static_cast<int>(state.range(1));
  const bool key_each = state.range(2) == 0;
  auto server = start(state, kind);
  if (!server) return;
  const int n = std::min(kMaxEntries, clients * kEntriesPerClient);
  auto proposals = make_proposals(n, static_cast<int>(std::random_device{}()), key_each);
  for (auto _ : state) {
    // The disk's rate varies with the other writers' dirty data: the better of before and after.
    double fsyncs = fsyncs_per_second(server->dir);
    const double cpu0 = cpu_seconds();
    Load load = LoadRun(server->port, n, [&](int i) {
                  return LoadRequest{http::verb::post, "/api/v1/log/entries", proposals[static_cast<size_t>(i)], 201};
                }).run(clients);
    const double cpu = cpu_seconds() - cpu0;
    fsyncs = std::max(fsyncs, fsyncs_per_second(server->dir));
    const double batches = static_cast<double>(server->log->stats().batches.load());
    state.SetIterationTime(load.secs);
    state.counters["appends_per_s"] = load.ok / load.secs;
    state.counters["acknowledged"] = load.ok;
    state.counters["failed"] = load.failed;
    state.counters["batches"] = batches;
    state.counters["entries_per_batch"] = batches > 0 ? load.ok / batches : 0;
    state.counters["commits_per_s"] = batches / load.secs;
    state.counters["p50_ms"] = load.percentile(0.50);
    state.counters["p99_ms"] = load.percentile(0.99);
    state.counters["fsync_per_s"] = fsyncs;
    // Everything in the process (server, log, storage client, load generator) per append.
    state.counters["cpu_ms_per_append"] = load.ok > 0 ? cpu * 1000 / load.ok : 0;
  }
}

void BM_TlogProofRequests(benchmark::State& state) {
  int kind = static_cast<int>(state.range(0)), clients = static_cast<int>(state.range(1));
  auto server = start(state, kind);
  if (!server) return;
  // A tree of 2000 entries, appended over HTTP.
  auto proposals = make_proposals(2000, static_cast<int>(std::random_device{}()));
  LoadRun(server->port, 2000, [&](int i) {
    return LoadRequest{http::verb::post, "/api/v1/log/entries", proposals[static_cast<size_t>(i)], 201};
  }).run(64);
  uint64_t size = server->log->head().size;
  for (auto _ : state) {
    Load load = LoadRun(server->port, 6000, [&](int i) {
                  std::mt19937_64 rng(static_cast<uint64_t>(i));
                  std::string path = i % 2 ? fmt::format("/api/v1/log/entries?logIndex={}", rng() % size)
                                           : fmt::format("/api/v1/log/proof?firstSize={}&lastSize={}", 1 + rng() % size, size);
                  return LoadRequest{http::verb::get, std::move(path), {}, 200};
                }).run(clients);
    state.SetIterationTime(load.secs);
    state.counters["proofs_per_s"] = load.ok / load.secs;
    state.counters["failed"] = load.failed;
    state.counters["p50_ms"] = load.percentile(0.50);
    state.counters["p99_ms"] = load.percentile(0.99);
  }
}

// Args: storage (0 SQLite, 1 PostgreSQL), concurrent clients, signers (1: one key signs every
// entry; 0: a key for each entry, none seen twice).
BENCHMARK(BM_TlogDurableAppends)
    ->ArgsProduct({{0, 1}, {1, 8, 32, 64, 128, 256}, {1}})
    ->ArgsProduct({{0, 1}, {128}, {0}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(BM_TlogProofRequests)->ArgsProduct({{0, 1}, {8}})->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
