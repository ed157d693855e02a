#ifndef UPDRAFT_SERVICES_CATALOG_FAKE_CATALOG_STORE_H_
#define UPDRAFT_SERVICES_CATALOG_FAKE_CATALOG_STORE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/manifest_source.h"
#include "services/catalog/operation_store.h"

namespace updraft::catalog {

// In-memory CatalogStore and OperationStore with the same contracts as
// PgCatalogStore and PgOperationStore (one object, so that a report
// completes its operation atomically as in PostgreSQL), for unit tests of
// the layers above them.
class FakeCatalogStore : public CatalogStore, public OperationStore {
 public:
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

  absl::Status Queue(const std::vector<v1::ComponentOperation>& operations) override;
  absl::StatusOr<std::vector<std::string>> DevicesWithOpenOperations() override;
  absl::StatusOr<std::vector<v1::ComponentOperation>> TakePending(const std::string& device_id,
                                                                  absl::Time now) override;
  absl::StatusOr<std::vector<v1::ComponentOperation>> List(const std::string& device_id,
                                                           int limit) override;

  size_t release_count() {
    absl::MutexLock lock(&mu_);
    return releases_.size();
  }

 private:
  struct Device {
    std::vector<v1::InventoryComponent> deployed;
    std::vector<v1::ResultRecord> history;
  };
  absl::Mutex mu_;
  std::map<std::string, v1::Package> packages_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Release> releases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Device> devices_ ABSL_GUARDED_BY(mu_);
  // In queue order.
  std::vector<v1::ComponentOperation> operations_ ABSL_GUARDED_BY(mu_);
};

// ManifestSource serving manifests added by the test.
class FakeManifestSource : public ManifestSource {
 public:
  void Add(v1::ArtifactManifest manifest) {
    absl::MutexLock lock(&mu_);
    manifests_[manifest.sha256()] = std::move(manifest);
  }
  absl::StatusOr<v1::ArtifactManifest> GetManifest(const std::string& sha256) override;

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::ArtifactManifest> manifests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_FAKE_CATALOG_STORE_H_
