#include "services/catalog/pg_group_store.h"

#include "absl/strings/str_cat.h"

namespace updraft::catalog {
absl::StatusOr<int> PgGroupStore::AddMembers(const std::string& group,
                                             const std::vector<std::string>& device_ids,
                                             absl::Time now) {
  int added = 0;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        "INSERT INTO device_group_members (group_name, device_id, added_at)"
        " SELECT $1, d, to_timestamp($3::bigint / 1e6) FROM unnest($2::text[]) AS d"
        " ON CONFLICT (group_name, device_id) DO NOTHING",
        group, PgTextArray(device_ids), absl::ToUnixMicros(now));
    added = static_cast<int>(r.affected_rows());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return added;
}

absl::StatusOr<int> PgGroupStore::RemoveMembers(const std::string& group,
                                                const std::vector<std::string>& device_ids) {
  int removed = 0;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        "DELETE FROM device_group_members WHERE group_name = $1 AND device_id = ANY($2::text[])",
        group, PgTextArray(device_ids));
    removed = static_cast<int>(r.affected_rows());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return removed;
}

absl::StatusOr<std::vector<std::string>> PgGroupStore::ListMembers(
    const std::string& group, const std::string& after_device_id, int limit) {
  std::vector<std::string> members;
  absl::Status s = pool_->Read([&](pqxx::nontransaction& txn) -> absl::Status {
    members.clear();
    pqxx::result r = txn.exec_params(
        "SELECT device_id FROM device_group_members WHERE group_name = $1 AND device_id > $2"
        " ORDER BY device_id LIMIT $3",
        group, after_device_id, limit);
    for (const auto& row : r) members.push_back(row[0].as<std::string>());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return members;
}

absl::StatusOr<std::vector<std::string>> PgGroupStore::GroupsOf(const std::string& device_id) {
  std::vector<std::string> groups;
  absl::Status s = pool_->Read([&](pqxx::nontransaction& txn) -> absl::Status {
    groups.clear();
    pqxx::result r = txn.exec_params(
        "SELECT group_name FROM device_group_members WHERE device_id = $1"
        " ORDER BY group_name",
        device_id);
    for (const auto& row : r) groups.push_back(row[0].as<std::string>());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return groups;
}

}  // namespace updraft::catalog
