#include "services/notifier/grpc_notifier_service.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/revocation.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/notifier/mocks.h"
#include "services/notifier/pg_outbox_store.h"

namespace updraft::notifier {
namespace {

class GrpcNotifierServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.Add(signer_.public_key());
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    pool_ = *PgPool::Create({.uri = env_->pg_uri()});
    store_ = *PgOutboxStore::Create(pool_.get());
    service_ = *NotifierService::Create({.store = store_.get(),
                                         .router = &router_,
                                         .hub = &hub_,
                                         .metrics = &metrics_,
                                         .clock = &clock_});
    grpc_service_ = std::make_unique<GrpcNotifierService>(*service_, verifier_, metrics_,
                                                          operator_verifier_, &revocations_);
    grpc::ServerBuilder builder;
    builder.RegisterService(grpc_service_.get());
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    server_ = builder.BuildAndStart();
    stub_ = v1::Notifier::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    hub_.CloseAll();
    server_->Shutdown();
  }
  std::string Token(const std::string& device) {
    return "Bearer " + signer_.Issue(device, kDeviceAudience)->token;
  }
  std::string OperatorToken(const std::string& role) {
    return "Bearer " + signer_.Issue("ak_1", kOperatorAudience, {.role = role})->token;
  }

  FakeClock clock_;
  StaticKeySource keys_;
  TokenSigner signer_{*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)};
  RevocationList revocations_{&clock_};
  TokenVerifier verifier_{{.keys = &keys_,
                           .clock = &clock_,
                           .audience = std::string(kDeviceAudience),
                           .revocations = &revocations_}};
  TokenVerifier operator_verifier_{&keys_, &clock_, std::string(kOperatorAudience)};
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgOutboxStore> store_;
  SubscriberHub hub_{
      SubscriberHub::Options{.queue_capacity = 4, .close_when_full = true, .fanout_threads = 1}};
  LocalDeviceRouter router_{&hub_};
  prometheus::Registry registry_;
  NotifierMetrics metrics_{registry_};
  std::unique_ptr<NotifierService> service_;
  std::unique_ptr<GrpcNotifierService> grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::Notifier::Stub> stub_;
};

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(GrpcNotifierServiceTest, SubscribeWithoutTokenIsUnauthenticated) {
  grpc::ClientContext ctx;
  auto reader = stub_->Subscribe(&ctx, v1::SubscribeRequest());
  v1::Notification n;
  EXPECT_FALSE(reader->Read(&n));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "missing authorization metadata; log in first");
}

TEST_F(GrpcNotifierServiceTest, AnnouncementArrivesOnTheDeviceStream) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", Token("dev-1"));
  auto reader = stub_->Subscribe(&ctx, v1::SubscribeRequest());
  reader->WaitForInitialMetadata();  // the server has registered the stream
  EXPECT_EQ(hub_.size(), 1u);

  grpc::ClientContext actx;
  actx.AddMetadata("authorization", OperatorToken("publisher"));
  v1::AnnounceRequest req;
  req.set_software_name("demo-app");
  req.set_location("rel_1");
  req.set_server_address("127.0.0.1:7402");
  v1::AnnounceResponse resp;
  ASSERT_TRUE(stub_->Announce(&actx, req, &resp).ok());

  v1::Notification n;
  ASSERT_TRUE(reader->Read(&n));
  EXPECT_EQ(n.notification_id(), resp.notification_id());
  EXPECT_EQ(n.software_name(), "demo-app");
  EXPECT_FALSE(n.signed_().empty());
  // The device acknowledges; another device cannot, nor can anyone unauthenticated.
  {
    grpc::ClientContext ack;
    ack.AddMetadata("authorization", Token("dev-1"));
    v1::AckRequest req;
    req.set_notification_id(n.notification_id());
    v1::AckResponse resp;
    EXPECT_TRUE(stub_->Ack(&ack, req, &resp).ok());
    grpc::ClientContext other;
    other.AddMetadata("authorization", Token("dev-2"));
    EXPECT_EQ(stub_->Ack(&other, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
    grpc::ClientContext none;
    EXPECT_EQ(stub_->Ack(&none, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext keys;
    v1::GetNotificationKeysResponse resp;
    ASSERT_TRUE(stub_->GetNotificationKeys(&keys, v1::GetNotificationKeysRequest(), &resp).ok());
    ASSERT_EQ(resp.public_keys_size(), 1);
    EXPECT_EQ(resp.public_keys(0).size(), 32u);
  }
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(GrpcNotifierServiceTest, BadAnnouncementIsInvalidArgument) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", OperatorToken("admin"));
  v1::AnnounceResponse resp;
  grpc::Status s = stub_->Announce(&ctx, v1::AnnounceRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "software_name is required");
}

TEST_F(GrpcNotifierServiceTest, AnnounceNeedsPublisher) {
  v1::AnnounceRequest req;
  req.set_software_name("demo-app");
  req.set_location("rel_1");
  req.set_server_address("127.0.0.1:7402");
  v1::AnnounceResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->Announce(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", Token("dev-1"));
    EXPECT_EQ(stub_->Announce(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", OperatorToken("viewer"));
    grpc::Status s = stub_->Announce(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "role viewer may not call Announce; needs publisher");
  }
}

TEST_F(GrpcNotifierServiceTest, RevokedDeviceLosesItsOpenStreamAndCannotReopen) {
  grpc::ClientContext ctx;
  std::string token = Token("dev-1");
  ctx.AddMetadata("authorization", token);
  auto reader = stub_->Subscribe(&ctx, v1::SubscribeRequest());
  reader->WaitForInitialMetadata();
  ASSERT_EQ(hub_.size(), 1u);
  revocations_.Add({Revocation::Kind::kSubject, std::string(kDeviceAudience), "dev-1", clock_.Now(),
                    clock_.Now() + absl::Minutes(15)});
  v1::Notification n;
  EXPECT_FALSE(reader->Read(&n));  // the server ends the stream at its next check
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "device dev-1 is revoked");

  grpc::ClientContext again;
  again.AddMetadata("authorization", token);
  auto second = stub_->Subscribe(&again, v1::SubscribeRequest());
  EXPECT_FALSE(second->Read(&n));
  EXPECT_EQ(second->Finish().error_message(), "device dev-1 is revoked");
}

// The callback API: streams are waiting reactors, not threads. Hundreds of
// open streams on one connection, then one announcement reaches them all.
TEST_F(GrpcNotifierServiceTest, IdleStreamsHoldNoThreadAndAllGetTheAnnouncement) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
  auto stub = v1::Notifier::NewStub(channel);
  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::Notification>> reader;
  };
  constexpr int kStreams = 300;
  std::vector<std::unique_ptr<Stream>> streams;
  auto open = [&](int i) {
    auto s = std::make_unique<Stream>();
    s->ctx.AddMetadata("authorization", Token("dev-" + std::to_string(i)));
    s->reader = stub->Subscribe(&s->ctx, v1::SubscribeRequest());
    s->reader->WaitForInitialMetadata();
    streams.push_back(std::move(s));
  };
  open(0);  // gRPC's own threads exist from here on
  const int before = ThreadCount();
  for (int i = 1; i < kStreams; ++i) open(i);
  EXPECT_EQ(hub_.size(), static_cast<size_t>(kStreams));
  EXPECT_EQ(grpc_service_->open_streams(), static_cast<size_t>(kStreams));
  EXPECT_LT(ThreadCount() - before, 20);  // the sync API needed one per stream

  grpc::ClientContext actx;
  actx.AddMetadata("authorization", OperatorToken("publisher"));
  v1::AnnounceRequest req;
  req.set_software_name("demo-app");
  req.set_location("rel_2");
  req.set_server_address("127.0.0.1:7402");
  v1::AnnounceResponse resp;
  ASSERT_TRUE(stub->Announce(&actx, req, &resp).ok());
  EXPECT_EQ(resp.devices_targeted(), kStreams);
  for (auto& s : streams) {
    v1::Notification n;
    ASSERT_TRUE(s->reader->Read(&n));
    EXPECT_EQ(n.notification_id(), resp.notification_id());
    EXPECT_EQ(n.location(), "rel_2");
  }
  for (auto& s : streams) s->ctx.TryCancel();
  for (auto& s : streams) (void)s->reader->Finish();
}

// A device that stops reading is disconnected once its backlog passes the
// limit, instead of holding ever more server memory.
TEST_F(GrpcNotifierServiceTest, DeviceThatStopsReadingIsDisconnected) {
  auto stub = v1::Notifier::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                        grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", Token("dev-slow"));
  auto reader = stub->Subscribe(&ctx, v1::SubscribeRequest());
  reader->WaitForInitialMetadata();
  v1::Notification big;
  big.set_notification_id("n");
  big.set_location(std::string(128, 'l'));
  big.set_signed_(std::string(400, 's'));
  big.set_expires_at_unix(absl::ToUnixSeconds(clock_.Now() + absl::Hours(1)));
  constexpr int kOffers = 20000;
  int refused = 0;
  for (int i = 0; i < kOffers; ++i) refused += hub_.SendTo("dev-slow", big) ? 0 : 1;
  EXPECT_GT(refused, 0);
  int received = 0;
  v1::Notification n;
  while (reader->Read(&n)) ++received;
  EXPECT_LT(received, kOffers);
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::CANCELLED ||
              s.error_code() == grpc::StatusCode::UNAVAILABLE)
      << s.error_code() << " " << s.error_message();
}

// A device that comes back holding more unacknowledged notifications than a
// stream queue holds (4 here, 16 in production) gets them all: the backlog
// is not a reader falling behind (that closed the stream at every reconnect,
// so such a device never received anything over IP Push again).
TEST_F(GrpcNotifierServiceTest, BacklogLargerThanTheQueueArrivesWhole) {
  constexpr int kBacklog = 10;
  std::set<std::string> announced;
  for (int i = 0; i < kBacklog; ++i) {
    grpc::ClientContext actx;
    actx.AddMetadata("authorization", OperatorToken("publisher"));
    v1::AnnounceRequest req;
    req.set_software_name("demo-app");
    req.set_location(absl::StrCat("rel_", i));
    req.set_server_address("127.0.0.1:7402");
    req.add_targets()->set_device_id("dev-1");
    v1::AnnounceResponse resp;
    ASSERT_TRUE(stub_->Announce(&actx, req, &resp).ok());
    announced.insert(resp.notification_id());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {  // again: nothing was acknowledged
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", Token("dev-1"));
    auto reader = stub_->Subscribe(&ctx, v1::SubscribeRequest());
    std::set<std::string> received;
    v1::Notification n;
    while (received.size() < announced.size() && reader->Read(&n)) {
      received.insert(n.notification_id());
    }
    EXPECT_EQ(received, announced) << "attempt " << attempt;
    ctx.TryCancel();
    reader->Finish();
  }
}

TEST_F(GrpcNotifierServiceTest, MalformedSubscribeRequestIsInvalidArgument) {
  grpc::GenericStub generic(server_->InProcessChannel(grpc::ChannelArguments()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", Token("dev-1"));
  const std::string garbage = "\xff\xff\xff";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1), response;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/updraft.v1.Notifier/Subscribe", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "SubscribeRequest is not a valid message");
  EXPECT_EQ(hub_.size(), 0u);
}

}  // namespace
}  // namespace updraft::notifier
