#ifndef UPDRAFT_SERVICES_AUTH_REDIS_RATE_LIMITER_H_
#define UPDRAFT_SERVICES_AUTH_REDIS_RATE_LIMITER_H_

#include <string>

#include "common/clock.h"
#include "common/redis_client.h"
#include "services/auth/rate_limiter.h"

namespace updraft {

// RateLimiter over Redis, shared by all auth replicas: fixed windows
// aligned on the injected clock. An attempt increments
// <key_prefix>auth:rate:<key>:<window index> (INCR, expiring after one
// window); over the limit, the answer is the time left in that window.
class RedisRateLimiter : public RateLimiter {
 public:
  // `redis` and `clock` must outlive the limiter.
  RedisRateLimiter(RedisClient* redis, std::string key_prefix, const Clock* clock)
      : redis_(redis), prefix_(std::move(key_prefix)), clock_(clock) {}
  absl::StatusOr<absl::Duration> Hit(absl::string_view key, const RateLimit& limit) override;

 private:
  RedisClient* redis_;
  const std::string prefix_;
  const Clock* clock_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_REDIS_RATE_LIMITER_H_
