#ifndef UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_
#define UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace updraft {

// Which challenge a login attempt consumed (ChallengeStore::Take).
enum class TakenChallenge {
  // Unknown, expired, already used, or issued to another device.
  kNone,
  // A challenge from GetChallenge (Put) issued to the presenting device.
  kChallenge,
  // The presenting device's next challenge (PutNext).
  kNextChallenge,
};

// Outstanding login challenges: which device a nonce was issued to, until it
// expires or is used. Two kinds: the challenges GetChallenge hands out (any
// number per device, keyed by nonce) and the next challenge a Login answer
// carries (at most one per device, keyed by device). Shared by all auth
// replicas (RedisChallengeStore); tests use fakes or MockChallengeStore.
class ChallengeStore {
 public:
  virtual ~ChallengeStore() = default;
  // Remembers `nonce` as issued to `device_id` for `ttl`. ALREADY_EXISTS if
  // the nonce is outstanding already.
  virtual absl::Status Put(absl::string_view nonce, absl::string_view device_id,
                           absl::Duration ttl) = 0;
  // Remembers `nonce` as the next challenge of `device_id` for `ttl`,
  // replacing the one the device held, if any.
  virtual absl::Status PutNext(absl::string_view device_id, absl::string_view nonce,
                               absl::Duration ttl) = 0;
  // Consumes the challenge `nonce` presented by `device_id`. A challenge
  // from Put is removed whoever presents it (kChallenge only when it was
  // issued to `device_id`); otherwise the device's next challenge is removed
  // when it equals `nonce` (kNextChallenge). Atomic: of concurrent callers
  // presenting the same nonce at most one gets a challenge.
  virtual absl::StatusOr<TakenChallenge> Take(absl::string_view device_id,
                                              absl::string_view nonce) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_
