// Two notifier replicas on real Redis: an announcement made on one reaches a
// device whose stream is held by the other.
#include "services/notifier/notifier_server.h"

#include "common/notification_format.h"
#include "common/test_env.h"
#include "common/tls_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

TEST(NotifierServerTest, AnnouncementCrossesReplicasThroughRedis) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  FakeClock clock;
  StaticKeySource keys;
  TokenSigner signer(*Ed25519KeyPair::Generate(), &clock, absl::Minutes(15));
  keys.Add(signer.public_key());

  NotifierServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.redis = (*env)->redis_options();
  o.pg_uri = (*env)->pg_uri();
  o.delivery_poll_interval = absl::ZeroDuration();
  o.redis_key_prefix = (*env)->redis_prefix();
  o.key_source_override = &keys;
  o.clock = &clock;
  auto a = NotifierServer::Create(o);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = NotifierServer::Create(o);
  ASSERT_TRUE(b.ok()) << b.status();

  auto channel_a = grpc::CreateChannel("127.0.0.1:" + std::to_string((*a)->port()),
                                       grpc::InsecureChannelCredentials());
  auto channel_b = grpc::CreateChannel("127.0.0.1:" + std::to_string((*b)->port()),
                                       grpc::InsecureChannelCredentials());
  auto stub_a = v1::Notifier::NewStub(channel_a);
  auto stub_b = v1::Notifier::NewStub(channel_b);

  grpc::ClientContext sctx;
  sctx.AddMetadata("authorization", "Bearer " + signer.Issue("dev-1", kDeviceAudience)->token);
  auto reader = stub_a->Subscribe(&sctx, v1::SubscribeRequest());
  reader->WaitForInitialMetadata();
  EXPECT_EQ((*a)->connected_devices(), 1u);

  grpc::ClientContext actx;
  actx.AddMetadata(
      "authorization",
      "Bearer " + signer.Issue("ak_1", kOperatorAudience, {.role = "publisher"})->token);
  v1::AnnounceRequest req;
  req.set_software_name("demo-app");
  req.set_location("rel_9");
  req.set_server_address("127.0.0.1:7402");
  v1::AnnounceResponse resp;
  ASSERT_TRUE(stub_b->Announce(&actx, req, &resp).ok());
  EXPECT_EQ(resp.replicas_reached(), 1);
  EXPECT_EQ(resp.devices_targeted(), 1);

  v1::Notification n;
  ASSERT_TRUE(reader->Read(&n));
  EXPECT_EQ(n.notification_id(), resp.notification_id());
  EXPECT_EQ(n.location(), "rel_9");
  // Both replicas sign with the one key they share through PostgreSQL.
  grpc::ClientContext kctx;
  v1::GetNotificationKeysResponse keys_b;
  ASSERT_TRUE(stub_b->GetNotificationKeys(&kctx, {}, &keys_b).ok());
  NotificationVerifier verifier({.trusted_keys = {keys_b.public_keys(0)}, .clock = &clock});
  EXPECT_TRUE(verifier.Accept(n.signed_()).ok());

  // Draining replica A ends the device's stream with UNAVAILABLE: reconnect.
  (*a)->Shutdown();
  EXPECT_FALSE(reader->Read(&n));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(NotifierServerTest, ServesMutualTlsWhenConfigured) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  auto certs = TestCertificates::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  FakeClock clock;
  StaticKeySource keys;
  NotifierServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.redis = (*env)->redis_options();
  o.pg_uri = (*env)->pg_uri();
  o.delivery_poll_interval = absl::ZeroDuration();
  o.key_source_override = &keys;
  o.tls = certs->Service("notifier");
  o.clock = &clock;
  auto server = NotifierServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
  auto check = [&](const TlsOptions& tls) {
    auto stub = grpc::health::v1::Health::NewStub(*MakeChannel(address, tls));
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    return stub->Check(&ctx, grpc::health::v1::HealthCheckRequest(), &resp);
  };
  grpc::Status s = check(certs->Client("device"));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(check(certs->Client()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(check(TlsOptions()).error_code(), grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown();

  o.tls.cert_file = certs->Path("nope.pem");
  EXPECT_EQ(NotifierServer::Create(o).status().code(), absl::StatusCode::kNotFound);
}

// A device holding a stream on replica A and about to reconnect to replica B:
// once auth publishes its revocation, A ends the stream and B refuses it.
TEST(NotifierServerTest, RevokedDeviceIsCutOffOnEveryReplica) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  FakeClock clock;
  StaticKeySource keys;
  TokenSigner signer(*Ed25519KeyPair::Generate(), &clock, absl::Minutes(15));
  keys.Add(signer.public_key());
  NotifierServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.redis = (*env)->redis_options();
  o.pg_uri = (*env)->pg_uri();
  o.delivery_poll_interval = absl::ZeroDuration();
  o.redis_key_prefix = (*env)->redis_prefix();
  o.key_source_override = &keys;
  o.clock = &clock;
  auto a = NotifierServer::Create(o);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = NotifierServer::Create(o);
  ASSERT_TRUE(b.ok()) << b.status();
  auto stub_a = v1::Notifier::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*a)->port()), grpc::InsecureChannelCredentials()));
  auto stub_b = v1::Notifier::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*b)->port()), grpc::InsecureChannelCredentials()));
  std::string token = "Bearer " + signer.Issue("dev-1", kDeviceAudience)->token;
  grpc::ClientContext sctx;
  sctx.AddMetadata("authorization", token);
  auto reader = stub_a->Subscribe(&sctx, v1::SubscribeRequest());
  reader->WaitForInitialMetadata();
  ASSERT_EQ((*a)->connected_devices(), 1u);

  auto redis = RedisClient::Create((*env)->redis_options());
  ASSERT_TRUE(redis.ok());
  RedisRevocationPublisher publisher(redis->get(), (*env)->redis_prefix(), &clock);
  ASSERT_TRUE(publisher
                  .Publish({Revocation::Kind::kSubject, std::string(kDeviceAudience), "dev-1",
                            clock.Now(), clock.Now() + absl::Minutes(15)})
                  .ok());
  v1::Notification n;
  EXPECT_FALSE(reader->Read(&n));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "device dev-1 is revoked");
  ASSERT_TRUE((*b)->revocations().AwaitRevision(1, absl::Seconds(5)));
  grpc::ClientContext bctx;
  bctx.AddMetadata("authorization", token);
  auto refused = stub_b->Subscribe(&bctx, v1::SubscribeRequest());
  EXPECT_FALSE(refused->Read(&n));
  EXPECT_EQ(refused->Finish().error_message(), "device dev-1 is revoked");
}

}  // namespace
}  // namespace updraft::notifier
