#include "services/catalog/pg_operation_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace updraft::catalog {
namespace {

constexpr char kSelectOperation[] =
    "SELECT operation_id, device_id, kind, dc_id, release_id, group_name, state, result_code,"
    " message, floor(extract(epoch FROM queued_at))::bigint,"
    " coalesce(floor(extract(epoch FROM delivered_at))::bigint, 0),"
    " coalesce(floor(extract(epoch FROM completed_at))::bigint, 0)"
    " FROM component_operations ";

v1::ComponentOperation FromRow(const pqxx::row& row) {
  v1::ComponentOperation op;
  op.set_operation_id(row[0].as<std::string>());
  op.set_device_id(row[1].as<std::string>());
  v1::ComponentOperation::Kind kind = v1::ComponentOperation::KIND_UNSPECIFIED;
  v1::ComponentOperation::Kind_Parse(row[2].as<std::string>(), &kind);
  op.set_kind(kind);
  op.set_dc_id(row[3].as<std::string>());
  op.set_release_id(row[4].as<std::string>());
  op.set_group(row[5].as<std::string>());
  v1::ComponentOperation::State state = v1::ComponentOperation::STATE_UNSPECIFIED;
  v1::ComponentOperation::State_Parse(row[6].as<std::string>(), &state);
  op.set_state(state);
  op.set_result(static_cast<v1::ResultCode>(row[7].as<int>()));
  op.set_message(row[8].as<std::string>());
  op.set_queued_at_unix(row[9].as<int64_t>());
  op.set_delivered_at_unix(row[10].as<int64_t>());
  op.set_completed_at_unix(row[11].as<int64_t>());
  return op;
}

}  // namespace

absl::Status PgOperationStore::Queue(const std::vector<v1::ComponentOperation>& operations) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    std::set<std::string> known;  // a group's operations share one release
    for (const v1::ComponentOperation& op : operations) {
      if (known.insert(op.release_id()).second &&
          txn.exec_params("SELECT 1 FROM releases WHERE release_id = $1", op.release_id())
              .empty()) {
        return absl::NotFoundError(absl::StrCat("release ", op.release_id(), " not found"));
      }
      txn.exec_params(
          "INSERT INTO component_operations (operation_id, device_id, kind, dc_id, release_id,"
          " group_name, state, queued_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, 'QUEUED', to_timestamp($7::bigint))",
          op.operation_id(), op.device_id(), v1::ComponentOperation::Kind_Name(op.kind()),
          op.dc_id(), op.release_id(), op.group(), op.queued_at_unix());
    }
    // Every replica's PendingOperationIndex learns of the devices on commit
    // (NOTIFY folds repeated payloads within a transaction).
    for (const v1::ComponentOperation& op : operations) {
      txn.exec_params("SELECT pg_notify($1, $2)", std::string(kOperationsChannel), op.device_id());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::string>> PgOperationStore::DevicesWithOpenOperations() {
  std::vector<std::string> out;
  absl::Status s = pool_->Read([&](pqxx::nontransaction& txn) -> absl::Status {
    out.clear();
    for (const auto& row : txn.exec("SELECT DISTINCT device_id FROM component_operations"
                                    " WHERE state IN ('QUEUED', 'DELIVERED')")) {
      out.push_back(row[0].as<std::string>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<v1::ComponentOperation>> PgOperationStore::TakePending(
    const std::string& device_id, absl::Time now) {
  std::vector<v1::ComponentOperation> pending;
  const std::string select = absl::StrCat(
      kSelectOperation, "WHERE device_id = $1 AND state IN ('QUEUED', 'DELIVERED') ORDER BY seq");
  bool any_queued = false;
  absl::Status s = pool_->Read([&](pqxx::nontransaction& txn) -> absl::Status {
    pending.clear();
    any_queued = false;
    for (const auto& row : txn.exec_params(select, device_id)) {
      pending.push_back(FromRow(row));
      any_queued = any_queued || pending.back().state() == v1::ComponentOperation::QUEUED;
    }
    return absl::OkStatus();
  });
  if (!s.ok() || !any_queued) {
    if (!s.ok()) return s;
    return pending;
  }
  s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pending.clear();
    txn.exec_params(
        "UPDATE component_operations SET state = 'DELIVERED',"
        " delivered_at = to_timestamp($2::bigint / 1e6)"
        " WHERE device_id = $1 AND state = 'QUEUED'",
        device_id, absl::ToUnixMicros(now));
    for (const auto& row : txn.exec_params(select, device_id)) pending.push_back(FromRow(row));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return pending;
}

absl::StatusOr<std::vector<v1::ComponentOperation>> PgOperationStore::List(
    const std::string& device_id, int limit) {
  std::vector<v1::ComponentOperation> ops;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    ops.clear();
    pqxx::result rows = txn.exec_params(
        absl::StrCat(kSelectOperation, "WHERE device_id = $1 ORDER BY seq DESC LIMIT $2"),
        device_id, limit);
    for (const auto& row : rows) ops.push_back(FromRow(row));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::reverse(ops.begin(), ops.end());
  return ops;
}

}  // namespace updraft::catalog
