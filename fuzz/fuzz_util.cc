#include "fuzz/fuzz_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"

namespace updraft::fuzz {

void CheckFailed(const char* cond, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s%s%s\n", file, line, cond,
               msg != nullptr ? ": " : "", msg != nullptr ? msg : "");
  std::fflush(stderr);
  std::abort();
}

uint8_t FuzzInput::Byte() {
  if (rest_.empty()) return 0;
  uint8_t b = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return b;
}

uint16_t FuzzInput::U16() {
  uint16_t hi = Byte();
  return static_cast<uint16_t>(hi << 8 | Byte());
}

absl::string_view FuzzInput::LengthPrefixed(bool wide) {
  size_t n = wide ? U16() : Byte();
  absl::string_view part = rest_.substr(0, n);
  rest_.remove_prefix(part.size());
  return part;
}

absl::string_view FuzzInput::UpTo(char separator) {
  size_t at = rest_.find(separator);
  if (at == absl::string_view::npos) return Rest();
  absl::string_view part = rest_.substr(0, at);
  rest_.remove_prefix(at + 1);
  return part;
}

absl::string_view FuzzInput::Rest() {
  absl::string_view all = rest_;
  rest_ = absl::string_view();
  return all;
}

namespace {

bool RemoveInside(int dir_fd) {
  DIR* dir = fdopendir(dup(dir_fd));
  if (dir == nullptr) return false;
  bool ok = true;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  for (const std::string& name : names) {
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      fchmodat(dir_fd, name.c_str(), 0700, 0);
      int sub = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub < 0) {
        ok = false;
        continue;
      }
      ok = RemoveInside(sub) && ok;
      close(sub);
      if (unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) ok = false;
    } else if (unlinkat(dir_fd, name.c_str(), 0) != 0) {
      ok = false;
    }
  }
  return ok;
}

}  // namespace

bool RemoveTree(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return unlink(path.c_str()) == 0;
  bool ok = RemoveInside(fd);
  close(fd);
  return rmdir(path.c_str()) == 0 && ok;
}

TempDir::TempDir(absl::string_view prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr) base = std::getenv("TMPDIR");
  if (base == nullptr) base = "/tmp";
  std::string templ = absl::StrCat(base, "/", prefix, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    CheckFailed("mkdtemp", __FILE__, __LINE__, templ.c_str());
  }
  path_ = templ;
}

void WriteFileOrDie(const std::string& path, absl::string_view bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  UPDRAFT_FUZZ_CHECK_MSG(fd >= 0, path.c_str());
  UPDRAFT_FUZZ_CHECK_MSG(
      write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()), path.c_str());
  close(fd);
}

TempDir::~TempDir() { RemoveTree(path_); }

void TempDir::Clear() const {
  int fd = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return;
  RemoveInside(fd);
  close(fd);
}

}  // namespace updraft::fuzz
