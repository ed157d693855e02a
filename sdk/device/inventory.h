#ifndef UPDRAFT_SDK_DEVICE_INVENTORY_H_
#define UPDRAFT_SDK_DEVICE_INVENTORY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/device_state.pb.h"

namespace updraft::device {

// Pure functions over the device's SCOMO tree (v1::DeviceLocalState): what
// the device accepts from an offer, and how Inventory/Delivered and
// Inventory/Deployed change as a package moves through the flow.

// OK when the device can act on `offer`; otherwise INVALID_ARGUMENT or
// FAILED_PRECONDITION with result code PACKAGE_VALIDATION_FAILED: missing
// release ID, unusable package name, bad version, inconsistent manifest,
// DCinfo entries without a unique dc_id, or a version that is not newer than
// the installed one (rollback).
absl::Status ValidateOffer(const v1::Offer& offer, const v1::DeviceLocalState& state);

// The inventory the device sends with CheckForUpdates: Delivered then
// Deployed.
std::vector<v1::InventoryComponent> InventoryOf(const v1::DeviceLocalState& state);

// The author of a release's DCs when they all share one, else "".
std::string ReleaseAuthor(const v1::Release& release);

// Records the downloaded release under Inventory/Delivered (once).
void RecordDelivered(v1::DeviceLocalState& state, const v1::Release& release);

// Drops the release's Delivered node.
void RemoveDelivered(v1::DeviceLocalState& state, const std::string& release_id);

// After a successful install: every DC in the release's DCinfo becomes an
// ACTIVE Deployed node {dc_id, release_id, author, name, version} (name and
// version default to the package's); nodes it supersedes are removed: the
// same dc_id, the same author+name, or any DC of the package's previous
// install. A release without DCinfo gets one node for the package itself.
// The Delivered node goes away and the package record is updated. Returns
// the new DC IDs in DCinfo order.
std::vector<std::string> RecordInstalled(v1::DeviceLocalState& state, const v1::Release& release);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_INVENTORY_H_
