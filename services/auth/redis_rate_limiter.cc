#include "services/auth/redis_rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {

absl::StatusOr<absl::Duration> RedisRateLimiter::Hit(absl::string_view key,
                                                     const RateLimit& limit) {
  if (limit.max_attempts <= 0) return absl::ZeroDuration();
  int64_t window_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(limit.window));
  absl::Time now = clock_->Now();
  int64_t index = absl::ToUnixMillis(now) / window_ms;
  UPDRAFT_ASSIGN_OR_RETURN(
      int64_t count,
      redis_->IncrementWindow(absl::StrCat(prefix_, "auth:rate:", key, ":", index), limit.window));
  if (count <= limit.max_attempts) return absl::ZeroDuration();
  return absl::FromUnixMillis((index + 1) * window_ms) - now;
}

}  // namespace updraft
