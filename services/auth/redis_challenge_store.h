#ifndef UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_
#define UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_

#include <string>

#include "common/redis_client.h"
#include "services/auth/challenge_store.h"

namespace updraft {

// ChallengeStore over Redis, shared by all auth replicas. A challenge is the
// key <key_prefix>auth:challenge:<hex nonce> holding the device ID, set with
// SET NX PX (so it expires by itself) and taken with GETDEL (so it is used
// at most once).
class RedisChallengeStore : public ChallengeStore {
 public:
  struct Options {
    // Must outlive the store.
    RedisClient* redis = nullptr;
    // Prepended to every key, e.g. "updraft:"; lets deployments and tests
    // share one Redis.
    std::string key_prefix = "updraft:";
  };

  explicit RedisChallengeStore(Options options) : options_(std::move(options)) {}

  absl::Status Put(absl::string_view nonce, absl::string_view device_id,
                   absl::Duration ttl) override;
  absl::StatusOr<std::optional<std::string>> Take(absl::string_view nonce) override;

  // The Redis key of a nonce.
  std::string KeyFor(absl::string_view nonce) const;

 private:
  const Options options_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_
