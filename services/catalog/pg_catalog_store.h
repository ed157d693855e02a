#ifndef UPDRAFT_SERVICES_CATALOG_PG_CATALOG_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_CATALOG_STORE_H_

#include <string>
#include <vector>

#include "common/pg_pool.h"
#include "services/catalog/catalog_store.h"

namespace updraft::catalog {

// The PostgreSQL NOTIFY channel on which a release's publication or
// withdrawal is announced (payload: the release ID).
inline constexpr char kReleasesChannel[] = "updraft_catalog_releases";

// CatalogStore in PostgreSQL (schema in migrations/, applied with
// CatalogMigrations()). Protos are stored serialized in bytea columns; every
// call is one transaction; a device's reports are serialized with an
// advisory lock on its ID.
class PgCatalogStore : public CatalogStore {
 public:
  explicit PgCatalogStore(PgPool* pool) : pool_(pool) {}

  absl::Status CreatePackage(const v1::Package& package, absl::Time now) override;
  absl::StatusOr<v1::Package> GetPackage(const std::string& package_id) override;
  absl::Status CreateRelease(const v1::Release& release, absl::Time now) override;
  absl::StatusOr<v1::Release> PublishRelease(const std::string& release_id,
                                             const v1::SignedReleaseMetadata* signed_metadata,
                                             absl::Time now) override;
  absl::StatusOr<v1::Release> GetRelease(const std::string& release_id) override;
  absl::StatusOr<v1::Release> WithdrawRelease(const std::string& release_id,
                                              absl::Time now) override;
  absl::StatusOr<std::vector<v1::Release>> ListPublicReleases() override;
  absl::StatusOr<RecordReportResult> RecordReport(
      const std::string& device_id, const v1::ResultRecord& report,
      const std::vector<v1::InventoryComponent>& deployed) override;
  absl::StatusOr<v1::DeviceState> GetDeviceState(const std::string& device_id,
                                                 int max_history) override;

 private:
  PgPool* pool_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_CATALOG_STORE_H_
