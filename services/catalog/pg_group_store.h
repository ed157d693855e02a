#ifndef UPDRAFT_SERVICES_CATALOG_PG_GROUP_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_GROUP_STORE_H_

#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/catalog/group_store.h"

namespace updraft::catalog {

// GroupStore in PostgreSQL: table device_group_members (migration 0004),
// one row per (group_name, device_id), indexed by device_id for GroupsOf().
// Each call is one transaction.
class PgGroupStore : public GroupStore {
 public:
  explicit PgGroupStore(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<int> AddMembers(const std::string& group,
                                 const std::vector<std::string>& device_ids,
                                 absl::Time now) override;
  absl::StatusOr<int> RemoveMembers(const std::string& group,
                                    const std::vector<std::string>& device_ids) override;
  absl::StatusOr<std::vector<std::string>> ListMembers(const std::string& group,
                                                       const std::string& after_device_id,
                                                       int limit) override;
  absl::StatusOr<std::vector<std::string>> GroupsOf(const std::string& device_id) override;

 private:
  PgPool* pool_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_GROUP_STORE_H_
