#include "services/download/manifest_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/download/mocks.h"

namespace updraft::download {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Return;

// An ArtifactReader over a string.
class StringReader : public ArtifactReader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) override {
    if (offset < 0 || length < 0 || offset > size()) return absl::OutOfRangeError("range");
    *out = data_.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
    return absl::OkStatus();
  }

 private:
  std::string data_;
};

struct TarEntry {
  std::string path;
  mode_t type;
  std::string contents;
};

// A tar archive made with libarchive's writer, optionally gzip-compressed.
std::string MakeTar(const std::vector<TarEntry>& entries, bool gzip = false) {
  std::vector<char> buffer(1 << 20);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_memory(a, buffer.data(), buffer.size(), &used);
  for (const TarEntry& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, "app.bin");
    archive_entry_set_size(entry, static_cast<la_int64_t>(e.contents.size()));
    archive_write_header(a, entry);
    if (!e.contents.empty()) archive_write_data(a, e.contents.data(), e.contents.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buffer.data(), used);
}

std::vector<std::string> ChunkHexes(const v1::ArtifactManifest& m) {
  std::vector<std::string> out;
  for (const std::string& h : m.chunk_sha256()) out.push_back(absl::BytesToHexString(h));
  return out;
}

TEST(ManifestBuilderTest, KnownHashesForSmallChunks) {
  auto builder = ManifestBuilder::Create(4096);
  ASSERT_TRUE(builder.ok()) << builder.status();
  (*builder)->Update(std::string(4096, 'a'));
  (*builder)->Update(std::string(100, 'b'));
  v1::ArtifactManifest m = (*builder)->Finish();
  EXPECT_EQ(m.sha256(), "8d61f76862f2ceeb962e534010397f055ef91341f67fb08ddce801b5cf69e1ff");
  EXPECT_EQ(m.size(), 4196);
  EXPECT_EQ(m.chunk_size(), 4096u);
  EXPECT_THAT(ChunkHexes(m),
              ElementsAre("c93eee2d0db02f10acc7460d9576e122dcf8cd53c4bf8dfcae1b3e74ebcfff5a",
                          "d6cbb053abf2933889a0ccbf6ac244623a63a2e3397e991dde09266bdaa932d1"));
  EXPECT_THAT(m.files(), IsEmpty());
}

TEST(ManifestBuilderTest, PieceSizesDoNotMatter) {
  std::string data;
  for (int i = 0; i < 3 * 4096 + 17; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  auto whole = ManifestBuilder::Create(4096);
  (*whole)->Update(data);
  v1::ArtifactManifest expected = (*whole)->Finish();
  ASSERT_EQ(expected.chunk_sha256_size(), 4);
  EXPECT_EQ(expected.sha256(), Sha256Hex(data));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(expected.chunk_sha256(i), Sha256(data.substr(i * 4096, 4096))) << i;
  }

  auto pieces = ManifestBuilder::Create(4096);
  size_t pos = 0;
  for (size_t step : {1, 7, 4095, 1, 4096, 5000, 100000}) {
    if (pos >= data.size()) break;
    (*pieces)->Update(absl::string_view(data).substr(pos, step));
    pos += std::min(step, data.size() - pos);
  }
  EXPECT_EQ((*pieces)->size(), static_cast<int64_t>(data.size()));
  EXPECT_EQ((*pieces)->Finish().SerializeAsString(), expected.SerializeAsString());
}

TEST(ManifestBuilderTest, ExactMultipleHasNoEmptyTrailingChunk) {
  auto builder = ManifestBuilder::Create(4096);
  (*builder)->Update(std::string(8192, 'x'));
  EXPECT_EQ((*builder)->Finish().chunk_sha256_size(), 2);
}

TEST(ManifestBuilderTest, ChunkSizeBounds) {
  EXPECT_TRUE(ManifestBuilder::Create(kMinChunkSize).ok());
  EXPECT_TRUE(ManifestBuilder::Create(kMaxChunkSize).ok());
  EXPECT_TRUE(ManifestBuilder::Create(kDefaultChunkSize).ok());
  for (uint32_t bad : {0u, 1u, kMinChunkSize - 1, kMaxChunkSize + 1, 0xFFFFFFFFu}) {
    auto b = ManifestBuilder::Create(bad);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(std::string(ValidateChunkSize(1, "header.chunk_size").message()),
              ::testing::HasSubstr("header.chunk_size"));
}

TEST(ListTarFilesTest, ListsRegularFilesNormalized) {
  std::string tar = MakeTar({{"./app.bin", AE_IFREG, "binary"},
                             {"./lib/", AE_IFDIR, ""},
                             {"./lib/libcodec.so", AE_IFREG, std::string(5000, 'c')},
                             {"link", AE_IFLNK, ""},
                             {"/etc/app.conf", AE_IFREG, "k=v"},
                             {"app.bin", AE_IFREG, "again"}});
  StringReader reader(tar);
  auto files = ListTarFiles(reader);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre("app.bin", "lib/libcodec.so", "etc/app.conf"));
}

TEST(ListTarFilesTest, ListsGzipCompressedTar) {
  std::string tgz = MakeTar({{"app.bin", AE_IFREG, std::string(100000, 'z')}}, /*gzip=*/true);
  ASSERT_LT(tgz.size(), 10000u);  // really compressed
  StringReader reader(tgz);
  auto files = ListTarFiles(reader);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre("app.bin"));
}

TEST(ListTarFilesTest, SkipsNamesThatAreNotUtf8) {
  std::string tar = MakeTar({{"bad\xff\xfe.bin", AE_IFREG, "x"}, {"good.bin", AE_IFREG, "y"}});
  StringReader reader(tar);
  auto files = ListTarFiles(reader);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre("good.bin"));
}

TEST(ListTarFilesTest, NotAnArchiveListsNothing) {
  std::string garbage;
  for (int i = 0; i < 20000; ++i) garbage.push_back(static_cast<char>((i * 7919) >> 3));
  std::string tar = MakeTar({{"app.bin", AE_IFREG, std::string(3000, 'a')},
                             {"more.bin", AE_IFREG, std::string(3000, 'b')}});
  for (const std::string& data :
       {garbage, std::string("hello"), std::string(1, '\0'), std::string(10240, '\0'),
        tar.substr(0, 700), tar.substr(0, 2000), std::string("\x1f\x8b\x08garbage", 11)}) {
    StringReader reader(data);
    auto files = ListTarFiles(reader);
    ASSERT_TRUE(files.ok()) << files.status();
    EXPECT_THAT(*files, IsEmpty()) << data.size();
  }
}

TEST(ListTarFilesTest, ReadErrorIsReported) {
  MockArtifactReader reader;
  EXPECT_CALL(reader, size()).WillRepeatedly(Return(100000));
  EXPECT_CALL(reader, ReadAt(_, _, _)).WillOnce(Return(absl::InternalError("disk on fire")));
  auto files = ListTarFiles(reader);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace updraft::download
