#include "services/catalog/update_decider.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace updraft::catalog {

absl::StatusOr<SemVer> ParseOsVersion(absl::string_view text) {
  auto v = SemVer::Parse(text);
  if (v.ok()) return v;
  const size_t dots = std::count(text.begin(), text.end(), '.');
  if (!text.empty() && dots < 2 && text.find_first_of("-+") == absl::string_view::npos) {
    std::string padded(text);
    for (size_t i = dots; i < 2; ++i) padded += ".0";
    auto p = SemVer::Parse(padded);
    if (p.ok()) return p;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not an OS version (e.g. 13, 13.1 or 13.1.2)"));
}

bool CompatibilityRules::Matches(const DeviceProfile& device,
                                 const std::optional<SemVer>& device_os) const {
  if (!models.empty() && std::find(models.begin(), models.end(), device.model) == models.end()) {
    return false;
  }
  if (!carriers.empty() &&
      std::find(carriers.begin(), carriers.end(), device.carrier) == carriers.end()) {
    return false;
  }
  if (min_os.has_value() || max_os.has_value()) {
    if (!device_os.has_value()) return false;
    if (min_os.has_value() && *device_os < *min_os) return false;
    if (max_os.has_value() && *device_os > *max_os) return false;
  }
  return true;
}

// Deterministic order among releases of equal precedence (e.g. differing
// only in build metadata): by version text, then release ID.
bool ReleaseIndex::Newer(const Known& a, const Known& b) {
  int c = a.version.Compare(b.version);
  if (c != 0) return c > 0;
  if (a.release.version != b.release.version) return a.release.version > b.release.version;
  return a.release.release_id > b.release.release_id;
}

ReleaseIndex::ReleaseIndex(std::vector<CatalogRelease> releases) {
  known_.reserve(releases.size());
  absl::flat_hash_map<std::string, size_t> package_index;
  for (CatalogRelease& r : releases) {
    auto v = SemVer::Parse(r.version);
    if (!v.ok()) continue;
    auto [it, added] = package_index.emplace(r.package_id, packages_.size());
    if (added) packages_.push_back(r.package_id);
    known_.push_back({std::move(r), *std::move(v), it->second});
  }
  std::map<std::string, std::vector<size_t>> published;
  for (size_t i = 0; i < known_.size(); ++i) {
    const CatalogRelease& r = known_[i].release;
    by_id_.emplace(r.release_id, i);
    for (const CatalogDc& dc : r.dcs) {
      by_triple_[Triple(dc.author, dc.name, dc.version)].push_back(i);
    }
    if (r.published) published[r.package_id].push_back(i);
  }
  for (auto& [package_id, list] : published) {
    std::sort(list.begin(), list.end(),
              [this](size_t a, size_t b) { return Newer(known_[a], known_[b]); });
    published_.push_back({package_index.at(package_id), std::move(list)});
  }
}

UpdateDecision ReleaseIndex::Decide(const std::vector<DeviceComponent>& inventory,
                                    const DeviceProfile& device) const {
  UpdateDecision decision;
  // The release each package is installed at (by package index; kNone: not
  // installed), and the packages one component matches.
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> installed(packages_.size(), kNone);
  std::vector<std::pair<size_t, size_t>> matches;  // {package, release}
  for (const DeviceComponent& c : inventory) {
    matches.clear();
    if (!c.release_id.empty()) {
      auto it = by_id_.find(c.release_id);
      if (it != by_id_.end()) matches.emplace_back(known_[it->second].package, it->second);
    }
    if (matches.empty()) {
      auto it = by_triple_.find(
          Triple(std::string(c.author), std::string(c.name), std::string(c.version)));
      if (it != by_triple_.end()) {
        for (size_t k : it->second) {
          const size_t package = known_[k].package;
          auto m = std::find_if(matches.begin(), matches.end(),
                                [&](const auto& p) { return p.first == package; });
          if (m == matches.end()) {
            matches.emplace_back(package, k);
          } else if (Newer(known_[m->second], known_[k])) {
            m->second = k;  // the oldest release the DC proves
          }
        }
      }
    }
    if (matches.empty()) {
      decision.unknown.push_back(c);
      continue;
    }
    if (!c.deployed) continue;
    for (const auto& [package, match] : matches) {
      size_t& at = installed[package];
      if (at == kNone || Newer(known_[match], known_[at])) at = match;
    }
  }

  std::optional<SemVer> device_os;
  if (auto v = ParseOsVersion(device.os_version); v.ok()) device_os = *std::move(v);
  for (const Published& p : published_) {
    const Known* candidate = nullptr;
    for (size_t k : p.releases) {
      if (known_[k].release.compatibility.Matches(device, device_os)) {
        candidate = &known_[k];
        break;
      }
    }
    if (candidate == nullptr) continue;
    UpdateOffer offer;
    offer.release_id = candidate->release.release_id;
    offer.package_id = packages_[p.package];
    offer.package_name = candidate->release.package_name;
    const size_t at = installed[p.package];
    if (at == kNone) {
      offer.kind = OfferKind::kFreshInstall;
    } else if (candidate->version > known_[at].version) {
      offer.kind = OfferKind::kOverwrite;
      offer.installed_version = known_[at].release.version;
    } else {
      continue;
    }
    decision.offers.push_back(std::move(offer));
  }
  std::sort(decision.offers.begin(), decision.offers.end(),
            [](const UpdateOffer& a, const UpdateOffer& b) {
              return std::tie(a.package_name, a.package_id) <
                     std::tie(b.package_name, b.package_id);
            });
  return decision;
}

UpdateDecision DecideUpdates(const std::vector<DeviceComponent>& inventory,
                             const std::vector<CatalogRelease>& releases,
                             const DeviceProfile& device) {
  return ReleaseIndex(releases).Decide(inventory, device);
}

}  // namespace updraft::catalog
