#include "common/token.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class TokenTest : public ::testing::Test {
 protected:
  TokenTest()
      : signer_(*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)),
        verifier_(&keys_, &clock_, std::string(kDeviceAudience)) {
    keys_.Add(signer_.public_key());
  }
  FakeClock clock_;
  StaticKeySource keys_;
  TokenSigner signer_;
  TokenVerifier verifier_;
};

TEST_F(TokenTest, IssuedTokenVerifies) {
  auto t = signer_.Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(t.ok());
  auto c = verifier_.Verify(t->token);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject, "dev-1");
  EXPECT_EQ(c->key_id, signer_.key_id());
  EXPECT_EQ(c->expires_at, clock_.Now() + absl::Minutes(15));
}

TEST_F(TokenTest, ExpiredTokenRejectedEvenWhenCached) {
  auto t = signer_.Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(verifier_.Verify(t->token).ok());
  clock_.Advance(absl::Minutes(16));
  auto c = verifier_.Verify(t->token);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(c.status().message(), "access token expired; log in again");
}

TEST_F(TokenTest, WrongAudienceRejected) {
  auto t = signer_.Issue("dev-1", "operator");
  EXPECT_EQ(verifier_.Verify(t->token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, UnknownKeyRejected) {
  TokenSigner other(*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15));
  auto t = other.Issue("dev-1", kDeviceAudience);
  auto c = verifier_.Verify(t->token);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(c.status().message().find("unknown key"), absl::string_view::npos);
}

TEST_F(TokenTest, TamperedPayloadRejected) {
  auto t = signer_.Issue("dev-1", kDeviceAudience);
  size_t dot = t->token.find('.');
  std::string payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(t->token.substr(0, dot), &payload));
  payload[payload.find("dev-1")] = 'x';
  std::string forged = absl::WebSafeBase64Escape(payload) + t->token.substr(dot);
  auto c = verifier_.Verify(forged);
  EXPECT_EQ(c.status().message(), "access token signature is invalid");
}

TEST_F(TokenTest, GarbageNeverCrashes) {
  for (const char* s : {"", ".", "a.b", "....", "\xff\xfe.\x00", "YWJj.YWJj"}) {
    EXPECT_EQ(verifier_.Verify(s).status().code(), absl::StatusCode::kUnauthenticated) << s;
  }
}

}  // namespace
}  // namespace updraft

namespace updraft {
namespace {

TEST(LoginMessageTest, SeparatesFieldsWithNul) {
  EXPECT_EQ(LoginMessage("dev", "nn"), std::string("updraft-login-v1\0dev\0nn", 23));
  EXPECT_NE(LoginMessage("ab", "c"), LoginMessage("a", "bc"));
}

}  // namespace
}  // namespace updraft
