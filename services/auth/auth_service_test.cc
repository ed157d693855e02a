#include "services/auth/auth_service.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/fakes.h"
#include "services/auth/mocks.h"

namespace updraft {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;

// absl::string_view is not std::string_view here, so gMock needs the type spelled out.
::testing::Matcher<absl::string_view> Sv(const std::string& s) { return ::testing::Eq(s); }

double Counter(prometheus::Registry& registry, const std::string& result) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "updraft_auth_logins_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == "result" && l.value == result) return m.counter.value;
      }
    }
  }
  return -1;
}

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest()
      : registry_(&clock_),
        challenges_(&clock_),
        signer_(*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)),
        device_key_(*Ed25519KeyPair::Generate()) {
    service_ = *AuthService::Create({.registry = &registry_,
                                     .challenges = &challenges_,
                                     .clock = &clock_,
                                     .signer = &signer_,
                                     .challenge_ttl = absl::Seconds(60),
                                     .metrics = &metrics_});
  }

  void RegisterDevice(const std::string& id) {
    auto d = service_->RegisterDevice(id, device_key_.public_key(), {{"model", "X1"}});
    ASSERT_TRUE(d.ok()) << d.status();
  }

  std::string Sign(const std::string& id, const std::string& nonce,
                   const Ed25519KeyPair* key = nullptr) {
    return *(key ? key : &device_key_)->Sign(LoginMessage(id, nonce));
  }

  FakeClock clock_;
  FakeDeviceRegistry registry_;
  FakeChallengeStore challenges_;
  TokenSigner signer_;
  prometheus::Registry metrics_;
  Ed25519KeyPair device_key_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, LoginIssuesTokenThatVerifies) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->nonce.size(), 32u);
  EXPECT_EQ(challenge->expires_at, clock_.Now() + absl::Seconds(60));

  auto token = service_->Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_at, clock_.Now() + absl::Minutes(15));

  StaticKeySource keys;
  std::vector<TokenKey> published = service_->PublicKeys();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].key_id, KeyIdFor(published[0].public_key));
  keys.Add(published[0].public_key);
  TokenVerifier verifier(&keys, &clock_, std::string(kDeviceAudience));
  auto claims = verifier.Verify(token->token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "dev-1");
  EXPECT_EQ(claims->audience, kDeviceAudience);
  EXPECT_EQ(claims->key_id, published[0].key_id);
  EXPECT_EQ(Counter(metrics_, "ok"), 1);
}

TEST_F(AuthServiceTest, NoncesAreRandom) {
  RegisterDevice("dev-1");
  auto a = service_->GetChallenge("dev-1");
  auto b = service_->GetChallenge("dev-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_EQ(challenges_.size(), 2u);
}

TEST_F(AuthServiceTest, UnknownDeviceIsNotFound) {
  auto challenge = service_->GetChallenge("ghost");
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(challenge.status().message(), "device ghost is not registered");
  EXPECT_EQ(service_->GetDevice("ghost").status().message(), "device ghost is not registered");
  EXPECT_EQ(Counter(metrics_, "unknown_device"), 1);
  EXPECT_EQ(challenges_.size(), 0u);
}

TEST_F(AuthServiceTest, InvalidDeviceIdsAreRejected) {
  RegisterDevice("dev-1");
  const std::string nonce(32, 'n');
  const std::string sig(64, 's');
  for (const std::string& id :
       {std::string(""), std::string(129, 'a'), std::string("dev 1"), std::string("dev/1"),
        std::string("dév"), std::string("dev\0x", 5), std::string("\xff\xfe")}) {
    EXPECT_EQ(service_->GetChallenge(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(service_->Login(id, nonce, sig).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(service_->RegisterDevice(id, device_key_.public_key(), {}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(service_->GetDevice(id).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(std::string(service_->GetChallenge("dev 1").status().message()),
              HasSubstr("device_id"));
  EXPECT_TRUE(service_->GetDevice(std::string(128, 'a') + "").status().code() ==
              absl::StatusCode::kNotFound);
  EXPECT_TRUE(service_->RegisterDevice("A-z.0_9:x", device_key_.public_key(), {}).ok());
}

TEST_F(AuthServiceTest, WrongSignatureIsUnauthenticatedAndConsumesChallenge) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  Ed25519KeyPair other = *Ed25519KeyPair::Generate();
  auto login = service_->Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce, &other));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(),
            "signature does not verify with the registered key of device dev-1");
  EXPECT_EQ(Counter(metrics_, "bad_signature"), 1);

  // The right signature is now too late: the challenge is gone.
  login = service_->Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, SignatureOverAnotherMessageIsRejected) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  auto login = service_->Login("dev-1", challenge->nonce, *device_key_.Sign(challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, MalformedNonceOrSignatureIsInvalidArgumentAndKeepsChallenge) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  std::string sig = Sign("dev-1", challenge->nonce);
  auto login = service_->Login("dev-1", challenge->nonce.substr(1), sig);
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(login.status().message()), HasSubstr("nonce"));
  login = service_->Login("dev-1", challenge->nonce, sig + "x");
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(login.status().message()), HasSubstr("signature"));
  login = service_->Login("dev-1", challenge->nonce, "");
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->Login("dev-1", challenge->nonce, sig).ok());
}

TEST_F(AuthServiceTest, ReusedChallengeIsRejected) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  std::string sig = Sign("dev-1", challenge->nonce);
  ASSERT_TRUE(service_->Login("dev-1", challenge->nonce, sig).ok());
  auto again = service_->Login("dev-1", challenge->nonce, sig);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(again.status().message(), "challenge is unknown, expired or already used");
  EXPECT_EQ(Counter(metrics_, "ok"), 1);
  EXPECT_EQ(Counter(metrics_, "bad_challenge"), 1);
}

TEST_F(AuthServiceTest, UnknownNonceIsRejected) {
  RegisterDevice("dev-1");
  std::string nonce(32, '\x01');
  auto login = service_->Login("dev-1", nonce, Sign("dev-1", nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, ChallengeOfAnotherDeviceIsRejected) {
  RegisterDevice("dev-1");
  ASSERT_TRUE(service_->RegisterDevice("dev-2", device_key_.public_key(), {}).ok());
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  // Same key for both devices: only the challenge binding stops this.
  auto login = service_->Login("dev-2", challenge->nonce, Sign("dev-2", challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
  EXPECT_EQ(Counter(metrics_, "bad_challenge"), 1);
}

TEST_F(AuthServiceTest, ExpiredChallengeIsRejected) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  clock_.Advance(absl::Seconds(60));
  auto login = service_->Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, ChallengeJustBeforeExpiryWorks) {
  RegisterDevice("dev-1");
  auto challenge = service_->GetChallenge("dev-1");
  ASSERT_TRUE(challenge.ok());
  clock_.Advance(absl::Seconds(59));
  EXPECT_TRUE(service_->Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce)).ok());
}

TEST_F(AuthServiceTest, NonAcceptedDeviceIsPermissionDenied) {
  for (DeviceStatus status :
       {DeviceStatus::kPending, DeviceStatus::kRejected, DeviceStatus::kRevoked}) {
    DeviceRecord d;
    d.device_id = absl::StrCat("dev-", DeviceStatusName(status));
    d.public_key = device_key_.public_key();
    d.status = status;
    ASSERT_TRUE(registry_.Register(d).ok());
    auto challenge = service_->GetChallenge(d.device_id);
    EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(challenge.status().message(),
              absl::StrCat("device ", d.device_id, " is ", DeviceStatusName(status),
                           "; only accepted devices may log in"));
  }
  EXPECT_EQ(challenges_.size(), 0u);
}

TEST_F(AuthServiceTest, RegisterStoresAcceptedDeviceWithAttributes) {
  auto d = service_->RegisterDevice("dev-1", device_key_.public_key(),
                                    {{"model", "X1"}, {"carrier", "Ünïcode \"quoted\""}});
  ASSERT_TRUE(d.ok()) << d.status();
  auto got = service_->GetDevice("dev-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, DeviceStatus::kAccepted);
  EXPECT_EQ(got->public_key, device_key_.public_key());
  EXPECT_EQ(got->attributes.at("carrier"), "Ünïcode \"quoted\"");
  EXPECT_EQ(got->created_at, clock_.Now());
}

TEST_F(AuthServiceTest, RegisterRejectsBadKeyLength) {
  for (size_t n : {0, 31, 33, 64}) {
    auto d = service_->RegisterDevice("dev-1", std::string(n, 'k'), {});
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("ed25519_public_key"));
  }
  EXPECT_EQ(service_->GetDevice("dev-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthServiceTest, RegisterRejectsBadAttributes) {
  const std::string key = device_key_.public_key();
  std::map<std::string, std::string> too_many;
  for (int i = 0; i < 65; ++i) too_many[absl::StrCat("k", i)] = "v";
  for (const auto& attrs :
       std::vector<std::map<std::string, std::string>>{too_many,
                                                       {{"", "v"}},
                                                       {{"bad key", "v"}},
                                                       {{std::string(65, 'k'), "v"}},
                                                       {{"k", std::string(1025, 'v')}},
                                                       {{"k", std::string("a\0b", 3)}},
                                                       {{"k", "\xc3"}},
                                                       {{"k", "\xed\xa0\x80"}},
                                                       {{"k", "\xc0\xaf"}}}) {
    auto d = service_->RegisterDevice("dev-1", key, attrs);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("attributes"));
  }
  EXPECT_EQ(service_->GetDevice("dev-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthServiceTest, DuplicateRegisterIsAlreadyExists) {
  RegisterDevice("dev-1");
  Ed25519KeyPair other = *Ed25519KeyPair::Generate();
  auto d = service_->RegisterDevice("dev-1", other.public_key(), {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(d.status().message(), "device dev-1 is already registered");
  EXPECT_EQ(service_->GetDevice("dev-1")->public_key, device_key_.public_key());
}

TEST(AuthServiceCreateTest, RequiresDependencies) {
  FakeClock clock;
  FakeDeviceRegistry registry(&clock);
  FakeChallengeStore challenges(&clock);
  TokenSigner signer(*Ed25519KeyPair::Generate(), &clock, absl::Minutes(15));
  EXPECT_EQ(AuthService::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuthService::Create({.registry = &registry, .challenges = &challenges, .clock = &clock})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuthService::Create({.registry = &registry,
                                 .challenges = &challenges,
                                 .clock = &clock,
                                 .signer = &signer,
                                 .challenge_ttl = absl::ZeroDuration()})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      AuthService::Create(
          {.registry = &registry, .challenges = &challenges, .clock = &clock, .signer = &signer})
          .ok());
}

// Store failures with mocks: errors pass through unchanged and nothing is
// issued.
class AuthServiceStoreFailureTest : public ::testing::Test {
 protected:
  AuthServiceStoreFailureTest()
      : signer_(*Ed25519KeyPair::Generate(), &clock_, absl::Minutes(15)),
        device_key_(*Ed25519KeyPair::Generate()) {
    service_ = *AuthService::Create(
        {.registry = &registry_, .challenges = &challenges_, .clock = &clock_, .signer = &signer_});
    device_.device_id = "dev-1";
    device_.public_key = device_key_.public_key();
    device_.status = DeviceStatus::kAccepted;
  }

  FakeClock clock_;
  MockDeviceRegistry registry_;
  MockChallengeStore challenges_;
  TokenSigner signer_;
  Ed25519KeyPair device_key_;
  DeviceRecord device_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceStoreFailureTest, RegistryUnavailable) {
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(absl::UnavailableError("db down")));
  EXPECT_CALL(challenges_, Put(_, _, _)).Times(0);
  EXPECT_EQ(service_->GetChallenge("dev-1").status(), absl::UnavailableError("db down"));
}

TEST_F(AuthServiceStoreFailureTest, ChallengeStoreUnavailableOnPut) {
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(device_));
  EXPECT_CALL(challenges_, Put(_, Sv("dev-1"), absl::Seconds(60)))
      .WillOnce(Return(absl::UnavailableError("redis down")));
  EXPECT_EQ(service_->GetChallenge("dev-1").status(), absl::UnavailableError("redis down"));
}

TEST_F(AuthServiceStoreFailureTest, ChallengeStoreUnavailableOnTake) {
  std::string nonce(32, 'n');
  EXPECT_CALL(challenges_, Take(Sv(nonce))).WillOnce(Return(absl::UnavailableError("redis down")));
  EXPECT_CALL(registry_, Get(_)).Times(0);
  auto login = service_->Login("dev-1", nonce, *device_key_.Sign(LoginMessage("dev-1", nonce)));
  EXPECT_EQ(login.status(), absl::UnavailableError("redis down"));
}

TEST_F(AuthServiceStoreFailureTest, DeviceRevokedBetweenChallengeAndLogin) {
  std::string nonce(32, 'n');
  device_.status = DeviceStatus::kRevoked;
  EXPECT_CALL(challenges_, Take(Sv(nonce))).WillOnce(Return(std::optional<std::string>("dev-1")));
  EXPECT_CALL(registry_, Get(Sv("dev-1"))).WillOnce(Return(device_));
  auto login = service_->Login("dev-1", nonce, *device_key_.Sign(LoginMessage("dev-1", nonce)));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthServiceStoreFailureTest, RegisterPassesValidatedRecord) {
  EXPECT_CALL(registry_, Register(_)).WillOnce([](const DeviceRecord& d) {
    EXPECT_EQ(d.device_id, "dev-1");
    EXPECT_EQ(d.status, DeviceStatus::kAccepted);
    EXPECT_EQ(d.attributes.at("a"), "b");
    return absl::StatusOr<DeviceRecord>(d);
  });
  EXPECT_TRUE(service_->RegisterDevice("dev-1", device_key_.public_key(), {{"a", "b"}}).ok());
}

}  // namespace
}  // namespace updraft
