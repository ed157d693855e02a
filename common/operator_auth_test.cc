#include "common/operator_auth.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/revocation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth_mock.grpc.pb.h"

namespace updraft {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SetArgPointee;

TEST(RoleTest, NamesRoundTrip) {
  for (Role r : {Role::kViewer, Role::kPublisher, Role::kAdmin}) {
    EXPECT_EQ(*ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(ParseRole("root").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRole("").status().code(), absl::StatusCode::kInvalidArgument);
}

// A management service whose GetDevice needs `required`; answers with the
// caller's key ID as the device ID.
class GuardedAdmin final : public v1::AuthAdmin::Service {
 public:
  GuardedAdmin(TokenVerifier* verifier, Role required) : verifier_(verifier), required_(required) {}
  grpc::Status GetDevice(grpc::ServerContext* context, const v1::GetDeviceRequest*,
                         v1::Device* response) override {
    auto who = AuthorizeOperator(*context, *verifier_, required_, "GetDevice");
    if (!who.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(who.status().code()),
                          std::string(who.status().message()));
    }
    response->set_device_id(who->key_id);
    response->set_status(std::string(RoleName(who->role)));
    return grpc::Status::OK;
  }

 private:
  TokenVerifier* verifier_;
  Role required_;
};

class AuthorizeOperatorTest : public ::testing::Test {
 protected:
  AuthorizeOperatorTest()
      : signer_(*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(10)),
        revocations_(&clock_),
        verifier_({.keys = &keys_,
                   .clock = &clock_,
                   .audience = std::string(kOperatorAudience),
                   .revocations = &revocations_}),
        service_(&verifier_, Role::kPublisher) {
    keys_.Add(signer_.public_key());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = v1::AuthAdmin::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  ~AuthorizeOperatorTest() override { server_->Shutdown(); }

  grpc::Status Call(const std::string& token, v1::Device* out) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    return stub_->GetDevice(&ctx, v1::GetDeviceRequest(), out);
  }

  std::string Token(const std::string& role, absl::string_view audience = kOperatorAudience) {
    return signer_.Issue("ak_1", audience, {.role = role})->token;
  }

  FakeClock clock_;
  StaticKeySource keys_;
  TokenSigner signer_;
  RevocationList revocations_;
  TokenVerifier verifier_;
  GuardedAdmin service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AuthAdmin::Stub> stub_;
};

TEST_F(AuthorizeOperatorTest, EnoughRolePasses) {
  for (const char* role : {"publisher", "admin"}) {
    v1::Device out;
    grpc::Status s = Call(Token(role), &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(out.device_id(), "ak_1");
    EXPECT_EQ(out.status(), role);
  }
}

TEST_F(AuthorizeOperatorTest, LowerRoleIsPermissionDenied) {
  v1::Device out;
  grpc::Status s = Call(Token("viewer"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "role viewer may not call GetDevice; needs publisher");
  s = Call(Token(""), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthorizeOperatorTest, MissingBadDeviceOrRevokedTokenIsUnauthenticated) {
  v1::Device out;
  grpc::Status s = Call("", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("GetDevice needs an operator token"));
  EXPECT_EQ(Call("not-a-token", &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A device token (even with a role) is not an operator token.
  EXPECT_EQ(Call(Token("admin", kDeviceAudience), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string admin = Token("admin");
  ASSERT_TRUE(Call(admin, &out).ok());
  revocations_.Add({Revocation::Kind::kSubject, std::string(kOperatorAudience), "ak_1",
                    clock_.Now(), clock_.Now() + absl::Minutes(10)});
  s = Call(admin, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "API key ak_1 is revoked");
}

TEST(OperatorTokenSourceTest, LogsInOnceAndRenewsBeforeExpiry) {
  FakeClock clock;
  auto stub = std::make_unique<v1::MockAuthStub>();
  v1::OperatorLoginResponse first, second;
  first.set_access_token("tok-1");
  first.set_expires_at_unix(absl::ToUnixSeconds(clock.Now() + absl::Minutes(10)));
  second.set_access_token("tok-2");
  second.set_expires_at_unix(absl::ToUnixSeconds(clock.Now() + absl::Minutes(20)));
  v1::OperatorLoginRequest sent;
  EXPECT_CALL(*stub, OperatorLogin(_, _, _))
      .WillOnce(
          DoAll(::testing::SaveArg<1>(&sent), SetArgPointee<2>(first), Return(grpc::Status::OK)))
      .WillOnce(DoAll(SetArgPointee<2>(second), Return(grpc::Status::OK)));
  OperatorTokenSource source(std::move(stub), "the-key", &clock, absl::Minutes(1));
  EXPECT_EQ(*source.Token(), "tok-1");
  EXPECT_EQ(sent.api_key(), "the-key");
  clock.Advance(absl::Minutes(8));
  EXPECT_EQ(*source.Token(), "tok-1");
  clock.Advance(absl::Seconds(61));  // within a minute of expiry: renew
  EXPECT_EQ(*source.Token(), "tok-2");
}

TEST(OperatorTokenSourceTest, BadKeyIsUnauthenticatedAndRetried) {
  FakeClock clock;
  auto stub = std::make_unique<v1::MockAuthStub>();
  EXPECT_CALL(*stub, OperatorLogin(_, _, _))
      .Times(2)
      .WillRepeatedly(Return(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid API key")));
  OperatorTokenSource source(std::move(stub), "bad", &clock);
  auto t = source.Token();
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(t.status().message(), "operator login: invalid API key");
  EXPECT_FALSE(source.Token().ok());
}

TEST(ReadApiKeyFileTest, AcceptsOnly32ByteKeys) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir ? dir : "/tmp", "/api_key_test.key");
  std::string raw(32, 'k');
  ASSERT_TRUE(WriteKeyFile(path, raw).ok());
  EXPECT_EQ(*ReadApiKeyFile(path), absl::WebSafeBase64Escape(raw));
  ASSERT_TRUE(WriteKeyFile(path, "short").ok());
  EXPECT_EQ(ReadApiKeyFile(path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadApiKeyFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace updraft
