#include "common/migrations.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace updraft {

absl::Status ApplyMigrations(PgPool& pool, absl::string_view component,
                             const std::vector<Migration>& migrations, int* applied) {
  std::vector<const Migration*> ordered;
  std::set<int> versions;
  for (const Migration& m : migrations) {
    if (!versions.insert(m.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(component, ": two migrations numbered ", m.version));
    }
    ordered.push_back(&m);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  if (applied != nullptr) *applied = 0;
  std::string comp(component);
  for (const Migration* m : ordered) {
    bool did = false;
    absl::Status s = pool.Transact([&](pqxx::work& txn) -> absl::Status {
      // One lock for all components: CREATE TABLE IF NOT EXISTS is not safe
      // against concurrent creators.
      txn.exec("SELECT pg_advisory_xact_lock(7242010)");
      txn.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " component text NOT NULL, version integer NOT NULL, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))");
      pqxx::result r =
          txn.exec_params("SELECT 1 FROM schema_migrations WHERE component = $1 AND version = $2",
                          comp, m->version);
      if (!r.empty()) return absl::OkStatus();
      txn.exec(m->sql);
      txn.exec_params(
          "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)", comp,
          m->version, m->name);
      did = true;
      return absl::OkStatus();
    });
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(component, " migration ", m->version, " (",
                                                 m->name, ") failed: ", s.message()));
    }
    if (did && applied != nullptr) ++*applied;
  }
  return absl::OkStatus();
}

}  // namespace updraft
