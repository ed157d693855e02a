#include "common/token.h"

#include <map>

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

TEST_F(TokenTest, NotYetValidBeyondSkew) {
  FakeClock future(clock_.Now() + absl::Minutes(5));
  TokenSigner ahead(*Ed25519KeyPair::Generate(), &future, absl::Minutes(15));
  keys_.Add(ahead.public_key());
  auto t = ahead.Issue("dev-1", kDeviceAudience);
  auto c = verifier_.Verify(t->token);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(c.status().message(), "access token not yet valid");
  // Within the allowed skew (30 s) it passes.
  FakeClock slightly(clock_.Now() + absl::Seconds(20));
  TokenSigner near(*Ed25519KeyPair::Generate(), &slightly, absl::Minutes(15));
  keys_.Add(near.public_key());
  EXPECT_TRUE(verifier_.Verify(near.Issue("dev-1", kDeviceAudience)->token).ok());
}

TEST_F(TokenTest, RoleAndTtlOptionsAreCarried) {
  auto t = signer_.Issue("ak_1", kOperatorAudience, {.role = "publisher", .ttl = absl::Minutes(5)});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expires_at, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(t->token_id.size(), 24u);
  TokenVerifier ops(&keys_, &clock_, std::string(kOperatorAudience));
  auto c = ops.Verify(t->token);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->role, "publisher");
  EXPECT_EQ(c->token_id, t->token_id);
  // A device verifier refuses it.
  EXPECT_EQ(verifier_.Verify(t->token).status().message(),
            "access token is for audience 'updraft-operator', not 'updraft-device'");
}

// Refuses every token of one subject; counts calls.
class SubjectBlocker : public RevocationChecker {
 public:
  absl::Status Check(const AccessClaims& claims) const override {
    ++calls;
    if (claims.subject == blocked) return absl::UnauthenticatedError("device x is revoked");
    return absl::OkStatus();
  }
  std::string blocked;
  mutable int calls = 0;
};

double Value(prometheus::Registry& registry, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      size_t matched = 0;
      for (const auto& l : m.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched == labels.size()) return m.counter.value;
    }
  }
  return -1;
}

TEST_F(TokenTest, RevocationConsultedOnCacheHitsAndMetricsCount) {
  SubjectBlocker blocker;
  prometheus::Registry registry;
  TokenVerifier v({.keys = &keys_,
                   .clock = &clock_,
                   .audience = std::string(kDeviceAudience),
                   .revocations = &blocker,
                   .metrics = &registry});
  auto t = signer_.Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(v.Verify(t->token).ok());
  ASSERT_TRUE(v.Verify(t->token).ok());
  EXPECT_EQ(blocker.calls, 2);
  blocker.blocked = "dev-1";
  auto c = v.Verify(t->token);
  EXPECT_EQ(c.status().message(), "device x is revoked");
  EXPECT_EQ(blocker.calls, 3);
  EXPECT_FALSE(v.Verify("garbage").ok());
  std::map<std::string, std::string> aud = {{"audience", "updraft-device"}};
  EXPECT_EQ(Value(registry, "updraft_token_cache_hits_total", aud), 2);
  EXPECT_EQ(Value(registry, "updraft_token_cache_misses_total", aud), 2);
  EXPECT_EQ(Value(registry, "updraft_token_verifications_total",
                  {{"audience", "updraft-device"}, {"result", "ok"}}),
            2);
  EXPECT_EQ(Value(registry, "updraft_token_verifications_total",
                  {{"audience", "updraft-device"}, {"result", "revoked"}}),
            1);
  EXPECT_EQ(Value(registry, "updraft_token_verifications_total",
                  {{"audience", "updraft-device"}, {"result", "malformed"}}),
            1);
}

// Counts key lookups, i.e. signature checks.
class CountingKeys : public PublicKeySource {
 public:
  explicit CountingKeys(PublicKeySource* inner) : inner_(inner) {}
  absl::StatusOr<std::string> Get(absl::string_view key_id) override {
    ++lookups;
    return inner_->Get(key_id);
  }
  int lookups = 0;

 private:
  PublicKeySource* inner_;
};

TEST_F(TokenTest, CacheIsBoundedAndKeepsRecentTokens) {
  CountingKeys counting(&keys_);
  TokenVerifier v(&counting, &clock_, std::string(kDeviceAudience), /*cache_capacity=*/4);
  std::vector<std::string> tokens;
  for (int i = 0; i < 6; ++i) tokens.push_back(signer_.Issue("dev", kDeviceAudience)->token);
  for (const auto& t : tokens) ASSERT_TRUE(v.Verify(t).ok());
  EXPECT_EQ(counting.lookups, 6);
  // The two newest are still cached; the oldest were dropped.
  ASSERT_TRUE(v.Verify(tokens[5]).ok());
  ASSERT_TRUE(v.Verify(tokens[4]).ok());
  EXPECT_EQ(counting.lookups, 6);
  ASSERT_TRUE(v.Verify(tokens[0]).ok());
  EXPECT_EQ(counting.lookups, 7);
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
