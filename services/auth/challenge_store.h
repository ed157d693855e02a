#ifndef UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_
#define UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace updraft {

// Outstanding login challenges: which device a nonce was issued to, until it
// expires or is used. Shared by all auth replicas (RedisChallengeStore);
// tests use fakes or MockChallengeStore.
class ChallengeStore {
 public:
  virtual ~ChallengeStore() = default;
  // Remembers `nonce` as issued to `device_id` for `ttl`. ALREADY_EXISTS if
  // the nonce is outstanding already.
  virtual absl::Status Put(absl::string_view nonce, absl::string_view device_id,
                           absl::Duration ttl) = 0;
  // Removes the challenge and returns its device ID; nullopt when the nonce
  // is unknown, expired or already taken. Atomic: of concurrent callers at
  // most one gets the device ID.
  virtual absl::StatusOr<std::optional<std::string>> Take(absl::string_view nonce) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_CHALLENGE_STORE_H_
