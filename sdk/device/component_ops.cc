#include "sdk/device/component_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sdk/device/result_code.h"

namespace updraft::device {

void MarkOperationDone(v1::DeviceLocalState& state, const std::string& id) {
  if (OperationDone(state, id)) return;
  state.add_done_operations(id);
  auto* done = state.mutable_done_operations();
  if (done->size() > kMaxDoneOperations) {
    done->erase(done->begin(), done->begin() + (done->size() - kMaxDoneOperations));
  }
}

bool OperationDone(const v1::DeviceLocalState& state, const std::string& id) {
  return std::find(state.done_operations().begin(), state.done_operations().end(), id) !=
         state.done_operations().end();
}

v1::ResultCode FailureCodeOf(v1::ComponentOperation::Kind kind) {
  switch (kind) {
    case v1::ComponentOperation::REMOVE:
      return v1::REMOVE_FAILED;
    case v1::ComponentOperation::ACTIVATE:
      return v1::ACTIVATE_FAILED;
    case v1::ComponentOperation::DEACTIVATE:
      return v1::DEACTIVATE_FAILED;
    case v1::ComponentOperation::UPDATE:
      return v1::INSTALL_FAILED;
    default:
      return v1::UNDEFINED_ERROR;
  }
}

absl::StatusOr<ComponentRef> FindDeployedComponent(const v1::DeviceLocalState& state,
                                                   const std::string& dc_id,
                                                   v1::ComponentOperation::Kind kind,
                                                   bool* last_of_package) {
  const v1::InventoryComponent* node = nullptr;
  for (const v1::InventoryComponent& c : state.deployed()) {
    if (!dc_id.empty() && c.dc_id() == dc_id) node = &c;
  }
  if (node == nullptr) {
    return WithResultCode(
        absl::NotFoundError(absl::StrCat("component ", dc_id, " is not deployed on this device")),
        FailureCodeOf(kind));
  }
  ComponentRef ref;
  ref.dc_id = dc_id;
  ref.name = node->name();
  ref.version = node->version();
  *last_of_package = true;
  for (const v1::LocalPackage& p : state.packages()) {
    if (std::find(p.dc_ids().begin(), p.dc_ids().end(), dc_id) == p.dc_ids().end()) continue;
    ref.package_name = p.package_name();
    for (const std::string& other : p.dc_ids()) {
      if (other == dc_id) continue;
      for (const v1::InventoryComponent& c : state.deployed()) {
        if (c.dc_id() == other) *last_of_package = false;
      }
    }
  }
  return ref;
}

void ApplyComponentOperation(v1::DeviceLocalState& state, v1::ComponentOperation::Kind kind,
                             const std::string& dc_id) {
  auto* deployed = state.mutable_deployed();
  if (kind == v1::ComponentOperation::ACTIVATE || kind == v1::ComponentOperation::DEACTIVATE) {
    for (v1::InventoryComponent& c : *deployed) {
      if (c.dc_id() == dc_id) {
        c.set_state(kind == v1::ComponentOperation::ACTIVATE ? v1::ACTIVE : v1::INACTIVE);
      }
    }
    return;
  }
  if (kind != v1::ComponentOperation::REMOVE) return;
  deployed->erase(
      std::remove_if(deployed->begin(), deployed->end(),
                     [&](const v1::InventoryComponent& c) { return c.dc_id() == dc_id; }),
      deployed->end());
  auto* packages = state.mutable_packages();
  for (v1::LocalPackage& p : *packages) {
    auto* ids = p.mutable_dc_ids();
    ids->erase(std::remove(ids->begin(), ids->end(), dc_id), ids->end());
  }
  packages->erase(std::remove_if(packages->begin(), packages->end(),
                                 [&](const v1::LocalPackage& p) {
                                   if (!p.dc_ids().empty()) return false;
                                   for (const v1::InventoryComponent& c : state.deployed()) {
                                     if (c.release_id() == p.release_id()) return false;
                                   }
                                   return true;
                                 }),
                  packages->end());
}

}  // namespace updraft::device
