// Fuzzes the catalog's check of a publisher's DCinfo against the uploaded
// artifact (services/catalog/dcinfo.h, ValidateDcInfo).
//
// Input: a DcInfo and an ArtifactManifest in protobuf wire form (each with a
// two-byte length), then the package author and the release version (each
// with a one-byte length). Inputs that are not valid protobuf are skipped:
// the gRPC layer never hands those to the catalog.
//
// Invariants when ValidateDcInfo accepts:
//  - one output entry per input entry, each with dc_id, author, name and
//    version set, valid UTF-8 within their limits;
//  - DC IDs and {author, name} pairs are unique; TRIPLES IDs are TripleDcId;
//  - every file named is one of the artifact's files;
//  - validating the output again gives the output (the completion is stable).
// On refusal the error is INVALID_ARGUMENT.
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/utf8_reference.h"
#include "services/catalog/dcinfo.h"
#include "services/catalog/validation.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {
namespace {

void Check(const v1::DcInfo& in, const v1::ArtifactManifest& manifest, absl::string_view author,
           absl::string_view version) {
  absl::StatusOr<v1::DcInfo> out = ValidateDcInfo(in, manifest, author, version);
  if (!out.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(out.status()));
    return;
  }
  UPDRAFT_FUZZ_CHECK(out->variant() == in.variant());
  UPDRAFT_FUZZ_CHECK(out->entries_size() == in.entries_size());
  UPDRAFT_FUZZ_CHECK(out->entries_size() >= 1 &&
                     static_cast<size_t>(out->entries_size()) <= kMaxDcEntries);
  absl::flat_hash_set<std::string> files(manifest.files().begin(), manifest.files().end());
  std::set<std::string> ids;
  std::set<std::pair<std::string, std::string>> identities;
  for (const v1::DcEntry& e : out->entries()) {
    for (const std::string* s : {&e.dc_id(), &e.author(), &e.name(), &e.version()}) {
      UPDRAFT_FUZZ_CHECK(!s->empty());
      UPDRAFT_FUZZ_CHECK(fuzz::ReferenceUtf8(*s));
      UPDRAFT_FUZZ_CHECK(s->find('\0') == std::string::npos);
    }
    UPDRAFT_FUZZ_CHECK(e.author().size() <= kMaxAuthorLength);
    UPDRAFT_FUZZ_CHECK(e.name().size() <= kMaxNameLength);
    UPDRAFT_FUZZ_CHECK(e.version().size() <= kMaxVersionLength);
    if (in.variant() == v1::DcInfo::TRIPLES) {
      UPDRAFT_FUZZ_CHECK(e.dc_id() == TripleDcId(e.author(), e.name()));
    }
    UPDRAFT_FUZZ_CHECK(ids.insert(e.dc_id()).second);
    UPDRAFT_FUZZ_CHECK(identities.insert({e.author(), e.name()}).second);
    for (const std::string& f : e.files()) {
      UPDRAFT_FUZZ_CHECK(files.contains(f));
      UPDRAFT_FUZZ_CHECK(!f.empty() && f[0] != '/');
    }
  }
  absl::StatusOr<v1::DcInfo> again = ValidateDcInfo(*out, manifest, author, version);
  UPDRAFT_FUZZ_CHECK(again.ok());
  UPDRAFT_FUZZ_CHECK(again->SerializeAsString() == out->SerializeAsString());
}

}  // namespace
}  // namespace updraft::catalog

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::fuzz::FuzzInput in(data, size);
  updraft::v1::DcInfo dcinfo;
  updraft::v1::ArtifactManifest manifest;
  absl::string_view dcinfo_bytes = in.LengthPrefixed(/*wide=*/true);
  absl::string_view manifest_bytes = in.LengthPrefixed(/*wide=*/true);
  if (!dcinfo.ParseFromArray(dcinfo_bytes.data(), static_cast<int>(dcinfo_bytes.size())) ||
      !manifest.ParseFromArray(manifest_bytes.data(), static_cast<int>(manifest_bytes.size()))) {
    return 0;
  }
  absl::string_view author = in.LengthPrefixed();
  absl::string_view version = in.LengthPrefixed();
  updraft::catalog::Check(dcinfo, manifest, author, version);
  return 0;
}
