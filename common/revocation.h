#ifndef UPDRAFT_COMMON_REVOCATION_H_
#define UPDRAFT_COMMON_REVOCATION_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/token.h"

namespace updraft {

// One revocation, as auth publishes it and every verifying service applies
// it: either every token of one subject in one audience issued up to
// `revoked_at` (a revoked device, a revoked API key), or one token by ID.
// Services forget it at `expires_at`, when no such token can still be valid
// (auth sets it to revoked_at plus the longest token lifetime).
struct Revocation {
  enum class Kind { kSubject, kToken };
  Kind kind = Kind::kToken;
  // kSubject only: kDeviceAudience or kOperatorAudience.
  std::string audience;
  // Device ID or API key ID (kSubject), or token ID (kToken).
  std::string id;
  absl::Time revoked_at;
  absl::Time expires_at;
};

// Wire form on Redis: "v1 subject <audience> <id> <revoked_at_ms> <expires_at_ms>"
// or "v1 token - <token_id> <revoked_at_ms> <expires_at_ms>" (Unix ms).
std::string EncodeRevocation(const Revocation& revocation);
// INVALID_ARGUMENT for anything else.
absl::StatusOr<Revocation> DecodeRevocation(absl::string_view text);

// Sends revocations to every verifying service (RedisRevocationPublisher).
class RevocationPublisher {
 public:
  virtual ~RevocationPublisher() = default;
  virtual absl::Status Publish(const Revocation& revocation) = 0;
};

// The revocations a service knows, checked by its TokenVerifiers on every
// verification. Thread-safe; lookups take a reader lock. Entries are dropped
// once expired (by the injected clock), so the list stays as small as the
// revocations of the last token lifetime.
//
// A subject revocation refuses tokens of that audience and subject issued
// at or before `revoked_at` (token times have whole seconds, so a token
// issued in the same second is refused too); tokens issued later, e.g.
// after the device was accepted again, pass.
class RevocationList : public RevocationChecker {
 public:
  explicit RevocationList(const Clock* clock) : clock_(clock) {}

  void Add(const Revocation& revocation);
  // OK, or UNAUTHENTICATED "device X is revoked", "API key X is revoked" or
  // "access token revoked".
  absl::Status Check(const AccessClaims& claims) const override;

  // Incremented by every Add; lets tests and callers wait for propagation.
  uint64_t revision() const;
  // Blocks until revision() >= `revision` or `timeout` passes; true when
  // reached.
  bool AwaitRevision(uint64_t revision, absl::Duration timeout) const;
  // Entries not yet expired.
  size_t size() const;

 private:
  struct SubjectEntry {
    absl::Time revoked_at;
    absl::Time expires_at;
  };
  void PruneLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* clock_;
  mutable absl::Mutex mu_;
  // Key: audience "\0" subject.
  absl::flat_hash_map<std::string, SubjectEntry> subjects_ ABSL_GUARDED_BY(mu_);
  // Token ID -> expiry.
  absl::flat_hash_map<std::string, absl::Time> tokens_ ABSL_GUARDED_BY(mu_);
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_REVOCATION_H_
