#ifndef UPDRAFT_SERVICES_AUTH_RATE_LIMITER_H_
#define UPDRAFT_SERVICES_AUTH_RATE_LIMITER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace updraft {

// At most `max_attempts` per fixed `window`; 0 attempts means no limit.
struct RateLimit {
  int64_t max_attempts = 0;
  absl::Duration window = absl::Minutes(1);
};

// Counts attempts per key in fixed windows aligned on the injected clock,
// shared by every auth replica (RedisRateLimiter).
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Counts one attempt for `key` in the window that holds now. Zero when it
  // is within `limit`; otherwise the time until that window ends (when the
  // caller may retry).
  virtual absl::StatusOr<absl::Duration> Hit(absl::string_view key, const RateLimit& limit) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_RATE_LIMITER_H_
