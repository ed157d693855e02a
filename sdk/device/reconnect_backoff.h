#ifndef UPDRAFT_SDK_DEVICE_RECONNECT_BACKOFF_H_
#define UPDRAFT_SDK_DEVICE_RECONNECT_BACKOFF_H_

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace updraft::device {

// When a device opens its IP Push stream again after it ended or could not
// be opened (design.md section 5, gRPC's connection backoff): wait
// `initial`, then `multiplier` times longer each attempt up to `cap`; every
// wait is spread uniformly by +-`jitter` of itself, so that devices cut off
// together (a notifier restart) do not all come back in the same second.
struct ReconnectPolicy {
  absl::Duration initial = absl::Seconds(1);
  double multiplier = 1.6;
  double jitter = 0.2;
  absl::Duration cap = absl::Seconds(120);

  // INVALID_ARGUMENT naming the first field out of range.
  absl::Status Validate() const;
};

// One device's place in a ReconnectPolicy: the waits of its attempts in
// turn. Small (the policy is shared), so a simulator can keep one per
// device. The policy must outlive it; not thread-safe.
class ReconnectBackoff {
 public:
  explicit ReconnectBackoff(const ReconnectPolicy* policy)
      : policy_(policy), base_(policy->initial) {}

  // The wait before the next attempt; the one after grows by the multiplier.
  absl::Duration Next(absl::BitGenRef rng);
  // Back to `initial`: the stream worked (what counts as working is the
  // caller's: established, or delivered something).
  void Reset() { base_ = policy_->initial; }

 private:
  const ReconnectPolicy* policy_;
  absl::Duration base_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_RECONNECT_BACKOFF_H_
