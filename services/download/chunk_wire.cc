#include "services/download/chunk_wire.h"

#include <cstring>

#include "google/protobuf/io/coded_stream.h"

namespace updraft::download {
namespace {

using ::google::protobuf::io::CodedOutputStream;

// Field tags of v1::Chunk: (number << 3) | wire type.
constexpr uint8_t kIndexTag = (1 << 3) | 0;   // varint
constexpr uint8_t kOffsetTag = (2 << 3) | 0;  // varint
constexpr uint8_t kDataTag = (3 << 3) | 2;    // length-delimited
constexpr uint8_t kShaTag = (4 << 3) | 2;     // length-delimited

}  // namespace

size_t ChunkHeaderSize(uint32_t index, int64_t offset, absl::string_view sha256,
                       size_t data_length) {
  return 1 + CodedOutputStream::VarintSize32(index) + 1 +
         CodedOutputStream::VarintSize64(static_cast<uint64_t>(offset)) + 1 +
         CodedOutputStream::VarintSize32(static_cast<uint32_t>(sha256.size())) + sha256.size() + 1 +
         CodedOutputStream::VarintSize64(data_length);
}

void EncodeChunkHeader(uint32_t index, int64_t offset, absl::string_view sha256, size_t data_length,
                       char* out) {
  uint8_t* p = reinterpret_cast<uint8_t*>(out);
  *p++ = kIndexTag;
  p = CodedOutputStream::WriteVarint32ToArray(index, p);
  *p++ = kOffsetTag;
  p = CodedOutputStream::WriteVarint64ToArray(static_cast<uint64_t>(offset), p);
  *p++ = kShaTag;
  p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(sha256.size()), p);
  if (!sha256.empty()) memcpy(p, sha256.data(), sha256.size());
  p += sha256.size();
  *p++ = kDataTag;
  CodedOutputStream::WriteVarint64ToArray(data_length, p);
}

}  // namespace updraft::download
