#include "services/catalog/dcinfo.h"

#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "services/catalog/validation.h"

namespace updraft::catalog {
namespace {

absl::Status ValidateFilePath(absl::string_view field, absl::string_view path) {
  UPDRAFT_RETURN_IF_ERROR(ValidateText(field, path, kMaxFilePathLength, true));
  if (path[0] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", path, "' must be relative (no leading '/')"));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " '", path, "' must not contain empty, '.' or '..' path components"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFiles(absl::string_view entry_field, const v1::DcEntry& entry,
                           const absl::flat_hash_set<absl::string_view>& artifact_files,
                           absl::string_view sha256, absl::string_view dc_id) {
  if (static_cast<size_t>(entry.files_size()) > kMaxFilesPerDc) {
    return absl::InvalidArgumentError(absl::StrCat(entry_field, " lists ", entry.files_size(),
                                                   " files; at most ", kMaxFilesPerDc));
  }
  for (int j = 0; j < entry.files_size(); ++j) {
    const std::string& file = entry.files(j);
    UPDRAFT_RETURN_IF_ERROR(ValidateFilePath(absl::StrCat(entry_field, ".files[", j, "]"), file));
    if (!artifact_files.contains(file)) {
      return absl::InvalidArgumentError(
          absl::StrCat("file ", file, " of ", dc_id, " is not in artifact ", sha256));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string TripleDcId(absl::string_view author, absl::string_view name) {
  return absl::StrCat(
      "dc-", Sha256Hex(absl::StrCat(author, absl::string_view("\0", 1), name)).substr(0, 12));
}

absl::StatusOr<v1::DcInfo> ValidateDcInfo(const v1::DcInfo& dcinfo,
                                          const v1::ArtifactManifest& manifest,
                                          absl::string_view package_author,
                                          absl::string_view release_version) {
  const bool files_variant = dcinfo.variant() == v1::DcInfo::FILES;
  if (!files_variant && dcinfo.variant() != v1::DcInfo::TRIPLES) {
    return absl::InvalidArgumentError("DCinfo variant must be FILES or TRIPLES");
  }
  if (dcinfo.entries().empty()) {
    return absl::InvalidArgumentError("DCinfo needs at least one entry");
  }
  if (static_cast<size_t>(dcinfo.entries_size()) > kMaxDcEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("DCinfo has ", dcinfo.entries_size(), " entries; at most ", kMaxDcEntries));
  }
  absl::flat_hash_set<absl::string_view> artifact_files(manifest.files().begin(),
                                                        manifest.files().end());
  v1::DcInfo out;
  out.set_variant(dcinfo.variant());
  std::set<std::string> dc_ids;
  std::set<std::pair<std::string, std::string>> identities;
  for (int i = 0; i < dcinfo.entries_size(); ++i) {
    const v1::DcEntry& in = dcinfo.entries(i);
    const std::string field = absl::StrCat("DCinfo entry ", i);
    v1::DcEntry entry = in;
    if (files_variant) {
      UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier(absl::StrCat(field, " dc_id"), in.dc_id(), 64));
      if (in.files().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " (", in.dc_id(), ") lists no files"));
      }
      if (entry.author().empty()) entry.set_author(std::string(package_author));
      if (entry.name().empty()) entry.set_name(in.dc_id());
      if (entry.version().empty()) entry.set_version(std::string(release_version));
    } else {
      if (in.author().empty()) return absl::InvalidArgumentError(field + " has an empty author");
      if (in.name().empty()) return absl::InvalidArgumentError(field + " has an empty name");
      if (in.version().empty()) return absl::InvalidArgumentError(field + " has an empty version");
    }
    UPDRAFT_RETURN_IF_ERROR(
        ValidateText(field + " author", entry.author(), kMaxAuthorLength, true));
    UPDRAFT_RETURN_IF_ERROR(ValidateText(field + " name", entry.name(), kMaxNameLength, true));
    UPDRAFT_RETURN_IF_ERROR(
        ValidateText(field + " version", entry.version(), kMaxVersionLength, true));
    if (!files_variant) {
      std::string assigned = TripleDcId(entry.author(), entry.name());
      if (!in.dc_id().empty() && in.dc_id() != assigned) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " gives dc_id '", absl::CHexEscape(in.dc_id().substr(0, 64)),
                         "' but TRIPLES DC IDs are assigned by the catalog (", assigned,
                         "); leave dc_id empty"));
      }
      entry.set_dc_id(assigned);
    }
    UPDRAFT_RETURN_IF_ERROR(
        ValidateFiles(field, entry, artifact_files, manifest.sha256(), entry.dc_id()));
    if (!dc_ids.insert(entry.dc_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate DC ID ", entry.dc_id(), " in DCinfo"));
    }
    if (!identities.insert({entry.author(), entry.name()}).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate DC author '", entry.author(),
                                                     "' and name '", entry.name(), "' in DCinfo (",
                                                     field, ")"));
    }
    *out.add_entries() = std::move(entry);
  }
  return out;
}

}  // namespace updraft::catalog
