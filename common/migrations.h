#ifndef UPDRAFT_COMMON_MIGRATIONS_H_
#define UPDRAFT_COMMON_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/pg_pool.h"

namespace updraft {

// One numbered schema change, e.g. services/catalog/migrations/0001_init.sql.
// The files are compiled into the service binary (see migrations.bzl).
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Applies, in version order, every migration of `component` not yet
// recorded in the table schema_migrations(component, version, name,
// applied_at). Each migration runs in its own transaction together with its
// record, under an advisory lock so that replicas starting together apply it
// once. Applying twice changes nothing. Returns the number applied through
// `applied` when not null.
absl::Status ApplyMigrations(PgPool& pool, absl::string_view component,
                             const std::vector<Migration>& migrations, int* applied = nullptr);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_MIGRATIONS_H_
