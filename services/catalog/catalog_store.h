#ifndef UPDRAFT_SERVICES_CATALOG_CATALOG_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_CATALOG_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

// What RecordReport did.
struct RecordReportResult {
  // True when (device_id, report_id) had been recorded before; nothing was
  // changed then.
  bool duplicate = false;
  // The recorded report's release and result: for a duplicate, those of the
  // report recorded first (not the re-sent content).
  std::string release_id;
  v1::ResultCode result = v1::RESULT_CODE_UNSPECIFIED;
};

// Durable catalog state: packages, releases with their DCs, and what devices
// reported. Callers validate; the store keeps what it is given, assigns
// nothing but timestamps, and makes every call atomic.
class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  // ALREADY_EXISTS "package name X already exists" when the name is taken.
  virtual absl::Status CreatePackage(const v1::Package& package, absl::Time now) = 0;
  // NOT_FOUND "package X not found".
  virtual absl::StatusOr<v1::Package> GetPackage(const std::string& package_id) = 0;

  // Stores a DRAFT release, its manifest, DCinfo (with assigned IDs), settings
  // and one row per DC, in one transaction. NOT_FOUND for an unknown package;
  // ALREADY_EXISTS "release V of package P already exists".
  virtual absl::Status CreateRelease(const v1::Release& release, absl::Time now) = 0;
  // Marks the release PUBLISHED (again: no change) and returns it; when
  // `signed_metadata` is not null it becomes the release's signed metadata
  // (callers verify it first). NOT_FOUND; FAILED_PRECONDITION for a
  // withdrawn release. Announces the change to every catalog replica
  // (PostgreSQL: NOTIFY in the same transaction).
  virtual absl::StatusOr<v1::Release> PublishRelease(
      const std::string& release_id, const v1::SignedReleaseMetadata* signed_metadata,
      absl::Time now) = 0;
  // Marks a published release WITHDRAWN (again: no change) and returns it,
  // announced like PublishRelease. NOT_FOUND; FAILED_PRECONDITION for a draft.
  virtual absl::StatusOr<v1::Release> WithdrawRelease(const std::string& release_id,
                                                      absl::Time now) = 0;
  // The release with package_name and description filled in. NOT_FOUND.
  virtual absl::StatusOr<v1::Release> GetRelease(const std::string& release_id) = 0;
  // Every release ever published: PUBLISHED and WITHDRAWN ones, with
  // package_name, description and settings filled in.
  virtual absl::StatusOr<std::vector<v1::Release>> ListPublicReleases() = 0;

  // Records a device's result report, idempotent by (device_id, report_id);
  // NOT_FOUND "release X not found" when report.release_id() is unknown.
  // When new and report.result() is SUCCESS, the device's Deployed components
  // are replaced by `deployed`. One transaction. report.reported_at_unix is
  // the time recorded. When report.operation_id() is set, the operation must
  // belong to the device (NOT_FOUND) and name report.release_id()
  // (INVALID_ARGUMENT); a new report completes a QUEUED or DELIVERED
  // operation (SUCCEEDED for SUCCESS, else FAILED, with the result code and
  // message) in the same transaction; a completed one keeps its outcome.
  virtual absl::StatusOr<RecordReportResult> RecordReport(
      const std::string& device_id, const v1::ResultRecord& report,
      const std::vector<v1::InventoryComponent>& deployed) = 0;
  // Deployed components (ordered by author, name) and report history (oldest
  // first, at most the latest `max_history`). A device never heard of has
  // an empty state.
  virtual absl::StatusOr<v1::DeviceState> GetDeviceState(const std::string& device_id,
                                                         int max_history) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CATALOG_STORE_H_
