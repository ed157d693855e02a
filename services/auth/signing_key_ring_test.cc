#include "services/auth/signing_key_ring.h"

#include "gtest/gtest.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

class SigningKeyRingTest : public ::testing::Test {
 protected:
  std::unique_ptr<SigningKeyRing> Ring() {
    auto ring = SigningKeyRing::Create({.store = &store_,
                                        .clock = &clock_,
                                        .token_ttl = absl::Minutes(15),
                                        .max_token_ttl = absl::Minutes(20),
                                        .activation_delay = absl::Seconds(30)});
    EXPECT_TRUE(ring.ok()) << ring.status();
    return *std::move(ring);
  }

  std::vector<std::string> PublishedIds(const SigningKeyRing& ring) {
    std::vector<std::string> ids;
    for (const TokenKey& k : ring.PublicKeys()) ids.push_back(k.key_id);
    return ids;
  }

  FakeClock clock_;
  FakeAuditLog audit_;
  FakeSigningKeyStore store_{&audit_};
};

TEST_F(SigningKeyRingTest, NoKeyIsFailedPreconditionUntilSeeded) {
  auto ring = Ring();
  EXPECT_EQ(ring->Issue("d", kDeviceAudience).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ring->current_key_id().empty());
  Ed25519KeyPair key = *Ed25519KeyPair::Generate();
  EXPECT_TRUE(*ring->Seed(key, "bootstrap"));
  EXPECT_EQ(ring->current_key_id(), KeyIdFor(key.public_key()));
  // A second seed (another replica, another file) changes nothing.
  EXPECT_FALSE(*ring->Seed(*Ed25519KeyPair::Generate(), "bootstrap"));
  EXPECT_EQ(ring->current_key_id(), KeyIdFor(key.public_key()));
  EXPECT_EQ(audit_.entries().size(), 1u);
  EXPECT_EQ(audit_.entries()[0].action, "seed_signing_key");
}

TEST_F(SigningKeyRingTest, RotationAcrossReplicas) {
  auto a = Ring();
  auto b = Ring();
  ASSERT_TRUE(a->Seed(*Ed25519KeyPair::Generate(), "bootstrap").ok());
  ASSERT_TRUE(b->Refresh().ok());
  std::string k1 = a->current_key_id();
  EXPECT_EQ(b->current_key_id(), k1);
  auto old_token = b->Issue("dev-1", kDeviceAudience);
  ASSERT_TRUE(old_token.ok());

  auto k2 = a->Rotate("ops");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(PublishedIds(*a), (std::vector<std::string>{k1, k2->key_id}));
  ASSERT_TRUE(b->Refresh().ok());
  EXPECT_EQ(PublishedIds(*b), (std::vector<std::string>{k1, k2->key_id}));
  // Both replicas keep signing with k1 until the new key is active.
  EXPECT_EQ(a->current_key_id(), k1);
  EXPECT_EQ(b->current_key_id(), k1);
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(a->current_key_id(), k2->key_id);
  EXPECT_EQ(b->current_key_id(), k2->key_id);

  // A verifier that fetches the published keys accepts both tokens.
  StaticKeySource keys;
  for (const TokenKey& k : b->PublicKeys()) keys.Add(k.public_key);
  TokenVerifier v(&keys, &clock_, std::string(kDeviceAudience));
  auto new_token = a->Issue("dev-1", kDeviceAudience);
  EXPECT_EQ(v.Verify(new_token->token)->key_id, k2->key_id);
  EXPECT_EQ(v.Verify(old_token->token)->key_id, k1);

  // k1 retired when k2 became active; published for max_token_ttl more.
  clock_.Advance(absl::Minutes(20) - absl::Seconds(1));
  EXPECT_EQ(PublishedIds(*a).size(), 2u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(PublishedIds(*a), (std::vector<std::string>{k2->key_id}));
}

TEST_F(SigningKeyRingTest, BadOptionsAndCorruptKeys) {
  EXPECT_FALSE(SigningKeyRing::Create({}).ok());
  EXPECT_FALSE(SigningKeyRing::Create({.store = &store_,
                                       .clock = &clock_,
                                       .token_ttl = absl::Minutes(30),
                                       .max_token_ttl = absl::Minutes(15)})
                   .ok());
  StoredSigningKey bad{"0000000000000000", std::string(32, 'k'), clock_.Now(), clock_.Now()};
  ASSERT_TRUE(*store_.InsertIfEmpty(bad, AuditEntry()));
  auto ring = SigningKeyRing::Create({.store = &store_, .clock = &clock_});
  EXPECT_EQ(ring.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace updraft
