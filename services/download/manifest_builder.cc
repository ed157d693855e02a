#include "services/download/manifest_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_util.h"

namespace updraft::download {
namespace {

constexpr int64_t kReadBufferBytes = 64 << 10;
constexpr size_t kMaxListedFiles = 100000;
constexpr int64_t kExpansionFactor = 16;
constexpr int64_t kExpansionAllowance = int64_t{1} << 30;
constexpr int64_t kMaxSaneSize = int64_t{1} << 50;

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF),
// as protobuf requires for string fields.
bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string NormalizePath(absl::string_view path) {
  while (true) {
    if (absl::ConsumePrefix(&path, "./")) continue;
    if (absl::ConsumePrefix(&path, "/")) continue;
    break;
  }
  return std::string(path);
}

// libarchive client callbacks over an ArtifactReader.
struct ReadState {
  ArtifactReader* reader;
  int64_t position = 0;
  int64_t max_expanded_bytes = 0;
  std::string buffer;
  absl::Status io_error;
  bool too_expanded = false;
};

la_ssize_t ReadCallback(struct archive* a, void* data, const void** out) {
  auto* st = static_cast<ReadState*>(data);
  if (archive_filter_bytes(a, 0) > st->max_expanded_bytes) {
    st->too_expanded = true;
    archive_set_error(a, EFBIG, "decompressed stream too large");
    return -1;
  }
  absl::Status s = st->reader->ReadAt(st->position, kReadBufferBytes, &st->buffer);
  if (!s.ok()) {
    st->io_error = s;
    archive_set_error(a, EIO, "read failed");
    return -1;
  }
  st->position += static_cast<int64_t>(st->buffer.size());
  *out = st->buffer.data();
  return static_cast<la_ssize_t>(st->buffer.size());
}

la_int64_t SkipCallback(struct archive*, void* data, la_int64_t request) {
  auto* st = static_cast<ReadState*>(data);
  int64_t skip = std::max<int64_t>(0, std::min(request, st->reader->size() - st->position));
  st->position += skip;
  return skip;
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

using ArchivePtr = std::unique_ptr<struct archive, ArchiveDeleter>;

// A tar reader, with the decompression filters when all of them are built
// into libarchive (a missing one would run an external program instead).
ArchivePtr NewTarReader(bool with_filters) {
  ArchivePtr a(archive_read_new());
  if (!a || archive_read_support_format_tar(a.get()) != ARCHIVE_OK) return nullptr;
  if (with_filters) {
    for (int (*add)(struct archive*) :
         {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
          archive_read_support_filter_xz, archive_read_support_filter_zstd}) {
      if (add(a.get()) != ARCHIVE_OK) return nullptr;
    }
  }
  return a;
}

}  // namespace

absl::Status ValidateChunkSize(uint32_t chunk_size, absl::string_view field) {
  if (chunk_size < kMinChunkSize || chunk_size > kMaxChunkSize) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be between ", kMinChunkSize,
                                                   " and ", kMaxChunkSize, " bytes, got ",
                                                   chunk_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ManifestBuilder>> ManifestBuilder::Create(uint32_t chunk_size) {
  UPDRAFT_RETURN_IF_ERROR(ValidateChunkSize(chunk_size));
  return std::unique_ptr<ManifestBuilder>(new ManifestBuilder(chunk_size));
}

void ManifestBuilder::Update(absl::string_view data) {
  whole_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  while (!data.empty()) {
    size_t take = std::min<size_t>(data.size(), chunk_size_ - in_chunk_);
    chunk_.Update(data.substr(0, take));
    data.remove_prefix(take);
    in_chunk_ += static_cast<uint32_t>(take);
    if (in_chunk_ == chunk_size_) {
      chunk_hashes_.push_back(chunk_.Finish());
      in_chunk_ = 0;
    }
  }
}

v1::ArtifactManifest ManifestBuilder::Finish() {
  if (in_chunk_ > 0) {
    chunk_hashes_.push_back(chunk_.Finish());
    in_chunk_ = 0;
  }
  v1::ArtifactManifest manifest;
  manifest.set_sha256(absl::BytesToHexString(whole_.Finish()));
  manifest.set_size(size_);
  manifest.set_chunk_size(chunk_size_);
  for (std::string& h : chunk_hashes_) manifest.add_chunk_sha256(std::move(h));
  chunk_hashes_.clear();
  return manifest;
}

absl::StatusOr<std::vector<std::string>> ListTarFiles(ArtifactReader& contents) {
  ReadState state;
  state.reader = &contents;
  state.max_expanded_bytes =
      std::min(contents.size(), kMaxSaneSize) * kExpansionFactor + kExpansionAllowance;
  ArchivePtr a = NewTarReader(/*with_filters=*/true);
  if (!a) a = NewTarReader(/*with_filters=*/false);
  if (!a) return absl::ResourceExhaustedError("cannot allocate an archive reader");
  archive_read_set_callback_data(a.get(), &state);
  archive_read_set_read_callback(a.get(), ReadCallback);
  archive_read_set_skip_callback(a.get(), SkipCallback);

  std::vector<std::string> files;
  absl::flat_hash_set<std::string> seen;
  bool ok = archive_read_open1(a.get()) == ARCHIVE_OK;
  while (ok) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      ok = false;
      break;
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* name = archive_entry_pathname_utf8(entry);
    if (name == nullptr) name = archive_entry_pathname(entry);
    if (name == nullptr) continue;
    std::string path = NormalizePath(name);
    if (path.empty() || !IsValidUtf8(path) || !seen.insert(path).second) continue;
    if (files.size() == kMaxListedFiles) {
      ok = false;
      break;
    }
    files.push_back(std::move(path));
  }
  UPDRAFT_RETURN_IF_ERROR(state.io_error);
  if (!ok) files.clear();
  return files;
}

}  // namespace updraft::download
