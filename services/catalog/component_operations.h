#ifndef UPDRAFT_SERVICES_CATALOG_COMPONENT_OPERATIONS_H_
#define UPDRAFT_SERVICES_CATALOG_COMPONENT_OPERATIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/catalog/announcer.h"
#include "services/catalog/group_store.h"
#include "services/catalog/operation_store.h"
#include "services/catalog/pending_operation_index.h"
#include "services/catalog/release_cache.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// Per-component operations (issue 4 item 5): operators queue UPDATE,
// ACTIVATE, DEACTIVATE or REMOVE for one DC on one device or on a group
// (expanded to its members at queue time, at most kMaxGroupTargets), the
// device gets them with its next update check and completes each with a
// SCOMO result report (CatalogService::ReportResult). Transport-free; the
// state lives in an OperationStore. When an Announcer is given, every queued
// operation nudges its devices through the notifier (best effort: a failed
// announcement is logged, the operations stay queued).
class ComponentOperations {
 public:
  static constexpr int kMaxGroupTargets = 10000;

  struct Options {
    OperationStore* operations = nullptr;
    GroupStore* groups = nullptr;
    ReleaseCache* releases = nullptr;
    const Clock* clock = nullptr;
    // Optional.
    Announcer* announcer = nullptr;
    Logger* logger = nullptr;
    // Optional: devices it does not mark are answered without a read of
    // `operations` (the owner keeps it current across replicas, e.g. a
    // PgReleaseListener); this class marks what it queues.
    PendingOperationIndex* index = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<ComponentOperations>> Create(Options options);

  // Validates (INVALID_ARGUMENT naming the field), resolves the release
  // (NOT_FOUND when no suitable release holds the DC; FAILED_PRECONDITION
  // for an UPDATE to a withdrawn release or an empty or oversized group),
  // stores one QUEUED operation per device and announces them.
  absl::StatusOr<v1::QueueOperationResponse> Queue(const v1::QueueOperationRequest& request);
  absl::StatusOr<v1::ListOperationsResponse> List(const v1::ListOperationsRequest& request);
  // The device's operations not yet reported (they become DELIVERED).
  absl::StatusOr<std::vector<v1::ComponentOperation>> TakePending(const std::string& device_id);

 private:
  explicit ComponentOperations(Options options) : options_(std::move(options)) {}
  absl::StatusOr<std::vector<std::string>> Targets(const v1::QueueOperationRequest& request);
  void Announce(const v1::Release& release, const std::vector<v1::ComponentOperation>& ops);

  const Options options_;
};

// The release an operation on `dc_id` refers to, from the public releases
// in `snapshot`: `release_id` when given (it must hold the DC), else the
// newest release holding the DC that is published (UPDATE) or public (other
// kinds). Pure function over the snapshot.
absl::StatusOr<v1::Release> ResolveOperationRelease(const ReleaseSnapshot& snapshot,
                                                    v1::ComponentOperation::Kind kind,
                                                    const std::string& dc_id,
                                                    const std::string& release_id);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_COMPONENT_OPERATIONS_H_
