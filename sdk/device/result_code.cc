#include "sdk/device/result_code.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace updraft::device {

absl::Status WithResultCode(absl::Status status, v1::ResultCode code) {
  if (status.ok()) return status;
  status.SetPayload(kResultCodePayloadUrl, absl::Cord(absl::StrCat(static_cast<int>(code))));
  return status;
}

v1::ResultCode ResultCodeOf(const absl::Status& status, v1::ResultCode fallback) {
  auto payload = status.GetPayload(kResultCodePayloadUrl);
  if (!payload.has_value()) return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &value) || !v1::ResultCode_IsValid(value)) {
    return fallback;
  }
  return static_cast<v1::ResultCode>(value);
}

std::string ResultCodeText(v1::ResultCode code) {
  switch (code) {
    case v1::SUCCESS:
      return "success";
    case v1::USER_CANCELLED:
      return "user cancelled";
    case v1::DOWNLOAD_FAILED:
      return "download failed";
    case v1::DOWNLOAD_AUTHENTICATION_FAILED:
      return "download authentication failed";
    case v1::DOWNLOAD_OUT_OF_MEMORY:
      return "out of memory during download";
    case v1::INSTALL_FAILED:
      return "install failed";
    case v1::INSTALL_OUT_OF_MEMORY:
      return "out of memory during install";
    case v1::PACKAGE_VALIDATION_FAILED:
      return "package validation failed";
    case v1::REMOVE_FAILED:
      return "remove failed";
    case v1::ACTIVATE_FAILED:
      return "activate failed";
    case v1::DEACTIVATE_FAILED:
      return "deactivate failed";
    case v1::NOT_IMPLEMENTED:
      return "not implemented";
    case v1::UNDEFINED_ERROR:
      return "undefined error";
    case v1::UNSUPPORTED_ENVIRONMENT:
      return "unsupported environment";
    case v1::DOWNLOAD_SERVER_ERROR:
      return "download server error";
    case v1::DOWNLOAD_SERVER_UNAVAILABLE:
      return "download server unavailable";
    default:
      return absl::StrCat("result ", static_cast<int>(code));
  }
}

}  // namespace updraft::device
