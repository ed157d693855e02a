#ifndef UPDRAFT_SDK_DEVICE_RESULT_CODE_H_
#define UPDRAFT_SDK_DEVICE_RESULT_CODE_H_

#include <string>

#include "absl/status/status.h"
#include "updraft/v1/common.pb.h"

namespace updraft::device {

// SCOMO result codes travel with the absl::Status that caused them, as a
// status payload: the step that fails knows best whether a failure is, say, a
// package that does not validate (1407) or a server that is down (1501), and
// the client reports exactly that code.
inline constexpr char kResultCodePayloadUrl[] = "type.updraft.dev/updraft.v1.ResultCode";

// `status` with `code` attached; an OK status is returned unchanged.
absl::Status WithResultCode(absl::Status status, v1::ResultCode code);

// The code attached to `status`, or `fallback` when there is none.
v1::ResultCode ResultCodeOf(const absl::Status& status, v1::ResultCode fallback);

// What a person reads for a code, e.g. "package validation failed".
std::string ResultCodeText(v1::ResultCode code);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_RESULT_CODE_H_
