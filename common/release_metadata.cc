#include "common/release_metadata.h"

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/login_format.h"

namespace updraft {
namespace {

std::string SignedBytes(absl::string_view metadata) {
  return absl::StrCat(kReleaseMetadataContext, absl::string_view("\0", 1), metadata);
}

absl::Status Mismatch(absl::string_view field, absl::string_view release_id) {
  return absl::InvalidArgumentError(
      absl::StrCat("signed metadata's ", field, " does not match release ", release_id));
}

}  // namespace

absl::StatusOr<v1::ReleaseMetadata> ReleaseMetadataFor(const v1::Release& release,
                                                       absl::Time issued_at,
                                                       absl::Time expires_at) {
  const v1::ArtifactManifest& a = release.artifact();
  if (a.sha256().empty() || a.chunk_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("release ", release.release_id(), " has no artifact manifest"));
  }
  if (expires_at <= issued_at) {
    return absl::InvalidArgumentError("release metadata must expire after it is issued");
  }
  v1::ReleaseMetadata m;
  m.set_release_id(release.release_id());
  m.set_package_id(release.package_id());
  m.set_package_name(release.package_name());
  m.set_version(release.version());
  m.set_artifact_sha256(a.sha256());
  m.set_artifact_size(a.size());
  m.set_chunk_size(a.chunk_size());
  *m.mutable_chunk_sha256() = a.chunk_sha256();
  m.set_issued_at_unix(absl::ToUnixSeconds(issued_at));
  m.set_expires_at_unix(absl::ToUnixSeconds(expires_at));
  return m;
}

absl::StatusOr<v1::SignedReleaseMetadata> SignReleaseMetadata(const v1::ReleaseMetadata& metadata,
                                                              const Ed25519KeyPair& key) {
  v1::SignedReleaseMetadata out;
  if (!metadata.SerializeToString(out.mutable_metadata())) {
    return absl::InternalError("cannot serialize release metadata");
  }
  out.set_key_id(KeyIdFor(key.public_key()));
  absl::StatusOr<std::string> signature = key.Sign(SignedBytes(out.metadata()));
  if (!signature.ok()) return signature.status();
  out.set_signature(*std::move(signature));
  return out;
}

absl::StatusOr<PublisherKeys> PublisherKeys::FromRawKeys(const std::vector<std::string>& raw_keys) {
  PublisherKeys keys;
  for (size_t i = 0; i < raw_keys.size(); ++i) {
    absl::Status valid = ValidatePublicKey(KeyType::kEd25519, raw_keys[i]);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("publisher key ", i + 1, ": ", valid.message()));
    }
    keys.keys_[KeyIdFor(raw_keys[i])] = raw_keys[i];
  }
  return keys;
}

absl::StatusOr<std::vector<std::string>> ReadPublisherKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open publisher key file ", path));
  std::vector<std::string> raw;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    std::string key;
    if (!absl::WebSafeBase64Unescape(text, &key) ||
        !ValidatePublicKey(KeyType::kEd25519, key).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("publisher key file ", path, " line ", number,
                                                     ": not a base64url Ed25519 public key"));
    }
    raw.push_back(std::move(key));
  }
  return raw;
}

absl::StatusOr<PublisherKeys> PublisherKeys::FromFile(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> raw = ReadPublisherKeyFile(path);
  if (!raw.ok()) return raw.status();
  return FromRawKeys(*raw);
}

absl::StatusOr<v1::ReleaseMetadata> PublisherKeys::Verify(
    const v1::SignedReleaseMetadata& signed_metadata) const {
  if (signed_metadata.metadata().empty() || signed_metadata.signature().empty()) {
    return absl::InvalidArgumentError("release metadata is not signed");
  }
  auto key = keys_.find(signed_metadata.key_id());
  if (key == keys_.end()) {
    return absl::PermissionDeniedError(absl::StrCat("release metadata is signed by key '",
                                                    absl::CHexEscape(signed_metadata.key_id()),
                                                    "', which is not a trusted publisher key"));
  }
  if (!Ed25519Verify(key->second, SignedBytes(signed_metadata.metadata()),
                     signed_metadata.signature())) {
    return absl::InvalidArgumentError(
        absl::StrCat("release metadata signature does not verify with publisher key ", key->first));
  }
  v1::ReleaseMetadata metadata;
  if (!metadata.ParseFromString(signed_metadata.metadata())) {
    return absl::InvalidArgumentError("signed release metadata does not parse");
  }
  return metadata;
}

absl::Status CheckMetadataMatches(const v1::ReleaseMetadata& m, const v1::Release& release) {
  const std::string& id = release.release_id();
  const v1::ArtifactManifest& a = release.artifact();
  if (m.release_id() != id) return Mismatch("release_id", id);
  if (m.package_id() != release.package_id()) return Mismatch("package_id", id);
  if (m.package_name() != release.package_name()) return Mismatch("package name", id);
  if (m.version() != release.version()) return Mismatch("version", id);
  if (m.artifact_sha256() != a.sha256()) return Mismatch("artifact SHA-256", id);
  if (m.artifact_size() != a.size()) return Mismatch("artifact length", id);
  if (m.chunk_size() != a.chunk_size()) return Mismatch("chunk size", id);
  if (m.chunk_sha256_size() != a.chunk_sha256_size()) return Mismatch("chunk count", id);
  for (int i = 0; i < m.chunk_sha256_size(); ++i) {
    if (m.chunk_sha256(i) != a.chunk_sha256(i)) {
      return Mismatch(absl::StrCat("hash of chunk ", i), id);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMetadataFresh(const v1::ReleaseMetadata& m, absl::Time now, absl::Duration skew) {
  const absl::Time expires = absl::FromUnixSeconds(m.expires_at_unix());
  if (now >= expires) {
    return absl::FailedPreconditionError(
        absl::StrCat("release metadata of ", m.package_name(), " ", m.version(), " expired at ",
                     absl::FormatTime(absl::RFC3339_sec, expires, absl::UTCTimeZone()),
                     "; the publisher must sign it again"));
  }
  if (absl::FromUnixSeconds(m.issued_at_unix()) > now + skew) {
    return absl::FailedPreconditionError(
        absl::StrCat("release metadata of ", m.package_name(), " ", m.version(),
                     " is issued in the future; check the device clock"));
  }
  return absl::OkStatus();
}

}  // namespace updraft
