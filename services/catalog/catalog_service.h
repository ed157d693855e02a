#ifndef UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_
#define UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/release_metadata.h"
#include "services/catalog/announcer.h"
#include "services/catalog/campaign_observer.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/component_operations.h"
#include "services/catalog/download_grant_writer.h"
#include "services/catalog/group_store.h"
#include "services/catalog/manifest_source.h"
#include "services/catalog/offer_gate.h"
#include "services/catalog/operation_store.h"
#include "services/catalog/pending_operation_index.h"
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
    // Device groups and per-component operations; both null: the group and
    // operation RPCs answer FAILED_PRECONDITION and checks carry no
    // operations or group overrides.
    GroupStore* groups = nullptr;
    OperationStore* operations = nullptr;
    // Optional: nudges devices (through the notifier) when an operation is
    // queued for them. Null: no nudge; devices see it at their next check.
    Announcer* announcer = nullptr;
    // Optional with `operations`: devices with open operations, kept in
    // memory so a check of any other device reads no operation rows (see
    // PendingOperationIndex; its owner keeps it current across replicas).
    PendingOperationIndex* pending_operations = nullptr;
    // Publisher keys whose signed release metadata this catalog accepts.
    // Null or empty: releases are published unsigned (PublishRelease then
    // refuses signed_metadata it cannot check). Otherwise every publication
    // must carry metadata signed by one of them, matching the release, not
    // expired, expiring within max_metadata_lifetime.
    const PublisherKeys* publisher_keys = nullptr;
    absl::Duration max_metadata_lifetime = absl::Hours(24 * 400);
    // Optional: told of every update check and result report, duplicates
    // too (campaign progress, device attributes; see CampaignObserver).
    CampaignObserver* campaigns = nullptr;
    // Optional: may withhold an offer the decision chose (staged rollouts,
    // CampaignSpec.gate_offers).
    OfferGate* offer_gate = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<CatalogService>> Create(Options options);

  // Name 1..128 of [A-Za-z0-9._ -], unique; author required.
  absl::StatusOr<v1::Package> CreatePackage(const v1::CreatePackageRequest& request);
  // A DRAFT release of an artifact already uploaded to the download service,
  // with its manifest copied and its DCinfo validated and completed.
  absl::StatusOr<v1::Release> CreateRelease(const v1::CreateReleaseRequest& request);
  // Idempotent; FAILED_PRECONDITION for a withdrawn release. Checks the
  // signed metadata (see Options::publisher_keys); one with a later
  // issued_at than the stored one replaces it.
  absl::StatusOr<v1::Release> PublishRelease(const v1::PublishReleaseRequest& request);
  // Stops offering a published release (state WITHDRAWN); devices that have
  // it keep it, and no downgrade is offered. Idempotent; FAILED_PRECONDITION
  // for a draft.
  absl::StatusOr<v1::Release> WithdrawRelease(const v1::WithdrawReleaseRequest& request);
  absl::StatusOr<v1::Release> GetRelease(const v1::GetReleaseRequest& request);
  absl::StatusOr<v1::DeviceState> GetDeviceState(const v1::GetDeviceStateRequest& request);

  // Group membership (names: ValidateGroupName; device IDs as auth's).
  absl::StatusOr<v1::GroupMembersResponse> AddGroupMembers(const v1::GroupMembersRequest& request);
  absl::StatusOr<v1::GroupMembersResponse> RemoveGroupMembers(
      const v1::GroupMembersRequest& request);
  absl::StatusOr<v1::ListGroupMembersResponse> ListGroupMembers(
      const v1::ListGroupMembersRequest& request);
  // See ComponentOperations: a group is expanded to its members when queued.
  absl::StatusOr<v1::QueueOperationResponse> QueueOperation(
      const v1::QueueOperationRequest& request);
  absl::StatusOr<v1::ListOperationsResponse> ListOperations(
      const v1::ListOperationsRequest& request);
  // The device's SCOMO tree (scomo_tree.h): Download nodes for its pending
  // UPDATE operations and for what its last reported Deployed inventory
  // would be offered (releases with device-attribute rules are left out:
  // the catalog does not keep attributes), Inventory nodes from its reports.
  absl::StatusOr<v1::ScomoTree> GetScomoTree(const v1::GetScomoTreeRequest& request);

  // Every applicable update for an authenticated device's inventory, with
  // the settings merged for the device's groups (group_settings.h), and its
  // pending operations (an UPDATE operation's offer replaces an ordinary
  // offer of the same package).
  absl::StatusOr<v1::CheckForUpdatesResponse> CheckForUpdates(
      const std::string& device_id, const v1::CheckForUpdatesRequest& request);
  // Records a SCOMO result; a repeated report_id is a no-op (duplicate=true).
  absl::StatusOr<v1::ReportResultResponse> ReportResult(const std::string& device_id,
                                                        const v1::ReportResultRequest& request);

 private:
  explicit CatalogService(Options options) : options_(std::move(options)) {}
  // After a local publish or withdraw: this replica sees it at once.
  void RefreshSnapshot();
  // The signed metadata to store for publishing `request` (null: keep what
  // is stored), after every check.
  absl::StatusOr<const v1::SignedReleaseMetadata*> CheckedMetadata(
      const v1::PublishReleaseRequest& request);

  // Adds pending operations and per-group settings to a check's answer
  // (catalog_service_ops.cc).
  absl::Status PersonalizeCheck(const std::string& device_id,
                                const v1::CheckForUpdatesRequest& request,
                                const ReleaseSnapshot& snapshot,
                                v1::CheckForUpdatesResponse* response);
  void FillOfferSources(v1::Offer* offer) const;
  absl::Status OperationsConfigured() const;

  Options options_;
  std::unique_ptr<ReleaseCache> own_releases_;
  std::unique_ptr<ComponentOperations> operations_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CATALOG_SERVICE_H_
