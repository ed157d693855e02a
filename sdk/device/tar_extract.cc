#include "sdk/device/tar_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status Unsafe(absl::string_view entry, absl::string_view why) {
  return WithResultCode(
      absl::InvalidArgumentError(absl::StrCat("package entry \"", entry, "\" rejected: ", why)),
      v1::PACKAGE_VALIDATION_FAILED);
}

absl::Status IoError(int err, absl::string_view what) {
  return WithResultCode(ErrnoStatus(err, what), err == ENOSPC || err == EDQUOT
                                                    ? v1::INSTALL_OUT_OF_MEMORY
                                                    : v1::INSTALL_FAILED);
}

// Splits an archive path into components, dropping "" and "."; rejects
// absolute paths and "..".
absl::StatusOr<std::vector<std::string>> SplitEntryPath(absl::string_view path) {
  if (path.empty()) return Unsafe(path, "empty path");
  if (path[0] == '/') return Unsafe(path, "absolute path");
  std::vector<std::string> parts;
  for (absl::string_view c : absl::StrSplit(path, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") return Unsafe(path, "\"..\" component");
    parts.emplace_back(c);
  }
  return parts;
}

// A symlink may climb with leading ".." no higher than its own directory and
// then only descend, so it resolves inside the tree.
absl::Status CheckSymlinkTarget(absl::string_view entry, absl::string_view target,
                                size_t link_depth) {
  if (target.empty()) return Unsafe(entry, "symlink with an empty target");
  if (target[0] == '/') return Unsafe(entry, "symlink to an absolute path");
  size_t ups = 0;
  bool descended = false;
  for (absl::string_view c : absl::StrSplit(target, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (descended) return Unsafe(entry, "symlink target has \"..\" after a directory name");
      ++ups;
    } else {
      descended = true;
    }
  }
  if (ups > link_depth) return Unsafe(entry, "symlink points outside the package");
  return absl::OkStatus();
}

// Opens (and with `create`, makes) each directory of `dirs` below `root`
// without following symlinks.
absl::StatusOr<Fd> OpenDirectories(int root, const std::vector<std::string>& dirs, size_t count,
                                   absl::string_view entry, bool create) {
  Fd current(dup(root));
  if (current.get() < 0) return IoError(errno, "dup");
  for (size_t i = 0; i < count; ++i) {
    if (create && mkdirat(current.get(), dirs[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return IoError(errno, absl::StrCat("cannot create directory for ", entry));
    }
    int fd =
        openat(current.get(), dirs[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return Unsafe(entry, absl::StrCat("\"", dirs[i], "\" on its path is not a directory"));
      }
      if (errno == ENOENT && !create) {
        return Unsafe(entry, "links to something not in the package");
      }
      return IoError(errno, absl::StrCat("cannot open directory for ", entry));
    }
    current = Fd(fd);
  }
  return current;
}

absl::Status WriteRegularFile(struct archive* a, int parent, const std::string& leaf,
                              absl::string_view entry, int perm, int64_t size,
                              ExtractStats& stats) {
  Fd out(openat(parent, leaf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) {
    if (errno == ELOOP || errno == EISDIR) {
      return Unsafe(entry, "would overwrite a link or directory");
    }
    return IoError(errno, absl::StrCat("cannot create ", entry));
  }
  const void* buf = nullptr;
  size_t len = 0;
  la_int64_t offset = 0;
  while (true) {
    int r = archive_read_data_block(a, &buf, &len, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return WithResultCode(
          absl::DataLossError(absl::StrCat("cannot read ", entry, ": ", archive_error_string(a))),
          v1::PACKAGE_VALIDATION_FAILED);
    }
    absl::Status s = PwriteAll(out.get(), absl::string_view(static_cast<const char*>(buf), len),
                               offset, absl::StrCat("cannot write ", entry));
    if (!s.ok()) {
      return WithResultCode(
          s, absl::IsResourceExhausted(s) ? v1::INSTALL_OUT_OF_MEMORY : v1::INSTALL_FAILED);
    }
    stats.bytes += static_cast<int64_t>(len);
  }
  if (size >= 0 && ftruncate(out.get(), size) != 0) {
    return IoError(errno, absl::StrCat("cannot size ", entry));
  }
  if (fchmod(out.get(), static_cast<mode_t>((perm & 0755) | 0600)) != 0) {
    return IoError(errno, absl::StrCat("cannot chmod ", entry));
  }
  ++stats.files;
  return absl::OkStatus();
}

absl::Status ExtractEntry(struct archive* a, struct archive_entry* e, int root,
                          const std::vector<std::string>& reserved, ExtractStats& stats) {
  const char* raw_path = archive_entry_pathname(e);
  if (raw_path == nullptr) raw_path = archive_entry_pathname_utf8(e);
  if (raw_path == nullptr) return Unsafe("?", "unreadable path name");
  const std::string path(raw_path);
  auto parts = SplitEntryPath(path);
  if (!parts.ok()) return parts.status();
  if (!parts->empty()) {
    for (const std::string& r : reserved) {
      if ((*parts)[0] == r) return Unsafe(path, absl::StrCat("\"", r, "\" is reserved"));
    }
  }
  const mode_t type = archive_entry_filetype(e);
  const char* hardlink = archive_entry_hardlink(e);
  if (parts->empty()) {
    if (type == AE_IFDIR) return absl::OkStatus();
    return Unsafe(path, "names the package root");
  }
  const std::string& leaf = parts->back();
  const size_t depth = parts->size() - 1;

  if (hardlink == nullptr && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
    return Unsafe(path, "not a regular file, directory or symlink");
  }
  auto parent = OpenDirectories(root, *parts, depth, path, /*create=*/true);
  if (!parent.ok()) return parent.status();

  if (hardlink != nullptr) {
    auto target = SplitEntryPath(hardlink);
    if (!target.ok()) return Unsafe(path, absl::StrCat("hard link to ", target.status().message()));
    if (target->empty()) return Unsafe(path, "hard link to the package root");
    auto tparent = OpenDirectories(root, *target, target->size() - 1, path, /*create=*/false);
    if (!tparent.ok()) return tparent.status();
    struct stat st;
    if (fstatat(tparent->get(), target->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      return Unsafe(path, "hard link to something that is not a regular file in the package");
    }
    if (linkat(tparent->get(), target->back().c_str(), parent->get(), leaf.c_str(), 0) != 0) {
      if (errno == EEXIST) return Unsafe(path, "appears twice");
      return IoError(errno, absl::StrCat("cannot link ", path));
    }
    ++stats.links;
    return absl::OkStatus();
  }
  if (type == AE_IFDIR) {
    if (mkdirat(parent->get(), leaf.c_str(), 0755) != 0) {
      if (errno != EEXIST) return IoError(errno, absl::StrCat("cannot create directory ", path));
      struct stat st;
      if (fstatat(parent->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISDIR(st.st_mode)) {
        return Unsafe(path, "directory over an existing file or link");
      }
      return absl::OkStatus();
    }
    ++stats.directories;
    return absl::OkStatus();
  }
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(e);
    absl::Status s = CheckSymlinkTarget(path, target == nullptr ? "" : target, depth);
    if (!s.ok()) return s;
    if (symlinkat(target, parent->get(), leaf.c_str()) != 0) {
      if (errno == EEXIST) return Unsafe(path, "appears twice");
      return IoError(errno, absl::StrCat("cannot create symlink ", path));
    }
    ++stats.links;
    return absl::OkStatus();
  }
  return WriteRegularFile(a, parent->get(), leaf, path, archive_entry_perm(e),
                          archive_entry_size_is_set(e) ? archive_entry_size(e) : -1, stats);
}

}  // namespace

absl::StatusOr<ExtractStats> ExtractTarSafely(const std::string& archive_path,
                                              const std::string& dest_dir,
                                              const std::vector<std::string>& reserved) {
  Fd root(open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return IoError(errno, absl::StrCat("cannot open ", dest_dir));
  struct archive* a = archive_read_new();
  if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  ExtractStats stats;
  absl::Status status;
  if (archive_read_open_filename(a, archive_path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    status = WithResultCode(
        absl::DataLossError(absl::StrCat("cannot read package ", archive_path,
                                         " as a tar archive: ", archive_error_string(a))),
        v1::PACKAGE_VALIDATION_FAILED);
  }
  while (status.ok()) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      status =
          WithResultCode(absl::DataLossError(absl::StrCat(
                             "package is not a valid tar archive: ",
                             archive_error_string(a) ? archive_error_string(a) : "unknown error")),
                         v1::PACKAGE_VALIDATION_FAILED);
      break;
    }
    status = ExtractEntry(a, e, root.get(), reserved, stats);
  }
  archive_read_free(a);
  if (!status.ok()) return status;
  return stats;
}

}  // namespace updraft::device
