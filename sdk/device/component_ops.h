#ifndef UPDRAFT_SDK_DEVICE_COMPONENT_OPS_H_
#define UPDRAFT_SDK_DEVICE_COMPONENT_OPS_H_

#include <string>

#include "absl/status/statusor.h"
#include "sdk/device/installer.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/device_state.pb.h"

namespace updraft::device {

// Pure functions over the device's SCOMO tree for per-component operations
// (activate, deactivate, remove; the client runs them, client_operations.cc).

// At most this many executed operation IDs are remembered.
inline constexpr int kMaxDoneOperations = 256;

// Records that operation `id` was executed (drops the oldest beyond
// kMaxDoneOperations).
void MarkOperationDone(v1::DeviceLocalState& state, const std::string& id);
bool OperationDone(const v1::DeviceLocalState& state, const std::string& id);

// The SCOMO failure code of an operation kind: REMOVE_FAILED,
// ACTIVATE_FAILED, DEACTIVATE_FAILED; UNDEFINED_ERROR otherwise.
v1::ResultCode FailureCodeOf(v1::ComponentOperation::Kind kind);

// What the installer needs to act on Deployed DC `dc_id`: its package (the
// installed package whose DC IDs include it; empty for a DC installed
// offline), name and version. NOT_FOUND (with the kind's failure code) when
// no Deployed node has that DC ID. `last_of_package` says whether it is the
// only Deployed DC left of its package.
absl::StatusOr<ComponentRef> FindDeployedComponent(const v1::DeviceLocalState& state,
                                                   const std::string& dc_id,
                                                   v1::ComponentOperation::Kind kind,
                                                   bool* last_of_package);

// After the installer succeeded: ACTIVATE/DEACTIVATE set the Deployed
// node's State; REMOVE drops the node and the DC from its package (and the
// package record when it was the package's last DC).
void ApplyComponentOperation(v1::DeviceLocalState& state, v1::ComponentOperation::Kind kind,
                             const std::string& dc_id);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_COMPONENT_OPS_H_
