#include "services/auth/grpc_auth_service.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "common/revocation.h"
#include "common/token.h"
#include "gtest/gtest.h"
#include "services/auth/admin_service.h"
#include "services/auth/fakes.h"
#include "services/auth/grpc_auth_admin_service.h"

namespace updraft {
namespace {

class GrpcAuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_ = *SigningKeyRing::Create({.store = &signing_keys_, .clock = &clock_});
    ASSERT_TRUE(ring_->Seed(*Ed25519KeyPair::Generate(), "test").ok());
    service_ = *AuthService::Create({.registry = &registry_,
                                     .challenges = &challenges_,
                                     .api_keys = &api_keys_,
                                     .keys = ring_.get(),
                                     .clock = &clock_,
                                     .rate_limiter = &limiter_,
                                     .per_device = {3, absl::Minutes(1)},
                                     .next_challenge_ttl = absl::Minutes(20)});
    admin_service_ = *AdminService::Create({.registry = &registry_,
                                            .api_keys = &api_keys_,
                                            .audit = &audit_,
                                            .keys = ring_.get(),
                                            .revocations = &publisher_,
                                            .clock = &clock_});
    ring_source_ = std::make_unique<SigningKeyRingSource>(ring_.get());
    operator_verifier_ = std::make_unique<TokenVerifier>(
        TokenVerifier::Options{.keys = ring_source_.get(),
                               .clock = &clock_,
                               .audience = std::string(kOperatorAudience),
                               .revocations = &revocations_});
    auth_api_ = std::make_unique<GrpcAuthService>(service_.get());
    admin_api_ =
        std::make_unique<GrpcAuthAdminService>(admin_service_.get(), operator_verifier_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(auth_api_.get());
    builder.RegisterService(admin_api_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    auth_ = v1::Auth::NewStub(channel);
    admin_ = v1::AuthAdmin::NewStub(channel);
    for (const char* role : {"admin", "publisher", "viewer"}) tokens_[role] = OperatorToken(role);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // An API key of `role`, logged in over the wire.
  std::string OperatorToken(const std::string& role) {
    std::string raw = RandomBytes(32);
    ApiKeyRecord key;
    key.key_id = "ak_" + role;
    key.name = role + "-key";
    key.role = *ParseRole(role);
    key.key_hash = Sha256(raw);
    EXPECT_TRUE(api_keys_.Create(key, AuditEntry()).ok());
    v1::OperatorLoginRequest req;
    req.set_api_key(absl::WebSafeBase64Escape(raw));
    v1::OperatorLoginResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = auth_->OperatorLogin(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.role(), role);
    EXPECT_EQ(resp.key_id(), key.key_id);
    return resp.access_token();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& role) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!role.empty()) ctx->AddMetadata("authorization", "Bearer " + tokens_[role]);
    return ctx;
  }

  grpc::Status Register(const std::string& id, const std::string& key, v1::Device* out,
                        const std::string& role = "admin") {
    v1::RegisterDeviceRequest req;
    req.set_device_id(id);
    req.set_ed25519_public_key(key);
    (*req.mutable_attributes())["model"] = "X1";
    return admin_->RegisterDevice(As(role).get(), req, out);
  }

  grpc::Status Challenge(const std::string& id, v1::Challenge* out,
                         grpc::ClientContext* ctx = nullptr) {
    v1::GetChallengeRequest req;
    req.set_device_id(id);
    grpc::ClientContext local;
    return auth_->GetChallenge(ctx ? ctx : &local, req, out);
  }

  grpc::Status Login(const std::string& id, const std::string& nonce, const std::string& sig,
                     v1::LoginResponse* out) {
    v1::LoginRequest req;
    req.set_device_id(id);
    req.set_nonce(nonce);
    req.set_signature(sig);
    grpc::ClientContext ctx;
    return auth_->Login(&ctx, req, out);
  }

  FakeClock clock_;
  FakeAuditLog audit_;
  FakeDeviceRegistry registry_{&audit_};
  FakeChallengeStore challenges_{&clock_};
  FakeApiKeyStore api_keys_{&audit_};
  FakeSigningKeyStore signing_keys_;
  FakeRateLimiter limiter_{&clock_};
  RevocationList revocations_{&clock_};
  FakeRevocationPublisher publisher_{&revocations_};
  std::unique_ptr<SigningKeyRing> ring_;
  std::unique_ptr<SigningKeyRingSource> ring_source_;
  std::unique_ptr<TokenVerifier> operator_verifier_;
  Ed25519KeyPair device_key_ = *Ed25519KeyPair::Generate();
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<GrpcAuthService> auth_api_;
  std::unique_ptr<GrpcAuthAdminService> admin_api_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Auth::Stub> auth_;
  std::unique_ptr<v1::AuthAdmin::Stub> admin_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(GrpcAuthServiceTest, RegisterChallengeLoginAcrossTheWire) {
  v1::Device device;
  grpc::Status s = Register("dev-1", device_key_.public_key(), &device);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(device.device_id(), "dev-1");
  EXPECT_EQ(device.status(), "accepted");
  EXPECT_EQ(device.ed25519_public_key(), device_key_.public_key());
  EXPECT_EQ(device.public_key(), device_key_.public_key());
  EXPECT_EQ(device.key_type(), v1::KEY_TYPE_ED25519);
  EXPECT_EQ(device.attributes().at("model"), "X1");
  EXPECT_EQ(device.created_at_unix(), absl::ToUnixSeconds(clock_.Now()));

  v1::GetDeviceRequest get;
  get.set_device_id("dev-1");
  v1::Device fetched;
  ASSERT_TRUE(admin_->GetDevice(As("viewer").get(), get, &fetched).ok());
  EXPECT_EQ(fetched.SerializeAsString(), device.SerializeAsString());

  v1::Challenge challenge;
  ASSERT_TRUE(Challenge("dev-1", &challenge).ok());
  EXPECT_EQ(challenge.nonce().size(), 32u);
  EXPECT_EQ(challenge.expires_at_unix(), absl::ToUnixSeconds(clock_.Now() + absl::Seconds(60)));

  v1::LoginResponse login;
  s = Login("dev-1", challenge.nonce(), *device_key_.Sign(LoginMessage("dev-1", challenge.nonce())),
            &login);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(login.expires_at_unix(), absl::ToUnixSeconds(clock_.Now() + absl::Minutes(15)));
  // The answer carries the next challenge: the next token takes one call.
  ASSERT_TRUE(login.has_next_challenge());
  const v1::Challenge next = login.next_challenge();
  EXPECT_EQ(next.nonce().size(), 32u);
  EXPECT_NE(next.nonce(), challenge.nonce());
  EXPECT_EQ(next.expires_at_unix(), absl::ToUnixSeconds(clock_.Now() + absl::Minutes(20)));
  v1::LoginResponse refreshed;
  s = Login("dev-1", next.nonce(), *device_key_.Sign(LoginMessage("dev-1", next.nonce())),
            &refreshed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(refreshed.access_token().empty());
  EXPECT_NE(refreshed.next_challenge().nonce(), next.nonce());

  v1::PublicKeySet keys;
  grpc::ClientContext kctx;
  ASSERT_TRUE(auth_->GetPublicKeys(&kctx, v1::GetPublicKeysRequest(), &keys).ok());
  ASSERT_EQ(keys.keys_size(), 1);
  EXPECT_EQ(keys.keys(0).key_id(), ring_->current_key_id());
  StaticKeySource source;
  source.Add(keys.keys(0).ed25519());
  TokenVerifier verifier(&source, &clock_, std::string(kDeviceAudience));
  auto claims = verifier.Verify(login.access_token());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "dev-1");
}

TEST_F(GrpcAuthServiceTest, P256RegistrationAndPendingOverTheWire) {
  EcdsaP256KeyPair p256 = *EcdsaP256KeyPair::Generate();
  v1::GetChallengeRequest req;
  req.set_device_id("new-phone");
  req.set_public_key(p256.public_key());
  req.set_key_type(v1::KEY_TYPE_ECDSA_P256);
  v1::Challenge challenge;
  grpc::ClientContext ctx;
  grpc::Status s = auth_->GetChallenge(&ctx, req, &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "device new-phone is pending operator approval");

  v1::ListDevicesRequest list;
  list.set_status("pending");
  v1::ListDevicesResponse pending;
  ASSERT_TRUE(admin_->ListDevices(As("viewer").get(), list, &pending).ok());
  ASSERT_EQ(pending.devices_size(), 1);
  EXPECT_EQ(pending.devices(0).key_type(), v1::KEY_TYPE_ECDSA_P256);
  EXPECT_EQ(pending.devices(0).public_key(), p256.public_key());
  EXPECT_TRUE(pending.devices(0).ed25519_public_key().empty());

  v1::DeviceActionRequest accept;
  accept.set_device_id("new-phone");
  v1::Device device;
  EXPECT_EQ(admin_->AcceptDevice(As("publisher").get(), accept, &device).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(admin_->AcceptDevice(As("admin").get(), accept, &device).ok());
  EXPECT_EQ(device.status(), "accepted");
  ASSERT_TRUE(Challenge("new-phone", &challenge).ok());
  v1::LoginResponse login;
  s = Login("new-phone", challenge.nonce(),
            *p256.Sign(LoginMessage("new-phone", challenge.nonce())), &login);
  EXPECT_TRUE(s.ok()) << s.error_message();

  v1::RegisterDeviceRequest reg;
  reg.set_device_id("p-2");
  reg.set_key_type(v1::KEY_TYPE_ECDSA_P256);
  reg.set_public_key(EcdsaP256KeyPair::Generate()->public_key());
  ASSERT_TRUE(admin_->RegisterDevice(As("admin").get(), reg, &device).ok());
  EXPECT_EQ(device.key_type(), v1::KEY_TYPE_ECDSA_P256);
  reg.set_device_id("p-3");
  reg.clear_public_key();
  reg.set_ed25519_public_key(device_key_.public_key());
  EXPECT_EQ(admin_->RegisterDevice(As("admin").get(), reg, &device).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  reg.set_key_type(static_cast<v1::KeyType>(9));
  EXPECT_EQ(admin_->RegisterDevice(As("admin").get(), reg, &device).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcAuthServiceTest, EveryAdminRpcChecksTheRole) {
  struct Rpc {
    const char* name;
    const char* min_role;
    std::function<grpc::Status(grpc::ClientContext*)> call;
  };
  v1::Device device;
  v1::ListDevicesResponse devices;
  v1::ImportDevicesResponse imported;
  v1::RevokeTokenResponse revoked;
  v1::CreateApiKeyResponse created;
  v1::ApiKey key;
  v1::ListApiKeysResponse keys;
  v1::RotateSigningKeyResponse rotated;
  v1::ListAuditEntriesResponse audit;
  std::vector<Rpc> rpcs = {
      {"RegisterDevice", "admin",
       [&](auto* c) { return admin_->RegisterDevice(c, v1::RegisterDeviceRequest(), &device); }},
      {"GetDevice", "viewer",
       [&](auto* c) { return admin_->GetDevice(c, v1::GetDeviceRequest(), &device); }},
      {"ListDevices", "viewer",
       [&](auto* c) { return admin_->ListDevices(c, v1::ListDevicesRequest(), &devices); }},
      {"ImportDevices", "admin",
       [&](auto* c) { return admin_->ImportDevices(c, v1::ImportDevicesRequest(), &imported); }},
      {"AcceptDevice", "admin",
       [&](auto* c) { return admin_->AcceptDevice(c, v1::DeviceActionRequest(), &device); }},
      {"RejectDevice", "admin",
       [&](auto* c) { return admin_->RejectDevice(c, v1::DeviceActionRequest(), &device); }},
      {"RevokeDevice", "admin",
       [&](auto* c) { return admin_->RevokeDevice(c, v1::DeviceActionRequest(), &device); }},
      {"RevokeToken", "admin",
       [&](auto* c) { return admin_->RevokeToken(c, v1::RevokeTokenRequest(), &revoked); }},
      {"CreateApiKey", "admin",
       [&](auto* c) { return admin_->CreateApiKey(c, v1::CreateApiKeyRequest(), &created); }},
      {"RevokeApiKey", "admin",
       [&](auto* c) { return admin_->RevokeApiKey(c, v1::RevokeApiKeyRequest(), &key); }},
      {"ListApiKeys", "admin",
       [&](auto* c) { return admin_->ListApiKeys(c, v1::ListApiKeysRequest(), &keys); }},
      {"RotateSigningKey", "admin",
       [&](auto* c) {
         return admin_->RotateSigningKey(c, v1::RotateSigningKeyRequest(), &rotated);
       }},
      {"ListAuditEntries", "viewer",
       [&](auto* c) { return admin_->ListAuditEntries(c, v1::ListAuditEntriesRequest(), &audit); }},
  };
  const std::vector<std::string> order = {"viewer", "publisher", "admin"};
  for (const Rpc& rpc : rpcs) {
    grpc::Status s = rpc.call(As("").get());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name;
    int min = std::find(order.begin(), order.end(), rpc.min_role) - order.begin();
    for (int r = 0; r < 3; ++r) {
      s = rpc.call(As(order[r]).get());
      if (r < min) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rpc.name << order[r];
        EXPECT_EQ(s.error_message(), absl::StrCat("role ", order[r], " may not call ", rpc.name,
                                                  "; needs ", rpc.min_role));
      } else {
        // Past the role check: the empty request fails validation or works.
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << rpc.name << order[r];
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << rpc.name << order[r];
      }
    }
  }
  // A device token is not an operator token.
  v1::Device d;
  ASSERT_TRUE(Register("dev-1", device_key_.public_key(), &d).ok());
  v1::Challenge challenge;
  ASSERT_TRUE(Challenge("dev-1", &challenge).ok());
  v1::LoginResponse login;
  ASSERT_TRUE(Login("dev-1", challenge.nonce(),
                    *device_key_.Sign(LoginMessage("dev-1", challenge.nonce())), &login)
                  .ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + login.access_token());
  v1::GetDeviceRequest get;
  get.set_device_id("dev-1");
  EXPECT_EQ(admin_->GetDevice(&ctx, get, &d).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcAuthServiceTest, RateLimitSendsRetryAfterMetadata) {
  v1::Device device;
  ASSERT_TRUE(Register("dev-1", device_key_.public_key(), &device).ok());
  v1::Challenge challenge;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Challenge("dev-1", &challenge).ok());
  grpc::ClientContext ctx;
  grpc::Status s = Challenge("dev-1", &challenge, &ctx);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message().rfind("too many login attempts for device dev-1; retry in ", 0), 0u);
  auto it = ctx.GetServerTrailingMetadata().find("retry-after-ms");
  ASSERT_NE(it, ctx.GetServerTrailingMetadata().end());
  int64_t ms = std::stoll(std::string(it->second.data(), it->second.size()));
  EXPECT_GT(ms, 0);
  EXPECT_LE(ms, 60000);
}

TEST_F(GrpcAuthServiceTest, ApiKeyLifecycleOverTheWire) {
  v1::CreateApiKeyRequest create;
  create.set_name("ci");
  create.set_role("publisher");
  v1::CreateApiKeyResponse created;
  grpc::Status s = admin_->CreateApiKey(As("admin").get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.key().role(), "publisher");
  EXPECT_EQ(created.key().created_by(), "ak_admin");
  EXPECT_EQ(created.api_key().size(), 43u);
  v1::ListApiKeysResponse keys;
  ASSERT_TRUE(admin_->ListApiKeys(As("admin").get(), v1::ListApiKeysRequest(), &keys).ok());
  EXPECT_EQ(keys.keys_size(), 4);
  v1::RevokeApiKeyRequest revoke;
  revoke.set_key_id(created.key().key_id());
  v1::ApiKey revoked;
  ASSERT_TRUE(admin_->RevokeApiKey(As("admin").get(), revoke, &revoked).ok());
  EXPECT_GT(revoked.revoked_at_unix(), 0);
  v1::OperatorLoginRequest login;
  login.set_api_key(created.api_key());
  v1::OperatorLoginResponse resp;
  grpc::ClientContext ctx;
  s = auth_->OperatorLogin(&ctx, login, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::ListAuditEntriesResponse audit;
  ASSERT_TRUE(
      admin_->ListAuditEntries(As("viewer").get(), v1::ListAuditEntriesRequest(), &audit).ok());
  ASSERT_GE(audit.entries_size(), 2);
  EXPECT_EQ(audit.entries(0).action(), "revoke_api_key");
  EXPECT_EQ(audit.entries(0).actor(), "admin-key (ak_admin)");
  EXPECT_EQ(audit.entries(1).action(), "create_api_key");
}

TEST_F(GrpcAuthServiceTest, ErrorsKeepCodeAndMessage) {
  v1::Device device;
  grpc::Status s = Register("dev 1", device_key_.public_key(), &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("device_id"), std::string::npos);
  s = Register("dev-1", "short", &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("public_key"), std::string::npos);
  ASSERT_TRUE(Register("dev-1", device_key_.public_key(), &device).ok());
  s = Register("dev-1", device_key_.public_key(), &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message(), "device dev-1 is already registered");

  v1::Challenge challenge;
  s = Challenge("ghost", &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "device ghost is not registered");
  ASSERT_TRUE(Challenge("dev-1", &challenge).ok());
  v1::LoginResponse login;
  s = Login("dev-1", challenge.nonce(), std::string(64, 'x'), &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(login.access_token().empty());
  s = Login("dev-1", "", "", &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ImportDevicesRequest import;
  import.set_csv("device_id,key_type,public_key\nx,ed25519,zz\n");
  v1::ImportDevicesResponse imported;
  s = admin_->ImportDevices(As("admin").get(), import, &imported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "row 2: public_key: an Ed25519 public key is 32 raw bytes, got 1");
}

TEST(PeerSourceTest, ExtractsTheAddress) {
  EXPECT_EQ(PeerSource("ipv4:10.0.0.7:5000"), "10.0.0.7");
  EXPECT_EQ(PeerSource("ipv6:[::1]:5000"), "::1");
  EXPECT_EQ(PeerSource("ipv6:%5B2001:db8::1%5D:443"), "2001:db8::1");
  EXPECT_EQ(PeerSource("unix:/tmp/s"), "unix:/tmp/s");
  EXPECT_EQ(PeerSource(""), "");
}

TEST(DeviceToProtoTest, ConvertsEveryField) {
  DeviceRecord d;
  d.device_id = "dev-1";
  d.key_type = KeyType::kEcdsaP256;
  d.public_key = std::string(65, 'k');
  d.status = DeviceStatus::kRevoked;
  d.attributes = {{"a", "1"}, {"b", "2"}};
  d.created_at = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(900);
  d.updated_at = absl::FromUnixSeconds(1700000100);
  v1::Device p = DeviceToProto(d);
  EXPECT_EQ(p.device_id(), "dev-1");
  EXPECT_TRUE(p.ed25519_public_key().empty());
  EXPECT_EQ(p.public_key(), d.public_key);
  EXPECT_EQ(p.key_type(), v1::KEY_TYPE_ECDSA_P256);
  EXPECT_EQ(p.status(), "revoked");
  EXPECT_EQ(p.attributes().at("b"), "2");
  EXPECT_EQ(p.created_at_unix(), 1700000000);
  EXPECT_EQ(p.updated_at_unix(), 1700000100);
}

}  // namespace
}  // namespace updraft
