#include "services/auth/auth_server.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/redis_revocations.h"
#include "common/revocation.h"
#include "common/test_env.h"
#include "common/tls_test_util.h"
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
    admin_file_ = absl::StrCat(dir ? dir : "/tmp", "/auth_server_test_", getpid(), ".admin");
    remove(key_file_.c_str());
    remove(admin_file_.c_str());
  }

  void TearDown() override {
    remove(key_file_.c_str());
    remove(admin_file_.c_str());
  }

  AuthServer::Options Options() {
    AuthServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.metrics_listen = "127.0.0.1:0";
    o.pg_uri = env_->pg_uri();
    o.redis_host = env_->redis_options().host;
    o.redis_port = env_->redis_options().port;
    o.redis_key_prefix = env_->redis_prefix();
    o.signing_key_file = key_file_;
    o.bootstrap_admin_key_file = admin_file_;
    o.logger = &logger_;
    return o;
  }

  // An admin operator token from the bootstrap key file, over the wire.
  std::string AdminToken(const AuthServer& server) {
    auto key = ReadApiKeyFile(admin_file_);
    EXPECT_TRUE(key.ok()) << key.status();
    OperatorTokenSource source(v1::Auth::NewStub(Channel(server)), key.ok() ? *key : "", &clock_);
    auto token = source.Token();
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
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
  std::string admin_file_;
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
    EXPECT_EQ(admin->RegisterDevice(&ctx, reg, &device).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    grpc::Status s = admin->RegisterDevice(As(AdminToken(**server)).get(), reg, &device);
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
  // GetChallenge read the device from PostgreSQL; Login and the replay were
  // answered from the login path's cache.
  std::map<std::string, double> lookups;
  for (const auto& family : (*server)->metrics().registry().Collect()) {
    if (family.name != "updraft_auth_device_cache_lookups_total") continue;
    for (const auto& m : family.metric) lookups[m.label.at(0).value] = m.counter.value;
  }
  EXPECT_EQ(lookups["miss"], 1);
  EXPECT_GE(lookups["hit"], 1);

  // The answer carried the next challenge (by default the token lifetime +
  // 5 min, in Redis): the next token takes a single Login.
  ASSERT_TRUE(login.has_next_challenge());
  EXPECT_NEAR(login.next_challenge().expires_at_unix(), absl::ToUnixSeconds(absl::Now()) + 20 * 60,
              2);
  lreq.set_nonce(login.next_challenge().nonce());
  lreq.set_signature(*device_key.Sign(LoginMessage("phone-1", lreq.nonce())));
  {
    grpc::ClientContext ctx;
    v1::LoginResponse next;
    grpc::Status s = auth->Login(&ctx, lreq, &next);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(verifier.Verify(next.access_token()).ok());
    EXPECT_TRUE(next.has_next_challenge());
  }
  (*server)->Shutdown();
}

TEST_F(AuthServerTest, SecondStartOnSameDatabaseChangesNothing) {
  std::string key_id;
  {
    auto first = AuthServer::Create(Options());
    ASSERT_TRUE(first.ok()) << first.status();
    key_id = (*first)->service().PublicKeys()[0].key_id;
    auto device = (*first)->admin().RegisterDevice({"ak_test", Role::kAdmin, ""}, "phone-1",
                                                   KeyType::kEd25519,
                                                   Ed25519KeyPair::Generate()->public_key(), {});
    ASSERT_TRUE(device.ok()) << device.status();
  }
  EXPECT_EQ(CountMigrations(), 3);
  std::string admin_key = *ReadApiKeyFile(admin_file_);
  remove(key_file_.c_str());  // the database holds the signing key now

  auto second = AuthServer::Create(Options());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(CountMigrations(), 3);
  EXPECT_EQ(*ReadApiKeyFile(admin_file_), admin_key);
  // Same key file, same key; same database, same device.
  EXPECT_EQ((*second)->service().PublicKeys()[0].key_id, key_id);
  auto device = (*second)->admin().GetDevice("phone-1");
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
  o = Options();
  o.next_challenge_ttl = absl::Milliseconds(500);
  EXPECT_EQ(AuthServer::Create(o).status().message(),
            "next_challenge_ttl must be 0 (none) or at least 1s");
}

TEST_F(AuthServerTest, BootstrapAdminKeyFileIsPrivate) {
  auto server = AuthServer::Create(Options());
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(stat(admin_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  v1::ListApiKeysResponse keys;
  auto admin = v1::AuthAdmin::NewStub(Channel(**server));
  ASSERT_TRUE(admin->ListApiKeys(As(AdminToken(**server)).get(), {}, &keys).ok());
  ASSERT_EQ(keys.keys_size(), 1);
  EXPECT_EQ(keys.keys(0).role(), "admin");
  EXPECT_EQ(keys.keys(0).created_by(), "bootstrap");
}

TEST_F(AuthServerTest, PendingP256DeviceAcceptedThenLogsIn) {
  auto server = AuthServer::Create(Options());
  ASSERT_TRUE(server.ok()) << server.status();
  auto auth = v1::Auth::NewStub(Channel(**server));
  auto admin = v1::AuthAdmin::NewStub(Channel(**server));
  std::string token = AdminToken(**server);
  EcdsaP256KeyPair key = *EcdsaP256KeyPair::Generate();
  v1::GetChallengeRequest creq;
  creq.set_device_id("imei-356938035643809");
  creq.set_public_key(key.public_key());
  creq.set_key_type(v1::KEY_TYPE_ECDSA_P256);
  v1::Challenge challenge;
  {
    grpc::ClientContext ctx;
    grpc::Status s = auth->GetChallenge(&ctx, creq, &challenge);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "device imei-356938035643809 is pending operator approval");
  }
  v1::ListDevicesRequest list;
  list.set_status("pending");
  v1::ListDevicesResponse pending;
  ASSERT_TRUE(admin->ListDevices(As(token).get(), list, &pending).ok());
  ASSERT_EQ(pending.devices_size(), 1);
  v1::DeviceActionRequest accept;
  accept.set_device_id("imei-356938035643809");
  v1::Device device;
  ASSERT_TRUE(admin->AcceptDevice(As(token).get(), accept, &device).ok());
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(auth->GetChallenge(&ctx, creq, &challenge).ok());
  }
  v1::LoginRequest lreq;
  lreq.set_device_id("imei-356938035643809");
  lreq.set_nonce(challenge.nonce());
  lreq.set_signature(*key.Sign(LoginMessage("imei-356938035643809", challenge.nonce())));
  v1::LoginResponse login;
  grpc::ClientContext ctx;
  grpc::Status s = auth->Login(&ctx, lreq, &login);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ListAuditEntriesRequest areq;
  areq.set_device_id("imei-356938035643809");
  v1::ListAuditEntriesResponse audit;
  ASSERT_TRUE(admin->ListAuditEntries(As(token).get(), areq, &audit).ok());
  ASSERT_EQ(audit.entries_size(), 2);
  EXPECT_EQ(audit.entries(0).action(), "accept_device");
  EXPECT_EQ(audit.entries(0).actor().rfind("bootstrap-admin (ak_", 0), 0u);
  EXPECT_EQ(audit.entries(1).action(), "self_register_device");
}

TEST_F(AuthServerTest, RateLimitAnswersWithRetryDelay) {
  AuthServer::Options o = Options();
  o.login_attempts_per_device = 2;
  auto server = AuthServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.status();
  auto auth = v1::Auth::NewStub(Channel(**server));
  v1::GetChallengeRequest creq;
  creq.set_device_id("ghost");
  v1::Challenge challenge;
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    EXPECT_EQ(auth->GetChallenge(&ctx, creq, &challenge).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  grpc::ClientContext ctx;
  grpc::Status s = auth->GetChallenge(&ctx, creq, &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message().rfind("too many login attempts for device ghost; retry in ", 0), 0u)
      << s.error_message();
  auto it = ctx.GetServerTrailingMetadata().find("retry-after-ms");
  ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
  EXPECT_GT(std::stoll(std::string(it->second.data(), it->second.size())), 0);
}

// A device token that works, then RevokeDevice: every subscribed verifier
// (think catalog and download replicas) refuses it, with no sleeping.
TEST_F(AuthServerTest, RevokeDeviceReachesEverySubscribedVerifier) {
  auto server = AuthServer::Create(Options());
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = Channel(**server);
  auto auth = v1::Auth::NewStub(channel);
  auto admin = v1::AuthAdmin::NewStub(channel);
  std::string token = AdminToken(**server);
  Ed25519KeyPair key = *Ed25519KeyPair::Generate();
  v1::RegisterDeviceRequest reg;
  reg.set_device_id("phone-1");
  reg.set_ed25519_public_key(key.public_key());
  v1::Device device;
  ASSERT_TRUE(admin->RegisterDevice(As(token).get(), reg, &device).ok());
  v1::GetChallengeRequest creq;
  creq.set_device_id("phone-1");
  v1::Challenge challenge;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(auth->GetChallenge(&ctx, creq, &challenge).ok());
  }
  v1::LoginRequest lreq;
  lreq.set_device_id("phone-1");
  lreq.set_nonce(challenge.nonce());
  lreq.set_signature(*key.Sign(LoginMessage("phone-1", challenge.nonce())));
  v1::LoginResponse login;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(auth->Login(&ctx, lreq, &login).ok());
  }

  struct Replica {
    std::unique_ptr<AuthServiceKeySource> keys;
    std::unique_ptr<RevocationList> list;
    std::unique_ptr<RedisRevocationFeed> feed;
    std::unique_ptr<TokenVerifier> verifier;
  };
  std::vector<Replica> replicas(2);
  for (Replica& r : replicas) {
    r.keys = std::make_unique<AuthServiceKeySource>(v1::Auth::NewStub(channel), &clock_);
    r.list = std::make_unique<RevocationList>(&clock_);
    auto feed = RedisRevocationFeed::Start({.redis = env_->redis_options(),
                                            .key_prefix = env_->redis_prefix(),
                                            .list = r.list.get(),
                                            .clock = &clock_});
    ASSERT_TRUE(feed.ok()) << feed.status();
    r.feed = *std::move(feed);
    r.verifier = std::make_unique<TokenVerifier>(
        TokenVerifier::Options{.keys = r.keys.get(),
                               .clock = &clock_,
                               .audience = std::string(kDeviceAudience),
                               .revocations = r.list.get()});
    ASSERT_TRUE(r.verifier->Verify(login.access_token()).ok());  // cached from here on
  }
  v1::DeviceActionRequest revoke;
  revoke.set_device_id("phone-1");
  revoke.set_reason("reported stolen");
  ASSERT_TRUE(admin->RevokeDevice(As(token).get(), revoke, &device).ok());
  EXPECT_EQ(device.status(), "revoked");
  {
    // The device's outstanding next challenge is useless now: auth checks
    // the device's status at every Login (its login-path cache dropped the
    // entry at the revocation).
    ASSERT_TRUE(login.has_next_challenge());
    v1::LoginRequest next;
    next.set_device_id("phone-1");
    next.set_nonce(login.next_challenge().nonce());
    next.set_signature(*key.Sign(LoginMessage("phone-1", next.nonce())));
    grpc::ClientContext ctx;
    v1::LoginResponse refused;
    grpc::Status s = auth->Login(&ctx, next, &refused);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "device phone-1 is revoked; only accepted devices may log in");
  }
  for (Replica& r : replicas) {
    ASSERT_TRUE(r.list->AwaitRevision(1, absl::Seconds(5)));
    auto refused = r.verifier->Verify(login.access_token());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(refused.status().message(), "device phone-1 is revoked");
  }
  // A verifier started afterwards learns it from the snapshot.
  RevocationList late(&clock_);
  auto feed = RedisRevocationFeed::Start({.redis = env_->redis_options(),
                                          .key_prefix = env_->redis_prefix(),
                                          .list = &late,
                                          .clock = &clock_});
  ASSERT_TRUE(feed.ok());
  AccessClaims claims;
  claims.subject = "phone-1";
  claims.audience = std::string(kDeviceAudience);
  claims.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())) - absl::Seconds(1);
  EXPECT_EQ(late.Check(claims).message(), "device phone-1 is revoked");
}

// Two auth replicas on one database: a rotation on one is published by
// both, old tokens keep working, new ones use the new key, and a verifier
// fetches the new key when it first meets it.
TEST_F(AuthServerTest, RotatedKeyAcrossReplicas) {
  FakeClock clock;
  AuthServer::Options o = Options();
  o.clock = &clock;
  o.signing_key_activation_delay = absl::Seconds(30);
  auto a = AuthServer::Create(o);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = AuthServer::Create(o);
  ASSERT_TRUE(b.ok()) << b.status();
  std::string k1 = (*a)->key_ring().current_key_id();
  EXPECT_EQ((*b)->key_ring().current_key_id(), k1);

  auto admin = v1::AuthAdmin::NewStub(Channel(**a));
  v1::RegisterDeviceRequest reg;
  reg.set_device_id("phone-1");
  Ed25519KeyPair key = *Ed25519KeyPair::Generate();
  reg.set_ed25519_public_key(key.public_key());
  v1::Device device;
  std::string token = AdminToken(**a);
  ASSERT_TRUE(admin->RegisterDevice(As(token).get(), reg, &device).ok());
  auto login_at = [&](AuthServer& server) -> std::string {
    auto auth = v1::Auth::NewStub(Channel(server));
    v1::GetChallengeRequest creq;
    creq.set_device_id("phone-1");
    v1::Challenge challenge;
    grpc::ClientContext c1;
    EXPECT_TRUE(auth->GetChallenge(&c1, creq, &challenge).ok());
    v1::LoginRequest lreq;
    lreq.set_device_id("phone-1");
    lreq.set_nonce(challenge.nonce());
    lreq.set_signature(*key.Sign(LoginMessage("phone-1", challenge.nonce())));
    v1::LoginResponse login;
    grpc::ClientContext c2;
    EXPECT_TRUE(auth->Login(&c2, lreq, &login).ok());
    return login.access_token();
  };
  std::string old_token = login_at(**b);

  AuthServiceKeySource keys(v1::Auth::NewStub(Channel(**b)), &clock);
  TokenVerifier verifier(&keys, &clock, std::string(kDeviceAudience));
  ASSERT_EQ(verifier.Verify(old_token)->key_id, k1);

  v1::RotateSigningKeyResponse rotated;
  ASSERT_TRUE(admin->RotateSigningKey(As(token).get(), {}, &rotated).ok());
  EXPECT_NE(rotated.key_id(), k1);
  EXPECT_EQ(rotated.active_from_unix(), absl::ToUnixSeconds(clock.Now() + absl::Seconds(30)));
  ASSERT_TRUE((*b)->key_ring().Refresh().ok());  // what b's refresher does every few seconds
  EXPECT_EQ((*b)->service().PublicKeys().size(), 2u);
  clock.Advance(absl::Seconds(30));
  std::string new_token = login_at(**b);
  auto claims = verifier.Verify(new_token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->key_id, rotated.key_id());
  EXPECT_EQ(verifier.Verify(old_token)->key_id, k1);
}

TEST_F(AuthServerTest, ServesMutualTlsWhenConfigured) {
  auto certs = TestCertificates::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  AuthServer::Options o = Options();
  o.tls = certs->Service("auth");
  auto server = AuthServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  auto mtls = MakeChannel(address, certs->Client("catalog"));
  ASSERT_TRUE(mtls.ok()) << mtls.status();
  AuthServiceKeySource keys(v1::Auth::NewStub(*mtls), &clock_);
  absl::Status fetched = keys.Refresh();
  EXPECT_TRUE(fetched.ok()) << fetched;

  AuthServiceKeySource no_client_cert(v1::Auth::NewStub(*MakeChannel(address, certs->Client())),
                                      &clock_);
  EXPECT_EQ(no_client_cert.Refresh().code(), absl::StatusCode::kUnavailable);
  AuthServiceKeySource plaintext(v1::Auth::NewStub(Channel(**server)), &clock_);
  EXPECT_EQ(plaintext.Refresh().code(), absl::StatusCode::kUnavailable);

  o.tls.key_file = certs->Path("missing.key");
  auto bad = AuthServer::Create(o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("missing.key"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace updraft
