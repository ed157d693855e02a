#ifndef UPDRAFT_COMMON_RELEASE_METADATA_H_
#define UPDRAFT_COMMON_RELEASE_METADATA_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft {

// Signed release metadata (design.md section 4, after TUF's targets role):
// a publisher key vouches for a release's version, artifact length, SHA-256
// and chunk hashes until an expiry. The publisher signs offline (updraftctl),
// the catalog checks the signature before publishing and hands it to devices
// with every offer, and the SDK checks it again against the publisher keys it
// trusts, so neither a compromised catalog nor a download mirror can make a
// device install bytes the publisher did not sign, an older version
// (rollback) or a statement past its expiry (freeze).

// Domain separation: what the Ed25519 signature covers is this prefix, a 0
// byte, and the serialized ReleaseMetadata.
inline constexpr char kReleaseMetadataContext[] = "updraft-release-metadata-v1";

// The statement about `release` (its artifact manifest must be filled in).
// INVALID_ARGUMENT when the release has no manifest or expires_at is not
// after issued_at.
absl::StatusOr<v1::ReleaseMetadata> ReleaseMetadataFor(const v1::Release& release,
                                                       absl::Time issued_at, absl::Time expires_at);

// Serializes and signs `metadata` with a publisher key.
absl::StatusOr<v1::SignedReleaseMetadata> SignReleaseMetadata(const v1::ReleaseMetadata& metadata,
                                                              const Ed25519KeyPair& key);

// The raw public keys in a publisher key file: one base64url Ed25519 key per
// line; blank lines and lines starting with '#' are ignored. NOT_FOUND, or
// INVALID_ARGUMENT naming the line.
absl::StatusOr<std::vector<std::string>> ReadPublisherKeyFile(const std::string& path);

// The publisher public keys a catalog or a device trusts, by key ID.
class PublisherKeys {
 public:
  PublisherKeys() = default;

  // Raw 32-byte Ed25519 public keys. INVALID_ARGUMENT for a malformed one.
  static absl::StatusOr<PublisherKeys> FromRawKeys(const std::vector<std::string>& raw_keys);
  // The keys of ReadPublisherKeyFile(path).
  static absl::StatusOr<PublisherKeys> FromFile(const std::string& path);

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

  // Checks the signature with the trusted key it names and parses the
  // metadata. PERMISSION_DENIED for a key not trusted here;
  // INVALID_ARGUMENT for a missing, malformed or wrong signature, or
  // metadata that does not parse.
  absl::StatusOr<v1::ReleaseMetadata> Verify(
      const v1::SignedReleaseMetadata& signed_metadata) const;

 private:
  absl::flat_hash_map<std::string, std::string> keys_;  // key ID -> raw key
};

// OK when `metadata` describes exactly `release`: IDs, version, artifact
// SHA-256, length, chunk size and every chunk hash. INVALID_ARGUMENT naming
// the first difference otherwise.
absl::Status CheckMetadataMatches(const v1::ReleaseMetadata& metadata, const v1::Release& release);

// FAILED_PRECONDITION when `now` is past the metadata's expiry (a freeze:
// someone replays stale metadata), or before its issue time by more than
// `skew`.
absl::Status CheckMetadataFresh(const v1::ReleaseMetadata& metadata, absl::Time now,
                                absl::Duration skew = absl::Minutes(5));

}  // namespace updraft

#endif  // UPDRAFT_COMMON_RELEASE_METADATA_H_
