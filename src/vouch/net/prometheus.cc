#include "vouch/net/prometheus.h"

#include <cmath>

#include <fmt/format.h>

namespace vouch::net {
namespace {

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool label_value) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && label_value) out += "\\\"";
    else out += c;
  }
}

}  // namespace

PrometheusText& PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} ", name);
  append_escaped(out_, help, false);
  out_ += fmt::format("\n# TYPE {} {}\n", name, type);
  return *this;
}

void PrometheusText::start_sample(std::string_view name, Labels labels) {
  out_ += name;
  if (labels.size() == 0) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    append_escaped(out_, value, true);
    out_ += '"';
  }
  out_ += '}';
}

PrometheusText& PrometheusText::sample(std::string_view name, uint64_t value, Labels labels) {
  start_sample(name, labels);
  out_ += fmt::format(" {}\n", value);
  return *this;
}

PrometheusText& PrometheusText::sample(std::string_view name, int64_t value, Labels labels) {
  start_sample(name, labels);
  out_ += fmt::format(" {}\n", value);
  return *this;
}

PrometheusText& PrometheusText::sample(std::string_view name, double value, Labels labels) {
  start_sample(name, labels);
  if (std::isnan(value)) out_ += " NaN\n";
  else if (std::isinf(value)) out_ += value > 0 ? " +Inf\n" : " -Inf\n";
  else out_ += fmt::format(" {}\n", value);
  return *this;
}

PrometheusText& PrometheusText::counter(std::string_view name, std::string_view help, uint64_t value) {
  return family(name, "counter", help).sample(name, value);
}

PrometheusText& PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  return family(name, "gauge", help).sample(name, value);
}

}  // namespace vouch::net
