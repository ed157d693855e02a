#include "services/catalog/release_cache.h"

#include <utility>

#include "common/status_util.h"

namespace updraft::catalog {
namespace {

std::vector<CatalogRelease> ToCatalogReleases(const std::vector<v1::Release>& list) {
  std::vector<CatalogRelease> out;
  out.reserve(list.size());
  for (const v1::Release& r : list) out.push_back(ToCatalogRelease(r));
  return out;
}

}  // namespace

CatalogRelease ToCatalogRelease(const v1::Release& r) {
  CatalogRelease out;
  out.release_id = r.release_id();
  out.package_id = r.package_id();
  out.package_name = r.package_name();
  out.version = r.version();
  out.published = r.state() == v1::PUBLISHED;
  for (const v1::DcEntry& e : r.dcinfo().entries()) {
    out.dcs.push_back({e.dc_id(), e.author(), e.name(), e.version()});
  }
  const v1::Compatibility& c = r.compatibility();
  out.compatibility.models.assign(c.models().begin(), c.models().end());
  out.compatibility.carriers.assign(c.carriers().begin(), c.carriers().end());
  if (!c.min_os_version().empty()) {
    auto v = ParseOsVersion(c.min_os_version());
    if (v.ok())
      out.compatibility.min_os = *std::move(v);
    else
      out.published = false;
  }
  if (!c.max_os_version().empty()) {
    auto v = ParseOsVersion(c.max_os_version());
    if (v.ok())
      out.compatibility.max_os = *std::move(v);
    else
      out.published = false;
  }
  return out;
}

ReleaseSnapshot::ReleaseSnapshot(std::vector<v1::Release> list) : index(ToCatalogReleases(list)) {
  releases.reserve(list.size());
  for (v1::Release& r : list) {
    std::string id = r.release_id();
    releases.emplace(std::move(id), std::move(r));
  }
}

ReleaseCache::ReleaseCache(CatalogStore* store)
    : store_(store),
      current_(std::make_shared<const ReleaseSnapshot>(std::vector<v1::Release>())) {}

absl::Status ReleaseCache::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<v1::Release> list, store_->ListPublicReleases());
  auto snapshot = std::make_shared<ReleaseSnapshot>(std::move(list));
  snapshot->generation = ++generation_;
  absl::MutexLock lock(&mu_);
  current_ = std::move(snapshot);
  return absl::OkStatus();
}

std::shared_ptr<const ReleaseSnapshot> ReleaseCache::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

bool ReleaseCache::WaitFor(const std::function<bool(const ReleaseSnapshot&)>& ready,
                           absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto holds = [&]() { return ready(*current_); };
  return mu_.AwaitWithTimeout(absl::Condition(&holds), timeout);
}

}  // namespace updraft::catalog
