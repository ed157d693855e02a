#include "services/auth/auth_server.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/device_auth.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {
namespace {

class AuthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    const char* dir = getenv("TEST_TMPDIR");
    key_file_ = absl::StrCat(dir ? dir : "/tmp", "/auth_server_test_", getpid(), ".key");
    remove(key_file_.c_str());
  }

  void TearDown() override { remove(key_file_.c_str()); }

  AuthServer::Options Options() {
    AuthServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.metrics_listen = "127.0.0.1:0";
    o.pg_uri = env_->pg_uri();
    o.redis_host = env_->redis_options().host;
    o.redis_port = env_->redis_options().port;
    o.redis_key_prefix = env_->redis_prefix();
    o.signing_key_file = key_file_;
    o.logger = &logger_;
    return o;
  }

  std::shared_ptr<grpc::Channel> Channel(const AuthServer& server) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                               grpc::InsecureChannelCredentials());
  }

  int64_t CountMigrations() {
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 1});
    EXPECT_TRUE(pool.ok());
    int64_t n = -1;
    EXPECT_TRUE((*pool)
                    ->Transact([&](pqxx::work& txn) {
                      n = txn.exec(
                                 "SELECT count(*) FROM schema_migrations "
                                 "WHERE component = 'auth'")[0][0]
                              .as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  RealClock clock_;
  Logger logger_{"auth", &clock_, stderr};
  std::unique_ptr<TestEnv> env_;
  std::string key_file_;
};

TEST_F(AuthServerTest, RegisterChallengeLoginAndVerifyWithPublishedKeys) {
  auto server = AuthServer::Create(Options());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  EXPECT_GT((*server)->metrics_port(), 0);
  auto channel = Channel(**server);
  auto admin = v1::AuthAdmin::NewStub(channel);
  auto auth = v1::Auth::NewStub(channel);

  Ed25519KeyPair device_key = *Ed25519KeyPair::Generate();
  v1::RegisterDeviceRequest reg;
  reg.set_device_id("phone-1");
  reg.set_ed25519_public_key(device_key.public_key());
  (*reg.mutable_attributes())["model"] = "X1";
  v1::Device device;
  {
    grpc::ClientContext ctx;
    grpc::Status s = admin->RegisterDevice(&ctx, reg, &device);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(device.status(), "accepted");
  EXPECT_EQ(device.attributes().at("model"), "X1");

  v1::GetChallengeRequest creq;
  creq.set_device_id("phone-1");
  v1::Challenge challenge;
  {
    grpc::ClientContext ctx;
    grpc::Status s = auth->GetChallenge(&ctx, creq, &challenge);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(challenge.nonce().size(), 32u);

  v1::LoginRequest lreq;
  lreq.set_device_id("phone-1");
  lreq.set_nonce(challenge.nonce());
  lreq.set_signature(*device_key.Sign(LoginMessage("phone-1", challenge.nonce())));
  v1::LoginResponse login;
  {
    grpc::ClientContext ctx;
    grpc::Status s = auth->Login(&ctx, lreq, &login);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  {
    // The challenge is gone from Redis: a replay fails.
    grpc::ClientContext ctx;
    v1::LoginResponse again;
    grpc::Status s = auth->Login(&ctx, lreq, &again);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }

  v1::PublicKeySet keys;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(auth->GetPublicKeys(&ctx, v1::GetPublicKeysRequest(), &keys).ok());
  }
  ASSERT_EQ(keys.keys_size(), 1);
  EXPECT_EQ(KeyIdFor(keys.keys(0).ed25519()), keys.keys(0).key_id());

  // Another service's view: keys fetched over GetPublicKeys verify the token.
  AuthServiceKeySource source(v1::Auth::NewStub(channel), &clock_);
  TokenVerifier verifier(&source, &clock_, std::string(kDeviceAudience));
  auto claims = verifier.Verify(login.access_token());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "phone-1");
  EXPECT_EQ(claims->key_id, keys.keys(0).key_id());
  EXPECT_NEAR(absl::ToDoubleSeconds(claims->expires_at - claims->issued_at), 15 * 60, 1);

  bool counted = false;
  for (const auto& family : (*server)->metrics().registry().Collect()) {
    if (family.name != "updraft_auth_logins_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.value == "ok") counted = m.counter.value == 1;
      }
    }
  }
  EXPECT_TRUE(counted);
  (*server)->Shutdown();
}

TEST_F(AuthServerTest, SecondStartOnSameDatabaseChangesNothing) {
  std::string key_id;
  {
    auto first = AuthServer::Create(Options());
    ASSERT_TRUE(first.ok()) << first.status();
    key_id = (*first)->service().PublicKeys()[0].key_id;
    auto device =
        (*first)->service().RegisterDevice("phone-1", Ed25519KeyPair::Generate()->public_key(), {});
    ASSERT_TRUE(device.ok()) << device.status();
  }
  EXPECT_EQ(CountMigrations(), 1);

  auto second = AuthServer::Create(Options());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(CountMigrations(), 1);
  // Same key file, same key; same database, same device.
  EXPECT_EQ((*second)->service().PublicKeys()[0].key_id, key_id);
  auto device = (*second)->service().GetDevice("phone-1");
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ(device->status, DeviceStatus::kAccepted);
}

TEST_F(AuthServerTest, BadOptionsFailClearly) {
  AuthServer::Options o = Options();
  o.signing_key_file = "";
  EXPECT_EQ(AuthServer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.logger = nullptr;
  EXPECT_EQ(AuthServer::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options();
  o.pg_uri = "postgresql://nobody@127.0.0.1:1/none";
  EXPECT_EQ(AuthServer::Create(o).status().code(), absl::StatusCode::kUnavailable);
  o = Options();
  o.redis_port = 1;
  EXPECT_EQ(AuthServer::Create(o).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft
