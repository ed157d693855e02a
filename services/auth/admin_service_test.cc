#include "services/auth/admin_service.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/revocation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/auth_service.h"
#include "services/auth/fakes.h"

namespace updraft {
namespace {

using ::testing::HasSubstr;

class AdminServiceTest : public ::testing::Test {
 protected:
  AdminServiceTest()
      : registry_(&audit_),
        challenges_(&clock_),
        api_keys_(&audit_),
        signing_keys_(&audit_),
        revocation_list_(&clock_),
        publisher_(&revocation_list_),
        device_key_(*Ed25519KeyPair::Generate()) {
    ring_ = *SigningKeyRing::Create({.store = &signing_keys_,
                                     .clock = &clock_,
                                     .token_ttl = absl::Minutes(15),
                                     .max_token_ttl = absl::Minutes(15),
                                     .activation_delay = absl::Seconds(30)});
    EXPECT_TRUE(ring_->Seed(*Ed25519KeyPair::Generate(), "bootstrap").ok());
    admin_ = *AdminService::Create({.registry = &registry_,
                                    .api_keys = &api_keys_,
                                    .audit = &audit_,
                                    .keys = ring_.get(),
                                    .revocations = &publisher_,
                                    .clock = &clock_});
    auth_ = *AuthService::Create({.registry = &registry_,
                                  .challenges = &challenges_,
                                  .api_keys = &api_keys_,
                                  .keys = ring_.get(),
                                  .clock = &clock_});
    // The operator calling: an admin key named "ops".
    ApiKeyRecord ops;
    ops.key_id = "ak_ops";
    ops.name = "ops";
    ops.role = Role::kAdmin;
    ops.key_hash = Sha256("ops");
    EXPECT_TRUE(api_keys_.Create(ops, AuditEntry()).ok());
    who_ = {"ak_ops", Role::kAdmin, "tok"};
  }

  absl::StatusOr<IssuedToken> Login(const std::string& id) {
    ChallengeRequest r;
    r.device_id = id;
    auto c = auth_->GetChallenge(r);
    if (!c.ok()) return c.status();
    auto login = auth_->Login({id, c->nonce, *device_key_.Sign(LoginMessage(id, c->nonce)), ""});
    if (!login.ok()) return login.status();
    return login->token;
  }

  // A device-token verifier over auth's published keys and the revocations
  // the fake publisher delivered.
  absl::StatusOr<AccessClaims> Verify(const std::string& token,
                                      absl::string_view audience = kDeviceAudience) {
    StaticKeySource keys;
    for (const TokenKey& k : auth_->PublicKeys()) keys.Add(k.public_key);
    TokenVerifier v({.keys = &keys,
                     .clock = &clock_,
                     .audience = std::string(audience),
                     .revocations = &revocation_list_});
    return v.Verify(token);
  }

  std::string Csv(int n, const std::string& prefix = "phone-") {
    std::string csv = "device_id,key_type,public_key,model\n";
    for (int i = 0; i < n; ++i) {
      absl::StrAppend(&csv, prefix, i, ",ed25519,",
                      absl::WebSafeBase64Escape(Ed25519KeyPair::Generate()->public_key()),
                      ",Pixel-", i % 3, "\n");
    }
    return csv;
  }

  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    for (const AuditEntry& e : audit_.entries()) out.push_back(e.action);
    return out;
  }

  FakeClock clock_;
  FakeAuditLog audit_;
  FakeDeviceRegistry registry_;
  FakeChallengeStore challenges_;
  FakeApiKeyStore api_keys_;
  FakeSigningKeyStore signing_keys_;
  RevocationList revocation_list_;
  FakeRevocationPublisher publisher_;
  std::unique_ptr<SigningKeyRing> ring_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<AuthService> auth_;
  OperatorIdentity who_;
  Ed25519KeyPair device_key_;
};

TEST_F(AdminServiceTest, RegisterAuditsWhoWhatWhen) {
  auto d = admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(),
                                  {{"model", "X1"}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->status, DeviceStatus::kAccepted);
  EXPECT_EQ(d->created_at, clock_.Now());
  AuditEntry e = audit_.entries().back();
  EXPECT_EQ(e.actor, "ops (ak_ops)");
  EXPECT_EQ(e.action, "register_device");
  EXPECT_EQ(e.device_id, "dev-1");
  EXPECT_EQ(e.at, clock_.Now());
  EXPECT_THAT(e.detail, HasSubstr("key_type=ed25519"));
  EXPECT_TRUE(Login("dev-1").ok());
}

TEST_F(AdminServiceTest, RegisterValidatesEveryField) {
  auto p256 = EcdsaP256KeyPair::Generate();
  EXPECT_TRUE(
      admin_->RegisterDevice(who_, "dev-p", KeyType::kEcdsaP256, p256->public_key(), {}).ok());
  for (size_t n : {0, 31, 33, 64}) {
    auto d = admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, std::string(n, 'k'), {});
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(std::string(d.status().message()), HasSubstr("public_key"));
  }
  EXPECT_EQ(admin_->RegisterDevice(who_, "dev-1", KeyType::kEcdsaP256, device_key_.public_key(), {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->RegisterDevice(who_, "dev 1", KeyType::kEd25519, device_key_.public_key(), {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto attrs = admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(),
                                      {{"bad key", "v"}});
  EXPECT_THAT(std::string(attrs.status().message()), HasSubstr("attributes"));
  EXPECT_EQ(admin_->GetDevice("dev-1").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {}).ok());
  auto dup = admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "device dev-1 is already registered");
}

TEST_F(AdminServiceTest, PendingDeviceFlow) {
  ChallengeRequest r;
  r.device_id = "new-phone";
  r.public_key = device_key_.public_key();
  EXPECT_EQ(auth_->GetChallenge(r).status().message(),
            "device new-phone is pending operator approval");
  auto pending = admin_->ListDevices("pending", "", 0);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].device_id, "new-phone");
  EXPECT_TRUE(admin_->ListDevices("accepted", "", 0)->empty());

  clock_.Advance(absl::Minutes(1));
  auto accepted = admin_->AcceptDevice(who_, "new-phone", "seen in the shop");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->status, DeviceStatus::kAccepted);
  EXPECT_EQ(accepted->updated_at, clock_.Now());
  EXPECT_EQ(audit_.entries().back().detail, "status=accepted reason=seen in the shop");
  auto token = Login("new-phone");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(Verify(token->token).ok());
  EXPECT_EQ(admin_->AcceptDevice(who_, "new-phone", "").status().message(),
            "device new-phone is accepted already");
}

TEST_F(AdminServiceTest, RejectOnlyPending) {
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {}).ok());
  auto r = admin_->RejectDevice(who_, "dev-1", "");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "device dev-1 is accepted; only a pending device can be rejected (revoke it instead)");
  EXPECT_EQ(admin_->RejectDevice(who_, "ghost", "").status().code(), absl::StatusCode::kNotFound);
  ChallengeRequest c;
  c.device_id = "new-phone";
  c.public_key = device_key_.public_key();
  auth_->GetChallenge(c).IgnoreError();
  ASSERT_TRUE(admin_->RejectDevice(who_, "new-phone", "unknown model").ok());
  EXPECT_EQ(auth_->GetChallenge(c).status().message(),
            "device new-phone is rejected; only accepted devices may log in");
  EXPECT_EQ(admin_->RejectDevice(who_, "new-phone", std::string(600, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AdminServiceTest, RevokeDevicePublishesAndTokensStopWorking) {
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {}).ok());
  auto token = Login("dev-1");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(Verify(token->token).ok());
  clock_.Advance(absl::Seconds(5));
  auto revoked = admin_->RevokeDevice(who_, "dev-1", "stolen");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->status, DeviceStatus::kRevoked);
  ASSERT_EQ(publisher_.published().size(), 1u);
  Revocation sent = publisher_.published()[0];
  EXPECT_EQ(sent.kind, Revocation::Kind::kSubject);
  EXPECT_EQ(sent.audience, kDeviceAudience);
  EXPECT_EQ(sent.id, "dev-1");
  EXPECT_EQ(sent.expires_at, clock_.Now() + absl::Minutes(15));
  EXPECT_EQ(Verify(token->token).status().message(), "device dev-1 is revoked");
  EXPECT_EQ(Login("dev-1").status().code(), absl::StatusCode::kPermissionDenied);
  // Revoking again publishes again (a failed publication can be retried).
  ASSERT_TRUE(admin_->RevokeDevice(who_, "dev-1", "").ok());
  EXPECT_EQ(publisher_.published().size(), 2u);
  // Accepted again later: new tokens work, the old one stays revoked.
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(admin_->AcceptDevice(who_, "dev-1", "recovered").ok());
  auto fresh = Login("dev-1");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(Verify(fresh->token).ok());
  EXPECT_FALSE(Verify(token->token).ok());
}

TEST_F(AdminServiceTest, RevokeTokenPublishesTokenId) {
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {}).ok());
  auto a = Login("dev-1");
  auto b = Login("dev-1");
  ASSERT_TRUE(a.ok() && b.ok());
  auto until = admin_->RevokeToken(who_, a->token_id, "leaked in a log");
  ASSERT_TRUE(until.ok()) << until.status();
  EXPECT_EQ(*until, clock_.Now() + absl::Minutes(15));
  EXPECT_EQ(Verify(a->token).status().message(), "access token revoked");
  EXPECT_TRUE(Verify(b->token).ok());
  EXPECT_EQ(audit_.entries().back().action, "revoke_token");
  for (const char* bad : {"", "xyz", "0123 45"}) {
    EXPECT_EQ(admin_->RevokeToken(who_, bad, "").status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(AdminServiceTest, ImportThousandsInOneGo) {
  auto n = admin_->ImportDevices(who_, Csv(2000));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2000);
  auto d = admin_->GetDevice("phone-1999");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, DeviceStatus::kAccepted);
  EXPECT_EQ(d->attributes.at("model"), "Pixel-1");
  EXPECT_EQ(audit_.entries().back().action, "import_device");
  EXPECT_EQ(audit_.entries().back().actor, "ops (ak_ops)");
}

TEST_F(AdminServiceTest, BadRowImportsNothingAndNamesTheRow) {
  std::string csv = Csv(5);
  csv += "phone-x,ed25519,not*base64,Pixel\n";
  auto n = admin_->ImportDevices(who_, csv);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(n.status().message(), "row 7: public_key is not base64url");
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(AdminServiceTest, ExistingDeviceInImportIsAlreadyExistsNamingTheRow) {
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "phone-3", KeyType::kEd25519, device_key_.public_key(), {})
          .ok());
  auto n = admin_->ImportDevices(who_, Csv(10));
  EXPECT_EQ(n.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(n.status().message(), "row 5: device phone-3 is already registered; nothing imported");
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(AdminServiceTest, ApiKeysAreShownOnceStoredHashedAndRevocable) {
  auto created = admin_->CreateApiKey(who_, "release-bot", "publisher");
  ASSERT_TRUE(created.ok()) << created.status();
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(created->api_key, &raw));
  EXPECT_EQ(raw.size(), 32u);
  EXPECT_EQ(created->record.key_hash, Sha256(raw));
  EXPECT_EQ(created->record.created_by, "ak_ops");
  EXPECT_THAT(created->record.key_id, ::testing::StartsWith("ak_"));
  auto stored = api_keys_.Get(created->record.key_id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->role, Role::kPublisher);

  auto login = auth_->OperatorLogin(created->api_key, "");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(Verify(login->token.token, kOperatorAudience)->role, "publisher");

  EXPECT_EQ(admin_->CreateApiKey(who_, "release-bot", "viewer").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin_->CreateApiKey(who_, "x", "root").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->CreateApiKey(who_, "has space", "viewer").status().code(),
            absl::StatusCode::kInvalidArgument);

  clock_.Advance(absl::Seconds(1));
  auto revoked = admin_->RevokeApiKey(who_, created->record.key_id);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_TRUE(revoked->revoked());
  EXPECT_EQ(Verify(login->token.token, kOperatorAudience).status().message(),
            absl::StrCat("API key ", created->record.key_id, " is revoked"));
  EXPECT_EQ(auth_->OperatorLogin(created->api_key, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(admin_->RevokeApiKey(who_, "ak_ghost").status().code(), absl::StatusCode::kNotFound);
  // The name is free again.
  EXPECT_TRUE(admin_->CreateApiKey(who_, "release-bot", "viewer").ok());
  EXPECT_EQ(admin_->ListApiKeys()->size(), 3u);
}

TEST_F(AdminServiceTest, RotationKeepsOldTokensAndSwitchesAfterActivation) {
  ASSERT_TRUE(
      admin_->RegisterDevice(who_, "dev-1", KeyType::kEd25519, device_key_.public_key(), {}).ok());
  std::string old_key = ring_->current_key_id();
  auto before = Login("dev-1");
  ASSERT_TRUE(before.ok());
  auto rotated = admin_->RotateSigningKey(who_);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_NE(rotated->key_id, old_key);
  EXPECT_TRUE(rotated->private_key.empty());
  EXPECT_EQ(rotated->active_from, clock_.Now() + absl::Seconds(30));
  EXPECT_EQ(audit_.entries().back().action, "rotate_signing_key");
  EXPECT_EQ(audit_.entries().back().actor, "ops (ak_ops)");
  // Published at once, used only after the activation delay.
  EXPECT_EQ(auth_->PublicKeys().size(), 2u);
  EXPECT_EQ(ring_->current_key_id(), old_key);
  clock_.Advance(absl::Seconds(30));
  auto after = Login("dev-1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Verify(after->token)->key_id, rotated->key_id);
  EXPECT_EQ(Verify(before->token)->key_id, old_key);
}

TEST_F(AdminServiceTest, AuditListsNewestFirstFilteredAndPaged) {
  for (const char* id : {"dev-1", "dev-2", "dev-3"}) {
    ASSERT_TRUE(
        admin_->RegisterDevice(who_, id, KeyType::kEd25519, device_key_.public_key(), {}).ok());
  }
  ASSERT_TRUE(admin_->RevokeDevice(who_, "dev-2", "").ok());
  auto all = admin_->ListAudit("", 0, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_GE(all->size(), 4u);
  EXPECT_EQ((*all)[0].action, "revoke_device");
  auto dev2 = admin_->ListAudit("dev-2", 0, 0);
  ASSERT_EQ(dev2->size(), 2u);
  EXPECT_EQ((*dev2)[1].action, "register_device");
  auto page = admin_->ListAudit("", (*all)[0].id, 1);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, (*all)[1].id);
  EXPECT_EQ(admin_->ListAudit("", 0, 5000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->ListDevices("active", "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class BootstrapTest : public AdminServiceTest {
 protected:
  void SetUp() override {
    const char* dir = getenv("TEST_TMPDIR");
    path_ = absl::StrCat(dir ? dir : "/tmp", "/bootstrap_", getpid(), ".key");
    remove(path_.c_str());
    // No admin yet: revoke the fixture's "ops" key.
    ASSERT_TRUE(api_keys_.Revoke("ak_ops", AuditEntry{.at = clock_.Now()}).ok());
  }
  void TearDown() override { remove(path_.c_str()); }
  std::string path_;
};

TEST_F(BootstrapTest, CreatesOnceWithPrivateFileAndKeepsAValidFile) {
  auto created = admin_->EnsureBootstrapAdminKey(path_);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(*created);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto key = ReadApiKeyFile(path_);
  ASSERT_TRUE(key.ok());
  auto login = auth_->OperatorLogin(*key, "");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->role, Role::kAdmin);
  EXPECT_EQ(audit_.entries().back().actor, "bootstrap");

  EXPECT_FALSE(*admin_->EnsureBootstrapAdminKey(path_));
  EXPECT_EQ(*ReadApiKeyFile(path_), *key);
  // Another file while an admin exists: nothing is created or written.
  std::string other = path_ + ".other";
  EXPECT_FALSE(*admin_->EnsureBootstrapAdminKey(other));
  EXPECT_NE(access(other.c_str(), F_OK), 0);
}

TEST_F(BootstrapTest, RegistersAKeyTheOperatorPutInTheFile) {
  // As a Kubernetes Secret would hold it: made beforehand, read-only.
  std::string raw = RandomBytes(32);
  ASSERT_TRUE(WriteKeyFile(path_, raw).ok());
  auto registered = admin_->EnsureBootstrapAdminKey(path_);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(*registered);
  EXPECT_EQ(*ReadApiKeyFile(path_), absl::WebSafeBase64Escape(raw));  // file untouched
  auto login = auth_->OperatorLogin(absl::WebSafeBase64Escape(raw), "");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->role, Role::kAdmin);
  EXPECT_FALSE(*admin_->EnsureBootstrapAdminKey(path_));  // registered now
}

TEST_F(BootstrapTest, ReplacesAFileWhoseKeyWasRevokedWhenNoAdminIsLeft) {
  ASSERT_TRUE(*admin_->EnsureBootstrapAdminKey(path_));
  std::string first = *ReadApiKeyFile(path_);
  auto keys = api_keys_.List();
  for (const ApiKeyRecord& k : *keys) {
    if (!k.revoked()) ASSERT_TRUE(api_keys_.Revoke(k.key_id, AuditEntry()).ok());
  }
  ASSERT_TRUE(*admin_->EnsureBootstrapAdminKey(path_));
  EXPECT_NE(*ReadApiKeyFile(path_), first);
}

// A store whose CreateFirstAdmin fails as if the process died (or the
// database went away) before the key was stored.
class DyingApiKeyStore : public FakeApiKeyStore {
 public:
  absl::Status CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) override {
    if (die_) return absl::UnavailableError("connection lost");
    return FakeApiKeyStore::CreateFirstAdmin(key, audit);
  }
  bool die_ = true;
};

TEST_F(BootstrapTest, AStartThatDiesBeforeStoringTheKeyLeavesAKeyTheNextStartRegisters) {
  DyingApiKeyStore keys;
  auto make = [&] {
    return *AdminService::Create({.registry = &registry_,
                                  .api_keys = &keys,
                                  .audit = &audit_,
                                  .keys = ring_.get(),
                                  .revocations = &publisher_,
                                  .clock = &clock_});
  };
  EXPECT_EQ(make()->EnsureBootstrapAdminKey(path_).status().code(), absl::StatusCode::kUnavailable);
  auto written = ReadApiKeyFile(path_);
  ASSERT_TRUE(written.ok()) << "the key file is written before the key is stored";

  keys.die_ = false;
  auto registered = make()->EnsureBootstrapAdminKey(path_);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(*registered);
  EXPECT_EQ(*ReadApiKeyFile(path_), *written);
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(*written, &raw));
  auto stored = keys.FindByHash(Sha256(raw));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->role, Role::kAdmin);
  EXPECT_FALSE(*make()->EnsureBootstrapAdminKey(path_));
}

}  // namespace
}  // namespace updraft
