#include "sdk/device/release_trust.h"

#include "absl/strings/str_cat.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

absl::Status Refuse(const v1::Release& r, const absl::Status& why) {
  return WithResultCode(
      absl::Status(why.code(), absl::StrCat("refusing ", r.package_name(), " ", r.version(), " (",
                                            r.release_id(), "): ", why.message())),
      v1::PACKAGE_VALIDATION_FAILED);
}

}  // namespace

absl::Status VerifyReleaseTrust(const v1::Release& release, const PublisherKeys& keys,
                                absl::Time now) {
  if (keys.empty()) return absl::OkStatus();
  if (!release.has_signed_metadata()) {
    return Refuse(release, absl::PermissionDeniedError(
                               "its metadata is not signed by a publisher this device trusts"));
  }
  absl::StatusOr<v1::ReleaseMetadata> metadata = keys.Verify(release.signed_metadata());
  if (!metadata.ok()) return Refuse(release, metadata.status());
  if (absl::Status s = CheckMetadataMatches(*metadata, release); !s.ok()) {
    return Refuse(release, s);
  }
  // Only expiry: phones' clocks are often off, and metadata "from the
  // future" is no threat to the device (the catalog refuses it anyway).
  if (absl::Status s = CheckMetadataFresh(*metadata, now, absl::InfiniteDuration()); !s.ok()) {
    return Refuse(release, s);
  }
  return absl::OkStatus();
}

}  // namespace updraft::device
