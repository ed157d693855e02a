#include "sdk/device/test_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <link.h>
#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gtest/gtest.h"
#include "sdk/device/file_util.h"

namespace updraft::device::testutil {

std::string NewTempDir(absl::string_view prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string templ = absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << templ;
    return "/nonexistent";
  }
  return templ;
}

TarEntry File(std::string path, std::string content, int mode) {
  TarEntry e;
  e.type = TarEntry::Type::kFile;
  e.path = std::move(path);
  e.content = std::move(content);
  e.mode = mode;
  return e;
}

TarEntry Dir(std::string path) {
  TarEntry e;
  e.type = TarEntry::Type::kDir;
  e.path = std::move(path);
  e.mode = 0755;
  return e;
}

TarEntry Symlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::kSymlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  e.mode = 0777;
  return e;
}

TarEntry Hardlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::kHardlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  return e;
}

TarEntry Fifo(std::string path) {
  TarEntry e;
  e.type = TarEntry::Type::kFifo;
  e.path = std::move(path);
  return e;
}

namespace {

la_ssize_t AppendToString(struct archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

}  // namespace

std::string BuildTar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    ADD_FAILURE() << "archive_write_open: " << archive_error_string(a);
  }
  for (const TarEntry& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_mtime(e, 1700000000, 0);
    switch (t.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
        break;
      case TarEntry::Type::kDir:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t.link_target.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, t.link_target.c_str());
        archive_entry_set_size(e, 0);
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
    }
    if (archive_write_header(a, e) < ARCHIVE_WARN) {
      ADD_FAILURE() << "archive_write_header " << t.path << ": " << archive_error_string(a);
    }
    if (t.type == TarEntry::Type::kFile && !t.content.empty()) {
      archive_write_data(a, t.content.data(), t.content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

v1::ArtifactManifest MakeManifest(absl::string_view data, uint32_t chunk_size) {
  v1::ArtifactManifest m;
  m.set_sha256(Sha256Hex(data));
  m.set_size(static_cast<int64_t>(data.size()));
  m.set_chunk_size(chunk_size);
  for (size_t off = 0; off < data.size(); off += chunk_size) {
    m.add_chunk_sha256(Sha256(data.substr(off, chunk_size)));
  }
  return m;
}

v1::Offer DemoOffer(const std::string& release_id, const std::string& version,
                    absl::string_view artifact, uint32_t chunk_size, v1::OfferKind kind,
                    const std::string& dc_prefix) {
  v1::Offer offer;
  offer.set_kind(kind);
  offer.set_download_target("download.test:443");
  v1::Release* r = offer.mutable_release();
  r->set_release_id(release_id);
  r->set_package_id("p_demo");
  r->set_package_name("demo-app");
  r->set_version(version);
  r->set_state(v1::PUBLISHED);
  *r->mutable_artifact() = MakeManifest(artifact, chunk_size);
  r->mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
  const char* files[] = {"app.bin", "libcodec.so"};
  const char* names[] = {"demo-app", "codec"};
  for (int i = 0; i < 2; ++i) {
    v1::DcEntry* e = r->mutable_dcinfo()->add_entries();
    e->set_dc_id(absl::StrCat(dc_prefix, i + 1));
    e->add_files(files[i]);
    e->set_author("acme");
    e->set_name(names[i]);
    e->set_version(version);
  }
  (*r->mutable_settings())["server"] = "prod";
  (*r->mutable_settings())["volume"] = "7";
  return offer;
}

std::string ReadOrMissing(const std::string& path) {
  absl::StatusOr<std::string> s = ReadFileToString(path);
  return s.ok() ? *s : "<missing>";
}

bool SharedObjectMapped(const std::string& part) {
  auto visit = [](dl_phdr_info* info, size_t, void* data) -> int {
    const std::string& want = *static_cast<const std::string*>(data);
    return info->dlpi_name != nullptr && absl::StrContains(info->dlpi_name, want) ? 1 : 0;
  };
  return dl_iterate_phdr(visit, const_cast<std::string*>(&part)) != 0;
}

}  // namespace updraft::device::testutil
