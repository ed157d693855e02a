#include "sdk/device/inventory.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/semver.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/downloader.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

absl::Status Invalid(const v1::Release& r, absl::string_view why) {
  return WithResultCode(
      absl::InvalidArgumentError(absl::StrCat("offer of release ", r.release_id(), ": ", why)),
      v1::PACKAGE_VALIDATION_FAILED);
}

template <typename Pred>
void EraseIf(google::protobuf::RepeatedPtrField<v1::InventoryComponent>* field, Pred pred) {
  field->erase(std::remove_if(field->begin(), field->end(), pred), field->end());
}

}  // namespace

absl::Status ValidateOffer(const v1::Offer& offer, const v1::DeviceLocalState& state) {
  const v1::Release& r = offer.release();
  if (r.release_id().empty()) return Invalid(r, "release_id is empty");
  absl::Status name = ValidatePackageName(r.package_name());
  if (!name.ok()) return Invalid(r, name.message());
  absl::StatusOr<SemVer> version = SemVer::Parse(r.version());
  if (!version.ok()) return Invalid(r, absl::StrCat("version: ", version.status().message()));
  absl::Status manifest = ValidateManifest(r.artifact());
  if (!manifest.ok()) return Invalid(r, manifest.message());
  std::set<std::string> dc_ids;
  for (int i = 0; i < r.dcinfo().entries_size(); ++i) {
    const std::string& id = r.dcinfo().entries(i).dc_id();
    if (id.empty()) return Invalid(r, absl::StrCat("DCinfo entry ", i, " has no dc_id"));
    if (!dc_ids.insert(id).second) return Invalid(r, absl::StrCat("DCinfo repeats dc_id ", id));
  }
  for (const v1::LocalPackage& p : state.packages()) {
    if (p.package_name() != r.package_name()) continue;
    absl::StatusOr<SemVer> installed = SemVer::Parse(p.version());
    if (installed.ok() && !(*version > *installed)) {
      return WithResultCode(
          absl::FailedPreconditionError(absl::StrCat("offered ", r.package_name(), " ", r.version(),
                                                     " is not newer than the installed ",
                                                     p.version(), "; refusing a rollback")),
          v1::PACKAGE_VALIDATION_FAILED);
    }
  }
  return absl::OkStatus();
}

std::vector<v1::InventoryComponent> InventoryOf(const v1::DeviceLocalState& state) {
  std::vector<v1::InventoryComponent> out(state.delivered().begin(), state.delivered().end());
  out.insert(out.end(), state.deployed().begin(), state.deployed().end());
  return out;
}

std::string ReleaseAuthor(const v1::Release& release) {
  std::string author;
  for (const v1::DcEntry& e : release.dcinfo().entries()) {
    if (e.author().empty()) continue;
    if (!author.empty() && author != e.author()) return "";
    author = e.author();
  }
  return author;
}

void RecordDelivered(v1::DeviceLocalState& state, const v1::Release& release) {
  RemoveDelivered(state, release.release_id());
  v1::InventoryComponent* c = state.add_delivered();
  c->set_release_id(release.release_id());
  c->set_author(ReleaseAuthor(release));
  c->set_name(release.package_name());
  c->set_version(release.version());
  c->set_location(v1::DELIVERED);
}

void RemoveDelivered(v1::DeviceLocalState& state, const std::string& release_id) {
  EraseIf(state.mutable_delivered(),
          [&](const v1::InventoryComponent& c) { return c.release_id() == release_id; });
}

std::vector<std::string> RecordInstalled(v1::DeviceLocalState& state, const v1::Release& release) {
  std::vector<v1::InventoryComponent> nodes;
  for (const v1::DcEntry& e : release.dcinfo().entries()) {
    v1::InventoryComponent c;
    c.set_dc_id(e.dc_id());
    c.set_author(e.author());
    c.set_name(e.name().empty() ? release.package_name() : e.name());
    c.set_version(e.version().empty() ? release.version() : e.version());
    nodes.push_back(std::move(c));
  }
  if (nodes.empty()) {
    v1::InventoryComponent c;
    c.set_name(release.package_name());
    c.set_version(release.version());
    nodes.push_back(std::move(c));
  }

  v1::LocalPackage* package = nullptr;
  for (v1::LocalPackage& p : *state.mutable_packages()) {
    if (p.package_name() == release.package_name()) package = &p;
  }
  std::set<std::string> superseded_ids;
  std::string previous_release;
  if (package != nullptr) {
    superseded_ids.insert(package->dc_ids().begin(), package->dc_ids().end());
    previous_release = package->release_id();
  }
  EraseIf(state.mutable_deployed(), [&](const v1::InventoryComponent& old) {
    if (!old.dc_id().empty() && superseded_ids.count(old.dc_id()) > 0) return true;
    if (!previous_release.empty() && old.release_id() == previous_release) return true;
    for (const v1::InventoryComponent& n : nodes) {
      if (!n.dc_id().empty() && n.dc_id() == old.dc_id()) return true;
      if (n.author() == old.author() && n.name() == old.name()) return true;
    }
    return false;
  });

  std::vector<std::string> dc_ids;
  for (v1::InventoryComponent& n : nodes) {
    n.set_release_id(release.release_id());
    n.set_location(v1::DEPLOYED);
    n.set_state(v1::ACTIVE);
    if (!n.dc_id().empty()) dc_ids.push_back(n.dc_id());
    *state.add_deployed() = std::move(n);
  }
  RemoveDelivered(state, release.release_id());
  if (package == nullptr) package = state.add_packages();
  package->set_package_name(release.package_name());
  package->set_package_id(release.package_id());
  package->set_release_id(release.release_id());
  package->set_version(release.version());
  package->clear_dc_ids();
  for (const std::string& id : dc_ids) package->add_dc_ids(id);
  return dc_ids;
}

}  // namespace updraft::device
