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

absl::StatusOr<v1::Release> FakeCatalogStore::PublishRelease(const std::string& release_id,
                                                             absl::Time) {
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
  Device& device = devices_[device_id];
  for (const v1::ResultRecord& r : device.history) {
    if (r.report_id() == report.report_id()) return RecordReportResult{.duplicate = true};
  }
  device.history.push_back(report);
  if (report.result() == v1::SUCCESS) {
    device.deployed = deployed;
    std::sort(device.deployed.begin(), device.deployed.end(),
              [](const v1::InventoryComponent& a, const v1::InventoryComponent& b) {
                return std::tie(a.author(), a.name()) < std::tie(b.author(), b.name());
              });
  }
  return RecordReportResult{.duplicate = false};
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
