#ifndef UPDRAFT_SERVICES_AUTH_SIGNING_KEY_RING_H_
#define UPDRAFT_SERVICES_AUTH_SIGNING_KEY_RING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/token.h"
#include "services/auth/signing_key_store.h"

namespace updraft {

// A public key that verifies tokens auth issued.
struct TokenKey {
  std::string key_id;
  // Raw 32-byte Ed25519 public key.
  std::string public_key;
};

// Auth's token signing keys, as every replica sees them in the shared
// SigningKeyStore. Signs with the newest key whose active_from has passed;
// publishes every key not retired for longer than the longest token
// lifetime (so tokens of an old key stay valid until they expire) and keys
// not yet active (so verifiers know them before the first token).
//
// Rotate adds a key that becomes active after `activation_delay`; replicas
// pick it up on Refresh, which AuthServer runs every few seconds, well
// within the delay. Thread-safe.
class SigningKeyRing {
 public:
  struct Options {
    // Required; must outlive the ring.
    SigningKeyStore* store = nullptr;
    const Clock* clock = nullptr;
    // Default lifetime of issued tokens.
    absl::Duration token_ttl = absl::Minutes(15);
    // The longest lifetime of any token issued (device or operator).
    absl::Duration max_token_ttl = absl::Minutes(15);
    absl::Duration activation_delay = absl::Seconds(30);
  };

  // Loads the keys. INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<SigningKeyRing>> Create(Options options);

  // Stores `key` as the first key when the store has none (and reloads).
  // True when it was stored, false when keys existed.
  absl::StatusOr<bool> Seed(const Ed25519KeyPair& key, const std::string& actor);
  // Re-reads the store.
  absl::Status Refresh();
  // A new key, active after the activation delay; returns it.
  absl::StatusOr<StoredSigningKey> Rotate(const std::string& actor);

  // FAILED_PRECONDITION when there is no key yet.
  absl::StatusOr<IssuedToken> Issue(absl::string_view subject, absl::string_view audience,
                                    const TokenOptions& options = TokenOptions()) const;
  std::vector<TokenKey> PublicKeys() const;
  // Key ID of the key tokens are signed with now; empty without keys.
  std::string current_key_id() const;
  absl::Duration max_token_ttl() const { return options_.max_token_ttl; }

 private:
  struct Entry {
    StoredSigningKey stored;
    std::shared_ptr<const TokenSigner> signer;
  };
  explicit SigningKeyRing(Options options) : options_(std::move(options)) {}
  std::shared_ptr<const TokenSigner> CurrentSigner() const;

  const Options options_;
  mutable absl::Mutex mu_;
  // Oldest first.
  std::vector<Entry> keys_ ABSL_GUARDED_BY(mu_);
};

// A PublicKeySource over auth's own ring, for its operator token verifier.
class SigningKeyRingSource : public PublicKeySource {
 public:
  explicit SigningKeyRingSource(const SigningKeyRing* ring) : ring_(ring) {}
  absl::StatusOr<std::string> Get(absl::string_view key_id) override;

 private:
  const SigningKeyRing* ring_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_SIGNING_KEY_RING_H_
