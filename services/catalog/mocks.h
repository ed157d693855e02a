#ifndef UPDRAFT_SERVICES_CATALOG_MOCKS_H_
#define UPDRAFT_SERVICES_CATALOG_MOCKS_H_

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "services/catalog/announcer.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/manifest_source.h"

namespace updraft::catalog {

// gMock doubles of the catalog's interfaces, for tests.
class MockCatalogStore : public CatalogStore {
 public:
  MOCK_METHOD(absl::Status, CreatePackage, (const v1::Package& package, absl::Time now),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Package>, GetPackage, (const std::string& package_id), (override));
  MOCK_METHOD(absl::Status, CreateRelease, (const v1::Release& release, absl::Time now),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Release>, PublishRelease,
              (const std::string& release_id, const v1::SignedReleaseMetadata* signed_metadata,
               absl::Time now),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::Release>, GetRelease, (const std::string& release_id), (override));
  MOCK_METHOD(absl::StatusOr<v1::Release>, WithdrawRelease,
              (const std::string& release_id, absl::Time now), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<v1::Release>>, ListPublicReleases, (), (override));
  MOCK_METHOD(absl::StatusOr<RecordReportResult>, RecordReport,
              (const std::string& device_id, const v1::ResultRecord& report,
               const std::vector<v1::InventoryComponent>& deployed),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::DeviceState>, GetDeviceState,
              (const std::string& device_id, int max_history), (override));
};

class MockAnnouncer : public Announcer {
 public:
  MOCK_METHOD(absl::StatusOr<v1::AnnounceResponse>, Announce, (const v1::AnnounceRequest& request),
              (override));
};

class MockManifestSource : public ManifestSource {
 public:
  MOCK_METHOD(absl::StatusOr<v1::ArtifactManifest>, GetManifest, (const std::string& sha256),
              (override));
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_MOCKS_H_
