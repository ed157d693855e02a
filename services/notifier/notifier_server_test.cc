// Two notifier replicas on real Redis: an announcement made on one reaches a
// device whose stream is held by the other.
#include "services/notifier/notifier_server.h"

#include "common/test_env.h"
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
  o.redis_channel = (*env)->redis_prefix() + "announcements";
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
  v1::AnnounceRequest req;
  req.set_software_name("demo-app");
  req.set_location("rel_9");
  req.set_server_address("127.0.0.1:7402");
  v1::AnnounceResponse resp;
  ASSERT_TRUE(stub_b->Announce(&actx, req, &resp).ok());
  EXPECT_EQ(resp.replicas_reached(), 2);

  v1::Notification n;
  ASSERT_TRUE(reader->Read(&n));
  EXPECT_EQ(n.notification_id(), resp.notification_id());
  EXPECT_EQ(n.location(), "rel_9");

  // Draining replica A ends the device's stream with UNAVAILABLE: reconnect.
  (*a)->Shutdown();
  EXPECT_FALSE(reader->Read(&n));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace updraft::notifier
