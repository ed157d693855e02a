#ifndef UPDRAFT_FUZZ_UTF8_REFERENCE_H_
#define UPDRAFT_FUZZ_UTF8_REFERENCE_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace updraft::fuzz {

// An independent strict UTF-8 check (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF) that harnesses compare the code base's
// validators with. Written from the RFC's table of well-formed byte sequences.
inline bool ReferenceUtf8(absl::string_view s) {
  size_t i = 0;
  auto in = [&](size_t k, uint8_t lo, uint8_t hi) {
    return i + k < s.size() && static_cast<uint8_t>(s[i + k]) >= lo &&
           static_cast<uint8_t>(s[i + k]) <= hi;
  };
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b <= 0x7F) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF && in(1, 0x80, 0xBF)) {
      i += 2;
    } else if (b == 0xE0 && in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) && in(1, 0x80, 0xBF) &&
               in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (b == 0xED && in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (b == 0xF0 && in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) {
      i += 4;
    } else if (b >= 0xF1 && b <= 0xF3 && in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) &&
               in(3, 0x80, 0xBF)) {
      i += 4;
    } else if (b == 0xF4 && in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace updraft::fuzz

#endif  // UPDRAFT_FUZZ_UTF8_REFERENCE_H_
