#include "services/catalog/update_decider.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "common/semver.h"

namespace updraft::catalog {
namespace {

struct KnownRelease {
  const CatalogRelease* release;
  SemVer version;
};

using Triple = std::tuple<std::string, std::string, std::string>;

// Deterministic order among releases of equal precedence (e.g. differing
// only in build metadata): by version text, then release ID.
bool Newer(const KnownRelease& a, const KnownRelease& b) {
  int c = a.version.Compare(b.version);
  if (c != 0) return c > 0;
  if (a.release->version != b.release->version) return a.release->version > b.release->version;
  return a.release->release_id > b.release->release_id;
}

}  // namespace

UpdateDecision DecideUpdates(const std::vector<DeviceComponent>& inventory,
                             const std::vector<CatalogRelease>& releases) {
  std::vector<KnownRelease> known;
  known.reserve(releases.size());
  for (const CatalogRelease& r : releases) {
    auto v = SemVer::Parse(r.version);
    if (v.ok()) known.push_back({&r, *std::move(v)});
  }
  absl::flat_hash_map<std::string, const KnownRelease*> by_id;
  absl::flat_hash_map<Triple, std::vector<const KnownRelease*>> by_triple;
  for (const KnownRelease& k : known) {
    by_id.emplace(k.release->release_id, &k);
    for (const CatalogDc& dc : k.release->dcs) {
      by_triple[Triple(dc.author, dc.name, dc.version)].push_back(&k);
    }
  }

  UpdateDecision decision;
  std::map<std::string, const KnownRelease*> installed;  // by package ID
  for (const DeviceComponent& c : inventory) {
    // The release each matched package is installed at, by package ID.
    std::map<std::string, const KnownRelease*> matches;
    if (!c.release_id.empty()) {
      auto it = by_id.find(c.release_id);
      if (it != by_id.end()) matches[it->second->release->package_id] = it->second;
    }
    if (matches.empty()) {
      auto it = by_triple.find(Triple(c.author, c.name, c.version));
      if (it != by_triple.end()) {
        for (const KnownRelease* k : it->second) {
          const KnownRelease*& oldest = matches[k->release->package_id];
          if (oldest == nullptr || Newer(*oldest, *k)) oldest = k;
        }
      }
    }
    if (matches.empty()) {
      decision.unknown.push_back(c);
      continue;
    }
    if (!c.deployed) continue;
    for (const auto& [package_id, match] : matches) {
      const KnownRelease*& current = installed[package_id];
      if (current == nullptr || Newer(*match, *current)) current = match;
    }
  }

  std::map<std::string, const KnownRelease*> newest;  // published, by package ID
  for (const KnownRelease& k : known) {
    if (!k.release->published) continue;
    const KnownRelease*& current = newest[k.release->package_id];
    if (current == nullptr || Newer(k, *current)) current = &k;
  }
  for (const auto& [package_id, candidate] : newest) {
    UpdateOffer offer;
    offer.release_id = candidate->release->release_id;
    offer.package_id = package_id;
    offer.package_name = candidate->release->package_name;
    auto it = installed.find(package_id);
    if (it == installed.end()) {
      offer.kind = OfferKind::kFreshInstall;
    } else if (candidate->version > it->second->version) {
      offer.kind = OfferKind::kOverwrite;
      offer.installed_version = it->second->release->version;
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

}  // namespace updraft::catalog
