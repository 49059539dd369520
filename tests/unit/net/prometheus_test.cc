#include "vouch/net/prometheus.h"

#include <gtest/gtest.h>

#include <limits>

namespace vouch::net {
namespace {

TEST(Prometheus, WritesFamiliesSamplesAndEscapes) {
  PrometheusText out;
  out.counter("a_total", "Things.\nMore \\ things.", 3);
  out.family("b", "gauge", "B.").sample("b", int64_t{-2}, {{"k", "v\"\\\n"}, {"x", "y"}});
  out.gauge("c", "C.", 1.5);
  out.sample("c", std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.text(),
            "# HELP a_total Things.\\nMore \\\\ things.\n# TYPE a_total counter\na_total 3\n"
            "# HELP b B.\n# TYPE b gauge\nb{k=\"v\\\"\\\\\\n\",x=\"y\"} -2\n"
            "# HELP c C.\n# TYPE c gauge\nc 1.5\nc +Inf\n");
  EXPECT_EQ(PrometheusText::kContentType, "text/plain; version=0.0.4");
}

}  // namespace
}  // namespace vouch::net
