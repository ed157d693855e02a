#include "services/auth/signing_key_ring.h"

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<SigningKeyRing>> SigningKeyRing::Create(Options options) {
  if (options.store == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("SigningKeyRing needs a store and a clock");
  }
  if (options.token_ttl <= absl::ZeroDuration() || options.max_token_ttl < options.token_ttl) {
    return absl::InvalidArgumentError(
        "SigningKeyRing token_ttl must be positive and at most max_token_ttl");
  }
  if (options.activation_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("signing key activation delay must not be negative");
  }
  std::unique_ptr<SigningKeyRing> ring(new SigningKeyRing(std::move(options)));
  UPDRAFT_RETURN_IF_ERROR(ring->Refresh());
  return ring;
}

absl::Status SigningKeyRing::Refresh() {
  UPDRAFT_ASSIGN_OR_RETURN(std::vector<StoredSigningKey> stored, options_.store->List());
  absl::MutexLock lock(&mu_);
  std::vector<Entry> next;
  next.reserve(stored.size());
  for (StoredSigningKey& s : stored) {
    std::shared_ptr<const TokenSigner> signer;
    for (const Entry& e : keys_) {
      if (e.stored.key_id == s.key_id) signer = e.signer;
    }
    if (signer == nullptr) {
      UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair pair, Ed25519KeyPair::FromPrivateKey(s.private_key));
      if (KeyIdFor(pair.public_key()) != s.key_id) {
        return absl::InternalError(
            absl::StrCat("stored signing key ", s.key_id, " does not match its key ID"));
      }
      signer =
          std::make_shared<const TokenSigner>(std::move(pair), options_.clock, options_.token_ttl);
    }
    next.push_back({std::move(s), std::move(signer)});
  }
  keys_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<bool> SigningKeyRing::Seed(const Ed25519KeyPair& key, const std::string& actor) {
  absl::Time now = options_.clock->Now();
  StoredSigningKey stored{KeyIdFor(key.public_key()), key.private_key(), now, now};
  AuditEntry audit;
  audit.at = now;
  audit.actor = actor;
  audit.action = "seed_signing_key";
  audit.detail = absl::StrCat("key_id=", stored.key_id);
  UPDRAFT_ASSIGN_OR_RETURN(bool inserted, options_.store->InsertIfEmpty(stored, audit));
  UPDRAFT_RETURN_IF_ERROR(Refresh());
  return inserted;
}

absl::StatusOr<StoredSigningKey> SigningKeyRing::Rotate(const std::string& actor) {
  UPDRAFT_ASSIGN_OR_RETURN(Ed25519KeyPair key, Ed25519KeyPair::Generate());
  absl::Time now = options_.clock->Now();
  StoredSigningKey stored{KeyIdFor(key.public_key()), key.private_key(), now,
                          now + options_.activation_delay};
  AuditEntry audit;
  audit.at = now;
  audit.actor = actor;
  audit.action = "rotate_signing_key";
  audit.detail =
      absl::StrCat("key_id=", stored.key_id, " active_from=", absl::FormatTime(stored.active_from));
  UPDRAFT_RETURN_IF_ERROR(options_.store->Rotate(stored, audit));
  UPDRAFT_RETURN_IF_ERROR(Refresh());
  stored.private_key.clear();
  return stored;
}

std::shared_ptr<const TokenSigner> SigningKeyRing::CurrentSigner() const {
  absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&mu_);
  if (keys_.empty()) return nullptr;
  const Entry* best = nullptr;
  for (const Entry& e : keys_) {
    if (e.stored.active_from > now) continue;
    if (best == nullptr || e.stored.active_from >= best->stored.active_from) best = &e;
  }
  // No key active yet (clock moved back): the oldest one.
  return best != nullptr ? best->signer : keys_.front().signer;
}

absl::StatusOr<IssuedToken> SigningKeyRing::Issue(absl::string_view subject,
                                                  absl::string_view audience,
                                                  const TokenOptions& options) const {
  std::shared_ptr<const TokenSigner> signer = CurrentSigner();
  if (signer == nullptr) {
    return absl::FailedPreconditionError("auth has no token signing key yet");
  }
  return signer->Issue(subject, audience, options);
}

std::string SigningKeyRing::current_key_id() const {
  std::shared_ptr<const TokenSigner> signer = CurrentSigner();
  return signer == nullptr ? "" : signer->key_id();
}

std::vector<TokenKey> SigningKeyRing::PublicKeys() const {
  absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&mu_);
  std::vector<TokenKey> out;
  for (const Entry& e : keys_) {
    if (e.stored.retired_at != absl::InfiniteFuture() &&
        e.stored.retired_at + options_.max_token_ttl <= now) {
      continue;
    }
    out.push_back({e.signer->key_id(), e.signer->public_key()});
  }
  return out;
}

absl::StatusOr<std::string> SigningKeyRingSource::Get(absl::string_view key_id) {
  for (const TokenKey& k : ring_->PublicKeys()) {
    if (k.key_id == key_id) return k.public_key;
  }
  return absl::NotFoundError(absl::StrCat("unknown key id ", key_id));
}

}  // namespace updraft
