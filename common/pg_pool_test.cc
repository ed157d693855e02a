#include "common/pg_pool.h"

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/migrations.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }
  int64_t Count(const std::string& table) {
    int64_t n = -1;
    EXPECT_TRUE(pool_
                    ->Transact([&](pqxx::work& txn) {
                      n = txn.exec("SELECT count(*) FROM " + table)[0][0].as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
};

const std::vector<Migration> kMigrations = {
    {2, "add_index", "CREATE INDEX t_v ON t (v)"},
    {1, "init", "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)"},
};

TEST_F(PgPoolTest, MigrationsApplyInOrderOnce) {
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(*pool_, "test", kMigrations, &applied).ok());
  EXPECT_EQ(applied, 2);
  ASSERT_TRUE(ApplyMigrations(*pool_, "test", kMigrations, &applied).ok());
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(Count("schema_migrations"), 2);
}

TEST_F(PgPoolTest, FailedMigrationLeavesNothingAndNamesIt) {
  std::vector<Migration> bad = {{1, "init", "CREATE TABLE u (id int); SELECT nonsense_fn()"}};
  absl::Status s = ApplyMigrations(*pool_, "bad", bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad migration 1 (init) failed"), absl::string_view::npos);
  absl::Status probe = pool_->Transact([](pqxx::work& txn) {
    txn.exec("SELECT * FROM u");
    return absl::OkStatus();
  });
  EXPECT_FALSE(probe.ok());  // table u was rolled back
}

TEST_F(PgPoolTest, DuplicateMigrationNumbersRejected) {
  std::vector<Migration> dup = {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}};
  EXPECT_EQ(ApplyMigrations(*pool_, "dup", dup).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PgPoolTest, ErrorsMapToStatusAndRollBack) {
  ASSERT_TRUE(ApplyMigrations(*pool_, "test", kMigrations).ok());
  absl::Status s = pool_->Transact([](pqxx::work& txn) {
    txn.exec("INSERT INTO t VALUES (1, 'a')");
    txn.exec("INSERT INTO t VALUES (1, 'b')");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("t"), 0);

  s = pool_->Transact([](pqxx::work& txn) {
    txn.exec("INSERT INTO t VALUES (2, 'a')");
    return absl::InvalidArgumentError("caller said no");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("t"), 0);

  s = pool_->Transact([](pqxx::work& txn) {
    txn.exec("SELECT * FROM no_such_table");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
}

TEST_F(PgPoolTest, BadUriIsUnavailable) {
  auto pool = PgPool::Create({.uri = "postgresql://nobody@127.0.0.1:1/none", .size = 1});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft

namespace updraft {
namespace {

TEST_F(PgPoolTest, ReadRunsOneStatementAndMapsErrors) {
  ASSERT_TRUE(ApplyMigrations(*pool_, "test", kMigrations).ok());
  ASSERT_TRUE(pool_
                  ->Transact([](pqxx::work& txn) {
                    txn.exec("INSERT INTO t VALUES (7, 'seven')");
                    return absl::OkStatus();
                  })
                  .ok());
  std::string v;
  ASSERT_TRUE(pool_
                  ->Read([&](pqxx::nontransaction& txn) {
                    v = txn.exec_params("SELECT v FROM t WHERE id = $1", 7)[0][0].as<std::string>();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(v, "seven");
  absl::Status s = pool_->Read([](pqxx::nontransaction& txn) {
    txn.exec("SELECT * FROM no_such_table");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
}

TEST(PgTextArrayTest, QuotesEveryElementAndEscapes) {
  EXPECT_EQ(PgTextArray(std::vector<std::string>{}), "{}");
  EXPECT_EQ(PgTextArray(std::vector<std::string>{"a", "b \"c\" \\ d", ""}),
            "{\"a\",\"b \\\"c\\\" \\\\ d\",\"\"}");
}

TEST(PgBigintArrayTest, JoinsNumbers) {
  EXPECT_EQ(PgBigintArray({}), "{}");
  EXPECT_EQ(PgBigintArray({1, -2, 9007199254740993}), "{1,-2,9007199254740993}");
}

TEST(PgPoolRestartTest, EveryConnectionDroppedTheNextCallStillSucceeds) {
  auto env = TestEnv::Create();
  ASSERT_TRUE(env.ok()) << env.status();
  // One retry only, and four idle connections that a server restart kills:
  // the retry must not meet another dead one.
  auto pool = PgPool::Create({.uri = (*env)->pg_uri(), .size = 4, .max_retries = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  absl::Mutex mu;
  int inside = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      EXPECT_TRUE((*pool)
                      ->Read([&](pqxx::nontransaction& txn) {
                        absl::MutexLock lock(&mu);
                        ++inside;
                        auto all_in = [&]()
                                          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return inside == 4; };
                        mu.Await(absl::Condition(&all_in));  // four connections open at once
                        txn.exec("SELECT 1");
                        return absl::OkStatus();
                      })
                      .ok());
    });
  }
  for (auto& t : threads) t.join();
  auto killer = PgPool::Create({.uri = (*env)->pg_uri(), .size = 1});
  ASSERT_TRUE(killer.ok());
  int killed = 0;
  ASSERT_TRUE((*killer)
                  ->Read([&](pqxx::nontransaction& txn) {
                    killed = txn.exec(
                                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                                    " FROM pg_stat_activity WHERE datname = current_database()"
                                    " AND pid <> pg_backend_pid()")[0][0]
                                 .as<int>();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(killed, 4);
  absl::Status s = (*pool)->Transact([](pqxx::work& txn) {
    txn.exec("SELECT 1");
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace updraft
