#include "services/auth/redis_challenge_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace updraft {
namespace {

// KEYS[1] challenge key, KEYS[2] the device's next key; ARGV[1] device ID,
// ARGV[2] nonce. Returns 0 (none), 1 (challenge) or 2 (next challenge).
constexpr char kTakeScript[] =
    "local d = redis.call('GETDEL', KEYS[1]) "
    "if d then if d == ARGV[1] then return 1 end return 0 end "
    "if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) return 2 end "
    "return 0";

absl::Status CheckTtl(absl::Duration ttl) {
  if (ttl < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("challenge ttl must be at least 1ms");
  }
  return absl::OkStatus();
}

}  // namespace

std::string RedisChallengeStore::KeyFor(absl::string_view nonce) const {
  return absl::StrCat(options_.key_prefix, "auth:challenge:", absl::BytesToHexString(nonce));
}

std::string RedisChallengeStore::NextKeyFor(absl::string_view device_id) const {
  return absl::StrCat(options_.key_prefix, "auth:next:", device_id);
}

absl::Status RedisChallengeStore::Put(absl::string_view nonce, absl::string_view device_id,
                                      absl::Duration ttl) {
  if (absl::Status s = CheckTtl(ttl); !s.ok()) return s;
  auto set = options_.redis->SetIfAbsent(KeyFor(nonce), std::string(device_id), ttl);
  if (!set.ok()) return set.status();
  if (!*set) return absl::AlreadyExistsError("challenge nonce is already outstanding");
  return absl::OkStatus();
}

absl::Status RedisChallengeStore::PutNext(absl::string_view device_id, absl::string_view nonce,
                                          absl::Duration ttl) {
  if (absl::Status s = CheckTtl(ttl); !s.ok()) return s;
  return options_.redis->SetWithTtl(NextKeyFor(device_id), std::string(nonce), ttl);
}

absl::StatusOr<TakenChallenge> RedisChallengeStore::Take(absl::string_view device_id,
                                                         absl::string_view nonce) {
  auto r = options_.redis->Command({"EVAL", kTakeScript, "2", KeyFor(nonce), NextKeyFor(device_id),
                                    std::string(device_id), std::string(nonce)});
  if (!r.ok()) return r.status();
  if (r->type != RedisReply::Type::kInteger || r->integer < 0 || r->integer > 2) {
    return absl::InternalError("redis challenge script did not return 0, 1 or 2");
  }
  switch (r->integer) {
    case 1:
      return TakenChallenge::kChallenge;
    case 2:
      return TakenChallenge::kNextChallenge;
    default:
      return TakenChallenge::kNone;
  }
}

}  // namespace updraft
