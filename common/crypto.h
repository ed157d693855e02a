#ifndef UPDRAFT_COMMON_CRYPTO_H_
#define UPDRAFT_COMMON_CRYPTO_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct evp_pkey_st;

namespace updraft {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519PrivateKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
inline constexpr size_t kSha256Size = 32;
// ECDSA P-256: uncompressed SEC1 point 0x04 || X || Y, 32-byte private
// scalar, signatures r || s (32 bytes each, big-endian; not DER).
inline constexpr size_t kP256PublicKeySize = 65;
inline constexpr size_t kP256PrivateKeySize = 32;
inline constexpr size_t kP256SignatureSize = 64;

// An Ed25519 key pair (OpenSSL). Used by auth to sign tokens, by devices to
// sign login challenges, and by publishers to sign release metadata.
class Ed25519KeyPair {
 public:
  static absl::StatusOr<Ed25519KeyPair> Generate();
  // From the raw 32-byte private key (seed).
  static absl::StatusOr<Ed25519KeyPair> FromPrivateKey(absl::string_view raw_private_key);

  const std::string& private_key() const { return private_key_; }
  const std::string& public_key() const { return public_key_; }
  // Thread-safe.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  Ed25519KeyPair(std::string priv, std::string pub, std::shared_ptr<evp_pkey_st> pkey)
      : private_key_(std::move(priv)), public_key_(std::move(pub)), pkey_(std::move(pkey)) {}
  std::string private_key_;
  std::string public_key_;
  // The parsed OpenSSL key, made once: building it costs more than a signature.
  std::shared_ptr<evp_pkey_st> pkey_;
};

// Checks an Ed25519 signature. False for any malformed key or signature.
bool Ed25519Verify(absl::string_view raw_public_key, absl::string_view message,
                   absl::string_view signature);

// An ECDSA P-256 key pair (OpenSSL), signing SHA-256 digests. The second
// device key type; signatures are the fixed-size r || s form.
class EcdsaP256KeyPair {
 public:
  static absl::StatusOr<EcdsaP256KeyPair> Generate();
  // From the raw 32-byte big-endian private scalar (1 <= d < n).
  static absl::StatusOr<EcdsaP256KeyPair> FromPrivateKey(absl::string_view raw_private_key);

  const std::string& private_key() const { return private_key_; }
  // 65-byte uncompressed point.
  const std::string& public_key() const { return public_key_; }
  // 64-byte r || s.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  EcdsaP256KeyPair(std::string priv, std::string pub)
      : private_key_(std::move(priv)), public_key_(std::move(pub)) {}
  std::string private_key_;
  std::string public_key_;
};

// Checks an ECDSA P-256 / SHA-256 signature (64-byte r || s) with a 65-byte
// uncompressed public key. False for any malformed key or signature.
bool EcdsaP256Verify(absl::string_view raw_public_key, absl::string_view message,
                     absl::string_view signature);

// The key types a device may have.
enum class KeyType { kEd25519, kEcdsaP256 };

// "ed25519" or "ecdsa-p256": the names stored and used in CSV files.
absl::string_view KeyTypeName(KeyType type);
// INVALID_ARGUMENT for any other name.
absl::StatusOr<KeyType> ParseKeyType(absl::string_view name);
// OK when `raw_public_key` is a well-formed key of `type` (right size, and a
// point on the curve for P-256); INVALID_ARGUMENT saying what is wrong.
absl::Status ValidatePublicKey(KeyType type, absl::string_view raw_public_key);
// Ed25519Verify or EcdsaP256Verify by type.
bool VerifySignature(KeyType type, absl::string_view raw_public_key, absl::string_view message,
                     absl::string_view signature);

// Raw 32-byte SHA-256.
std::string Sha256(absl::string_view data);
std::string Sha256Hex(absl::string_view data);

// Incremental SHA-256 for streams.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(absl::string_view data);
  // Raw digest; the hasher is reset afterwards.
  std::string Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Cryptographically secure random bytes.
std::string RandomBytes(size_t n);

// True when `s` is 64 lower-case hex digits.
bool IsSha256Hex(absl::string_view s);

// Reads and writes a raw key in a file, as base64url text. Writes with mode 0600.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path);
absl::Status WriteKeyFile(const std::string& path, absl::string_view raw_key);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_CRYPTO_H_
