#ifndef UPDRAFT_FUZZ_FUZZ_UTIL_H_
#define UPDRAFT_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

// The libFuzzer entry point every harness in fuzz/ defines.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// An invariant of a harness: aborts with the condition and the location when
// it does not hold, in the libFuzzer build (a crasher is saved) and in the
// regression tests alike (asserts vanish under NDEBUG; this does not).
#define UPDRAFT_FUZZ_CHECK(cond)                                                   \
  do {                                                                             \
    if (!(cond)) ::updraft::fuzz::CheckFailed(#cond, __FILE__, __LINE__, nullptr); \
  } while (0)
#define UPDRAFT_FUZZ_CHECK_MSG(cond, msg)                                        \
  do {                                                                           \
    if (!(cond)) ::updraft::fuzz::CheckFailed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

namespace updraft::fuzz {

[[noreturn]] void CheckFailed(const char* cond, const char* file, int line, const char* msg);

// Splits a fuzz input into parts (the role of clang's FuzzedDataProvider,
// which gcc lacks). Reading past the end gives zeros and empty strings.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t Byte();
  uint16_t U16();
  // A length byte (or two with `wide`), then that many bytes (fewer at the end).
  absl::string_view LengthPrefixed(bool wide = false);
  // Everything up to the next `separator` (consumed), or the rest.
  absl::string_view UpTo(char separator);
  absl::string_view Rest();
  bool empty() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

// A fresh directory for one process (under $TEST_TMPDIR or $TMPDIR), removed
// with everything in it by the destructor.
class TempDir {
 public:
  explicit TempDir(absl::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Removes everything inside, keeping the directory.
  void Clear() const;

 private:
  std::string path_;
};

// Removes `path` recursively without following symlinks; false on failure.
bool RemoveTree(const std::string& path);

// Creates or truncates `path` (mode 0600) holding `bytes`; a failed
// UPDRAFT_FUZZ_CHECK when that fails.
void WriteFileOrDie(const std::string& path, absl::string_view bytes);

}  // namespace updraft::fuzz

#endif  // UPDRAFT_FUZZ_FUZZ_UTIL_H_
