// Integration tests of the API key, signing key and audit stores over the
// real PostgreSQL of ./dev.sh test.
#include <thread>

#include "common/crypto.h"
#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/auth/auth_migrations.h"
#include "services/auth/pg_api_key_store.h"
#include "services/auth/pg_audit_log.h"
#include "services/auth/pg_signing_key_store.h"

namespace updraft {
namespace {

class PgStoresTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ApplyMigrations(*pool_, "auth", AuthMigrations()).ok());
  }

  ApiKeyRecord Key(const std::string& id, const std::string& name, Role role) {
    ApiKeyRecord k;
    k.key_id = id;
    k.name = name;
    k.role = role;
    k.key_hash = Sha256(id);
    k.created_at = absl::FromUnixMicros(1800000000000001);
    k.created_by = "bootstrap";
    return k;
  }

  AuditEntry Audit(const std::string& action) {
    AuditEntry e;
    e.at = absl::FromUnixMicros(1800000000000001);
    e.actor = "bootstrap";
    e.action = action;
    return e;
  }
};

TEST_F(PgStoresTest, ApiKeysRoundTripFindByHashAndRevoke) {
  PgApiKeyStore store(pool_.get());
  ASSERT_TRUE(store.Create(Key("ak_1", "ci", Role::kPublisher), Audit("create_api_key")).ok());
  auto found = store.FindByHash(Sha256("ak_1"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->key_id, "ak_1");
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->role, Role::kPublisher);
  EXPECT_EQ(found->created_at, absl::FromUnixMicros(1800000000000001));
  EXPECT_FALSE(found->revoked());
  EXPECT_EQ(store.FindByHash(Sha256("nope")).status().code(), absl::StatusCode::kNotFound);

  auto dup = store.Create(Key("ak_2", "ci", Role::kViewer), Audit("create_api_key"));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "an API key named ci already exists");

  AuditEntry revoke = Audit("revoke_api_key");
  revoke.at = absl::FromUnixSeconds(1800000100);
  auto revoked = store.Revoke("ak_1", revoke);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->revoked_at, revoke.at);
  revoke.at += absl::Hours(1);
  EXPECT_EQ(store.Revoke("ak_1", revoke)->revoked_at, absl::FromUnixSeconds(1800000100));
  EXPECT_EQ(store.Revoke("ak_9", revoke).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store.Create(Key("ak_2", "ci", Role::kViewer), Audit("create_api_key")).ok());
  EXPECT_EQ(store.List()->size(), 2u);
  auto audit = PgAuditLog(pool_.get()).List({});
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->size(), 4u);  // 2 creates + 2 revokes; the refused create left nothing
}

TEST_F(PgStoresTest, OnlyOneFirstAdminEvenWhenReplicasRace) {
  PgApiKeyStore store(pool_.get());
  std::vector<absl::Status> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store.CreateFirstAdmin(
          Key("ak_" + std::to_string(i), "admin-" + std::to_string(i), Role::kAdmin),
          Audit("create_api_key"));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(store.List()->size(), 1u);
}

TEST_F(PgStoresTest, SigningKeysSeedOnceAndRotate) {
  PgSigningKeyStore store(pool_.get());
  Ed25519KeyPair k1 = *Ed25519KeyPair::Generate();
  absl::Time t0 = absl::FromUnixSeconds(1800000000);
  StoredSigningKey first{KeyIdFor(k1.public_key()), k1.private_key(), t0, t0};
  EXPECT_TRUE(*store.InsertIfEmpty(first, Audit("seed_signing_key")));
  StoredSigningKey other = first;
  other.key_id = "other";
  EXPECT_FALSE(*store.InsertIfEmpty(other, Audit("seed_signing_key")));

  Ed25519KeyPair k2 = *Ed25519KeyPair::Generate();
  StoredSigningKey second{KeyIdFor(k2.public_key()), k2.private_key(), t0 + absl::Hours(1),
                          t0 + absl::Hours(1) + absl::Seconds(30)};
  ASSERT_TRUE(store.Rotate(second, Audit("rotate_signing_key")).ok());
  auto keys = store.List();
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key_id, first.key_id);
  EXPECT_EQ((*keys)[0].private_key, k1.private_key());
  EXPECT_EQ((*keys)[0].retired_at, second.active_from);
  EXPECT_EQ((*keys)[1].key_id, second.key_id);
  EXPECT_EQ((*keys)[1].active_from, second.active_from);
  EXPECT_EQ((*keys)[1].retired_at, absl::InfiniteFuture());
}

TEST_F(PgStoresTest, AuditListsNewestFirstWithFilters) {
  PgAuditLog log(pool_.get());
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = Audit("accept_device");
    e.device_id = i % 2 == 0 ? "dev-even" : "";
    e.detail = std::to_string(i);
    ASSERT_TRUE(log.Append(e).ok());
  }
  auto all = log.List({});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].detail, "4");
  EXPECT_EQ((*all)[0].at, absl::FromUnixMicros(1800000000000001));
  auto even = log.List({.device_id = "dev-even"});
  EXPECT_EQ(even->size(), 3u);
  auto page = log.List({.before_id = (*all)[1].id, .limit = 2});
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].detail, "2");
}

}  // namespace
}  // namespace updraft
