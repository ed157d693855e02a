// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
// Two catalog replicas share one database: one publishes and withdraws, the
// other's snapshot follows through LISTEN/NOTIFY.
#include "services/catalog/pg_release_listener.h"

#include "common/clock.h"
#include "common/migrations.h"
#include "common/pg_pool.h"
#include "common/test_env.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_migrations.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/catalog/pg_operation_store.h"

namespace updraft::catalog {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);
// Bounded wait for a notification to arrive; never slept.
const absl::Duration kTimeout = absl::Seconds(20);

struct Replica {
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<PgCatalogStore> store;
  std::unique_ptr<ReleaseCache> cache;
  std::unique_ptr<PgReleaseListener> listener;
};

class PgReleaseListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    for (Replica* r : {&a_, &b_}) {
      auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 2});
      ASSERT_TRUE(pool.ok()) << pool.status();
      r->pool = *std::move(pool);
      ASSERT_TRUE(ApplyMigrations(*r->pool, "catalog", CatalogMigrations()).ok());
      r->store = std::make_unique<PgCatalogStore>(r->pool.get());
      r->cache = std::make_unique<ReleaseCache>(r->store.get());
    }
    v1::Package p;
    p.set_package_id("pkg_1");
    p.set_name("player");
    p.set_author("Acme");
    ASSERT_TRUE(a_.store->CreatePackage(p, kNow).ok());
  }

  void StartListener(Replica* r) {
    auto listener = PgReleaseListener::Start({.pg_uri = env_->pg_uri(),
                                              .cache = r->cache.get(),
                                              .logger = &logger_,
                                              .reconnect_delay = absl::Milliseconds(50),
                                              .poll_interval = absl::Milliseconds(50)});
    ASSERT_TRUE(listener.ok()) << listener.status();
    r->listener = *std::move(listener);
  }

  void CreateRelease(const std::string& id, const std::string& version) {
    v1::Release r;
    r.set_release_id(id);
    r.set_package_id("pkg_1");
    r.set_version(version);
    r.set_state(v1::DRAFT);
    r.mutable_artifact()->set_sha256(std::string(64, 'e'));
    r.mutable_compatibility()->add_models("A1");
    ASSERT_TRUE(a_.store->CreateRelease(r, kNow).ok());
  }

  static std::function<bool(const ReleaseSnapshot&)> StateIs(const std::string& id,
                                                             v1::ReleaseState state) {
    return [id, state](const ReleaseSnapshot& s) {
      auto it = s.releases.find(id);
      return it != s.releases.end() && it->second.state() == state;
    };
  }

  RealClock clock_;
  Logger logger_{"catalog-test", &clock_, stderr, Logger::Level::kWarning};
  std::unique_ptr<TestEnv> env_;
  Replica a_, b_;
};

TEST_F(PgReleaseListenerTest, PublishAndWithdrawReachAnotherReplica) {
  CreateRelease("rel_1", "1.0.0");
  StartListener(&b_);
  const uint64_t start = b_.cache->Current()->generation;
  EXPECT_GE(start, 1u);  // loaded at start
  EXPECT_TRUE(b_.cache->Current()->releases.empty());

  ASSERT_TRUE(a_.store->PublishRelease("rel_1", nullptr, kNow).ok());
  ASSERT_TRUE(b_.cache->WaitFor(StateIs("rel_1", v1::PUBLISHED), kTimeout));
  auto snapshot = b_.cache->Current();
  EXPECT_EQ(snapshot->releases.at("rel_1").compatibility().models(0), "A1");
  EXPECT_EQ(snapshot->index.Decide({}, {"A1", "", ""}).offers.at(0).release_id, "rel_1");
  EXPECT_TRUE(snapshot->index.Decide({}, {"B2", "", ""}).offers.empty());

  ASSERT_TRUE(a_.store->WithdrawRelease("rel_1", kNow).ok());
  ASSERT_TRUE(b_.cache->WaitFor(StateIs("rel_1", v1::WITHDRAWN), kTimeout));
  EXPECT_TRUE(b_.cache->Current()->index.Decide({}, {"A1", "", ""}).offers.empty());
  EXPECT_EQ(b_.listener->reconnects(), 0);
}

TEST_F(PgReleaseListenerTest, RolledBackPublishIsNotAnnounced) {
  CreateRelease("rel_1", "1.0.0");
  CreateRelease("rel_2", "2.0.0");
  StartListener(&b_);
  absl::Status s = a_.pool->Transact([&](pqxx::work& txn) {
    txn.exec(
        "UPDATE releases SET state = 'PUBLISHED', published_at = now()"
        " WHERE release_id = 'rel_1'");
    txn.exec_params("SELECT pg_notify($1, 'rel_1')", std::string(kReleasesChannel));
    return absl::AbortedError("roll back");
  });
  ASSERT_EQ(s.code(), absl::StatusCode::kAborted);
  // The next committed publish is seen; the rolled-back one never is.
  ASSERT_TRUE(a_.store->PublishRelease("rel_2", nullptr, kNow).ok());
  ASSERT_TRUE(b_.cache->WaitFor(StateIs("rel_2", v1::PUBLISHED), kTimeout));
  EXPECT_EQ(b_.cache->Current()->releases.count("rel_1"), 0u);
}

TEST_F(PgReleaseListenerTest, ReconnectsAndReloadsAfterLosingItsConnection) {
  CreateRelease("rel_1", "1.0.0");
  StartListener(&b_);
  const int pid = b_.listener->backend_pid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(a_.pool
                  ->Transact([&](pqxx::work& txn) {
                    txn.exec_params("SELECT pg_terminate_backend($1)", pid);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(a_.store->PublishRelease("rel_1", nullptr, kNow).ok());
  ASSERT_TRUE(b_.cache->WaitFor(StateIs("rel_1", v1::PUBLISHED), kTimeout));
  // Waiting on the cache above; the reconnect itself is visible too.
  for (int i = 0; i < 1000 && b_.listener->reconnects() == 0; ++i) {
    b_.cache->WaitFor([](const ReleaseSnapshot&) { return false; }, absl::Milliseconds(20));
  }
  EXPECT_GE(b_.listener->reconnects(), 1);
  EXPECT_NE(b_.listener->backend_pid(), pid);

  ASSERT_TRUE(a_.store->WithdrawRelease("rel_1", kNow).ok());
  ASSERT_TRUE(b_.cache->WaitFor(StateIs("rel_1", v1::WITHDRAWN), kTimeout));
}

TEST_F(PgReleaseListenerTest, StartValidatesOptions) {
  EXPECT_EQ(PgReleaseListener::Start({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PgReleaseListener::Start(
          {.pg_uri = "postgresql://127.0.0.1:1/none", .cache = b_.cache.get(), .logger = &logger_})
          .status()
          .code(),
      absl::StatusCode::kUnavailable);
}

TEST_F(PgReleaseListenerTest, QueuedOperationsMarkDevicesOnEveryReplica) {
  CreateRelease("rel_1", "1.0.0");
  PgOperationStore ops_a(a_.pool.get());
  PgOperationStore ops_b(b_.pool.get());
  auto queue = [&](const std::string& id, const std::string& device) {
    v1::ComponentOperation op;
    op.set_operation_id(id);
    op.set_device_id(device);
    op.set_kind(v1::ComponentOperation::ACTIVATE);
    op.set_dc_id("DC_1");
    op.set_release_id("rel_1");
    op.set_queued_at_unix(absl::ToUnixSeconds(kNow));
    ASSERT_TRUE(ops_a.Queue({op}).ok());
  };
  queue("op_1", "dev-before");  // queued before B starts: found by the load
  PendingOperationIndex index;
  auto listener = PgReleaseListener::Start({.pg_uri = env_->pg_uri(),
                                            .cache = b_.cache.get(),
                                            .logger = &logger_,
                                            .pending_operations = &index,
                                            .operation_store = &ops_b,
                                            .poll_interval = absl::Milliseconds(50)});
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_NE(index.MarkOf("dev-before"), 0u);
  EXPECT_EQ(index.MarkOf("dev-after"), 0u);
  queue("op_2", "dev-after");  // on replica A: B learns through NOTIFY
  EXPECT_TRUE(index.WaitForMark("dev-after", kTimeout));
  EXPECT_EQ(index.size(), 2u);
}

}  // namespace
}  // namespace updraft::catalog
