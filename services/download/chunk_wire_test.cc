#include "services/download/chunk_wire.h"

#include <string>

#include "gtest/gtest.h"
#include "updraft/v1/download.pb.h"

namespace updraft::download {
namespace {

v1::Chunk Decode(uint32_t index, int64_t offset, const std::string& sha, const std::string& data) {
  std::string wire(ChunkHeaderSize(index, offset, sha, data.size()), '\0');
  EncodeChunkHeader(index, offset, sha, data.size(), wire.data());
  wire += data;
  v1::Chunk chunk;
  EXPECT_TRUE(chunk.ParseFromString(wire));
  return chunk;
}

TEST(ChunkWireTest, ParsesAsTheSameChunk) {
  const std::string sha(32, '\xab');
  for (uint32_t index : {0u, 1u, 127u, 128u, 300000u}) {
    for (int64_t offset : {int64_t{0}, int64_t{1} << 20, int64_t{5} << 32}) {
      for (size_t size : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{1} << 20}) {
        std::string data(size, '\0');
        for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7);
        v1::Chunk chunk = Decode(index, offset, sha, data);
        EXPECT_EQ(chunk.index(), index);
        EXPECT_EQ(chunk.offset(), offset);
        EXPECT_EQ(chunk.sha256(), sha);
        EXPECT_EQ(chunk.data(), data);
      }
    }
  }
}

TEST(ChunkWireTest, HeaderSizeMatchesProtobufsOwnEncoding) {
  v1::Chunk chunk;
  chunk.set_index(9);
  chunk.set_offset(9 << 20);
  chunk.set_sha256(std::string(32, 's'));
  chunk.set_data(std::string(1 << 20, 'd'));
  EXPECT_EQ(ChunkHeaderSize(9, 9 << 20, chunk.sha256(), chunk.data().size()) + chunk.data().size(),
            chunk.ByteSizeLong());
}

}  // namespace
}  // namespace updraft::download
