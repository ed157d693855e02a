#include "services/catalog/fake_catalog_store.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace updraft::catalog {

absl::Status FakeCatalogStore::CreatePackage(const v1::Package& package, absl::Time) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, p] : packages_) {
    if (p.name() == package.name()) {
      return absl::AlreadyExistsError(
          absl::StrCat("package name ", package.name(), " already exists"));
    }
  }
  if (!packages_.emplace(package.package_id(), package).second) {
    return absl::AlreadyExistsError(absl::StrCat("package ", package.package_id(), " exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Package> FakeCatalogStore::GetPackage(const std::string& package_id) {
  absl::MutexLock lock(&mu_);
  auto it = packages_.find(package_id);
  if (it == packages_.end()) {
    return absl::NotFoundError(absl::StrCat("package ", package_id, " not found"));
  }
  return it->second;
}

absl::Status FakeCatalogStore::CreateRelease(const v1::Release& release, absl::Time) {
  absl::MutexLock lock(&mu_);
  auto package = packages_.find(release.package_id());
  if (package == packages_.end()) {
    return absl::NotFoundError(absl::StrCat("package ", release.package_id(), " not found"));
  }
  for (const auto& [id, r] : releases_) {
    if (r.package_id() == release.package_id() && r.version() == release.version()) {
      return absl::AlreadyExistsError(absl::StrCat("release ", release.version(), " of package ",
                                                   release.package_id(), " already exists"));
    }
  }
  v1::Release stored = release;
  stored.set_package_name(package->second.name());
  stored.set_description(package->second.description());
  if (stored.state() != v1::PUBLISHED) stored.set_state(v1::DRAFT);
  releases_[release.release_id()] = std::move(stored);
  return absl::OkStatus();
}

absl::StatusOr<v1::Release> FakeCatalogStore::PublishRelease(
    const std::string& release_id, const v1::SignedReleaseMetadata* signed_metadata, absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = releases_.find(release_id);
  if (it == releases_.end()) {
    return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
  }
  if (it->second.state() == v1::WITHDRAWN) {
    return absl::FailedPreconditionError(
        absl::StrCat("release ", release_id, " was withdrawn and cannot be published again"));
  }
  it->second.set_state(v1::PUBLISHED);
  if (signed_metadata != nullptr) *it->second.mutable_signed_metadata() = *signed_metadata;
  return it->second;
}

absl::StatusOr<v1::Release> FakeCatalogStore::WithdrawRelease(const std::string& release_id,
                                                              absl::Time) {
  absl::MutexLock lock(&mu_);
  auto it = releases_.find(release_id);
  if (it == releases_.end()) {
    return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
  }
  if (it->second.state() == v1::DRAFT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "release ", release_id, " is a draft; only a published release can be withdrawn"));
  }
  it->second.set_state(v1::WITHDRAWN);
  return it->second;
}

absl::StatusOr<v1::Release> FakeCatalogStore::GetRelease(const std::string& release_id) {
  absl::MutexLock lock(&mu_);
  auto it = releases_.find(release_id);
  if (it == releases_.end()) {
    return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<v1::Release>> FakeCatalogStore::ListPublicReleases() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Release> out;
  for (const auto& [id, r] : releases_) {
    if (r.state() != v1::DRAFT) out.push_back(r);
  }
  return out;
}

absl::StatusOr<RecordReportResult> FakeCatalogStore::RecordReport(
    const std::string& device_id, const v1::ResultRecord& report,
    const std::vector<v1::InventoryComponent>& deployed) {
  absl::MutexLock lock(&mu_);
  if (releases_.count(report.release_id()) == 0) {
    return absl::NotFoundError(absl::StrCat("release ", report.release_id(), " not found"));
  }
  v1::ComponentOperation* op = nullptr;
  if (!report.operation_id().empty()) {
    for (v1::ComponentOperation& o : operations_) {
      if (o.operation_id() == report.operation_id() && o.device_id() == device_id) op = &o;
    }
    if (op == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("operation ", report.operation_id(), " not found for device ", device_id));
    }
    if (op->release_id() != report.release_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat("release_id ", report.release_id(), " is not the release of operation ",
                       report.operation_id(), " (", op->release_id(), ")"));
    }
  }
  Device& device = devices_[device_id];
  for (const v1::ResultRecord& r : device.history) {
    if (r.report_id() == report.report_id()) {
      return RecordReportResult{
          .duplicate = true, .release_id = r.release_id(), .result = r.result()};
    }
  }
  device.history.push_back(report);
  if (op != nullptr && (op->state() == v1::ComponentOperation::QUEUED ||
                        op->state() == v1::ComponentOperation::DELIVERED)) {
    op->set_state(report.result() == v1::SUCCESS ? v1::ComponentOperation::SUCCEEDED
                                                 : v1::ComponentOperation::FAILED);
    op->set_result(report.result());
    op->set_message(report.message());
    op->set_completed_at_unix(report.reported_at_unix());
    if (op->delivered_at_unix() == 0) op->set_delivered_at_unix(report.reported_at_unix());
  }
  if (report.result() == v1::SUCCESS) {
    device.deployed = deployed;
    std::sort(device.deployed.begin(), device.deployed.end(),
              [](const v1::InventoryComponent& a, const v1::InventoryComponent& b) {
                return std::tie(a.author(), a.name()) < std::tie(b.author(), b.name());
              });
  }
  return RecordReportResult{
      .duplicate = false, .release_id = report.release_id(), .result = report.result()};
}

absl::StatusOr<v1::DeviceState> FakeCatalogStore::GetDeviceState(const std::string& device_id,
                                                                 int max_history) {
  absl::MutexLock lock(&mu_);
  v1::DeviceState state;
  state.set_device_id(device_id);
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return state;
  for (const auto& c : it->second.deployed) *state.add_deployed() = c;
  const auto& history = it->second.history;
  size_t start =
      history.size() > static_cast<size_t>(max_history) ? history.size() - max_history : 0;
  for (size_t i = start; i < history.size(); ++i) *state.add_history() = history[i];
  return state;
}

absl::Status FakeCatalogStore::Queue(const std::vector<v1::ComponentOperation>& operations) {
  absl::MutexLock lock(&mu_);
  for (const v1::ComponentOperation& op : operations) {
    if (releases_.count(op.release_id()) == 0) {
      return absl::NotFoundError(absl::StrCat("release ", op.release_id(), " not found"));
    }
  }
  for (v1::ComponentOperation op : operations) {
    op.set_state(v1::ComponentOperation::QUEUED);
    operations_.push_back(std::move(op));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ComponentOperation>> FakeCatalogStore::TakePending(
    const std::string& device_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ComponentOperation> out;
  for (v1::ComponentOperation& op : operations_) {
    if (op.device_id() != device_id) continue;
    if (op.state() == v1::ComponentOperation::QUEUED) {
      op.set_state(v1::ComponentOperation::DELIVERED);
      op.set_delivered_at_unix(absl::ToUnixSeconds(now));
    }
    if (op.state() == v1::ComponentOperation::DELIVERED) out.push_back(op);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FakeCatalogStore::DevicesWithOpenOperations() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const v1::ComponentOperation& op : operations_) {
    if ((op.state() == v1::ComponentOperation::QUEUED ||
         op.state() == v1::ComponentOperation::DELIVERED) &&
        std::find(out.begin(), out.end(), op.device_id()) == out.end()) {
      out.push_back(op.device_id());
    }
  }
  return out;
}

absl::StatusOr<std::vector<v1::ComponentOperation>> FakeCatalogStore::List(
    const std::string& device_id, int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ComponentOperation> out;
  for (const v1::ComponentOperation& op : operations_) {
    if (op.device_id() == device_id) out.push_back(op);
  }
  if (out.size() > static_cast<size_t>(limit)) out.erase(out.begin(), out.end() - limit);
  return out;
}

absl::StatusOr<v1::ArtifactManifest> FakeManifestSource::GetManifest(const std::string& sha256) {
  absl::MutexLock lock(&mu_);
  auto it = manifests_.find(sha256);
  if (it == manifests_.end()) {
    return absl::NotFoundError(
        absl::StrCat("artifact ", sha256, " is not uploaded to the download service"));
  }
  return it->second;
}

}  // namespace updraft::catalog
