#include "sdk/device/reconnect_backoff.h"

#include <algorithm>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"

namespace updraft::device {

absl::Status ReconnectPolicy::Validate() const {
  if (initial <= absl::ZeroDuration() || cap < initial) {
    return absl::InvalidArgumentError(
        absl::StrCat("reconnect backoff needs 0 < initial <= cap, got initial ",
                     absl::FormatDuration(initial), " and cap ", absl::FormatDuration(cap)));
  }
  if (!(multiplier >= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("reconnect multiplier must be at least 1, got ", multiplier));
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("reconnect jitter must be within [0, 1], got ", jitter));
  }
  return absl::OkStatus();
}

absl::Duration ReconnectBackoff::Next(absl::BitGenRef rng) {
  const double spread =
      policy_->jitter > 0 ? absl::Uniform(rng, -policy_->jitter, policy_->jitter) : 0.0;
  const absl::Duration wait = base_ * (1.0 + spread);
  base_ = std::min(base_ * policy_->multiplier, policy_->cap);
  return wait;
}

}  // namespace updraft::device
