#ifndef UPDRAFT_SDK_DEVICE_RELEASE_TRUST_H_
#define UPDRAFT_SDK_DEVICE_RELEASE_TRUST_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/release_metadata.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft::device {

// The device's check of an offered release against the publisher keys it
// trusts (design.md section 4), before it asks the user or downloads a byte:
// the release must carry metadata signed by a trusted key, describing exactly
// the offered release (version, artifact SHA-256, length and every chunk
// hash, which the downloader then verifies chunk by chunk), and not expired
// (a freeze: stale metadata replayed; a device clock that runs behind
// delays this, one that runs ahead refuses early). Rollback to a lower version is refused
// by ValidateOffer (inventory.h) on the version checked here.
//
// With no trusted keys the device accepts unsigned releases; a vendor that
// provisions keys gets the checks. Errors carry result code
// PACKAGE_VALIDATION_FAILED (1407).
absl::Status VerifyReleaseTrust(const v1::Release& release, const PublisherKeys& keys,
                                absl::Time now);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_RELEASE_TRUST_H_
