#ifndef UPDRAFT_SERVICES_CATALOG_DCINFO_H_
#define UPDRAFT_SERVICES_CATALOG_DCINFO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

inline constexpr size_t kMaxDcEntries = 256;
inline constexpr size_t kMaxFilesPerDc = 4096;
inline constexpr size_t kMaxFilePathLength = 1024;

// DCinfo as the author declared it, checked against the release's artifact
// and completed so that every entry carries dc_id, author, name and version
// (design.md section 2):
//  - FILES: {dc_id, files} pairs; author defaults to `package_author`, name to
//    the dc_id, version to `release_version`; every file must be in the
//    artifact.
//  - TRIPLES: {author, name, version}; the dc_id is TripleDcId(author, name);
//    files are optional but, when given, must be in the artifact.
// In both variants DC IDs and {author, name} pairs are unique. Any violation
// is INVALID_ARGUMENT naming the entry. Pure function.
absl::StatusOr<v1::DcInfo> ValidateDcInfo(const v1::DcInfo& dcinfo,
                                          const v1::ArtifactManifest& manifest,
                                          absl::string_view package_author,
                                          absl::string_view release_version);

// The catalog-assigned ID of a TRIPLES DC: "dc-" + the first 12 hex digits of
// SHA-256(author "\0" name). Stable across versions.
std::string TripleDcId(absl::string_view author, absl::string_view name);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_DCINFO_H_
