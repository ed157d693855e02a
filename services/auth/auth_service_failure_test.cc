// AuthService with scripted store failures (gMock) and bad options: errors
// pass through unchanged and nothing is issued.
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/auth_service.h"
#include "services/auth/fakes.h"
#include "services/auth/mocks.h"

namespace updraft {
namespace {

using ::testing::_;
using ::testing::Return;

// absl::string_view is not std::string_view here, so gMock needs the type spelled out.
::testing::Matcher<absl::string_view> Sv(const std::string& s) { return ::testing::Eq(s); }

ChallengeRequest Req(const std::string& id) {
  ChallengeRequest r;
  r.device_id = id;
  r.source = "10.0.0.1";
  return r;
}

TEST(AuthServiceCreateTest, RequiresDependencies) {
  FakeClock clock;
  FakeDeviceRegistry registry;
  FakeChallengeStore challenges(&clock);
  FakeApiKeyStore api_keys;
  FakeSigningKeyStore store;
  auto ring = SigningKeyRing::Create({.store = &store, .clock = &clock});
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(AuthService::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  AuthService::Options o{.registry = &registry,
                         .challenges = &challenges,
                         .api_keys = &api_keys,
                         .keys = ring->get(),
                         .clock = &clock};
  EXPECT_TRUE(AuthService::Create(o).ok());
  AuthService::Options bad = o;
  bad.challenge_ttl = absl::ZeroDuration();
  EXPECT_EQ(AuthService::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.operator_token_ttl = absl::Hours(1);  // longer than the ring's max
  EXPECT_EQ(AuthService::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.next_challenge_ttl = absl::Seconds(-1);
  EXPECT_EQ(AuthService::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.per_device.max_attempts = -1;
  EXPECT_EQ(AuthService::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// Store failures with mocks: errors pass through unchanged and nothing is
// issued.
class AuthServiceStoreFailureTest : public ::testing::Test {
 protected:
  AuthServiceStoreFailureTest() : device_key_(*Ed25519KeyPair::Generate()) {
    ring_ = *SigningKeyRing::Create({.store = &signing_keys_, .clock = &clock_});
    EXPECT_TRUE(ring_->Seed(*Ed25519KeyPair::Generate(), "test").ok());
    service_ = *AuthService::Create({.registry = &registry_,
                                     .challenges = &challenges_,
                                     .api_keys = &api_keys_,
                                     .keys = ring_.get(),
                                     .clock = &clock_,
                                     .rate_limiter = &limiter_});
    device_.device_id = "dev-1";
    device_.public_key = device_key_.public_key();
    device_.status = DeviceStatus::kAccepted;
    ON_CALL(limiter_, Hit(_, _)).WillByDefault(Return(absl::ZeroDuration()));
  }

  FakeClock clock_;
  MockDeviceRegistry registry_;
  MockChallengeStore challenges_;
  ::testing::NiceMock<MockRateLimiter> limiter_;
  FakeApiKeyStore api_keys_;
  FakeSigningKeyStore signing_keys_;
  std::unique_ptr<SigningKeyRing> ring_;
  Ed25519KeyPair device_key_;
  DeviceRecord device_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceStoreFailureTest, RegistryUnavailable) {
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(absl::UnavailableError("db down")));
  EXPECT_CALL(challenges_, Put(_, _, _)).Times(0);
  EXPECT_EQ(service_->GetChallenge(Req("dev-1")).status(), absl::UnavailableError("db down"));
}

TEST_F(AuthServiceStoreFailureTest, RateLimiterUnavailableRefusesLogin) {
  EXPECT_CALL(limiter_, Hit(_, _)).WillOnce(Return(absl::UnavailableError("redis down")));
  EXPECT_CALL(registry_, Get(_)).Times(0);
  EXPECT_EQ(service_->GetChallenge(Req("dev-1")).status(), absl::UnavailableError("redis down"));
}

TEST_F(AuthServiceStoreFailureTest, ChallengeStoreUnavailableOnPut) {
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(device_));
  EXPECT_CALL(challenges_, Put(_, Sv("dev-1"), absl::Seconds(60)))
      .WillOnce(Return(absl::UnavailableError("redis down")));
  EXPECT_EQ(service_->GetChallenge(Req("dev-1")).status(), absl::UnavailableError("redis down"));
}

TEST_F(AuthServiceStoreFailureTest, ChallengeStoreUnavailableOnTake) {
  std::string nonce(32, 'n');
  EXPECT_CALL(challenges_, Take(Sv("dev-1"), Sv(nonce)))
      .WillOnce(Return(absl::UnavailableError("redis down")));
  EXPECT_CALL(registry_, Get(_)).Times(0);
  auto login =
      service_->Login({"dev-1", nonce, *device_key_.Sign(LoginMessage("dev-1", nonce)), "s"});
  EXPECT_EQ(login.status(), absl::UnavailableError("redis down"));
}

TEST_F(AuthServiceStoreFailureTest, DeviceRevokedBetweenChallengeAndLogin) {
  std::string nonce(32, 'n');
  device_.status = DeviceStatus::kRevoked;
  EXPECT_CALL(challenges_, Take(Sv("dev-1"), Sv(nonce)))
      .WillOnce(Return(TakenChallenge::kChallenge));
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(device_));
  auto login =
      service_->Login({"dev-1", nonce, *device_key_.Sign(LoginMessage("dev-1", nonce)), "s"});
  EXPECT_EQ(login.status().code(), absl::StatusCode::kPermissionDenied);
}

// The token is issued even when the next challenge cannot be stored: the
// device then makes two calls next time, and nothing unusable is handed out.
TEST_F(AuthServiceStoreFailureTest, NextChallengeStoreFailureStillIssuesTheToken) {
  auto service = *AuthService::Create({.registry = &registry_,
                                       .challenges = &challenges_,
                                       .api_keys = &api_keys_,
                                       .keys = ring_.get(),
                                       .clock = &clock_,
                                       .next_challenge_ttl = absl::Minutes(20)});
  std::string nonce(32, 'n');
  EXPECT_CALL(challenges_, Take(Sv("dev-1"), Sv(nonce)))
      .WillOnce(Return(TakenChallenge::kNextChallenge));
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(device_));
  EXPECT_CALL(challenges_, PutNext(Sv("dev-1"), _, absl::Minutes(20)))
      .WillOnce(Return(absl::UnavailableError("redis down")));
  auto login =
      service->Login({"dev-1", nonce, *device_key_.Sign(LoginMessage("dev-1", nonce)), "s"});
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_FALSE(login->token.token.empty());
  EXPECT_FALSE(login->next_challenge.has_value());
}

TEST_F(AuthServiceStoreFailureTest, PendingRaceWithAnotherReplicaReadsTheirRecord) {
  ChallengeRequest r = Req("dev-1");
  r.public_key = device_key_.public_key();
  DeviceRecord pending = device_;
  pending.status = DeviceStatus::kPending;
  EXPECT_CALL(registry_, Get(Sv("dev-1")))
      .WillOnce(Return(absl::NotFoundError("no")))
      .WillRepeatedly(Return(pending));
  EXPECT_CALL(registry_, Register(_, _))
      .WillOnce(Return(absl::AlreadyExistsError("device dev-1 is already registered")));
  EXPECT_EQ(service_->GetChallenge(r).status().message(),
            "device dev-1 is pending operator approval");
}

}  // namespace
}  // namespace updraft
