#include "sdk/device/downloader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "sdk/device/file_util.h"
#include "sdk/device/grpc_chunk_source.h"
#include "sdk/device/result_code.h"

namespace updraft::device {
namespace {

constexpr uint32_t kMaxChunkSize = 64 << 20;
// Chunks at least this large are hashed while the next one is received.
constexpr uint32_t kPipelineMinChunkSize = 256 << 10;

// A received chunk whose SHA-256 a worker thread computes. Destroying it
// waits for the worker (std::async's future), so `data` outlives the hash.
struct PendingChunk {
  std::string data;
  std::future<std::string> digest;
};

std::unique_ptr<PendingChunk> HashInBackground(absl::string_view data) {
  auto p = std::make_unique<PendingChunk>();
  p->data.assign(data.data(), data.size());
  const std::string* bytes = &p->data;
  p->digest = std::async(std::launch::async, [bytes] { return Sha256(*bytes); });
  return p;
}

int64_t ChunkLength(const v1::ArtifactManifest& m, uint32_t index) {
  int64_t offset = static_cast<int64_t>(index) * m.chunk_size();
  return std::min<int64_t>(m.chunk_size(), m.size() - offset);
}

absl::Status LocalError(absl::Status s) {
  return WithResultCode(
      s, absl::IsResourceExhausted(s) ? v1::DOWNLOAD_OUT_OF_MEMORY : v1::DOWNLOAD_FAILED);
}

// How a source's failed attempt is handled.
enum class Failure { kRetry, kAuth, kDropSource };

Failure Classify(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:  // The stream ended before the last chunk.
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kResourceExhausted:
      return Failure::kRetry;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return Failure::kAuth;
    default:
      return Failure::kDropSource;
  }
}

absl::Status ServerError(const absl::Status& s, const std::string& source, absl::string_view sha) {
  absl::Status status(s.code(), absl::StrCat(source, " refused artifact ", sha, ": ", s.message()));
  if (Classify(s) == Failure::kAuth) {
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
// manifest, up to `limit` chunks; returns how many matched. Feeds `whole`
// unless it is null.
absl::StatusOr<uint32_t> VerifyPrefix(int fd, const v1::ArtifactManifest& m, uint32_t limit,
                                      Sha256Hasher* whole) {
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
    if (whole != nullptr) whole->Update(buf);
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

// True when the file at `path` has the manifest's size and every chunk
// matches its hash.
bool ChunksMatch(const std::string& path, const v1::ArtifactManifest& m) {
  FdCloser fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || st.st_size != m.size()) return false;
  absl::StatusOr<uint32_t> good =
      VerifyPrefix(fd.get(), m, static_cast<uint32_t>(m.chunk_sha256_size()), nullptr);
  return good.ok() && *good == static_cast<uint32_t>(m.chunk_sha256_size());
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
                                              const std::string& access_token,
                                              const std::vector<std::string>& http_urls) {
  std::vector<std::unique_ptr<ChunkSource>> sources;
  if (options_.stub != nullptr) {
    sources.push_back(
        std::make_unique<GrpcChunkSource>(options_.stub, access_token, options_.stream_deadline));
  }
  absl::Status first_bad_url;
  for (const std::string& url : http_urls) {
    absl::StatusOr<std::unique_ptr<HttpChunkSource>> http =
        HttpChunkSource::Create(url, options_.http);
    if (http.ok()) {
      sources.push_back(*std::move(http));
    } else if (first_bad_url.ok()) {
      first_bad_url = http.status();
    }
  }
  if (sources.empty()) {
    return WithResultCode(
        absl::InvalidArgumentError(
            absl::StrCat("no usable source for artifact ", m.sha256(),
                         first_bad_url.ok() ? "" : absl::StrCat(": ", first_bad_url.message()))),
        v1::DOWNLOAD_FAILED);
  }
  return FetchFrom(release_id, m, std::move(sources));
}

absl::StatusOr<std::string> Downloader::FetchFrom(
    const std::string& release_id, const v1::ArtifactManifest& m,
    std::vector<std::unique_ptr<ChunkSource>> sources) {
  UPDRAFT_RETURN_IF_ERROR(ValidateManifest(m));
  if (sources.empty()) return absl::InvalidArgumentError("FetchFrom needs a source");
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
    if (options_.verify_whole_file ? FileMatches(final_path, m.size(), sha)
                                   : ChunksMatch(final_path, m)) {
      UPDRAFT_RETURN_IF_ERROR(ClearProgress(state, sha));
      report(total);
      return final_path;
    }
    UPDRAFT_RETURN_IF_ERROR(LocalError(RemoveTree(final_path)));
  }

  const std::string part = PartPath(sha);
  FdCloser fd(open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return LocalError(ErrnoStatus(errno, absl::StrCat("cannot open ", part)));

  Sha256Hasher whole;
  Sha256Hasher* const whole_or_null = options_.verify_whole_file ? &whole : nullptr;
  absl::StatusOr<uint32_t> verified = VerifyPrefix(fd.get(), m, total, whole_or_null);
  if (!verified.ok()) return LocalError(verified.status());
  uint32_t next = *verified;
  if (ftruncate(fd.get(), static_cast<off_t>(next) * m.chunk_size()) != 0 ||
      fdatasync(fd.get()) != 0) {
    return LocalError(ErrnoStatus(errno, absl::StrCat("cannot truncate ", part)));
  }
  UPDRAFT_RETURN_IF_ERROR(LocalError(SetProgress(state, release_id, m, next)));
  if (next > 0) report(next);

  int64_t unsynced = 0;
  auto checkpoint = [&]() -> absl::Status {
    if (fdatasync(fd.get()) != 0) return ErrnoStatus(errno, absl::StrCat("cannot sync ", part));
    unsynced = 0;
    return SetProgress(state, release_id, m, next);
  };
  // Verifies, writes and records one chunk from a source.
  const std::string write_error = absl::StrCat("cannot write ", part);
  // Writes and records chunk `next` once its SHA-256 `digest` is known.
  auto commit = [&](absl::string_view data, const std::string& digest) -> absl::Status {
    if (digest != m.chunk_sha256(next)) {
      return WithResultCode(
          absl::DataLossError(
              absl::StrCat("chunk ", next, " of ", sha, " does not match the release manifest")),
          v1::PACKAGE_VALIDATION_FAILED);
    }
    const int64_t offset = static_cast<int64_t>(next) * m.chunk_size();
    absl::Status w = PwriteAll(fd.get(), data, offset, write_error);
    if (!w.ok()) return LocalError(w);
    if (whole_or_null != nullptr) whole_or_null->Update(data);
    ++next;
    unsynced += static_cast<int64_t>(data.size());
    if (unsynced >= options_.sync_interval_bytes || next == total) {
      w = checkpoint();
      if (!w.ok()) return LocalError(w);
    }
    report(next);
    return absl::OkStatus();
  };
  // Large chunks are hashed on a worker thread while the next one arrives
  // (one chunk in flight): receiving and verifying then use both cores.
  const bool pipelined = m.chunk_size() >= kPipelineMinChunkSize;
  std::unique_ptr<PendingChunk> pending;
  auto commit_pending = [&]() -> absl::Status {
    if (pending == nullptr) return absl::OkStatus();
    std::unique_ptr<PendingChunk> p = std::move(pending);
    return commit(p->data, p->digest.get());
  };
  // Checks a received chunk's place and length, then verifies and commits it.
  auto accept = [&](uint32_t index, int64_t offset, absl::string_view data) -> absl::Status {
    const uint32_t want = next + (pending != nullptr ? 1 : 0);
    const int64_t expected = static_cast<int64_t>(want) * m.chunk_size();
    if (want >= total || index != want || offset != expected) {
      return WithResultCode(
          absl::DataLossError(absl::StrCat("download source sent chunk ", index, " at offset ",
                                           offset, " of ", sha, " where chunk ", want,
                                           " at offset ", expected, " was expected")),
          v1::DOWNLOAD_SERVER_ERROR);
    }
    if (static_cast<int64_t>(data.size()) != ChunkLength(m, want)) {
      return WithResultCode(
          absl::DataLossError(
              absl::StrCat("chunk ", want, " of ", sha, " does not match the release manifest")),
          v1::PACKAGE_VALIDATION_FAILED);
    }
    if (!pipelined) return commit(data, Sha256(data));
    UPDRAFT_RETURN_IF_ERROR(commit_pending());
    pending = HashInBackground(data);
    return absl::OkStatus();
  };

  const size_t n = sources.size();
  std::vector<int> failures(n, 0);
  std::vector<bool> dropped(n, false);
  absl::Status last_error;
  size_t current = 0;
  while (next < total) {
    const uint32_t before = next;
    absl::Status chunk_error;
    absl::Status streamed =
        sources[current]->Stream(m, next, [&](uint32_t i, int64_t o, absl::string_view d) {
          chunk_error = accept(i, o, d);
          return chunk_error;
        });
    // The chunk still being hashed was received intact: commit it first.
    absl::Status drained = commit_pending();
    if (chunk_error.ok()) chunk_error = drained;
    // A chunk that failed verification (or could not be stored) ends the
    // download; the file ends at the last good chunk.
    if (!chunk_error.ok()) {
      if (unsynced > 0) checkpoint().IgnoreError();
      return chunk_error;
    }
    if (unsynced > 0 && next < total) {
      absl::Status c = checkpoint();
      if (!c.ok()) return LocalError(c);
    }
    if (next == total) break;
    const std::string& name = sources[current]->name();
    switch (Classify(streamed)) {
      case Failure::kAuth:
        return ServerError(streamed, name, sha);
      case Failure::kDropSource:
        dropped[current] = true;
        last_error = ServerError(streamed, name, sha);
        break;
      case Failure::kRetry:
        failures[current] = next > before ? 1 : failures[current] + 1;
        last_error = absl::UnavailableError(absl::StrCat(
            name, ": ", streamed.ok() ? "the stream ended early" : streamed.message()));
        break;
    }
    // The next usable source after this one (or this one again).
    size_t pick = n;
    for (size_t k = 1; k <= n; ++k) {
      size_t c = (current + k) % n;
      if (!dropped[c] && failures[c] <= options_.max_stream_retries) {
        pick = c;
        break;
      }
    }
    if (pick == n) {
      bool all_dropped = std::all_of(dropped.begin(), dropped.end(), [](bool d) { return d; });
      if (all_dropped) return last_error;
      return WithResultCode(
          absl::UnavailableError(absl::StrCat(
              "download of ", sha, " stopped at chunk ", next, " of ", total, " after ",
              failures[current], " attempts without progress: ", last_error.message())),
          v1::DOWNLOAD_SERVER_UNAVAILABLE);
    }
    current = pick;
    if (failures[current] > 0) {
      absl::Duration wait = options_.retry_backoff * (1 << std::min(failures[current] - 1, 6));
      options_.sleep(std::min(wait, absl::Seconds(30)));
    }
  }

  struct stat st;
  if (fstat(fd.get(), &st) != 0) return LocalError(ErrnoStatus(errno, "cannot stat download"));
  if (st.st_size != m.size() ||
      (whole_or_null != nullptr && absl::BytesToHexString(whole.Finish()) != sha)) {
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
