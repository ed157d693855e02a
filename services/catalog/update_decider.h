#ifndef UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_
#define UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/semver.h"

namespace updraft::catalog {

// One component of a device's inventory (SCOMO Inventory/Delivered or
// Inventory/Deployed). release_id is empty for software installed offline.
// A view: the strings belong to the caller (an update check's request) and
// must outlive the decision made from it.
struct DeviceComponent {
  absl::string_view dc_id;
  absl::string_view release_id;
  absl::string_view author;
  absl::string_view name;
  absl::string_view version;
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

// What a device says about itself in an update check.
struct DeviceProfile {
  std::string model;
  std::string os_version;
  std::string carrier;
};

// An OS version as devices and operators write it: a semantic version, or
// "MAJOR" / "MAJOR.MINOR" read as MAJOR.0.0 / MAJOR.MINOR.0.
absl::StatusOr<SemVer> ParseOsVersion(absl::string_view text);

// A release's compatibility rules: every non-empty rule must match the
// device. Lists match exactly; the OS range is inclusive, and a device whose
// OS version does not parse matches no range.
struct CompatibilityRules {
  std::vector<std::string> models;
  std::optional<SemVer> min_os;
  std::optional<SemVer> max_os;
  std::vector<std::string> carriers;

  bool Matches(const DeviceProfile& device, const std::optional<SemVer>& device_os) const;
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
  CompatibilityRules compatibility;
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

// The active-upgrade decision (design.md section 1), pure logic, over a set
// of releases indexed once (built when the catalog's snapshot changes, then
// shared read-only by concurrent checks).
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
// Then, per package, the candidate is the newest published release whose
// compatibility rules match the device (none: nothing offered): not
// installed -> FRESH_INSTALL; installed and the candidate is newer ->
// OVERWRITE. A downgrade or the same version is never offered.
class ReleaseIndex {
 public:
  explicit ReleaseIndex(std::vector<CatalogRelease> releases);
  ReleaseIndex(const ReleaseIndex&) = delete;
  ReleaseIndex& operator=(const ReleaseIndex&) = delete;

  UpdateDecision Decide(const std::vector<DeviceComponent>& inventory,
                        const DeviceProfile& device) const;
  size_t size() const { return known_.size(); }

 private:
  struct Known {
    CatalogRelease release;
    SemVer version;
    size_t package;  // index into packages_
  };
  // A package's published releases, newest first.
  struct Published {
    size_t package;
    std::vector<size_t> releases;
  };
  using Triple = std::tuple<std::string, std::string, std::string>;
  static bool Newer(const Known& a, const Known& b);

  std::vector<Known> known_;
  std::vector<std::string> packages_;  // package IDs; a check keys packages by index
  absl::flat_hash_map<std::string, size_t> by_id_;
  absl::flat_hash_map<Triple, std::vector<size_t>> by_triple_;
  std::vector<Published> published_;  // by package ID
};

// One-off decision (builds a ReleaseIndex).
UpdateDecision DecideUpdates(const std::vector<DeviceComponent>& inventory,
                             const std::vector<CatalogRelease>& releases,
                             const DeviceProfile& device = {});

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_UPDATE_DECIDER_H_
