// The next challenge a Login answer carries (AuthService with fakes): after
// each test, what must hold is that it was usable exactly as a GetChallenge
// challenge is (once, by its device, before it expires, by an accepted
// device, within the same rate limits), and never otherwise.
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gtest/gtest.h"
#include "services/auth/auth_service.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

constexpr absl::Duration kNextTtl = absl::Minutes(20);
constexpr absl::string_view kBadChallenge = "challenge is unknown, expired or already used";

double NextChallenges(prometheus::Registry& registry, const std::string& result) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "updraft_auth_next_challenges_total") continue;
    for (const auto& m : family.metric) {
      if (m.label.size() == 1 && m.label[0].value == result) return m.counter.value;
    }
  }
  return -1;
}

class NextChallengeTest : public ::testing::Test {
 protected:
  NextChallengeTest() {
    ring_ = *SigningKeyRing::Create({.store = &signing_keys_,
                                     .clock = &clock_,
                                     .token_ttl = absl::Minutes(15),
                                     .max_token_ttl = absl::Minutes(15)});
    EXPECT_TRUE(ring_->Seed(*Ed25519KeyPair::Generate(), "test").ok());
    service_ = NewService(kNextTtl);
    for (const char* id : {"dev-1", "dev-2"}) {
      DeviceRecord d;
      d.device_id = id;
      d.public_key = device_key_.public_key();  // same key: only the binding tells them apart
      d.status = DeviceStatus::kAccepted;
      EXPECT_TRUE(registry_.Register(d, AuditEntry()).ok());
    }
  }

  std::unique_ptr<AuthService> NewService(absl::Duration next_ttl) {
    auto service = AuthService::Create({.registry = &registry_,
                                        .challenges = &challenges_,
                                        .api_keys = &api_keys_,
                                        .keys = ring_.get(),
                                        .clock = &clock_,
                                        .rate_limiter = &rate_limiter_,
                                        .per_device = {6, absl::Minutes(1)},
                                        .next_challenge_ttl = next_ttl,
                                        .metrics = &metrics_});
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? *std::move(service) : nullptr;
  }

  absl::StatusOr<DeviceLogin> Login(const std::string& id, const std::string& nonce,
                                    const Ed25519KeyPair* key = nullptr) {
    std::string sig = *(key ? key : &device_key_)->Sign(LoginMessage(id, nonce));
    return service_->Login({id, nonce, sig, "10.0.0.1"});
  }

  // GetChallenge + Login; returns the next challenge's nonce ("" if none).
  std::string FullLogin(const std::string& id) {
    ChallengeRequest r;
    r.device_id = id;
    r.source = "10.0.0.1";
    auto c = service_->GetChallenge(r);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return "";
    auto login = Login(id, c->nonce);
    EXPECT_TRUE(login.ok()) << login.status();
    if (!login.ok() || !login->next_challenge.has_value()) return "";
    return login->next_challenge->nonce;
  }

  FakeClock clock_;
  FakeDeviceRegistry registry_;
  FakeChallengeStore challenges_{&clock_};
  FakeApiKeyStore api_keys_;
  FakeSigningKeyStore signing_keys_;
  FakeRateLimiter rate_limiter_{&clock_};
  prometheus::Registry metrics_;
  std::unique_ptr<SigningKeyRing> ring_;
  Ed25519KeyPair device_key_ = *Ed25519KeyPair::Generate();
  std::unique_ptr<AuthService> service_;
};

TEST_F(NextChallengeTest, IssuedWithEveryLoginAndUsableOnce) {
  ChallengeRequest r;
  r.device_id = "dev-1";
  auto challenge = service_->GetChallenge(r);
  ASSERT_TRUE(challenge.ok());
  auto first = Login("dev-1", challenge->nonce);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->next_challenge.has_value());
  const IssuedChallenge next = *first->next_challenge;
  EXPECT_EQ(next.nonce.size(), kNonceSize);
  EXPECT_NE(next.nonce, challenge->nonce);
  EXPECT_EQ(next.expires_at, clock_.Now() + kNextTtl);

  // One call for the next token, which again carries a fresh next challenge.
  auto second = Login("dev-1", next.nonce);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->token.token.empty());
  ASSERT_TRUE(second->next_challenge.has_value());
  EXPECT_NE(second->next_challenge->nonce, next.nonce);

  // Replay: refused like a used GetChallenge challenge.
  auto replay = Login("dev-1", next.nonce);
  EXPECT_EQ(replay.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(replay.status().message(), kBadChallenge);
  EXPECT_EQ(NextChallenges(metrics_, "issued"), 2);
  EXPECT_EQ(NextChallenges(metrics_, "used"), 1);
  // One outstanding next challenge for the device (the one from `second`).
  EXPECT_EQ(challenges_.next_size(), 1u);
}

TEST_F(NextChallengeTest, BoundToTheDevice) {
  std::string next = FullLogin("dev-1");
  ASSERT_FALSE(next.empty());
  // dev-2 has the same key: only the binding refuses it.
  auto stolen = Login("dev-2", next);
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(stolen.status().message(), kBadChallenge);
  // Another device's attempt cannot burn it: dev-1 still logs in with it.
  EXPECT_TRUE(Login("dev-1", next).ok());
}

TEST_F(NextChallengeTest, WrongSignatureConsumesIt) {
  std::string next = FullLogin("dev-1");
  ASSERT_FALSE(next.empty());
  Ed25519KeyPair other = *Ed25519KeyPair::Generate();
  auto wrong = Login("dev-1", next, &other);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(),
            "signature does not verify with the registered key of device dev-1");
  auto late = Login("dev-1", next);
  EXPECT_EQ(late.status().message(), kBadChallenge);
}

TEST_F(NextChallengeTest, ExpiredIsRefusedJustBeforeExpiryWorks) {
  std::string next = FullLogin("dev-1");
  clock_.Advance(kNextTtl - absl::Seconds(1));
  auto in_time = Login("dev-1", next);
  ASSERT_TRUE(in_time.ok()) << in_time.status();
  next = in_time->next_challenge->nonce;
  clock_.Advance(kNextTtl);
  auto expired = Login("dev-1", next);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), kBadChallenge);
}

TEST_F(NextChallengeTest, ANewerOneReplacesTheOlder) {
  std::string older = FullLogin("dev-1");
  std::string newer = FullLogin("dev-1");
  ASSERT_FALSE(older.empty());
  EXPECT_EQ(challenges_.next_size(), 1u);  // one per device, however many logins
  EXPECT_EQ(Login("dev-1", older).status().message(), kBadChallenge);
  EXPECT_TRUE(Login("dev-1", newer).ok());
}

TEST_F(NextChallengeTest, DisabledWithTtlZero) {
  service_ = NewService(absl::ZeroDuration());
  ChallengeRequest r;
  r.device_id = "dev-1";
  auto challenge = service_->GetChallenge(r);
  ASSERT_TRUE(challenge.ok());
  auto login = Login("dev-1", challenge->nonce);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_FALSE(login->next_challenge.has_value());
  EXPECT_EQ(challenges_.size(), 0u);
  // Under a second (but not 0) is a mistake, not "disabled".
  EXPECT_EQ(AuthService::Create({.registry = &registry_,
                                 .challenges = &challenges_,
                                 .api_keys = &api_keys_,
                                 .keys = ring_.get(),
                                 .clock = &clock_,
                                 .next_challenge_ttl = absl::Milliseconds(500)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NextChallengeTest, RevokedDeviceIsRefusedAndItsNextChallengeIsSpent) {
  std::string next = FullLogin("dev-1");
  ASSERT_FALSE(next.empty());
  ASSERT_TRUE(
      registry_.Transition("dev-1", {DeviceStatus::kAccepted}, DeviceStatus::kRevoked, {}).ok());
  auto revoked = Login("dev-1", next);
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(revoked.status().message(),
            "device dev-1 is revoked; only accepted devices may log in");
  // Accepted again, the device cannot use the old one: the refused attempt
  // consumed it.
  ASSERT_TRUE(
      registry_.Transition("dev-1", {DeviceStatus::kRevoked}, DeviceStatus::kAccepted, {}).ok());
  EXPECT_EQ(Login("dev-1", next).status().message(), kBadChallenge);
  EXPECT_EQ(challenges_.next_size(), 0u);
}

TEST_F(NextChallengeTest, LoginsWithItCountAgainstTheRateLimit) {
  // Start of a rate window (fixed minutes), so all attempts fall in one.
  clock_.Advance(absl::Milliseconds(60000 - absl::ToUnixMillis(clock_.Now()) % 60000) +
                 absl::Seconds(1));
  std::string next = FullLogin("dev-1");  // 2 attempts
  for (int i = 0; i < 4; ++i) {           // 4 more: the limit of 6
    auto login = Login("dev-1", next);
    ASSERT_TRUE(login.ok()) << i << " " << login.status();
    next = login->next_challenge->nonce;
  }
  auto refused = Login("dev-1", next);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  // Refused before the store was touched: the next challenge still works
  // once the window is open again.
  clock_.Advance(absl::Minutes(1));
  EXPECT_TRUE(Login("dev-1", next).ok());
}

}  // namespace
}  // namespace updraft
