#ifndef UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_
#define UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/download_grant_writer.h"
#include "services/catalog/manifest_source.h"
#include "services/catalog/release_cache.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::catalog {

// The catalog's domain logic, free of transport: packages and releases for
// operators; update decisions and result reports for devices. Every input is
// validated here (INVALID_ARGUMENT naming the field); state lives in the
// CatalogStore.
class CatalogService {
 public:
  struct Options {
    CatalogStore* store = nullptr;
    ManifestSource* manifests = nullptr;
    const Clock* clock = nullptr;
    // Where devices fetch artifacts; copied into every Offer.
    std::string public_download_target;
    // Base URL of a web server or CDN serving the artifact volume's
    // objects/ directory (e.g. "https://cdn.example/updraft"); when set,
    // every Offer also names "<base>/objects/<sha256>" in http_urls.
    std::string public_http_base;
    // Optional; records each offered artifact for the device, so the
    // download service lets it fetch exactly those.
    DownloadGrantWriter* grants = nullptr;
    // Optional; unknown inventory components are logged at debug level.
    Logger* logger = nullptr;
    // Report history returned by GetDeviceState.
    int max_history = 100;
    // The in-memory snapshot update checks are answered from, kept current
    // by its owner (e.g. a PgReleaseListener); this service reloads it after
    // its own publish and withdraw. Null: the service keeps one of its own
    // over `store`, loaded in Create().
    ReleaseCache* releases = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<CatalogService>> Create(Options options);

  // Name 1..128 of [A-Za-z0-9._ -], unique; author required.
  absl::StatusOr<v1::Package> CreatePackage(const v1::CreatePackageRequest& request);
  // A DRAFT release of an artifact already uploaded to the download service,
  // with its manifest copied and its DCinfo validated and completed.
  absl::StatusOr<v1::Release> CreateRelease(const v1::CreateReleaseRequest& request);
  // Idempotent; FAILED_PRECONDITION for a withdrawn release.
  absl::StatusOr<v1::Release> PublishRelease(const v1::PublishReleaseRequest& request);
  // Stops offering a published release (state WITHDRAWN); devices that have
  // it keep it, and no downgrade is offered. Idempotent; FAILED_PRECONDITION
  // for a draft.
  absl::StatusOr<v1::Release> WithdrawRelease(const v1::WithdrawReleaseRequest& request);
  absl::StatusOr<v1::Release> GetRelease(const v1::GetReleaseRequest& request);
  absl::StatusOr<v1::DeviceState> GetDeviceState(const v1::GetDeviceStateRequest& request);

  // Every applicable update for an authenticated device's inventory.
  absl::StatusOr<v1::CheckForUpdatesResponse> CheckForUpdates(
      const std::string& device_id, const v1::CheckForUpdatesRequest& request);
  // Records a SCOMO result; a repeated report_id is a no-op (duplicate=true).
  absl::StatusOr<v1::ReportResultResponse> ReportResult(const std::string& device_id,
                                                        const v1::ReportResultRequest& request);

 private:
  explicit CatalogService(Options options) : options_(std::move(options)) {}
  // After a local publish or withdraw: this replica sees it at once.
  void RefreshSnapshot();

  Options options_;
  std::unique_ptr<ReleaseCache> own_releases_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_
