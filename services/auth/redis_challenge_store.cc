#include "services/auth/redis_challenge_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace updraft {

std::string RedisChallengeStore::KeyFor(absl::string_view nonce) const {
  return absl::StrCat(options_.key_prefix, "auth:challenge:", absl::BytesToHexString(nonce));
}

absl::Status RedisChallengeStore::Put(absl::string_view nonce, absl::string_view device_id,
                                      absl::Duration ttl) {
  if (ttl < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("challenge ttl must be at least 1ms");
  }
  auto set = options_.redis->SetIfAbsent(KeyFor(nonce), std::string(device_id), ttl);
  if (!set.ok()) return set.status();
  if (!*set) return absl::AlreadyExistsError("challenge nonce is already outstanding");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RedisChallengeStore::Take(absl::string_view nonce) {
  return options_.redis->GetAndDelete(KeyFor(nonce));
}

}  // namespace updraft
