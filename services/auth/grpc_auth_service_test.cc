#include "services/auth/grpc_auth_service.h"

#include <grpcpp/grpcpp.h>

#include "common/crypto.h"
#include "common/token.h"
#include "gtest/gtest.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

class GrpcAuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = *AuthService::Create(
        {.registry = &registry_, .challenges = &challenges_, .clock = &clock_, .signer = &signer_});
    auth_api_ = std::make_unique<GrpcAuthService>(service_.get());
    admin_api_ = std::make_unique<GrpcAuthAdminService>(service_.get());
    grpc::ServerBuilder builder;
    builder.RegisterService(auth_api_.get());
    builder.RegisterService(admin_api_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    auth_ = v1::Auth::NewStub(channel);
    admin_ = v1::AuthAdmin::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Register(const std::string& id, const std::string& key, v1::Device* out) {
    v1::RegisterDeviceRequest req;
    req.set_device_id(id);
    req.set_ed25519_public_key(key);
    (*req.mutable_attributes())["model"] = "X1";
    grpc::ClientContext ctx;
    return admin_->RegisterDevice(&ctx, req, out);
  }

  grpc::Status Challenge(const std::string& id, v1::Challenge* out) {
    v1::GetChallengeRequest req;
    req.set_device_id(id);
    grpc::ClientContext ctx;
    return auth_->GetChallenge(&ctx, req, out);
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
  FakeDeviceRegistry registry_{&clock_};
  FakeChallengeStore challenges_{&clock_};
  TokenSigner signer_{*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)};
  Ed25519KeyPair device_key_ = *Ed25519KeyPair::Generate();
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<GrpcAuthService> auth_api_;
  std::unique_ptr<GrpcAuthAdminService> admin_api_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Auth::Stub> auth_;
  std::unique_ptr<v1::AuthAdmin::Stub> admin_;
};

TEST_F(GrpcAuthServiceTest, RegisterChallengeLoginAcrossTheWire) {
  v1::Device device;
  grpc::Status s = Register("dev-1", device_key_.public_key(), &device);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(device.device_id(), "dev-1");
  EXPECT_EQ(device.status(), "accepted");
  EXPECT_EQ(device.ed25519_public_key(), device_key_.public_key());
  EXPECT_EQ(device.attributes().at("model"), "X1");
  EXPECT_EQ(device.created_at_unix(), absl::ToUnixSeconds(clock_.Now()));

  v1::GetDeviceRequest get;
  get.set_device_id("dev-1");
  v1::Device fetched;
  grpc::ClientContext ctx;
  ASSERT_TRUE(admin_->GetDevice(&ctx, get, &fetched).ok());
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

  v1::PublicKeySet keys;
  grpc::ClientContext kctx;
  ASSERT_TRUE(auth_->GetPublicKeys(&kctx, v1::GetPublicKeysRequest(), &keys).ok());
  ASSERT_EQ(keys.keys_size(), 1);
  EXPECT_EQ(keys.keys(0).key_id(), signer_.key_id());
  EXPECT_EQ(keys.keys(0).ed25519(), signer_.public_key());
  StaticKeySource source;
  source.Add(keys.keys(0).ed25519());
  TokenVerifier verifier(&source, &clock_, std::string(kDeviceAudience));
  auto claims = verifier.Verify(login.access_token());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "dev-1");
}

TEST_F(GrpcAuthServiceTest, ErrorsKeepCodeAndMessage) {
  v1::Device device;
  grpc::Status s = Register("dev 1", device_key_.public_key(), &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("device_id"), std::string::npos);

  s = Register("dev-1", "short", &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("ed25519_public_key"), std::string::npos);

  ASSERT_TRUE(Register("dev-1", device_key_.public_key(), &device).ok());
  s = Register("dev-1", device_key_.public_key(), &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message(), "device dev-1 is already registered");

  v1::Challenge challenge;
  s = Challenge("ghost", &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "device ghost is not registered");

  s = Challenge("", &challenge);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  ASSERT_TRUE(Challenge("dev-1", &challenge).ok());
  v1::LoginResponse login;
  s = Login("dev-1", challenge.nonce(), std::string(64, 'x'), &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "signature does not verify with the registered key of device dev-1");
  EXPECT_TRUE(login.access_token().empty());

  s = Login("dev-1", challenge.nonce(), *device_key_.Sign(LoginMessage("dev-1", challenge.nonce())),
            &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "challenge is unknown, expired or already used");

  s = Login("dev-1", "", "", &login);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcAuthServiceTest, GetDeviceOfUnknownDeviceIsNotFound) {
  v1::GetDeviceRequest get;
  get.set_device_id("ghost");
  v1::Device device;
  grpc::ClientContext ctx;
  grpc::Status s = admin_->GetDevice(&ctx, get, &device);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "device ghost is not registered");
}

TEST(DeviceToProtoTest, ConvertsEveryField) {
  DeviceRecord d;
  d.device_id = "dev-1";
  d.public_key = std::string(32, 'k');
  d.status = DeviceStatus::kRevoked;
  d.attributes = {{"a", "1"}, {"b", "2"}};
  d.created_at = absl::FromUnixSeconds(1700000000) + absl::Milliseconds(900);
  v1::Device p = DeviceToProto(d);
  EXPECT_EQ(p.device_id(), "dev-1");
  EXPECT_EQ(p.ed25519_public_key(), d.public_key);
  EXPECT_EQ(p.status(), "revoked");
  EXPECT_EQ(p.attributes_size(), 2);
  EXPECT_EQ(p.attributes().at("b"), "2");
  EXPECT_EQ(p.created_at_unix(), 1700000000);
}

}  // namespace
}  // namespace updraft
