// Fuzzes signed release metadata (common/release_metadata.h): what a device
// and the catalog parse and verify before trusting an artifact. The first
// byte picks the target:
//  0: the input is a SignedReleaseMetadata message. Verify with the trusted
//     publisher key accepts only the genuine statement signed at start-up
//     (same metadata bytes, same signature); an untrusted key ID is
//     PERMISSION_DENIED, anything else INVALID_ARGUMENT.
//  1: the input is the metadata payload, signed with the trusted key: Verify
//     accepts it exactly when it parses; then the release it describes
//     matches it, ReleaseMetadataFor(that release) rebuilds it, any changed
//     field or chunk hash is a mismatch, and CheckMetadataFresh agrees with
//     an independent expiry/issue-time decision.
//  2: the input is a publisher key file: FromFile accepts it only when every
//     line that is not blank or a comment is a base64url Ed25519 key.

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "common/release_metadata.h"
#include "common/token.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seeds.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft {
namespace {

struct Fixture {
  Ed25519KeyPair key = *Ed25519KeyPair::FromPrivateKey(fuzz::PublisherSeed());
  PublisherKeys keys = *PublisherKeys::FromRawKeys({key.public_key()});
  v1::SignedReleaseMetadata genuine = *SignReleaseMetadata(fuzz::GenuineReleaseMetadata(), key);
  fuzz::TempDir dir{"release-metadata-fuzz"};
};

Fixture& Get() {
  static Fixture* f = new Fixture();
  return *f;
}

void CheckSigned(Fixture& f, absl::string_view bytes) {
  v1::SignedReleaseMetadata s;
  if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  absl::StatusOr<v1::ReleaseMetadata> m = f.keys.Verify(s);
  if (m.ok()) {
    UPDRAFT_FUZZ_CHECK_MSG(
        s.metadata() == f.genuine.metadata() && s.signature() == f.genuine.signature(),
        "release metadata the publisher never signed verified");
    UPDRAFT_FUZZ_CHECK(m->release_id() == "rel_5f2c9a");
    return;
  }
  if (s.key_id() != KeyIdFor(f.key.public_key()) && !s.metadata().empty() &&
      !s.signature().empty()) {
    UPDRAFT_FUZZ_CHECK(absl::IsPermissionDenied(m.status()));
  } else {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(m.status()));
  }
}

v1::Release ReleaseOf(const v1::ReleaseMetadata& m) {
  v1::Release r;
  r.set_release_id(m.release_id());
  r.set_package_id(m.package_id());
  r.set_package_name(m.package_name());
  r.set_version(m.version());
  v1::ArtifactManifest* a = r.mutable_artifact();
  a->set_sha256(m.artifact_sha256());
  a->set_size(m.artifact_size());
  a->set_chunk_size(m.chunk_size());
  *a->mutable_chunk_sha256() = m.chunk_sha256();
  return r;
}

void CheckPayload(Fixture& f, absl::string_view payload) {
  v1::ReleaseMetadata expected;
  const bool parses = expected.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
  v1::SignedReleaseMetadata s;
  s.set_metadata(std::string(payload));
  s.set_key_id(KeyIdFor(f.key.public_key()));
  s.set_signature(
      *f.key.Sign(absl::StrCat(kReleaseMetadataContext, std::string(1, '\0'), payload)));
  absl::StatusOr<v1::ReleaseMetadata> m = f.keys.Verify(s);
  UPDRAFT_FUZZ_CHECK_MSG(m.ok() == (parses && !payload.empty()), m.status().ToString().c_str());
  if (!m.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(m.status()));
    return;
  }
  UPDRAFT_FUZZ_CHECK(m->SerializeAsString() == expected.SerializeAsString());

  v1::Release release = ReleaseOf(*m);
  UPDRAFT_FUZZ_CHECK(CheckMetadataMatches(*m, release).ok());
  const absl::Time issued = absl::FromUnixSeconds(m->issued_at_unix());
  const absl::Time expires = absl::FromUnixSeconds(m->expires_at_unix());
  absl::StatusOr<v1::ReleaseMetadata> rebuilt = ReleaseMetadataFor(release, issued, expires);
  if (rebuilt.ok()) {
    v1::ReleaseMetadata known = *m;
    known.DiscardUnknownFields();
    UPDRAFT_FUZZ_CHECK(rebuilt->SerializeAsString() == known.SerializeAsString());
  } else {
    UPDRAFT_FUZZ_CHECK(m->artifact_sha256().empty() || m->chunk_size() == 0 || expires <= issued);
  }
  v1::Release changed = release;
  changed.set_version(m->version() + "1");
  UPDRAFT_FUZZ_CHECK(!CheckMetadataMatches(*m, changed).ok());
  changed = release;
  changed.mutable_artifact()->set_size(m->artifact_size() ^ 1);
  UPDRAFT_FUZZ_CHECK(!CheckMetadataMatches(*m, changed).ok());
  if (m->chunk_sha256_size() > 0) {
    changed = release;
    changed.mutable_artifact()->mutable_chunk_sha256()->Mutable(0)->push_back('x');
    UPDRAFT_FUZZ_CHECK(!CheckMetadataMatches(*m, changed).ok());
    changed = release;
    changed.mutable_artifact()->mutable_chunk_sha256()->RemoveLast();
    UPDRAFT_FUZZ_CHECK(!CheckMetadataMatches(*m, changed).ok());
  }
  for (absl::Time now : {issued, expires, issued - absl::Minutes(6), expires - absl::Seconds(1),
                         absl::FromUnixSeconds(1767225600)}) {
    const bool fresh = now < expires && issued <= now + absl::Minutes(5);
    absl::Status s = CheckMetadataFresh(*m, now);
    UPDRAFT_FUZZ_CHECK(s.ok() == fresh);
    if (!s.ok()) UPDRAFT_FUZZ_CHECK(absl::IsFailedPrecondition(s));
  }
}

void CheckKeyFile(Fixture& f, absl::string_view text) {
  const std::string path = f.dir.path() + "/publisher_keys";
  fuzz::WriteFileOrDie(path, text);
  absl::StatusOr<PublisherKeys> keys = PublisherKeys::FromFile(path);
  if (!keys.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(keys.status()));
    return;
  }
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::string key;
    UPDRAFT_FUZZ_CHECK(absl::WebSafeBase64Unescape(line, &key));
    UPDRAFT_FUZZ_CHECK(ValidatePublicKey(KeyType::kEd25519, key).ok());
    ++lines;
  }
  UPDRAFT_FUZZ_CHECK(keys->size() <= lines);
}

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::Fixture& f = updraft::Get();
  updraft::fuzz::FuzzInput in(data, size);
  const uint8_t mode = in.Byte() % 3;
  absl::string_view rest = in.Rest();
  if (mode == 0) updraft::CheckSigned(f, rest);
  if (mode == 1) updraft::CheckPayload(f, rest);
  if (mode == 2) updraft::CheckKeyFile(f, rest);
  return 0;
}
