#include "common/grpc_server.h"

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

grpc::health::v1::HealthCheckResponse::ServingStatus Check(int port, grpc::Status* status) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse resp;
  *status = stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp);
  return resp.status();
}

TEST(GrpcServerTest, ServesHealthOnAPickedPortAndCountsRpcs) {
  auto metrics = Metrics::Create("");
  ASSERT_TRUE(metrics.ok());
  GrpcServer::Options options;
  options.metrics = metrics->get();
  auto server = GrpcServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  grpc::Status status;
  EXPECT_EQ(Check((*server)->port(), &status), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(status.ok()) << status.error_message();

  bool found = false;
  for (const auto& family : (*metrics)->registry().Collect()) {
    if (family.name != "updraft_grpc_server_handled_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.value == "/grpc.health.v1.Health/Check") found = m.counter.value == 1;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST(GrpcServerTest, BadAddressIsAnError) {
  GrpcServer::Options options;
  options.listen_address = "256.0.0.1:1";
  auto server = GrpcServer::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft
