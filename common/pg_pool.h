#ifndef UPDRAFT_COMMON_PG_POOL_H_
#define UPDRAFT_COMMON_PG_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace updraft {

// A fixed-size pool of PostgreSQL connections (libpqxx). Store adapters run
// their SQL through Transact(): each call is one transaction, committed when
// the callback returns OK and rolled back otherwise. libpqxx exceptions end
// here and come out as absl::Status:
//   unique violation (23505)            -> ALREADY_EXISTS
//   foreign key / check violation       -> FAILED_PRECONDITION
//   serialization failure, deadlock     -> retried, then ABORTED
//   lost connection                     -> reconnected, then UNAVAILABLE
// A lost connection also closes every idle one (after a server restart or
// failover they are all dead), so the retry opens a fresh connection
// instead of meeting the next dead one.
//   anything else                       -> INTERNAL
class PgPool {
 public:
  struct Options {
    // libpq connection string or URI.
    std::string uri;
    int size = 4;
    // How long Transact waits for a free connection.
    absl::Duration acquire_timeout = absl::Seconds(10);
    int max_retries = 3;
  };

  static absl::StatusOr<std::unique_ptr<PgPool>> Create(Options options);

  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // Runs a read of one statement without BEGIN/COMMIT (one round trip
  // instead of three), for hot read paths. Same error mapping and retry on a
  // lost connection as Transact.
  absl::Status Read(const std::function<absl::Status(pqxx::nontransaction&)>& fn);

  // Runs one statement outside an explicit transaction block (e.g. CREATE
  // DATABASE).
  absl::Status ExecuteNonTransactional(const std::string& sql);

  const Options& options() const { return options_; }

 private:
  explicit PgPool(Options options) : options_(std::move(options)) {}
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  // Closes every idle connection (after one was found broken).
  void DropIdle();
  void Release(std::unique_ptr<pqxx::connection> conn);
  absl::Status TransactOnce(const std::function<absl::Status(pqxx::work&)>& fn, bool* retry);

  const Options options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Maps a libpqxx exception to a status; used by PgPool and by code that
// talks to PostgreSQL outside of it (LISTEN loops).
absl::Status StatusFromPqxx(const std::exception& e);

// Appends `item` to a PostgreSQL array literal as a quoted element.
void AppendPgArrayElement(absl::string_view item, std::string* literal);

// A PostgreSQL text[] literal of `items`, every element quoted (for a
// `$n::text[]` parameter), e.g. {"a","b \"c\""}.
template <typename Strings>
std::string PgTextArray(const Strings& items) {
  std::string literal = "{";
  for (const auto& item : items) {
    if (literal.size() > 1) literal.push_back(',');
    AppendPgArrayElement(item, &literal);
  }
  literal.push_back('}');
  return literal;
}

// A PostgreSQL bigint[] literal of `items` (for a `$n::bigint[]` parameter),
// e.g. {1,-2}.
std::string PgBigintArray(const std::vector<int64_t>& items);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_PG_POOL_H_
