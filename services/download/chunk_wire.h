#ifndef UPDRAFT_SERVICES_DOWNLOAD_CHUNK_WIRE_H_
#define UPDRAFT_SERVICES_DOWNLOAD_CHUNK_WIRE_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace updraft::download {

// The protobuf wire encoding of a v1::Chunk, written by hand so the download
// path can read an artifact's bytes straight into the serialised message:
// a header (index, offset, sha256, then the tag and length of `data`)
// followed by the data bytes. Parsing header + data as a v1::Chunk gives the
// same message as setting the fields.

// Bytes of the header for a chunk of `data_length` bytes.
size_t ChunkHeaderSize(uint32_t index, int64_t offset, absl::string_view sha256,
                       size_t data_length);

// Writes the header (exactly ChunkHeaderSize bytes) to `out`.
void EncodeChunkHeader(uint32_t index, int64_t offset, absl::string_view sha256, size_t data_length,
                       char* out);

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_CHUNK_WIRE_H_
