#include "bench/unary_load.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "updraft/v1/catalog.grpc.pb.h"

namespace updraft::bench {
namespace {

// Answers one offer per check carrying "authorization: Bearer ok", and
// UNAUTHENTICATED otherwise.
class OneOffer final : public v1::DeviceCatalog::CallbackService {
  grpc::ServerUnaryReactor* CheckForUpdates(grpc::CallbackServerContext* context,
                                            const v1::CheckForUpdatesRequest* request,
                                            v1::CheckForUpdatesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto auth = context->client_metadata().find("authorization");
    if (auth == context->client_metadata().end() || auth->second != "Bearer ok" ||
        request->inventory_size() != 1) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "who are you"));
      return reactor;
    }
    response->add_offers();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

std::vector<UnaryRequest> Requests(const std::string& authorization, int n) {
  v1::CheckForUpdatesRequest r;
  r.add_inventory()->set_release_id("rel_1");
  return std::vector<UnaryRequest>(n, UnaryRequest{authorization, r.SerializeAsString()});
}

int64_t Offers(grpc::ByteBuffer* answer) {
  v1::CheckForUpdatesResponse response;
  if (!grpc::SerializationTraits<v1::CheckForUpdatesResponse>::Deserialize(answer, &response)
           .ok()) {
    return -1;
  }
  return response.offers_size();
}

class UnaryLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  UnaryLoadOptions Options() {
    UnaryLoadOptions o;
    o.target = "127.0.0.1:" + std::to_string(port_);
    o.method = "/updraft.v1.DeviceCatalog/CheckForUpdates";
    o.in_flight = 4;
    o.channels = 2;
    o.count = &Offers;
    return o;
  }

  OneOffer service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(UnaryLoadTest, EveryAnsweredCallIsCountedAndTimed) {
  UnaryLoad load(Options(), Requests("Bearer ok", 3));
  UnaryLoadResult first = load.Run(absl::Milliseconds(200));
  ASSERT_GT(first.calls, 0);
  EXPECT_EQ(first.failures, 0);
  EXPECT_EQ(first.counted, first.calls);  // one offer each
  EXPECT_GT(first.per_second, 0);
  EXPECT_GT(first.p99_ms, 0);
  EXPECT_GE(first.p99_ms, first.p50_ms);
  UnaryLoadResult second = load.Run(absl::Milliseconds(100));  // the same connections
  UnaryLoadResult total = load.Total();
  EXPECT_EQ(total.calls, first.calls + second.calls);
  EXPECT_EQ(total.counted, first.counted + second.counted);
  load.Forget();
  EXPECT_EQ(load.Total().calls, 0);
}

TEST_F(UnaryLoadTest, RejectedCallsAreFailuresWithTheServersMessage) {
  UnaryLoad load(Options(), Requests("Bearer stolen", 2));
  UnaryLoadResult r = load.Run(absl::Milliseconds(100));
  ASSERT_GT(r.calls, 0);
  EXPECT_EQ(r.failures, r.calls);
  EXPECT_EQ(r.counted, 0);
  EXPECT_EQ(r.first_failure, "who are you");
}

TEST(UnaryRequestsTest, FileRoundTripAndCutFiles) {
  const std::string path = ::testing::TempDir() + "/requests.bin";
  std::vector<UnaryRequest> written = {
      {"Bearer a", std::string("\0\1payload", 9)}, {"", ""}, {"Bearer c", std::string(70000, 'x')}};
  ASSERT_TRUE(WriteUnaryRequests(path, written).ok());
  auto read = ReadUnaryRequests(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0].payload, written[0].payload);
  EXPECT_EQ((*read)[2].payload.size(), 70000u);
  EXPECT_EQ((*read)[2].authorization, "Bearer c");

  ASSERT_EQ(truncate(path.c_str(), 30), 0);  // inside the second record
  EXPECT_EQ(ReadUnaryRequests(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadUnaryRequests(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(UnaryLoadResultTest, LineRoundTripAndJunk) {
  UnaryLoadResult r;
  r.calls = 12;
  r.failures = 1;
  r.counted = 3;
  r.per_second = 1234.5;
  r.p50_ms = 0.25;
  r.p99_ms = 2.5;
  auto back = UnaryLoadResult::FromLine(r.ToLine());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->calls, 12);
  EXPECT_EQ(back->failures, 1);
  EXPECT_EQ(back->counted, 3);
  EXPECT_DOUBLE_EQ(back->per_second, 1234.5);
  EXPECT_DOUBLE_EQ(back->p99_ms, 2.5);
  for (const char* junk : {"", "1 2 3", "a b c d e f", "1 2 3 4 5 6 7"}) {
    EXPECT_FALSE(UnaryLoadResult::FromLine(junk).ok()) << junk;
  }
}

}  // namespace
}  // namespace updraft::bench
