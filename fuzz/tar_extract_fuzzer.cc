// Fuzzes the SDK's package extraction (sdk/device/tar_extract.h,
// ExtractTarSafely): the input is the package archive (plain or gzip tar)
// a device downloaded; it is extracted into a fresh directory next to a
// sentinel directory the archive must never reach.
//
// Invariants, whether the extraction succeeds or fails half-way:
//  - nothing is created or changed outside the destination directory (the
//    sentinel and its file are untouched, no new names next to them);
//  - the tree holds only directories, regular files and symlinks whose
//    targets are relative and stay inside the tree;
//  - nothing appears under the reserved top-level directory;
//  - on success the stats are consistent with the tree.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "fuzz/fuzz_util.h"
#include "sdk/device/tar_extract.h"

namespace updraft::device {
namespace {

constexpr char kSecret[] = "do not touch";
constexpr char kReserved[] = "updraft";

struct Dirs {
  fuzz::TempDir root{"tar-fuzz"};
  std::string dest = root.path() + "/dest";
  std::string outside = root.path() + "/outside";
  std::string archive = root.path() + "/package.tar";
};

Dirs& Get() {
  static Dirs* d = new Dirs();
  return *d;
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

std::string ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return "";
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  return n > 0 ? std::string(buf, n) : "";
}

// Depth of `dir` (relative, '/'-separated) plus the symlink target; false
// when the walk would leave the tree or the target is absolute.
bool TargetStaysInside(const std::string& link_dir_rel, const std::string& target) {
  if (target.empty() || target[0] == '/') return false;
  int depth = 0;
  for (absl::string_view part : absl::StrSplit(link_dir_rel, '/', absl::SkipEmpty())) {
    (void)part;
    ++depth;
  }
  for (absl::string_view part : absl::StrSplit(target, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (--depth < 0) return false;
    } else {
      ++depth;
    }
  }
  return true;
}

struct TreeCount {
  int files = 0;
  int dirs = 0;
  int links = 0;
};

void Walk(const std::string& abs, const std::string& rel, TreeCount* count) {
  for (const std::string& name : List(abs)) {
    const std::string path = abs + "/" + name;
    const std::string child_rel = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    UPDRAFT_FUZZ_CHECK(lstat(path.c_str(), &st) == 0);
    if (rel.empty()) UPDRAFT_FUZZ_CHECK_MSG(name != kReserved, "wrote under a reserved directory");
    if (S_ISDIR(st.st_mode)) {
      ++count->dirs;
      chmod(path.c_str(), 0700);
      Walk(path, child_rel, count);
    } else if (S_ISLNK(st.st_mode)) {
      ++count->links;
      char target[4096];
      ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
      UPDRAFT_FUZZ_CHECK(n >= 0);
      UPDRAFT_FUZZ_CHECK_MSG(TargetStaysInside(rel, std::string(target, n)),
                             "a symlink points outside the package tree");
    } else {
      UPDRAFT_FUZZ_CHECK_MSG(S_ISREG(st.st_mode), "extracted a device, FIFO or socket");
      ++count->files;
    }
  }
}

void Check(absl::string_view archive) {
  Dirs& d = Get();
  d.root.Clear();
  UPDRAFT_FUZZ_CHECK(mkdir(d.dest.c_str(), 0700) == 0);
  UPDRAFT_FUZZ_CHECK(mkdir(d.outside.c_str(), 0700) == 0);
  fuzz::WriteFileOrDie(d.outside + "/secret", kSecret);
  fuzz::WriteFileOrDie(d.archive, archive);

  absl::StatusOr<ExtractStats> stats = ExtractTarSafely(d.archive, d.dest, {kReserved});

  std::vector<std::string> top = List(d.root.path());
  UPDRAFT_FUZZ_CHECK_MSG(std::set<std::string>(top.begin(), top.end()) ==
                             std::set<std::string>({"dest", "outside", "package.tar"}),
                         "the archive created something next to the destination");
  std::vector<std::string> outside = List(d.outside);
  UPDRAFT_FUZZ_CHECK_MSG(outside.size() == 1 && outside[0] == "secret",
                         "the archive wrote outside the destination");
  UPDRAFT_FUZZ_CHECK_MSG(ReadSmallFile(d.outside + "/secret") == kSecret,
                         "the archive changed a file outside the destination");
  struct stat st;
  UPDRAFT_FUZZ_CHECK(lstat(d.dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  TreeCount count;
  Walk(d.dest, "", &count);
  if (stats.ok()) {
    UPDRAFT_FUZZ_CHECK(stats->bytes >= 0);
    UPDRAFT_FUZZ_CHECK(stats->links >= count.links);
    UPDRAFT_FUZZ_CHECK(stats->files + stats->links >= count.files);
  } else {
    UPDRAFT_FUZZ_CHECK(!stats.status().message().empty());
  }
}

}  // namespace
}  // namespace updraft::device

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::device::Check(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
