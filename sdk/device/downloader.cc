#include "sdk/device/downloader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

constexpr uint32_t kMaxChunkSize = 64 << 20;

int64_t ChunkLength(const v1::ArtifactManifest& m, uint32_t index) {
  int64_t offset = static_cast<int64_t>(index) * m.chunk_size();
  return std::min<int64_t>(m.chunk_size(), m.size() - offset);
}

absl::Status LocalError(absl::Status s) {
  return WithResultCode(
      s, absl::IsResourceExhausted(s) ? v1::DOWNLOAD_OUT_OF_MEMORY : v1::DOWNLOAD_FAILED);
}

bool Retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::OK:  // The stream ended before the last chunk.
      return true;
    default:
      return false;
  }
}

absl::Status ServerError(const grpc::Status& s, absl::string_view sha) {
  absl::Status status = FromGrpcStatus(s);
  status = absl::Status(status.code(), absl::StrCat("download server refused artifact ", sha, ": ",
                                                    s.error_message()));
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    return WithResultCode(status, v1::DOWNLOAD_AUTHENTICATION_FAILED);
  }
  return WithResultCode(status, v1::DOWNLOAD_SERVER_ERROR);
}

// Owns the part file's descriptor.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status SetProgress(StateStore& state, const std::string& release_id,
                         const v1::ArtifactManifest& m, uint32_t verified) {
  return state.Update([&](v1::DeviceLocalState& s) {
    v1::LocalDownloadProgress* p = nullptr;
    for (auto& d : *s.mutable_downloads()) {
      if (d.artifact_sha256() == m.sha256()) p = &d;
    }
    if (p == nullptr) p = s.add_downloads();
    p->set_release_id(release_id);
    p->set_artifact_sha256(m.sha256());
    p->set_verified_chunks(verified);
    p->set_chunk_size(m.chunk_size());
    p->set_size(m.size());
    return absl::OkStatus();
  });
}

absl::Status ClearProgress(StateStore& state, const std::string& sha) {
  return state.Update([&](v1::DeviceLocalState& s) {
    auto* d = s.mutable_downloads();
    d->erase(std::remove_if(d->begin(), d->end(),
                            [&](const auto& p) { return p.artifact_sha256() == sha; }),
             d->end());
    return absl::OkStatus();
  });
}

// Hashes `fd` from offset 0 chunk by chunk while each chunk matches the
// manifest, up to `limit` chunks; returns how many matched.
absl::StatusOr<uint32_t> VerifyPrefix(int fd, const v1::ArtifactManifest& m, uint32_t limit,
                                      Sha256Hasher& whole) {
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat partial download");
  std::string buf;
  uint32_t good = 0;
  for (; good < limit; ++good) {
    int64_t offset = static_cast<int64_t>(good) * m.chunk_size();
    int64_t len = ChunkLength(m, good);
    if (offset + len > st.st_size) break;
    buf.resize(static_cast<size_t>(len));
    ssize_t n = pread(fd, buf.data(), buf.size(), offset);
    if (n != static_cast<ssize_t>(len) || Sha256(buf) != m.chunk_sha256(good)) break;
    whole.Update(buf);
  }
  return good;
}

// True when the file at `path` has exactly `size` bytes and SHA-256 `sha`.
bool FileMatches(const std::string& path, int64_t size, const std::string& sha) {
  FdCloser fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  Sha256Hasher hasher;
  int64_t total = 0;
  std::string buf(1 << 16, '\0');
  while (true) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    hasher.Update(absl::string_view(buf.data(), static_cast<size_t>(n)));
    total += n;
  }
  return total == size && absl::BytesToHexString(hasher.Finish()) == sha;
}

}  // namespace

absl::Status ValidateManifest(const v1::ArtifactManifest& m) {
  auto bad = [](absl::string_view why) {
    return WithResultCode(absl::InvalidArgumentError(absl::StrCat("artifact manifest: ", why)),
                          v1::PACKAGE_VALIDATION_FAILED);
  };
  if (!IsSha256Hex(m.sha256())) return bad("sha256 must be 64 lower-case hex digits");
  if (m.size() < 0) return bad("size must not be negative");
  if (m.chunk_size() == 0 || m.chunk_size() > kMaxChunkSize) {
    return bad(absl::StrCat("chunk_size ", m.chunk_size(), " is not in 1..", kMaxChunkSize));
  }
  int64_t chunks = (m.size() + m.chunk_size() - 1) / m.chunk_size();
  if (m.chunk_sha256_size() != chunks) {
    return bad(absl::StrCat("lists ", m.chunk_sha256_size(), " chunk hashes; size ", m.size(),
                            " with chunk_size ", m.chunk_size(), " needs ", chunks));
  }
  for (int i = 0; i < m.chunk_sha256_size(); ++i) {
    if (m.chunk_sha256(i).size() != kSha256Size) {
      return bad(absl::StrCat("chunk_sha256[", i, "] is not 32 bytes"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Downloader>> Downloader::Create(Options options) {
  if (options.stub == nullptr) return absl::InvalidArgumentError("Downloader needs a stub");
  if (options.state == nullptr) return absl::InvalidArgumentError("Downloader needs a StateStore");
  if (options.max_stream_retries < 0) {
    return absl::InvalidArgumentError("max_stream_retries must not be negative");
  }
  if (!options.sleep) options.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  std::unique_ptr<Downloader> d(new Downloader(std::move(options)));
  d->dir_ = absl::StrCat(d->options_.state->state_dir(), "/downloads");
  UPDRAFT_RETURN_IF_ERROR(MakeDirectories(d->dir_));
  return d;
}

std::string Downloader::PartPath(const std::string& sha256) const {
  return absl::StrCat(dir_, "/", sha256, ".part");
}

std::string Downloader::ArtifactPath(const std::string& sha256) const {
  return absl::StrCat(dir_, "/", sha256);
}

absl::Status Downloader::Discard(const std::string& sha256) {
  if (!IsSha256Hex(sha256)) return absl::InvalidArgumentError("sha256 must be 64 hex digits");
  UPDRAFT_RETURN_IF_ERROR(RemoveTree(PartPath(sha256)));
  UPDRAFT_RETURN_IF_ERROR(RemoveTree(ArtifactPath(sha256)));
  return ClearProgress(*options_.state, sha256);
}

absl::StatusOr<std::string> Downloader::Fetch(const std::string& release_id,
                                              const v1::ArtifactManifest& m,
                                              const std::string& access_token) {
  UPDRAFT_RETURN_IF_ERROR(ValidateManifest(m));
  const std::string& sha = m.sha256();
  const uint32_t total = static_cast<uint32_t>(m.chunk_sha256_size());
  StateStore& state = *options_.state;
  auto report = [&](uint32_t done) {
    if (!options_.on_progress) return;
    DownloadProgressInfo info;
    info.sha256 = sha;
    info.chunks_done = done;
    info.chunks_total = total;
    info.bytes_done = std::min<int64_t>(static_cast<int64_t>(done) * m.chunk_size(), m.size());
    info.bytes_total = m.size();
    options_.on_progress(info);
  };

  // Already complete from an earlier run?
  const std::string final_path = ArtifactPath(sha);
  if (PathExists(final_path)) {
    if (FileMatches(final_path, m.size(), sha)) {
      UPDRAFT_RETURN_IF_ERROR(ClearProgress(state, sha));
      report(total);
      return final_path;
    }
    UPDRAFT_RETURN_IF_ERROR(LocalError(RemoveTree(final_path)));
  }

  const std::string part = PartPath(sha);
  FdCloser fd(open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return LocalError(ErrnoStatus(errno, absl::StrCat("cannot open ", part)));

  uint32_t recorded = 0;
  const v1::DeviceLocalState snapshot = state.Snapshot();
  for (const auto& p : snapshot.downloads()) {
    if (p.artifact_sha256() == sha && p.chunk_size() == m.chunk_size() && p.size() == m.size()) {
      recorded = std::min(p.verified_chunks(), total);
    }
  }
  Sha256Hasher whole;
  absl::StatusOr<uint32_t> verified = VerifyPrefix(fd.get(), m, recorded, whole);
  if (!verified.ok()) return LocalError(verified.status());
  uint32_t next = *verified;
  if (ftruncate(fd.get(), static_cast<off_t>(next) * m.chunk_size()) != 0 ||
      fdatasync(fd.get()) != 0) {
    return LocalError(ErrnoStatus(errno, absl::StrCat("cannot truncate ", part)));
  }
  UPDRAFT_RETURN_IF_ERROR(LocalError(SetProgress(state, release_id, m, next)));
  if (next > 0) report(next);

  int failures = 0;
  while (next < total) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.stream_deadline));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", access_token));
    v1::FetchRequest request;
    request.set_sha256(sha);
    request.set_offset(static_cast<int64_t>(next) * m.chunk_size());
    std::unique_ptr<grpc::ClientReaderInterface<v1::Chunk>> reader =
        options_.stub->Fetch(&ctx, request);
    bool progressed = false;
    absl::Status chunk_error;
    v1::Chunk chunk;
    while (reader->Read(&chunk)) {
      const int64_t offset = static_cast<int64_t>(next) * m.chunk_size();
      if (next >= total || chunk.index() != next || chunk.offset() != offset) {
        chunk_error = WithResultCode(
            absl::DataLossError(absl::StrCat(
                "download server sent chunk ", chunk.index(), " at offset ", chunk.offset(), " of ",
                sha, " where chunk ", next, " at offset ", offset, " was expected")),
            v1::DOWNLOAD_SERVER_ERROR);
        break;
      }
      if (static_cast<int64_t>(chunk.data().size()) != ChunkLength(m, next) ||
          Sha256(chunk.data()) != m.chunk_sha256(next)) {
        chunk_error =
            WithResultCode(absl::DataLossError(absl::StrCat("chunk ", next, " of ", sha,
                                                            " does not match the release manifest")),
                           v1::PACKAGE_VALIDATION_FAILED);
        break;
      }
      absl::Status w =
          PwriteAll(fd.get(), chunk.data(), offset, absl::StrCat("cannot write ", part));
      if (w.ok() && fdatasync(fd.get()) != 0)
        w = ErrnoStatus(errno, absl::StrCat("cannot sync ", part));
      if (w.ok()) w = SetProgress(state, release_id, m, next + 1);
      if (!w.ok()) {
        chunk_error = LocalError(w);
        break;
      }
      whole.Update(chunk.data());
      ++next;
      progressed = true;
      report(next);
    }
    if (!chunk_error.ok()) {
      ctx.TryCancel();
      reader->Finish().IgnoreError();
      // The bad chunk was never written; the file ends at the last good one.
      return chunk_error;
    }
    grpc::Status finished = reader->Finish();
    if (next == total) break;
    if (!Retryable(finished.error_code())) return ServerError(finished, sha);
    failures = progressed ? 1 : failures + 1;
    if (failures > options_.max_stream_retries) {
      std::string why = finished.ok() ? "the stream ended early" : finished.error_message();
      return WithResultCode(absl::UnavailableError(absl::StrCat(
                                "download of ", sha, " stopped at chunk ", next, " of ", total,
                                " after ", failures, " attempts without progress: ", why)),
                            v1::DOWNLOAD_SERVER_UNAVAILABLE);
    }
    absl::Duration wait = options_.retry_backoff * (1 << std::min(failures - 1, 6));
    options_.sleep(std::min(wait, absl::Seconds(30)));
  }

  struct stat st;
  if (fstat(fd.get(), &st) != 0) return LocalError(ErrnoStatus(errno, "cannot stat download"));
  if (st.st_size != m.size() || absl::BytesToHexString(whole.Finish()) != sha) {
    Discard(sha).IgnoreError();
    return WithResultCode(
        absl::DataLossError(absl::StrCat("downloaded artifact ", sha,
                                         " does not match the size or SHA-256 of its manifest")),
        v1::PACKAGE_VALIDATION_FAILED);
  }
  if (fsync(fd.get()) != 0 || rename(part.c_str(), final_path.c_str()) != 0) {
    return LocalError(ErrnoStatus(errno, absl::StrCat("cannot complete ", final_path)));
  }
  UPDRAFT_RETURN_IF_ERROR(LocalError(FsyncDirectory(dir_)));
  UPDRAFT_RETURN_IF_ERROR(LocalError(ClearProgress(state, sha)));
  return final_path;
}

}  // namespace updraft::device
