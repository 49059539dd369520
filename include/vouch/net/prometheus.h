// The Prometheus text exposition format (version 0.0.4), written by every /metrics endpoint:
// one family at a time (# HELP, # TYPE), then its samples, with label values and help text
// escaped as the format requires.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vouch::net {

class PrometheusText {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4";
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a metric family; `type` is "counter", "gauge", "histogram", "summary" or "untyped".
  PrometheusText& family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: name{labels} value.
  PrometheusText& sample(std::string_view name, uint64_t value, Labels labels = {});
  PrometheusText& sample(std::string_view name, int64_t value, Labels labels = {});
  PrometheusText& sample(std::string_view name, double value, Labels labels = {});

  // A family with one unlabelled sample.
  PrometheusText& counter(std::string_view name, std::string_view help, uint64_t value);
  PrometheusText& gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void start_sample(std::string_view name, Labels labels);
  std::string out_;
};

}  // namespace vouch::net
