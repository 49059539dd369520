// Alerts from the inventory's outbox: each finding that opened or closed, at or above a
// severity, goes to a sink (JSON lines on stdout, an HTTP POST of a CloudEvent, or a command that
// reads the event on stdin). An event leaves the outbox only once its sink took it; a failed
// delivery is tried again later, with exponential backoff, also after a restart. Delivery is at
// least once: a sink may see an event twice if the process stops between delivering and
// recording it, and can tell by the CloudEvent id.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "vouch/inventory/store.h"
#include "vouch/net/http.h"
#include "vouch/vuln/cvss.h"

namespace vouch::inventory {

// The event as a CloudEvents 1.0 JSON object: id "vouch-inventory-<n>", source "vouch/inventory",
// type "dev.vouch.inventory.finding.opened", ".reopened" or ".closed", subject the image digest, data
// the finding.
boost::json::object cloud_event(const FindingEvent& event);

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual Status deliver(const FindingEvent& event) = 0;
};

// "stdout", an http:// or https:// URL, or "exec:COMMAND" (run with /bin/sh -c).
Result<std::unique_ptr<AlertSink>> make_sink(const std::string& spec, const net::ClientOptions& http_options = {});

struct DeliveryOptions {
  vuln::Severity min_severity = vuln::Severity::kHigh;
  size_t batch = 500;
  int64_t initial_backoff_seconds = 2;
  int64_t max_backoff_seconds = 600;
};

struct DeliveryResult {
  size_t delivered = 0;
  size_t below_threshold = 0;  // taken out of the outbox without an alert
  size_t failed = 0;           // left for a later attempt
  std::string last_error;
};

// Delivers the outbox in order from its oldest event: stops at the first failure, scheduling it
// again after its backoff, and at an event whose retry is not due yet, so events never overtake
// one another.
Result<DeliveryResult> deliver_due(InventoryStore& store, AlertSink& sink, const DeliveryOptions& options,
                                   UnixSeconds now);

}  // namespace vouch::inventory
