#ifndef UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_
#define UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_

#include <string>
#include <vector>

namespace updraft::catalog {

// One component of a device's inventory (SCOMO Inventory/Delivered or
// Inventory/Deployed). release_id is empty for software installed offline.
struct DeviceComponent {
  std::string dc_id;
  std::string release_id;
  std::string author;
  std::string name;
  std::string version;
  // True for Inventory/Deployed (installed), false for Delivered.
  bool deployed = true;
};

// One DC of a catalog release, as its DCinfo lists it.
struct CatalogDc {
  std::string dc_id;
  std::string author;
  std::string name;
  std::string version;
};

// A release the decider knows. Only published releases are offered; an
// unpublished one still identifies what a device has installed.
struct CatalogRelease {
  std::string release_id;
  std::string package_id;
  std::string package_name;
  // Semantic version; a release whose version does not parse is ignored.
  std::string version;
  bool published = true;
  std::vector<CatalogDc> dcs;
};

enum class OfferKind { kFreshInstall, kOverwrite };

struct UpdateOffer {
  OfferKind kind;
  std::string release_id;
  std::string package_id;
  std::string package_name;
  // The package version the device has; empty for a fresh install.
  std::string installed_version;
};

struct UpdateDecision {
  // One offer per package at most, ordered by package name then ID.
  std::vector<UpdateOffer> offers;
  // Inventory components that match no known release, in inventory order.
  std::vector<DeviceComponent> unknown;
};

// The active-upgrade decision (design.md section 1), pure logic.
//
// The installed version of a package is the highest version among the
// device's Deployed components that belong to it: a component whose
// release_id names a known release counts as that release's version; any
// other component is matched by {author, name, version} to the DCs of known
// releases and counts, for each package it matches, as the lowest version of
// that package's releases it matches (a DC that did not change between
// releases proves only the oldest of them).
// Delivered components never count as installed.
//
// Then, per package: not installed -> FRESH_INSTALL of the newest published
// release; installed and the newest published release is newer ->
// OVERWRITE. A downgrade or the same version is never offered.
UpdateDecision DecideUpdates(const std::vector<DeviceComponent>& inventory,
                             const std::vector<CatalogRelease>& releases);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_
