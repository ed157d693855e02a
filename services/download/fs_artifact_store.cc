#include "services/download/fs_artifact_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/status_util.h"

namespace updraft::download {
namespace {

constexpr int kMaxTempAttempts = 10;

absl::Status ErrnoStatus(int err, absl::string_view what) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return absl::ResourceExhaustedError(
        absl::StrCat("artifact volume is full: ", what, ": ", strerror(err)));
  }
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

absl::Status CheckSha(absl::string_view sha256_hex) {
  if (!IsSha256Hex(sha256_hex)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sha256 must be 64 lower-case hex digits, got \"",
                     absl::CHexEscape(sha256_hex.substr(0, 80)), "\""));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot write ", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open directory ", dir));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, absl::StrCat("cannot fsync directory ", dir));
  return absl::OkStatus();
}

// A freshly created temp file under an exclusive flock, so that a cleanup in
// another process never removes it while in use.
struct LockedTemp {
  int fd = -1;
  std::string path;
};

absl::StatusOr<LockedTemp> CreateLockedTemp(const std::string& dir, absl::string_view prefix) {
  for (int attempt = 0; attempt < kMaxTempAttempts; ++attempt) {
    std::string path = absl::StrCat(dir, "/", prefix, absl::BytesToHexString(RandomBytes(12)));
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot create temp file ", path));
    }
    struct stat st;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 || st.st_nlink == 0) {
      // A concurrent cleanup took the file between open and flock.
      close(fd);
      continue;
    }
    return LockedTemp{fd, std::move(path)};
  }
  return absl::InternalError(absl::StrCat("cannot create a temp file in ", dir));
}

class FsArtifactReader : public ArtifactReader {
 public:
  FsArtifactReader(int fd, int64_t size, std::string name)
      : fd_(fd), size_(size), name_(std::move(name)) {}
  ~FsArtifactReader() override { close(fd_); }

  int64_t size() const override { return size_; }

  absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) override {
    if (offset < 0 || length < 0 || offset > size_) {
      return absl::OutOfRangeError(absl::StrCat("read at ", offset, " length ", length, " outside ",
                                                name_, " of ", size_, " bytes"));
    }
    out->resize(static_cast<size_t>(std::min(length, size_ - offset)));
    return ReadInto(offset, absl::MakeSpan(out->data(), out->size()));
  }

  absl::Status ReadInto(int64_t offset, absl::Span<char> out) override {
    const size_t n = out.size();
    if (offset < 0 || static_cast<int64_t>(n) > size_ - offset) {
      return absl::OutOfRangeError(absl::StrCat("read at ", offset, " length ", n, " outside ",
                                                name_, " of ", size_, " bytes"));
    }
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, out.data() + done, n - done, offset + static_cast<int64_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(absl::StrCat("cannot read ", name_, ": ", strerror(errno)));
      }
      if (r == 0) {
        return absl::DataLossError(absl::StrCat(name_, " is shorter than its ", size_, " bytes"));
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  const int fd_;
  const int64_t size_;
  const std::string name_;
};

class FsArtifactWriter : public ArtifactWriter {
 public:
  FsArtifactWriter(std::string root, LockedTemp temp)
      : root_(std::move(root)), fd_(temp.fd), temp_path_(std::move(temp.path)) {}
  ~FsArtifactWriter() override { Abort(); }

  absl::Status Append(absl::string_view data) override {
    UPDRAFT_RETURN_IF_ERROR(CheckOpen());
    absl::Status s = WriteAll(fd_, data, temp_path_);
    if (!s.ok()) {
      Abort();
      return s;
    }
    written_ += static_cast<int64_t>(data.size());
    return absl::OkStatus();
  }

  int64_t bytes_written() const override { return written_; }

  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenWritten() override {
    UPDRAFT_RETURN_IF_ERROR(CheckOpen());
    int fd = open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", temp_path_));
    return std::unique_ptr<ArtifactReader>(
        std::make_unique<FsArtifactReader>(fd, written_, temp_path_));
  }

  absl::Status Commit(const v1::ArtifactManifest& manifest) override {
    UPDRAFT_RETURN_IF_ERROR(CheckOpen());
    absl::Status s = CommitOpen(manifest);
    Abort();  // removes whatever is still staged; the committed files stay
    if (s.ok() || absl::IsAlreadyExists(s)) committed_ = true;
    return s;
  }

  void Abort() override {
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    if (!temp_path_.empty()) {
      unlink(temp_path_.c_str());
      temp_path_.clear();
    }
  }

 private:
  absl::Status CheckOpen() const {
    if (fd_ < 0) {
      return absl::FailedPreconditionError(committed_ ? "upload already committed"
                                                      : "upload was aborted");
    }
    return absl::OkStatus();
  }

  absl::Status CommitOpen(const v1::ArtifactManifest& manifest) {
    const std::string& sha = manifest.sha256();
    UPDRAFT_RETURN_IF_ERROR(CheckSha(sha));
    if (manifest.size() != written_) {
      return absl::FailedPreconditionError(absl::StrCat("manifest declares ", manifest.size(),
                                                        " bytes but ", written_, " were written"));
    }
    const std::string manifest_path = absl::StrCat(root_, "/manifests/", sha, ".pb");
    if (access(manifest_path.c_str(), F_OK) == 0) {
      return absl::AlreadyExistsError(absl::StrCat("artifact ", sha, " already exists"));
    }
    if (fsync(fd_) != 0) return ErrnoStatus(errno, absl::StrCat("cannot fsync ", temp_path_));
    const std::string object_path = absl::StrCat(root_, "/objects/", sha);
    if (rename(temp_path_.c_str(), object_path.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot move upload to ", object_path));
    }
    temp_path_.clear();
    // From here on a failure leaves at most an object without a manifest:
    // invisible, and replaced by the next upload of the same bytes.
    UPDRAFT_RETURN_IF_ERROR(FsyncDir(absl::StrCat(root_, "/objects")));

    std::string serialized;
    if (!manifest.SerializeToString(&serialized)) {
      return absl::InternalError(absl::StrCat("cannot serialize manifest of ", sha));
    }
    UPDRAFT_ASSIGN_OR_RETURN(LockedTemp temp,
                             CreateLockedTemp(absl::StrCat(root_, "/tmp"), "manifest-"));
    absl::Status s = WriteAll(temp.fd, serialized, temp.path);
    if (s.ok() && fsync(temp.fd) != 0) {
      s = ErrnoStatus(errno, absl::StrCat("cannot fsync ", temp.path));
    }
    if (s.ok() && link(temp.path.c_str(), manifest_path.c_str()) != 0) {
      s = errno == EEXIST
              ? absl::AlreadyExistsError(absl::StrCat("artifact ", sha, " already exists"))
              : ErrnoStatus(errno, absl::StrCat("cannot publish manifest ", manifest_path));
    }
    unlink(temp.path.c_str());
    close(temp.fd);
    UPDRAFT_RETURN_IF_ERROR(s);
    return FsyncDir(absl::StrCat(root_, "/manifests"));
  }

  const std::string root_;
  int fd_;
  std::string temp_path_;
  int64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FsArtifactStore>> FsArtifactStore::Create(Options options) {
  if (options.root.empty()) return absl::InvalidArgumentError("artifact root must be set");
  for (const char* sub : {"objects", "manifests", "tmp"}) {
    std::error_code ec;
    std::string dir = absl::StrCat(options.root, "/", sub);
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create directory ", dir, ": ", ec.message()));
    }
  }
  std::unique_ptr<FsArtifactStore> store(new FsArtifactStore(std::move(options.root)));
  UPDRAFT_RETURN_IF_ERROR(store->RemoveAbandonedTempFiles());
  return store;
}

absl::Status FsArtifactStore::RemoveAbandonedTempFiles() {
  const std::string dir = absl::StrCat(root_, "/tmp");
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string path = entry.path().string();
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    // Only a temp file nobody holds a lock on was abandoned by a crash.
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0) {
      unlink(path.c_str());
    }
    close(fd);
  }
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ArtifactWriter>> FsArtifactStore::BeginUpload() {
  UPDRAFT_ASSIGN_OR_RETURN(LockedTemp temp,
                           CreateLockedTemp(absl::StrCat(root_, "/tmp"), "upload-"));
  return std::unique_ptr<ArtifactWriter>(
      std::make_unique<FsArtifactWriter>(root_, std::move(temp)));
}

absl::StatusOr<v1::ArtifactManifest> FsArtifactStore::GetManifest(absl::string_view sha256_hex) {
  UPDRAFT_RETURN_IF_ERROR(CheckSha(sha256_hex));
  const std::string path = absl::StrCat(root_, "/manifests/", sha256_hex, ".pb");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("artifact ", sha256_hex, " not found"));
    }
    return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
  }
  std::string data;
  char buf[65536];
  int err = 0;
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (err != 0) return ErrnoStatus(err, absl::StrCat("cannot read ", path));
  v1::ArtifactManifest manifest;
  if (!manifest.ParseFromString(data) || manifest.sha256() != sha256_hex) {
    return absl::DataLossError(absl::StrCat("manifest of artifact ", sha256_hex, " is corrupt"));
  }
  return manifest;
}

absl::StatusOr<std::unique_ptr<ArtifactReader>> FsArtifactStore::OpenReader(
    absl::string_view sha256_hex) {
  UPDRAFT_RETURN_IF_ERROR(CheckSha(sha256_hex));
  const std::string manifest_path = absl::StrCat(root_, "/manifests/", sha256_hex, ".pb");
  if (access(manifest_path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("artifact ", sha256_hex, " not found"));
    }
    return ErrnoStatus(errno, absl::StrCat("cannot access ", manifest_path));
  }
  const std::string path = absl::StrCat(root_, "/objects/", sha256_hex);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::DataLossError(
          absl::StrCat("artifact ", sha256_hex, " has a manifest but no object"));
    }
    return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, absl::StrCat("cannot stat ", path));
  }
  return std::unique_ptr<ArtifactReader>(std::make_unique<FsArtifactReader>(
      fd, static_cast<int64_t>(st.st_size), absl::StrCat("artifact ", sha256_hex)));
}

}  // namespace updraft::download
