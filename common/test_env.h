#ifndef UPDRAFT_COMMON_TEST_ENV_H_
#define UPDRAFT_COMMON_TEST_ENV_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/pg_pool.h"
#include "common/redis_client.h"

namespace updraft {

// The real PostgreSQL and Redis that `./dev.sh test` starts, for integration
// tests. Reads UPDRAFT_TEST_PG_URI (a server URI whose user may create
// databases) and UPDRAFT_TEST_REDIS (host:port). Each instance creates a
// fresh, empty database and drops it when destroyed, and hands out a unique
// Redis key prefix, so tests never see each other's data.
class TestEnv {
 public:
  static absl::StatusOr<std::unique_ptr<TestEnv>> Create();
  ~TestEnv();

  // URI of this test's own database.
  const std::string& pg_uri() const { return pg_uri_; }
  RedisClient::Options redis_options() const { return redis_; }
  const std::string& redis_prefix() const { return prefix_; }

 private:
  TestEnv() = default;
  std::unique_ptr<PgPool> admin_;
  std::string database_;
  std::string pg_uri_;
  RedisClient::Options redis_;
  std::string prefix_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TEST_ENV_H_
