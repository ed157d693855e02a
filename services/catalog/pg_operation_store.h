#ifndef UPDRAFT_SERVICES_CATALOG_PG_OPERATION_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_OPERATION_STORE_H_

#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/catalog/operation_store.h"

namespace updraft::catalog {

// Queue NOTIFYs here, payload the device ID (PgReleaseListener relays it to
// the PendingOperationIndex of every replica).
inline constexpr char kOperationsChannel[] = "updraft_catalog_operations";

// OperationStore in PostgreSQL: table component_operations (migration 0004).
// TakePending() is a single indexed read when nothing is pending (the
// common case on the update-check path) and a transaction only when QUEUED
// operations become DELIVERED.
class PgOperationStore : public OperationStore {
 public:
  explicit PgOperationStore(PgPool* pool) : pool_(pool) {}

  absl::Status Queue(const std::vector<v1::ComponentOperation>& operations) override;
  absl::StatusOr<std::vector<v1::ComponentOperation>> TakePending(const std::string& device_id,
                                                                  absl::Time now) override;
  absl::StatusOr<std::vector<v1::ComponentOperation>> List(const std::string& device_id,
                                                           int limit) override;
  absl::StatusOr<std::vector<std::string>> DevicesWithOpenOperations() override;

 private:
  PgPool* pool_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_OPERATION_STORE_H_
