#include "services/auth/auth_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

using ::testing::HasSubstr;

double Counter(prometheus::Registry& registry, const std::string& name, const std::string& label,
               const std::string& value) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == label && l.value == value) return m.counter.value;
      }
    }
  }
  return 0;
}

double Logins(prometheus::Registry& registry, const std::string& result) {
  return Counter(registry, "updraft_auth_logins_total", "result", result);
}

ChallengeRequest Req(const std::string& id, const std::string& source = "10.0.0.1") {
  ChallengeRequest r;
  r.device_id = id;
  r.source = source;
  return r;
}

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest()
      : registry_(&audit_),
        challenges_(&clock_),
        api_keys_(&audit_),
        rate_limiter_(&clock_),
        device_key_(*Ed25519KeyPair::Generate()) {
    ring_ = *SigningKeyRing::Create({.store = &signing_keys_,
                                     .clock = &clock_,
                                     .token_ttl = absl::Minutes(15),
                                     .max_token_ttl = absl::Minutes(15)});
    EXPECT_TRUE(ring_->Seed(*Ed25519KeyPair::Generate(), "test").ok());
    service_ = *AuthService::Create({.registry = &registry_,
                                     .challenges = &challenges_,
                                     .api_keys = &api_keys_,
                                     .keys = ring_.get(),
                                     .clock = &clock_,
                                     .rate_limiter = &rate_limiter_,
                                     .per_device = {5, absl::Minutes(1)},
                                     .per_source = {8, absl::Minutes(1)},
                                     .challenge_ttl = absl::Seconds(60),
                                     .metrics = &metrics_});
  }

  void Register(const std::string& id, DeviceStatus status = DeviceStatus::kAccepted,
                KeyType type = KeyType::kEd25519, const std::string& key = "") {
    DeviceRecord d;
    d.device_id = id;
    d.key_type = type;
    d.public_key = key.empty() ? device_key_.public_key() : key;
    d.status = status;
    d.created_at = d.updated_at = clock_.Now();
    ASSERT_TRUE(registry_.Register(d, AuditEntry()).ok());
  }

  std::string Sign(const std::string& id, const std::string& nonce,
                   const Ed25519KeyPair* key = nullptr) {
    return *(key ? key : &device_key_)->Sign(LoginMessage(id, nonce));
  }

  absl::StatusOr<DeviceLogin> Login(const std::string& id, const std::string& nonce,
                                    const std::string& sig,
                                    const std::string& source = "10.0.0.1") {
    return service_->Login({id, nonce, sig, source});
  }

  // GetChallenge, sign, Login with the test device key.
  absl::StatusOr<DeviceLogin> FullLogin(const std::string& id) {
    auto c = service_->GetChallenge(Req(id));
    if (!c.ok()) return c.status();
    return Login(id, c->nonce, Sign(id, c->nonce));
  }

  TokenVerifier Verifier(absl::string_view audience = kDeviceAudience) {
    for (const TokenKey& k : service_->PublicKeys()) keys_.Add(k.public_key);
    return TokenVerifier(&keys_, &clock_, std::string(audience));
  }

  FakeClock clock_;
  FakeAuditLog audit_;
  FakeDeviceRegistry registry_;
  FakeChallengeStore challenges_;
  FakeApiKeyStore api_keys_;
  FakeSigningKeyStore signing_keys_;
  FakeRateLimiter rate_limiter_;
  prometheus::Registry metrics_;
  StaticKeySource keys_;
  std::unique_ptr<SigningKeyRing> ring_;
  Ed25519KeyPair device_key_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, LoginIssuesTokenThatVerifies) {
  Register("dev-1");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->nonce.size(), 32u);
  EXPECT_EQ(challenge->expires_at, clock_.Now() + absl::Seconds(60));

  auto token = Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token.expires_at, clock_.Now() + absl::Minutes(15));

  std::vector<TokenKey> published = service_->PublicKeys();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].key_id, KeyIdFor(published[0].public_key));
  TokenVerifier verifier = Verifier();
  auto claims = verifier.Verify(token->token.token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "dev-1");
  EXPECT_EQ(claims->audience, kDeviceAudience);
  EXPECT_EQ(claims->key_id, published[0].key_id);
  EXPECT_EQ(claims->role, "");
  EXPECT_EQ(Logins(metrics_, "ok"), 1);
  EXPECT_EQ(Counter(metrics_, "updraft_auth_tokens_issued_total", "audience", "updraft-device"), 1);
}

TEST_F(AuthServiceTest, P256DeviceLogsIn) {
  EcdsaP256KeyPair p256 = *EcdsaP256KeyPair::Generate();
  Register("dev-p", DeviceStatus::kAccepted, KeyType::kEcdsaP256, p256.public_key());
  auto challenge = service_->GetChallenge(Req("dev-p"));
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  std::string sig = *p256.Sign(LoginMessage("dev-p", challenge->nonce));
  ASSERT_EQ(sig.size(), 64u);
  auto token = Login("dev-p", challenge->nonce, sig);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(Verifier().Verify(token->token.token)->subject, "dev-p");

  // An Ed25519 signature does not pass for the P-256 device.
  challenge = service_->GetChallenge(Req("dev-p"));
  auto bad = Login("dev-p", challenge->nonce, Sign("dev-p", challenge->nonce));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, NoncesAreRandom) {
  Register("dev-1");
  auto a = service_->GetChallenge(Req("dev-1"));
  auto b = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_EQ(challenges_.size(), 2u);
}

TEST_F(AuthServiceTest, UnknownDeviceWithoutKeyIsNotFound) {
  auto challenge = service_->GetChallenge(Req("ghost"));
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(challenge.status().message(), "device ghost is not registered");
  EXPECT_EQ(Logins(metrics_, "unknown_device"), 1);
  EXPECT_EQ(challenges_.size(), 0u);
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(AuthServiceTest, UnknownDeviceWithKeyBecomesPendingAndIsRefused) {
  ChallengeRequest r = Req("new-phone");
  EcdsaP256KeyPair p256 = *EcdsaP256KeyPair::Generate();
  r.public_key = p256.public_key();
  r.key_type = KeyType::kEcdsaP256;
  auto challenge = service_->GetChallenge(r);
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(challenge.status().message(), "device new-phone is pending operator approval");
  auto stored = registry_.Get("new-phone");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status, DeviceStatus::kPending);
  EXPECT_EQ(stored->key_type, KeyType::kEcdsaP256);
  EXPECT_EQ(stored->public_key, p256.public_key());
  EXPECT_EQ(stored->created_at, clock_.Now());
  ASSERT_EQ(audit_.entries().size(), 1u);
  EXPECT_EQ(audit_.entries()[0].action, "self_register_device");
  EXPECT_EQ(audit_.entries()[0].actor, "device new-phone");
  EXPECT_THAT(audit_.entries()[0].detail, HasSubstr("source=10.0.0.1"));
  EXPECT_EQ(Logins(metrics_, "pending_recorded"), 1);

  // Asking again (even with another key) changes nothing.
  r.public_key = Ed25519KeyPair::Generate()->public_key();
  r.key_type = KeyType::kEd25519;
  EXPECT_EQ(service_->GetChallenge(r).status().message(),
            "device new-phone is pending operator approval");
  EXPECT_EQ(registry_.Get("new-phone")->public_key, p256.public_key());
  EXPECT_EQ(audit_.entries().size(), 1u);
  EXPECT_EQ(challenges_.size(), 0u);
}

TEST_F(AuthServiceTest, PresentedKeyMustBeWellFormed) {
  ChallengeRequest r = Req("new-phone");
  r.public_key = std::string(31, 'k');
  auto c = service_->GetChallenge(r);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("public_key"));
  r.public_key = std::string(65, '\x04');
  r.key_type = KeyType::kEcdsaP256;
  c = service_->GetChallenge(r);
  EXPECT_EQ(c.status().message(), "public_key: the P-256 public key is not a point on the curve");
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(AuthServiceTest, KnownDeviceIgnoresPresentedKey) {
  Register("dev-1");
  ChallengeRequest r = Req("dev-1");
  r.public_key = Ed25519KeyPair::Generate()->public_key();
  auto c = service_->GetChallenge(r);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(registry_.Get("dev-1")->public_key, device_key_.public_key());
  EXPECT_TRUE(Login("dev-1", c->nonce, Sign("dev-1", c->nonce)).ok());
}

TEST_F(AuthServiceTest, InvalidDeviceIdsAreRejected) {
  Register("dev-1");
  const std::string nonce(32, 'n');
  const std::string sig(64, 's');
  for (const std::string& id :
       {std::string(""), std::string(129, 'a'), std::string("dev 1"), std::string("dev/1"),
        std::string("dév"), std::string("dev\0x", 5), std::string("\xff\xfe")}) {
    EXPECT_EQ(service_->GetChallenge(Req(id)).status().code(), absl::StatusCode::kInvalidArgument)
        << id;
    EXPECT_EQ(Login(id, nonce, sig).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(std::string(service_->GetChallenge(Req("dev 1")).status().message()),
              HasSubstr("device_id"));
}

TEST_F(AuthServiceTest, WrongSignatureIsUnauthenticatedAndConsumesChallenge) {
  Register("dev-1");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok());
  Ed25519KeyPair other = *Ed25519KeyPair::Generate();
  auto login = Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce, &other));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(),
            "signature does not verify with the registered key of device dev-1");
  EXPECT_EQ(Logins(metrics_, "bad_signature"), 1);

  // The right signature is now too late: the challenge is gone.
  login = Login("dev-1", challenge->nonce, Sign("dev-1", challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, SignatureOverAnotherMessageIsRejected) {
  Register("dev-1");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok());
  auto login = Login("dev-1", challenge->nonce, *device_key_.Sign(challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, MalformedNonceOrSignatureIsInvalidArgumentAndKeepsChallenge) {
  Register("dev-1");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok());
  std::string sig = Sign("dev-1", challenge->nonce);
  auto login = Login("dev-1", challenge->nonce.substr(1), sig);
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(login.status().message()), HasSubstr("nonce"));
  login = Login("dev-1", challenge->nonce, sig + "x");
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(login.status().message()), HasSubstr("signature"));
  login = Login("dev-1", challenge->nonce, "");
  EXPECT_EQ(login.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Login("dev-1", challenge->nonce, sig).ok());
}

TEST_F(AuthServiceTest, ReplayedChallengeIsRejected) {
  Register("dev-1");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok());
  std::string sig = Sign("dev-1", challenge->nonce);
  ASSERT_TRUE(Login("dev-1", challenge->nonce, sig).ok());
  auto again = Login("dev-1", challenge->nonce, sig);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(again.status().message(), "challenge is unknown, expired or already used");
  EXPECT_EQ(Logins(metrics_, "ok"), 1);
  EXPECT_EQ(Logins(metrics_, "bad_challenge"), 1);
}

TEST_F(AuthServiceTest, ChallengeOfAnotherDeviceIsRejected) {
  Register("dev-1");
  Register("dev-2");
  auto challenge = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(challenge.ok());
  // Same key for both devices: only the challenge binding stops this.
  auto login = Login("dev-2", challenge->nonce, Sign("dev-2", challenge->nonce));
  EXPECT_EQ(login.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, ExpiredChallengeIsRejectedJustBeforeExpiryWorks) {
  Register("dev-1");
  auto a = service_->GetChallenge(Req("dev-1"));
  auto b = service_->GetChallenge(Req("dev-1"));
  ASSERT_TRUE(a.ok() && b.ok());
  clock_.Advance(absl::Seconds(59));
  EXPECT_TRUE(Login("dev-1", a->nonce, Sign("dev-1", a->nonce)).ok());
  clock_.Advance(absl::Seconds(1));
  auto login = Login("dev-1", b->nonce, Sign("dev-1", b->nonce));
  EXPECT_EQ(login.status().message(), "challenge is unknown, expired or already used");
}

TEST_F(AuthServiceTest, NonAcceptedDeviceIsPermissionDenied) {
  Register("dev-pending", DeviceStatus::kPending);
  EXPECT_EQ(service_->GetChallenge(Req("dev-pending")).status().message(),
            "device dev-pending is pending operator approval");
  for (DeviceStatus status : {DeviceStatus::kRejected, DeviceStatus::kRevoked}) {
    std::string id = absl::StrCat("dev-", DeviceStatusName(status));
    Register(id, status);
    auto challenge = service_->GetChallenge(Req(id));
    EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(challenge.status().message(),
              absl::StrCat("device ", id, " is ", DeviceStatusName(status),
                           "; only accepted devices may log in"));
  }
  EXPECT_EQ(challenges_.size(), 0u);
}

TEST_F(AuthServiceTest, PerDeviceRateLimitGivesRetryDelay) {
  Register("dev-1");
  clock_.Advance(absl::Seconds(20) - absl::Milliseconds(absl::ToUnixMillis(clock_.Now()) % 60000));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(service_->GetChallenge(Req("dev-1")).ok()) << i;
  auto refused = service_->GetChallenge(Req("dev-1"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "too many login attempts for device dev-1; retry in 40 s");
  auto payload = refused.status().GetPayload(kRetryAfterPayload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "40000");
  // Login counts too.
  EXPECT_EQ(Login("dev-1", std::string(32, 'n'), std::string(64, 's')).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Counter(metrics_, "updraft_auth_rate_limited_total", "scope", "device"), 2);
  // Another device is not affected; the next window is open again.
  Register("dev-2");
  EXPECT_TRUE(service_->GetChallenge(Req("dev-2")).ok());
  clock_.Advance(absl::Seconds(40));
  EXPECT_TRUE(FullLogin("dev-1").ok());
}

TEST_F(AuthServiceTest, PerSourceRateLimitSpansDevices) {
  for (int i = 0; i < 8; ++i) {
    std::string id = absl::StrCat("dev-", i);
    Register(id);
    ASSERT_TRUE(service_->GetChallenge(Req(id, "192.0.2.9")).ok());
  }
  auto refused = service_->GetChallenge(Req("dev-0", "192.0.2.9"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("too many login attempts from 192.0.2.9; retry in"));
  EXPECT_TRUE(service_->GetChallenge(Req("dev-0", "192.0.2.10")).ok());
}

TEST_F(AuthServiceTest, OperatorLoginIssuesRoleTokenAndRefusesBadOrRevokedKeys) {
  std::string raw = RandomBytes(32);
  ApiKeyRecord key;
  key.key_id = "ak_1";
  key.name = "release-bot";
  key.role = Role::kPublisher;
  key.key_hash = Sha256(raw);
  ASSERT_TRUE(api_keys_.Create(key, AuditEntry()).ok());
  auto token = service_->OperatorLogin(absl::WebSafeBase64Escape(raw), "10.0.0.1");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->role, Role::kPublisher);
  EXPECT_EQ(token->key_id, "ak_1");
  EXPECT_EQ(token->token.expires_at, clock_.Now() + absl::Minutes(10));
  auto claims = Verifier(kOperatorAudience).Verify(token->token.token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "ak_1");
  EXPECT_EQ(claims->role, "publisher");
  // Not a device token.
  EXPECT_FALSE(Verifier().Verify(token->token.token).ok());

  for (std::string bad :
       {std::string(""), std::string("!!"), absl::WebSafeBase64Escape(RandomBytes(32)),
        absl::WebSafeBase64Escape(RandomBytes(31))}) {
    auto refused = service_->OperatorLogin(bad, "10.0.0.1");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(refused.status().message(), "invalid API key");
  }
  ASSERT_TRUE(api_keys_.Revoke("ak_1", AuditEntry{.at = clock_.Now()}).ok());
  auto revoked = service_->OperatorLogin(absl::WebSafeBase64Escape(raw), "10.0.0.1");
  EXPECT_EQ(revoked.status().message(), "API key ak_1 is revoked");
}

}  // namespace
}  // namespace updraft
