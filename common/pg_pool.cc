#include "common/pg_pool.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace updraft {
namespace {

bool IsRetryable(const std::exception& e) {
  return dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
         dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr;
}

}  // namespace

absl::Status StatusFromPqxx(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("database unavailable: ", e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state == "23505") return absl::AlreadyExistsError(sql->what());
    if (state.rfind("23", 0) == 0) return absl::FailedPreconditionError(sql->what());
    if (state == "40001" || state == "40P01") return absl::AbortedError(sql->what());
    if (state == "22P02" || state == "22001" || state == "22003") {
      return absl::InvalidArgumentError(sql->what());
    }
  }
  if (IsRetryable(e)) return absl::AbortedError(e.what());
  return absl::InternalError(absl::StrCat("database error: ", e.what()));
}

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Create(Options options) {
  if (options.size < 1) return absl::InvalidArgumentError("PgPool size must be at least 1");
  std::unique_ptr<PgPool> pool(new PgPool(std::move(options)));
  // Open one connection now so that a bad URI fails at start-up.
  auto conn = pool->Acquire();
  if (!conn.ok()) return conn.status();
  pool->Release(*std::move(conn));
  return pool;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), options_.acquire_timeout)) {
      return absl::ResourceExhaustedError("no free database connection");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  try {
    return std::make_unique<pqxx::connection>(options_.uri);
  } catch (const std::exception& e) {
    absl::MutexLock lock(&mu_);
    --open_;
    return StatusFromPqxx(e);
  }
}

void PgPool::DropIdle() {
  std::vector<std::unique_ptr<pqxx::connection>> dropped;
  {
    absl::MutexLock lock(&mu_);
    open_ -= static_cast<int>(idle_.size());
    dropped.swap(idle_);
  }
  // Closed outside the lock.
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn) {
  absl::MutexLock lock(&mu_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

absl::Status PgPool::TransactOnce(const std::function<absl::Status(pqxx::work&)>& fn, bool* retry) {
  *retry = false;
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  absl::Status result;
  try {
    pqxx::work txn(**conn);
    result = fn(txn);
    if (result.ok()) txn.commit();
  } catch (const pqxx::broken_connection& e) {
    (*conn).reset();
    DropIdle();
    *retry = true;
    result = StatusFromPqxx(e);
  } catch (const std::exception& e) {
    *retry = IsRetryable(e);
    result = StatusFromPqxx(e);
  }
  Release(*std::move(conn));
  return result;
}

absl::Status PgPool::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  absl::Status result;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    bool retry = false;
    result = TransactOnce(fn, &retry);
    if (!retry) break;
  }
  return result;
}

absl::Status PgPool::Read(const std::function<absl::Status(pqxx::nontransaction&)>& fn) {
  absl::Status result;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    auto conn = Acquire();
    if (!conn.ok()) return conn.status();
    bool retry = false;
    try {
      pqxx::nontransaction txn(**conn);
      result = fn(txn);
    } catch (const pqxx::broken_connection& e) {
      (*conn).reset();
      DropIdle();
      retry = true;
      result = StatusFromPqxx(e);
    } catch (const std::exception& e) {
      result = StatusFromPqxx(e);
    }
    Release(*std::move(conn));
    if (!retry) break;
  }
  return result;
}

absl::Status PgPool::ExecuteNonTransactional(const std::string& sql) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  absl::Status result;
  try {
    pqxx::nontransaction txn(**conn);
    txn.exec(sql);
  } catch (const std::exception& e) {
    result = StatusFromPqxx(e);
  }
  Release(*std::move(conn));
  return result;
}

void AppendPgArrayElement(absl::string_view item, std::string* literal) {
  literal->push_back('"');
  for (char c : item) {
    if (c == '"' || c == '\\') literal->push_back('\\');
    literal->push_back(c);
  }
  literal->push_back('"');
}

std::string PgBigintArray(const std::vector<int64_t>& items) {
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

}  // namespace updraft
