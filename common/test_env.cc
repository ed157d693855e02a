#include "common/test_env.h"

#include <cstdlib>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<TestEnv>> TestEnv::Create() {
  const char* pg = getenv("UPDRAFT_TEST_PG_URI");
  const char* redis = getenv("UPDRAFT_TEST_REDIS");
  if (pg == nullptr || redis == nullptr) {
    return absl::FailedPreconditionError(
        "UPDRAFT_TEST_PG_URI and UPDRAFT_TEST_REDIS are not set: integration tests need the "
        "real PostgreSQL and Redis that `./dev.sh test` starts");
  }
  std::unique_ptr<TestEnv> env(new TestEnv());
  absl::BitGen gen;
  std::string suffix = absl::StrCat(absl::Uniform<uint64_t>(gen));
  env->database_ = absl::StrCat("updraft_test_", suffix);
  auto admin = PgPool::Create({.uri = pg, .size = 1});
  if (!admin.ok()) return admin.status();
  env->admin_ = *std::move(admin);
  auto s = env->admin_->ExecuteNonTransactional(absl::StrCat("CREATE DATABASE ", env->database_));
  if (!s.ok()) return s;
  std::string base(pg);
  size_t slash = base.rfind('/');
  size_t query = base.find('?', slash);
  env->pg_uri_ = absl::StrCat(base.substr(0, slash + 1), env->database_,
                              query == std::string::npos ? "" : base.substr(query));
  std::pair<std::string, std::string> hp = absl::StrSplit(redis, ':');
  env->redis_.host = hp.first;
  if (!absl::SimpleAtoi(hp.second, &env->redis_.port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("UPDRAFT_TEST_REDIS=", redis, " is not host:port"));
  }
  env->prefix_ = absl::StrCat("test:", suffix, ":");
  return env;
}

TestEnv::~TestEnv() {
  if (admin_) {
    (void)admin_->ExecuteNonTransactional(
        absl::StrCat("DROP DATABASE IF EXISTS ", database_, " WITH (FORCE)"));
  }
}

}  // namespace updraft
