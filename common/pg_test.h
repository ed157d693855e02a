#ifndef UPDRAFT_COMMON_PG_TEST_H_
#define UPDRAFT_COMMON_PG_TEST_H_

#include <memory>

#include "common/pg_pool.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft {

// Base of integration tests of PostgreSQL stores: SetUp gives each test a
// fresh, empty database of its own (TestEnv, which also hands out a Redis
// key prefix) and a pool of 4 connections on it. Fixtures that override
// SetUp call PgTest::SetUp() first, then apply their migrations.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 4});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_PG_TEST_H_
