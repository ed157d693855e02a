#ifndef UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_
#define UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_

#include <string>

#include "common/redis_client.h"
#include "services/auth/challenge_store.h"

namespace updraft {

// ChallengeStore over Redis, shared by all auth replicas. A GetChallenge
// challenge is the key <key_prefix>auth:challenge:<hex nonce> holding the
// device ID, set with SET NX PX (so it expires by itself). A device's next
// challenge is the key <key_prefix>auth:next:<device ID> holding the raw
// nonce, set with SET PX (a newer one replaces it: one key per device).
// Take is one Lua call (GETDEL of the challenge key, else compare-and-delete
// of the device's next key), so a challenge is used at most once. The two
// keys of that call are not in one hash slot: the store needs a single
// Redis (or a primary with replicas), not Redis Cluster.
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
  absl::Status PutNext(absl::string_view device_id, absl::string_view nonce,
                       absl::Duration ttl) override;
  absl::StatusOr<TakenChallenge> Take(absl::string_view device_id,
                                      absl::string_view nonce) override;

  // The Redis key of a GetChallenge nonce.
  std::string KeyFor(absl::string_view nonce) const;
  // The Redis key of a device's next challenge.
  std::string NextKeyFor(absl::string_view device_id) const;

 private:
  const Options options_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_REDIS_CHALLENGE_STORE_H_
