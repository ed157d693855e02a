// Faults across two notifier replicas on real PostgreSQL and Redis: a replica
// destroyed in the middle of a fan-out loses nothing, and presence rebuilds
// after Redis lost it.
#include <pqxx/pqxx>

#include "common/notification_format.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/notifier/notifier_server.h"

namespace updraft::notifier {
namespace {

class NotifierFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    keys_.Add(signer_.public_key());
    options_.listen_address = "127.0.0.1:0";
    options_.pg_uri = env_->pg_uri();
    options_.redis = env_->redis_options();
    options_.redis_key_prefix = env_->redis_prefix();
    options_.key_source_override = &keys_;
    options_.clock = &clock_;
    options_.delivery_poll_interval = absl::ZeroDuration();
  }
  std::unique_ptr<NotifierServer> Replica() {
    auto r = NotifierServer::Create(options_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }
  std::unique_ptr<v1::Notifier::Stub> Stub(NotifierServer& s) {
    return v1::Notifier::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(s.port()),
                                                     grpc::InsecureChannelCredentials()));
  }
  // A device holding a stream.
  struct Device {
    std::string id;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::Notification>> reader;
  };
  Device Connect(v1::Notifier::Stub& stub, const std::string& id) {
    Device d{id, std::make_unique<grpc::ClientContext>(), nullptr};
    d.ctx->AddMetadata("authorization", "Bearer " + signer_.Issue(id, kDeviceAudience)->token);
    d.reader = stub.Subscribe(d.ctx.get(), v1::SubscribeRequest());
    d.reader->WaitForInitialMetadata();
    return d;
  }
  absl::StatusOr<v1::AnnounceResponse> Announce(v1::Notifier::Stub& stub,
                                                const v1::AnnounceRequest& req) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(
        "authorization",
        "Bearer " + signer_.Issue("ak_1", kOperatorAudience, {.role = "publisher"})->token);
    v1::AnnounceResponse resp;
    grpc::Status s = stub.Announce(&ctx, req, &resp);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return resp;
  }
  bool Ack(v1::Notifier::Stub& stub, const std::string& device, const std::string& id) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + signer_.Issue(device, kDeviceAudience)->token);
    v1::AckRequest req;
    req.set_notification_id(id);
    v1::AckResponse resp;
    return stub.Ack(&ctx, req, &resp).ok();
  }
  int64_t Count(const std::string& where) {
    int64_t n = -1;
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 1});
    EXPECT_TRUE((*pool)
                    ->Transact([&](pqxx::work& txn) {
                      n = txn.exec("SELECT count(*) FROM notifier_outbox WHERE " + where)[0][0]
                              .as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }
  v1::AnnounceRequest Release(const std::string& location) {
    v1::AnnounceRequest r;
    r.set_software_name("demo-app");
    r.set_location(location);
    r.set_server_address("127.0.0.1:7402");
    return r;
  }

  FakeClock clock_;
  std::unique_ptr<TestEnv> env_;
  StaticKeySource keys_;
  TokenSigner signer_{*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)};
  NotifierServer::Options options_;
};

TEST_F(NotifierFaultsTest, ReplicaDestroyedMidFanOutLosesNothing) {
  auto a = Replica();
  auto b = Replica();
  ASSERT_TRUE(a && b);
  auto stub_a = Stub(*a);
  auto stub_b = Stub(*b);
  constexpr int kDevices = 30;
  std::vector<Device> devices;
  for (int i = 0; i < kDevices; ++i)
    devices.push_back(Connect(*stub_a, "dev-" + std::to_string(i)));
  ASSERT_EQ(a->connected_devices(), static_cast<size_t>(kDevices));
  auto resp = Announce(*stub_b, Release("rel_7"));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->devices_targeted(), kDevices);
  EXPECT_EQ(resp->replicas_reached(), 1);
  // A third of the devices read and acknowledge; then replica A dies.
  for (int i = 0; i < kDevices / 3; ++i) {
    v1::Notification n;
    ASSERT_TRUE(devices[i].reader->Read(&n));
    ASSERT_TRUE(Ack(*stub_b, devices[i].id, n.notification_id()));
  }
  a.reset();
  for (Device& d : devices) {
    d.ctx->TryCancel();
    (void)d.reader->Finish();
  }
  EXPECT_EQ(Count("state = 'acknowledged'"), kDevices / 3);
  // Every device reconnects to B: exactly the unacknowledged ones come back.
  grpc::ClientContext kctx;
  v1::GetNotificationKeysResponse keys;
  ASSERT_TRUE(stub_b->GetNotificationKeys(&kctx, {}, &keys).ok());
  std::vector<Device> again;
  for (int i = 0; i < kDevices; ++i) again.push_back(Connect(*stub_b, "dev-" + std::to_string(i)));
  for (int i = kDevices / 3; i < kDevices; ++i) {
    v1::Notification n;
    ASSERT_TRUE(again[i].reader->Read(&n)) << i;
    EXPECT_EQ(n.notification_id(), resp->notification_id());
    NotificationVerifier device_side({.trusted_keys = {keys.public_keys(0)}, .clock = &clock_});
    EXPECT_TRUE(device_side.Accept(n.signed_()).ok());
    ASSERT_TRUE(Ack(*stub_b, again[i].id, n.notification_id()));
  }
  EXPECT_EQ(Count("state = 'acknowledged'"), kDevices);
  for (Device& d : again) d.ctx->TryCancel();
  for (Device& d : again) (void)d.reader->Finish();
}

TEST_F(NotifierFaultsTest, PresenceRebuildsAfterRedisLostIt) {
  auto a = Replica();
  auto b = Replica();
  ASSERT_TRUE(a && b);
  auto stub_a = Stub(*a);
  auto stub_b = Stub(*b);
  Device d = Connect(*stub_a, "dev-p");
  auto redis = RedisClient::Create(env_->redis_options());
  ASSERT_TRUE(redis.ok());
  const std::string key = env_->redis_prefix() + "notifier:presence:dev-p";
  EXPECT_EQ((*redis)->Command({"GET", key})->str, a->replica_id());
  ASSERT_TRUE((*redis)->Command({"DEL", key}).ok());  // as if Redis was flushed
  v1::AnnounceRequest req = Release("rel_8");
  req.add_targets()->set_device_id("dev-p");
  req.mutable_targets(0)->add_channels(v1::CHANNEL_IP_PUSH);
  auto lost = Announce(*stub_b, req);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->replicas_reached(), 0);  // nobody knows where the device is
  ASSERT_TRUE(a->RefreshPresence().ok());  // the periodic refresh
  EXPECT_EQ((*redis)->Command({"GET", key})->str, a->replica_id());
  auto found = Announce(*stub_b, Release("rel_9"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->replicas_reached(), 1);
  v1::Notification n;
  ASSERT_TRUE(d.reader->Read(&n));
  EXPECT_EQ(n.location(), "rel_9");
  // The first one was kept (failed: no channel) and arrives on reconnect.
  d.ctx->TryCancel();
  (void)d.reader->Finish();
  ASSERT_TRUE(b->RunDeliveryPass().ok());
  Device again = Connect(*stub_b, "dev-p");
  std::set<std::string> got;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(again.reader->Read(&n));
    got.insert(n.location());
  }
  EXPECT_EQ(got, (std::set<std::string>{"rel_8", "rel_9"}));
  again.ctx->TryCancel();
  (void)again.reader->Finish();
}

}  // namespace
}  // namespace updraft::notifier
