// The Rekor v1 REST API (rekor's openapi.yaml) over a Log:
//   POST /api/v1/log/entries            201 {"<entry ID>": LogEntry}, ETag, Location; 409 if logged
//   GET  /api/v1/log/entries?logIndex=N
//   GET  /api/v1/log/entries/{id}       64-hex UUID or 80-hex entry ID (tree ID + UUID)
//   POST /api/v1/log/entries/retrieve   {"entryUUIDs": [...], "logIndexes": [...]}
//   GET  /api/v1/log                    LogInfo with the signed tree head
//   GET  /api/v1/log/publicKey          PEM
//   GET  /api/v1/log/proof?firstSize=&lastSize=
//   POST /api/v1/index/retrieve         {"hash", "publicKey": {format, content}, "email", "operator"}
//   GET  /metrics (Prometheus text), /healthz, /readyz
// Errors are JSON {"code": N, "message": "..."}.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "vouch/net/http_server.h"
#include "vouch/tlog/log.h"

namespace vouch::tlog {

// Entry UUID (hex leaf hash) and entry ID (16 hex digits of the tree ID, then the UUID).
std::string entry_uuid(const StoredEntry& entry);
std::string entry_id(int64_t tree_id, const StoredEntry& entry);

// A LogEntry object (the value under the entry ID) with an inclusion proof at `head`.
Result<boost::json::object> log_entry_json(Log& log, const StoredEntry& entry, const SignedTreeHead& head);

class RekorApi {
 public:
  explicit RekorApi(Log& log, unsigned completion_threads = 2);
  ~RekorApi();
  RekorApi(const RekorApi&) = delete;
  RekorApi& operator=(const RekorApi&) = delete;

  // The HTTP handler.
  void handle(net::HttpRequest request, net::Responder respond);
  net::HttpHandler handler() {
    return [this](net::HttpRequest r, net::Responder respond) { handle(std::move(r), std::move(respond)); };
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vouch::tlog
