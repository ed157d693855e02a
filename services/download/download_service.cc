#include "services/download/download_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/status_util.h"

namespace updraft::download {
namespace {

absl::Status CheckSha(absl::string_view sha256_hex, absl::string_view field) {
  if (!IsSha256Hex(sha256_hex)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 64 lower-case hex digits, got \"",
                     absl::CHexEscape(sha256_hex.substr(0, 80)), "\""));
  }
  return absl::OkStatus();
}

int64_t ChunkCount(const v1::ArtifactManifest& m) {
  return (m.size() + m.chunk_size() - 1) / m.chunk_size();
}

}  // namespace

UploadSession::UploadSession(ArtifactStore* store, v1::UploadHeader header,
                             std::unique_ptr<ManifestBuilder> builder)
    : store_(store), header_(std::move(header)), builder_(std::move(builder)) {}

UploadSession::~UploadSession() {
  if (writer_) writer_->Abort();  // a no-op after a successful Commit
}

absl::Status UploadSession::Fail(absl::Status status) {
  failure_ = status;
  if (writer_) writer_->Abort();
  return status;
}

absl::Status UploadSession::Append(absl::string_view data) {
  if (finished_) return absl::FailedPreconditionError("upload already finished");
  UPDRAFT_RETURN_IF_ERROR(failure_);
  if (static_cast<int64_t>(data.size()) > header_.size() - builder_->size()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("upload has more bytes than header.size ", header_.size())));
  }
  builder_->Update(data);
  if (writer_) {
    absl::Status s = writer_->Append(data);
    if (!s.ok()) return Fail(s);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ArtifactManifest> UploadSession::Finish() {
  if (finished_) return absl::FailedPreconditionError("upload already finished");
  UPDRAFT_RETURN_IF_ERROR(failure_);
  finished_ = true;
  absl::StatusOr<v1::ArtifactManifest> result = Complete();
  if (!result.ok()) return Fail(result.status());
  return result;
}

absl::StatusOr<v1::ArtifactManifest> UploadSession::Complete() {
  if (builder_->size() < header_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload ended after ", builder_->size(), " of ", header_.size(), " bytes"));
  }
  v1::ArtifactManifest manifest = builder_->Finish();
  if (manifest.sha256() != header_.sha256()) {
    return absl::InvalidArgumentError(absl::StrCat("uploaded bytes hash to ", manifest.sha256(),
                                                   ", header declared ", header_.sha256()));
  }
  if (existing_.has_value()) {
    already_present_ = true;
    return *existing_;
  }
  {
    UPDRAFT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> contents, writer_->OpenWritten());
    UPDRAFT_ASSIGN_OR_RETURN(std::vector<std::string> files, ListTarFiles(*contents));
    for (std::string& f : files) manifest.add_files(std::move(f));
  }
  absl::Status s = writer_->Commit(manifest);
  if (absl::IsAlreadyExists(s)) {
    // A concurrent upload of the same bytes committed first; its manifest wins.
    already_present_ = true;
    return store_->GetManifest(manifest.sha256());
  }
  UPDRAFT_RETURN_IF_ERROR(s);
  return manifest;
}

FetchStream::~FetchStream() { service_->Release(device_id_); }

absl::StatusOr<bool> FetchStream::NextInto(
    absl::FunctionRef<absl::Span<char>(const ChunkRef&)> place) {
  if (next_index_ >= ChunkCount(manifest_)) return false;
  ChunkRef ref;
  ref.index = static_cast<uint32_t>(next_index_);
  ref.offset = next_index_ * manifest_.chunk_size();
  ref.length =
      static_cast<size_t>(std::min<int64_t>(manifest_.chunk_size(), manifest_.size() - ref.offset));
  ref.sha256 = &manifest_.chunk_sha256(static_cast<int>(next_index_));
  absl::Span<char> out = place(ref);
  if (out.size() != ref.length) {
    return absl::InternalError(
        absl::StrCat("chunk buffer of ", out.size(), " bytes for a chunk of ", ref.length));
  }
  UPDRAFT_RETURN_IF_ERROR(reader_->ReadInto(ref.offset, out));
  ++next_index_;
  return true;
}

absl::StatusOr<bool> FetchStream::Next(v1::Chunk* chunk) {
  return NextInto([chunk](const ChunkRef& ref) {
    chunk->set_index(ref.index);
    chunk->set_offset(ref.offset);
    chunk->set_sha256(*ref.sha256);
    chunk->mutable_data()->resize(ref.length);
    return absl::MakeSpan(chunk->mutable_data()->data(), ref.length);
  });
}

absl::StatusOr<std::unique_ptr<DownloadService>> DownloadService::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Options.store must be set");
  if (options.verifier == nullptr) {
    return absl::InvalidArgumentError("Options.verifier must be set");
  }
  if (options.max_fetches_per_device < 1) {
    return absl::InvalidArgumentError("Options.max_fetches_per_device must be positive");
  }
  if (options.max_artifact_bytes < 1) {
    return absl::InvalidArgumentError("Options.max_artifact_bytes must be positive");
  }
  UPDRAFT_RETURN_IF_ERROR(
      ValidateChunkSize(options.default_chunk_size, "Options.default_chunk_size"));
  return std::unique_ptr<DownloadService>(new DownloadService(options));
}

absl::StatusOr<std::unique_ptr<UploadSession>> DownloadService::BeginUpload(
    const v1::UploadHeader& header) {
  if (header.size() < 1 || header.size() > options_.max_artifact_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("header.size must be between 1 and ",
                                                   options_.max_artifact_bytes, " bytes, got ",
                                                   header.size()));
  }
  UPDRAFT_RETURN_IF_ERROR(CheckSha(header.sha256(), "header.sha256"));
  uint32_t chunk_size = header.chunk_size();
  if (chunk_size == 0) {
    chunk_size = options_.default_chunk_size;
  } else if (!ValidateChunkSize(chunk_size).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.chunk_size must be 0 (the server default) or between ", kMinChunkSize,
                     " and ", kMaxChunkSize, " bytes, got ", chunk_size));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::unique_ptr<ManifestBuilder> builder,
                           ManifestBuilder::Create(chunk_size));
  std::unique_ptr<UploadSession> session(
      new UploadSession(options_.store, header, std::move(builder)));

  absl::StatusOr<v1::ArtifactManifest> existing = options_.store->GetManifest(header.sha256());
  if (existing.ok()) {
    if (existing->size() != header.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("header.size ", header.size(), " differs from the ", existing->size(),
                       " bytes of stored artifact ", header.sha256()));
    }
    session->existing_ = *std::move(existing);
  } else if (absl::IsNotFound(existing.status())) {
    UPDRAFT_ASSIGN_OR_RETURN(session->writer_, options_.store->BeginUpload());
  } else {
    return existing.status();
  }
  return session;
}

absl::StatusOr<v1::ArtifactManifest> DownloadService::GetManifest(absl::string_view sha256_hex) {
  UPDRAFT_RETURN_IF_ERROR(CheckSha(sha256_hex, "sha256"));
  return options_.store->GetManifest(sha256_hex);
}

absl::Status DownloadService::Acquire(const std::string& device_id) {
  absl::MutexLock lock(&mu_);
  int& n = active_[device_id];
  if (n >= options_.max_fetches_per_device) {
    return absl::ResourceExhaustedError(
        absl::StrCat("device ", device_id, " already has ", n, " downloads in progress (limit ",
                     options_.max_fetches_per_device, "); finish or cancel one first"));
  }
  ++n;
  ++active_total_;
  return absl::OkStatus();
}

void DownloadService::Release(const std::string& device_id) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(device_id);
  if (it == active_.end()) return;
  --active_total_;
  if (--it->second <= 0) active_.erase(it);
}

int DownloadService::active_fetches() const {
  absl::MutexLock lock(&mu_);
  return active_total_;
}

absl::StatusOr<std::unique_ptr<FetchStream>> DownloadService::Fetch(absl::string_view device_id,
                                                                    absl::string_view sha256_hex,
                                                                    int64_t offset) {
  if (device_id.empty()) return absl::InvalidArgumentError("device_id must be set");
  UPDRAFT_RETURN_IF_ERROR(CheckSha(sha256_hex, "sha256"));
  UPDRAFT_ASSIGN_OR_RETURN(v1::ArtifactManifest manifest, options_.store->GetManifest(sha256_hex));
  if (options_.grants != nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(bool granted, options_.grants->IsGranted(device_id, sha256_hex));
    if (!granted) {
      return absl::PermissionDeniedError(
          absl::StrCat("artifact ", sha256_hex, " was not offered to device ", device_id,
                       " (or the offer is too old); ask the catalog for updates first"));
    }
  }
  if (offset < 0 || offset > manifest.size()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " is outside artifact ",
                                              sha256_hex, " of ", manifest.size(), " bytes"));
  }
  if (manifest.chunk_size() == 0 || manifest.size() < 0 ||
      ChunkCount(manifest) != manifest.chunk_sha256_size()) {
    return absl::DataLossError(
        absl::StrCat("manifest of artifact ", sha256_hex, " has inconsistent chunks"));
  }
  UPDRAFT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader,
                           options_.store->OpenReader(sha256_hex));
  if (reader->size() != manifest.size()) {
    return absl::DataLossError(absl::StrCat("artifact ", sha256_hex, " has ", reader->size(),
                                            " bytes, its manifest says ", manifest.size()));
  }
  const int64_t first_index =
      offset == manifest.size() ? ChunkCount(manifest) : offset / manifest.chunk_size();
  std::string device(device_id);
  UPDRAFT_RETURN_IF_ERROR(Acquire(device));
  if (options_.logger != nullptr) {
    options_.logger->Log(Logger::Level::kDebug, "fetch started",
                         {{"device_id", device},
                          {"sha256", std::string(sha256_hex)},
                          {"offset", absl::StrCat(offset)}});
  }
  return std::unique_ptr<FetchStream>(new FetchStream(this, std::move(device), std::move(manifest),
                                                      std::move(reader), first_index));
}

}  // namespace updraft::download
