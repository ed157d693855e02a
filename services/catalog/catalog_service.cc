#include "services/catalog/catalog_service.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/semver.h"
#include "common/status_util.h"
#include "services/catalog/dcinfo.h"
#include "services/catalog/update_decider.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

constexpr size_t kMaxDescriptionLength = 4096;
constexpr size_t kMaxSettings = 64;
constexpr size_t kMaxReportIdLength = 128;
constexpr size_t kMaxReportMessageLength = 2048;

std::string NewId(absl::string_view prefix) {
  return absl::StrCat(prefix, absl::BytesToHexString(RandomBytes(8)));
}

absl::Status ValidatePackageName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength;
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ' ' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "name must be 1 to 128 characters of letters, digits, '.', '_', ' ' and '-'");
  }
  return absl::OkStatus();
}

absl::Status ValidateSettings(const google::protobuf::Map<std::string, std::string>& settings) {
  if (settings.size() > kMaxSettings) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings has ", settings.size(), " entries; at most ", kMaxSettings));
  }
  for (const auto& [key, value] : settings) {
    UPDRAFT_RETURN_IF_ERROR(ValidateText("settings key", key, kMaxSettingKeyLength, true));
    UPDRAFT_RETURN_IF_ERROR(
        ValidateText(absl::StrCat("settings[", key, "]"), value, kMaxSettingValueLength, false));
  }
  return absl::OkStatus();
}

// What a device says it applied: the release's settings merged with group
// overrides, so at most kMaxSettings + kMaxGroupSettings * kMaxSettingsPerGroup.
absl::Status ValidateAppliedSettings(
    const google::protobuf::Map<std::string, std::string>& settings) {
  const size_t max = kMaxSettings + kMaxGroupSettings * kMaxSettingsPerGroup;
  if (settings.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("applied_settings has ", settings.size(), " entries; at most ", max));
  }
  for (const auto& [key, value] : settings) {
    UPDRAFT_RETURN_IF_ERROR(ValidateText("applied_settings key", key, kMaxSettingKeyLength, true));
    UPDRAFT_RETURN_IF_ERROR(ValidateText(absl::StrCat("applied_settings[", key, "]"), value,
                                         kMaxSettingValueLength, false));
  }
  return absl::OkStatus();
}

absl::Status ValidateDeviceId(absl::string_view device_id) {
  return ValidateText("device_id", device_id, kMaxDeviceIdLength, true);
}

constexpr size_t kMaxCompatibilityEntries = 256;

absl::Status ValidateCompatibility(const v1::Compatibility& c) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDistinctTexts("compatibility.models", c.models(),
                                                kMaxCompatibilityEntries, kMaxAttributeLength));
  UPDRAFT_RETURN_IF_ERROR(ValidateDistinctTexts("compatibility.carriers", c.carriers(),
                                                kMaxCompatibilityEntries, kMaxAttributeLength));
  std::optional<SemVer> min, max;
  UPDRAFT_RETURN_IF_ERROR(ParseOsBound("compatibility.min_os_version", c.min_os_version(), &min));
  UPDRAFT_RETURN_IF_ERROR(ParseOsBound("compatibility.max_os_version", c.max_os_version(), &max));
  if (min.has_value() && max.has_value() && *min > *max) {
    return absl::InvalidArgumentError(
        absl::StrCat("compatibility.min_os_version ", c.min_os_version(),
                     " is above compatibility.max_os_version ", c.max_os_version()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CatalogService>> CatalogService::Create(Options options) {
  if (options.store == nullptr || options.manifests == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "CatalogService needs a store, a manifest source and a clock");
  }
  if (options.public_download_target.empty()) {
    return absl::InvalidArgumentError("CatalogService needs a public download target");
  }
  while (!options.public_http_base.empty() && options.public_http_base.back() == '/') {
    options.public_http_base.pop_back();
  }
  if (!options.public_http_base.empty() &&
      !absl::StartsWith(options.public_http_base, "https://") &&
      !absl::StartsWith(options.public_http_base, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("public_http_base must start with https:// or http://, got \"",
                     options.public_http_base, "\""));
  }
  if (options.max_history < 1) {
    return absl::InvalidArgumentError("CatalogService max_history must be positive");
  }
  std::unique_ptr<CatalogService> service(new CatalogService(std::move(options)));
  if (service->options_.releases == nullptr) {
    service->own_releases_ = std::make_unique<ReleaseCache>(service->options_.store);
    UPDRAFT_RETURN_IF_ERROR(service->own_releases_->Reload());
    service->options_.releases = service->own_releases_.get();
  }
  if ((service->options_.groups == nullptr) != (service->options_.operations == nullptr)) {
    return absl::InvalidArgumentError(
        "CatalogService needs both a group store and an operation store, or neither");
  }
  if (service->options_.operations != nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(
        service->operations_,
        ComponentOperations::Create({.operations = service->options_.operations,
                                     .groups = service->options_.groups,
                                     .releases = service->options_.releases,
                                     .clock = service->options_.clock,
                                     .announcer = service->options_.announcer,
                                     .logger = service->options_.logger,
                                     .index = service->options_.pending_operations}));
  }
  return service;
}

void CatalogService::RefreshSnapshot() {
  absl::Status s = options_.releases->Reload();
  if (!s.ok() && options_.logger != nullptr) {
    options_.logger->Warning("release snapshot reload failed",
                             {{"error", std::string(s.message())}});
  }
}

absl::StatusOr<v1::Package> CatalogService::CreatePackage(const v1::CreatePackageRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidatePackageName(request.name()));
  UPDRAFT_RETURN_IF_ERROR(ValidateText("author", request.author(), kMaxAuthorLength, true));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateText("description", request.description(), kMaxDescriptionLength, false));
  v1::Package package;
  package.set_package_id(NewId("pkg_"));
  package.set_name(request.name());
  package.set_author(request.author());
  package.set_description(request.description());
  UPDRAFT_RETURN_IF_ERROR(options_.store->CreatePackage(package, options_.clock->Now()));
  return package;
}

absl::StatusOr<v1::Release> CatalogService::CreateRelease(const v1::CreateReleaseRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("package_id", request.package_id(), kMaxIdLength));
  UPDRAFT_RETURN_IF_ERROR(SemVer::Parse(request.version()).status());
  if (request.version().size() > kMaxVersionLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("version must be at most ", kMaxVersionLength, " characters"));
  }
  if (!IsSha256Hex(request.artifact_sha256())) {
    return absl::InvalidArgumentError(
        "artifact_sha256 must be the artifact's SHA-256 as 64 lower-case hex digits");
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateSettings(request.settings()));
  UPDRAFT_RETURN_IF_ERROR(ValidateCompatibility(request.compatibility()));
  UPDRAFT_RETURN_IF_ERROR(ValidateGroupSettings("group_settings", request.group_settings()));
  UPDRAFT_ASSIGN_OR_RETURN(v1::Package package, options_.store->GetPackage(request.package_id()));
  UPDRAFT_ASSIGN_OR_RETURN(v1::ArtifactManifest manifest,
                           options_.manifests->GetManifest(request.artifact_sha256()));
  UPDRAFT_ASSIGN_OR_RETURN(v1::DcInfo dcinfo, ValidateDcInfo(request.dcinfo(), manifest,
                                                             package.author(), request.version()));
  v1::Release release;
  release.set_release_id(NewId("rel_"));
  release.set_package_id(package.package_id());
  release.set_version(request.version());
  release.set_state(v1::DRAFT);
  *release.mutable_artifact() = std::move(manifest);
  *release.mutable_dcinfo() = std::move(dcinfo);
  *release.mutable_settings() = request.settings();
  *release.mutable_compatibility() = request.compatibility();
  *release.mutable_group_settings() = request.group_settings();
  release.set_package_name(package.name());
  release.set_description(package.description());
  UPDRAFT_RETURN_IF_ERROR(options_.store->CreateRelease(release, options_.clock->Now()));
  return release;
}

absl::StatusOr<v1::Release> CatalogService::PublishRelease(
    const v1::PublishReleaseRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", request.release_id(), kMaxIdLength));
  UPDRAFT_ASSIGN_OR_RETURN(const v1::SignedReleaseMetadata* signed_metadata,
                           CheckedMetadata(request));
  UPDRAFT_ASSIGN_OR_RETURN(
      v1::Release release,
      options_.store->PublishRelease(request.release_id(), signed_metadata, options_.clock->Now()));
  RefreshSnapshot();
  return release;
}

absl::StatusOr<const v1::SignedReleaseMetadata*> CatalogService::CheckedMetadata(
    const v1::PublishReleaseRequest& request) {
  const bool signing = options_.publisher_keys != nullptr && !options_.publisher_keys->empty();
  if (!request.has_signed_metadata()) {
    if (!signing) return nullptr;
    return absl::InvalidArgumentError(
        "signed_metadata is required: this catalog publishes only releases signed by a "
        "trusted publisher key (updraftctl publish --signing_key_file=KEY)");
  }
  if (!signing) {
    return absl::FailedPreconditionError(
        "signed_metadata cannot be checked: this catalog trusts no publisher keys "
        "(--publisher_keys_file)");
  }
  absl::StatusOr<v1::ReleaseMetadata> metadata =
      options_.publisher_keys->Verify(request.signed_metadata());
  if (!metadata.ok()) {
    return absl::Status(metadata.status().code(),
                        absl::StrCat("signed_metadata: ", metadata.status().message()));
  }
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, options_.store->GetRelease(request.release_id()));
  auto invalid = [](const absl::Status& s) {
    return absl::InvalidArgumentError(absl::StrCat("signed_metadata: ", s.message()));
  };
  if (absl::Status s = CheckMetadataMatches(*metadata, release); !s.ok()) return invalid(s);
  const absl::Time now = options_.clock->Now();
  if (absl::Status s = CheckMetadataFresh(*metadata, now); !s.ok()) return invalid(s);
  if (absl::FromUnixSeconds(metadata->expires_at_unix()) > now + options_.max_metadata_lifetime) {
    return absl::InvalidArgumentError(
        absl::StrCat("signed_metadata: expires more than ",
                     absl::ToInt64Hours(options_.max_metadata_lifetime) / 24,
                     " days from now; sign it with a shorter lifetime"));
  }
  if (release.has_signed_metadata()) {
    absl::StatusOr<v1::ReleaseMetadata> stored =
        options_.publisher_keys->Verify(release.signed_metadata());
    // A stored statement at least as new wins (a late retry changes nothing).
    if (stored.ok() && stored->issued_at_unix() >= metadata->issued_at_unix()) return nullptr;
  }
  return &request.signed_metadata();
}

absl::StatusOr<v1::Release> CatalogService::WithdrawRelease(
    const v1::WithdrawReleaseRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", request.release_id(), kMaxIdLength));
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, options_.store->WithdrawRelease(
                                                    request.release_id(), options_.clock->Now()));
  RefreshSnapshot();
  return release;
}

absl::StatusOr<v1::Release> CatalogService::GetRelease(const v1::GetReleaseRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", request.release_id(), kMaxIdLength));
  return options_.store->GetRelease(request.release_id());
}

absl::StatusOr<v1::DeviceState> CatalogService::GetDeviceState(
    const v1::GetDeviceStateRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(request.device_id()));
  return options_.store->GetDeviceState(request.device_id(), options_.max_history);
}

absl::StatusOr<v1::CheckForUpdatesResponse> CatalogService::CheckForUpdates(
    const std::string& device_id, const v1::CheckForUpdatesRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  UPDRAFT_RETURN_IF_ERROR(ValidateInventory("inventory", request.inventory()));
  const v1::DeviceAttributes& a = request.attributes();
  UPDRAFT_RETURN_IF_ERROR(ValidateText("attributes.model", a.model(), kMaxAttributeLength, false));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateText("attributes.os_version", a.os_version(), kMaxAttributeLength, false));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateText("attributes.carrier", a.carrier(), kMaxAttributeLength, false));
  UPDRAFT_RETURN_IF_ERROR(
      ValidateText("attributes.time_zone", a.time_zone(), kMaxAttributeLength, false));

  std::shared_ptr<const ReleaseSnapshot> snapshot = options_.releases->Current();
  std::vector<DeviceComponent> inventory;
  inventory.reserve(request.inventory_size());
  for (const v1::InventoryComponent& c : request.inventory()) {
    inventory.push_back({c.dc_id(), c.release_id(), c.author(), c.name(), c.version(),
                         c.location() == v1::DEPLOYED});
  }
  UpdateDecision decision =
      snapshot->index.Decide(inventory, {a.model(), a.os_version(), a.carrier()});

  v1::CheckForUpdatesResponse response;
  for (const UpdateOffer& o : decision.offers) {
    if (options_.offer_gate != nullptr && !options_.offer_gate->MayOffer(device_id, o.release_id)) {
      continue;  // a staged rollout whose wave has not reached this device
    }
    v1::Offer* offer = response.add_offers();
    offer->set_kind(o.kind == OfferKind::kOverwrite ? v1::OVERWRITE : v1::FRESH_INSTALL);
    *offer->mutable_release() = snapshot->releases.at(o.release_id);
    offer->set_installed_version(o.installed_version);
    FillOfferSources(offer);
  }
  UPDRAFT_RETURN_IF_ERROR(PersonalizeCheck(device_id, request, *snapshot, &response));
  if (options_.grants != nullptr &&
      (response.offers_size() > 0 || response.operations_size() > 0)) {
    std::vector<std::string> shas;
    for (const v1::Offer& offer : response.offers()) {
      shas.push_back(offer.release().artifact().sha256());
    }
    for (const v1::PendingOperation& op : response.operations()) {
      if (op.has_offer()) shas.push_back(op.offer().release().artifact().sha256());
    }
    UPDRAFT_RETURN_IF_ERROR(options_.grants->Grant(device_id, shas));
  }
  if (options_.logger != nullptr && !decision.unknown.empty()) {
    for (const DeviceComponent& c : decision.unknown) {
      options_.logger->Log(Logger::Level::kDebug, "unknown inventory component",
                           {{"device_id", device_id},
                            {"release_id", std::string(c.release_id)},
                            {"author", std::string(c.author)},
                            {"name", std::string(c.name)},
                            {"version", std::string(c.version)}});
    }
  }
  if (options_.campaigns != nullptr) {
    std::vector<std::string> offered;
    for (const v1::Offer& offer : response.offers()) {
      offered.push_back(offer.release().release_id());
    }
    options_.campaigns->OnCheck(device_id, a, offered);
  }
  return response;
}

absl::StatusOr<v1::ReportResultResponse> CatalogService::ReportResult(
    const std::string& device_id, const v1::ReportResultRequest& request) {
  UPDRAFT_RETURN_IF_ERROR(ValidateDeviceId(device_id));
  UPDRAFT_RETURN_IF_ERROR(ValidateText("report_id", request.report_id(), kMaxReportIdLength, true));
  UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", request.release_id(), kMaxIdLength));
  if (!v1::ResultCode_IsValid(request.result()) ||
      request.result() == v1::RESULT_CODE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("result ", static_cast<int>(request.result()), " is not a SCOMO result code"));
  }
  UPDRAFT_RETURN_IF_ERROR(
      ValidateText("message", request.message(), kMaxReportMessageLength, false));
  UPDRAFT_RETURN_IF_ERROR(ValidateDeployed("deployed", request.deployed()));
  if (!request.operation_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(
        ValidateIdentifier("operation_id", request.operation_id(), kMaxIdLength));
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateAppliedSettings(request.applied_settings()));

  v1::ResultRecord record;
  record.set_report_id(request.report_id());
  record.set_release_id(request.release_id());
  record.set_result(request.result());
  record.set_message(request.message());
  record.set_reported_at_unix(absl::ToUnixSeconds(options_.clock->Now()));
  record.set_operation_id(request.operation_id());
  *record.mutable_applied_settings() = request.applied_settings();
  std::vector<v1::InventoryComponent> deployed(request.deployed().begin(),
                                               request.deployed().end());
  for (v1::InventoryComponent& c : deployed) c.set_location(v1::DEPLOYED);
  UPDRAFT_ASSIGN_OR_RETURN(RecordReportResult result,
                           options_.store->RecordReport(device_id, record, deployed));
  if (options_.campaigns != nullptr) {
    // A duplicate too: its first send may have died between the report's
    // commit and the campaign outcome (a killed catalog), and the device
    // sends again until acknowledged. The recorded report counts, not the
    // re-sent content; outcomes already recorded are not changed again.
    options_.campaigns->OnReport(device_id, result.release_id, result.result);
  }
  v1::ReportResultResponse response;
  response.set_duplicate(result.duplicate);
  return response;
}

}  // namespace updraft::catalog
