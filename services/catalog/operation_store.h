#ifndef UPDRAFT_SERVICES_CATALOG_OPERATION_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_OPERATION_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// Durable per-component operations (ComponentOperation): queued by
// operators, handed to devices in check answers, completed by the device's
// report (CatalogStore::RecordReport with ResultRecord.operation_id, in the
// same transaction as the report). Callers validate; every call is atomic.
class OperationStore {
 public:
  virtual ~OperationStore() = default;

  // Stores new QUEUED operations (IDs, queued_at_unix set by the caller),
  // all or none. NOT_FOUND when a release_id is unknown.
  virtual absl::Status Queue(const std::vector<v1::ComponentOperation>& operations) = 0;
  // The device's QUEUED and DELIVERED operations, oldest first; the QUEUED
  // ones become DELIVERED at `now`.
  virtual absl::StatusOr<std::vector<v1::ComponentOperation>> TakePending(
      const std::string& device_id, absl::Time now) = 0;
  // Every device with QUEUED or DELIVERED operations (PendingOperationIndex
  // loads it at start).
  virtual absl::StatusOr<std::vector<std::string>> DevicesWithOpenOperations() = 0;
  // The device's latest `limit` operations in any state, oldest first.
  virtual absl::StatusOr<std::vector<v1::ComponentOperation>> List(const std::string& device_id,
                                                                   int limit) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_OPERATION_STORE_H_
