#include "common/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace updraft {
namespace {

// The value of `family`'s series with these labels (-1: no such series).
double Value(Metrics& m, const std::string& family, const std::string& method,
             const std::string& code) {
  for (const auto& f : m.registry().Collect()) {
    if (f.name != family) continue;
    for (const auto& metric : f.metric) {
      std::string got_method, got_code;
      for (const auto& l : metric.label) {
        if (l.name == "method") got_method = l.value;
        if (l.name == "code") got_code = l.value;
      }
      if (got_method != method || got_code != code) continue;
      return family == "updraft_grpc_server_handled_total"
                 ? metric.counter.value
                 : static_cast<double>(metric.histogram.sample_count);
    }
  }
  return -1;
}

TEST(MetricsTest, RpcsAreCountedByMethodAndCode) {
  auto m = Metrics::Create("");
  ASSERT_TRUE(m.ok());
  (*m)->ObserveRpc("/a.A/One", grpc::StatusCode::OK, 0.001);
  (*m)->ObserveRpc("/a.A/One", grpc::StatusCode::OK, 0.002);
  (*m)->ObserveRpc("/a.A/One", grpc::StatusCode::NOT_FOUND, 0.003);
  (*m)->ObserveRpc("/a.A/Two", grpc::StatusCode::OK, 0.004);
  (*m)->ObserveRpc("/a.A/Two", static_cast<grpc::StatusCode>(99), 0.004);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handled_total", "/a.A/One", "OK"), 2);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handled_total", "/a.A/One", "NOT_FOUND"), 1);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handled_total", "/a.A/Two", "OK"), 1);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handled_total", "/a.A/Two", "UNKNOWN"), 1);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handling_seconds", "/a.A/One", "OK"), 2);
  EXPECT_EQ(Value(**m, "updraft_grpc_server_handled_total", "/a.A/Two", "NOT_FOUND"), -1);
}

TEST(MetricsTest, ConcurrentRpcsOfNewMethodsAreAllCounted) {
  auto m = Metrics::Create("");
  ASSERT_TRUE(m.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        (*m)->ObserveRpc("/a.A/M" + std::to_string(i % 7), static_cast<grpc::StatusCode>(t), 0);
      }
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  for (int i = 0; i < 7; ++i) {
    for (const char* code : {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT"}) {
      total += Value(**m, "updraft_grpc_server_handled_total", "/a.A/M" + std::to_string(i), code);
    }
  }
  EXPECT_EQ(total, 4000);
}

}  // namespace
}  // namespace updraft
