#ifndef UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_
#define UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"

namespace updraft {

// A login challenge as handed to a device.
struct IssuedChallenge {
  // 32 random bytes; the device signs LoginMessage(device_id, nonce).
  std::string nonce;
  absl::Time expires_at;
};

// A public key that verifies access tokens.
struct TokenKey {
  std::string key_id;
  // Raw 32-byte Ed25519 public key.
  std::string public_key;
};

// Limits on device fields, checked at the boundary.
inline constexpr size_t kMaxDeviceIdLength = 128;
inline constexpr size_t kMaxAttributes = 64;
inline constexpr size_t kMaxAttributeKeyLength = 64;
inline constexpr size_t kMaxAttributeValueLength = 1024;
inline constexpr size_t kNonceSize = 32;

// OK when `device_id` is 1..128 characters of [A-Za-z0-9._:-];
// INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateDeviceId(absl::string_view device_id);

// The auth service's logic, free of any transport: device registration,
// challenge-response login with the device's Ed25519 key, and access tokens.
// The gRPC adapters (grpc_auth_service.h) call it; stores, clock and token
// signer are injected.
//
// Login flow: GetChallenge(device) issues a single-use nonce valid for
// `challenge_ttl`; the device signs LoginMessage(device_id, nonce) and calls
// Login, which consumes the challenge (even when the signature is wrong, so
// it can never be retried) and issues a token for audience kDeviceAudience.
class AuthService {
 public:
  struct Options {
    DeviceRegistry* registry = nullptr;
    ChallengeStore* challenges = nullptr;
    const Clock* clock = nullptr;
    TokenSigner* signer = nullptr;
    absl::Duration challenge_ttl = absl::Seconds(60);
    // Where updraft_auth_logins_total is registered; optional.
    prometheus::Registry* metrics = nullptr;
  };

  // INVALID_ARGUMENT when a required pointer is missing or the TTL is not
  // positive. All pointers must outlive the service.
  static absl::StatusOr<std::unique_ptr<AuthService>> Create(Options options);

  // INVALID_ARGUMENT for a malformed ID, NOT_FOUND for an unknown device,
  // PERMISSION_DENIED for a device that is not accepted.
  absl::StatusOr<IssuedChallenge> GetChallenge(absl::string_view device_id);

  // UNAUTHENTICATED when the challenge is unknown, expired, used or issued
  // to another device, or when the signature does not verify.
  absl::StatusOr<IssuedToken> Login(absl::string_view device_id, absl::string_view nonce,
                                    absl::string_view signature);

  // Pre-provisions an accepted device. INVALID_ARGUMENT for a malformed ID,
  // key or attributes; ALREADY_EXISTS when the ID is taken.
  absl::StatusOr<DeviceRecord> RegisterDevice(absl::string_view device_id,
                                              absl::string_view public_key,
                                              const std::map<std::string, std::string>& attributes);

  // INVALID_ARGUMENT for a malformed ID, NOT_FOUND for an unknown device.
  absl::StatusOr<DeviceRecord> GetDevice(absl::string_view device_id);

  // The keys that verify the tokens this service issues.
  std::vector<TokenKey> PublicKeys() const;

 private:
  explicit AuthService(Options options);
  absl::StatusOr<DeviceRecord> GetAcceptedDevice(absl::string_view device_id);

  const Options options_;
  std::shared_ptr<prometheus::Registry> own_metrics_;
  prometheus::Counter* logins_ok_;
  prometheus::Counter* logins_bad_signature_;
  prometheus::Counter* logins_bad_challenge_;
  prometheus::Counter* logins_unknown_device_;
  prometheus::Counter* logins_not_accepted_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_AUTH_SERVICE_H_
