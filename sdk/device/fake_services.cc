#include "sdk/device/fake_services.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/token.h"

namespace updraft::device::testutil {

void FakeAuthService::RegisterDevice(const std::string& device_id, const std::string& public_key) {
  absl::MutexLock lock(&mu_);
  devices_[device_id] = public_key;
}

bool FakeAuthService::Authorized(const grpc::ServerContext& context) {
  auto it = context.client_metadata().find("authorization");
  if (it == context.client_metadata().end()) return false;
  std::string value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, "Bearer ")) return false;
  absl::MutexLock lock(&mu_);
  auto token = tokens_.find(value.substr(7));
  return token != tokens_.end() && clock_->Now() < token->second;
}

void FakeAuthService::RevokeAllTokens() {
  absl::MutexLock lock(&mu_);
  tokens_.clear();
}

int FakeAuthService::logins() const {
  absl::MutexLock lock(&mu_);
  return logins_;
}

int FakeAuthService::get_challenge_calls() const {
  absl::MutexLock lock(&mu_);
  return get_challenge_calls_;
}

int FakeAuthService::login_calls() const {
  absl::MutexLock lock(&mu_);
  return login_calls_;
}

void FakeAuthService::SetNextChallengeTtl(absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  next_challenge_ttl_ = ttl;
}

void FakeAuthService::ForgetChallenges() {
  absl::MutexLock lock(&mu_);
  nonces_.clear();
  next_nonces_.clear();
}

grpc::Status FakeAuthService::GetChallenge(grpc::ServerContext*,
                                           const v1::GetChallengeRequest* request,
                                           v1::Challenge* response) {
  absl::MutexLock lock(&mu_);
  ++get_challenge_calls_;
  if (devices_.count(request->device_id()) == 0) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("device ", request->device_id(), " is not registered"));
  }
  std::string nonce = RandomBytes(32);
  const absl::Time expires = clock_->Now() + absl::Minutes(2);
  nonces_[nonce] = {request->device_id(), expires};
  response->set_nonce(nonce);
  response->set_expires_at_unix(absl::ToUnixSeconds(expires));
  return grpc::Status::OK;
}

grpc::Status FakeAuthService::Login(grpc::ServerContext*, const v1::LoginRequest* request,
                                    v1::LoginResponse* response) {
  absl::MutexLock lock(&mu_);
  ++login_calls_;
  const std::string& device_id = request->device_id();
  const absl::Time now = clock_->Now();
  // A challenge from GetChallenge, or else the device's next challenge;
  // either is consumed by the attempt.
  bool valid = false;
  auto nonce = nonces_.find(request->nonce());
  if (nonce != nonces_.end()) {
    valid = nonce->second.device_id == device_id && now < nonce->second.expires_at;
    nonces_.erase(nonce);
  } else if (auto next = next_nonces_.find(device_id);
             next != next_nonces_.end() && next->second.first == request->nonce()) {
    valid = now < next->second.second;
    next_nonces_.erase(next);
  }
  if (!valid) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown or used challenge");
  }
  const std::string& key = devices_[device_id];
  if (!Ed25519Verify(key, LoginMessage(device_id, request->nonce()), request->signature())) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "signature does not verify with the device's registered key");
  }
  ++logins_;
  std::string token = absl::StrCat("token-", ++next_token_);
  absl::Time expires = now + ttl_;
  tokens_[token] = expires;
  response->set_access_token(token);
  response->set_expires_at_unix(absl::ToUnixSeconds(expires));
  if (next_challenge_ttl_ > absl::ZeroDuration()) {
    std::string next = RandomBytes(32);
    next_nonces_[device_id] = {next, now + next_challenge_ttl_};
    response->mutable_next_challenge()->set_nonce(next);
    response->mutable_next_challenge()->set_expires_at_unix(
        absl::ToUnixSeconds(now + next_challenge_ttl_));
  }
  return grpc::Status::OK;
}

void FakeCatalogService::SetOffers(std::vector<v1::Offer> offers) {
  absl::MutexLock lock(&mu_);
  offers_ = std::move(offers);
}

void FakeCatalogService::SetOperations(std::vector<v1::PendingOperation> operations) {
  absl::MutexLock lock(&mu_);
  operations_ = std::move(operations);
}

void FakeCatalogService::FailNextReports(int n) {
  absl::MutexLock lock(&mu_);
  fail_reports_ = n;
}

std::vector<v1::CheckForUpdatesRequest> FakeCatalogService::checks() const {
  absl::MutexLock lock(&mu_);
  return checks_;
}

std::vector<v1::ReportResultRequest> FakeCatalogService::reports() const {
  absl::MutexLock lock(&mu_);
  return reports_;
}

int FakeCatalogService::duplicate_reports() const {
  absl::MutexLock lock(&mu_);
  return duplicates_;
}

grpc::Status FakeCatalogService::CheckForUpdates(grpc::ServerContext* context,
                                                 const v1::CheckForUpdatesRequest* request,
                                                 v1::CheckForUpdatesResponse* response) {
  if (!auth_->Authorized(*context)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid or expired token");
  }
  absl::MutexLock lock(&mu_);
  checks_.push_back(*request);
  for (const v1::Offer& offer : offers_) {
    bool deployed = false;
    for (const auto& c : request->inventory()) {
      if (c.location() == v1::DEPLOYED && c.release_id() == offer.release().release_id()) {
        deployed = true;
      }
    }
    if (!deployed) *response->add_offers() = offer;
  }
  for (const v1::PendingOperation& op : operations_) {
    if (reported_operations_.count(op.operation_id()) == 0) *response->add_operations() = op;
  }
  return grpc::Status::OK;
}

grpc::Status FakeCatalogService::ReportResult(grpc::ServerContext* context,
                                              const v1::ReportResultRequest* request,
                                              v1::ReportResultResponse* response) {
  if (!auth_->Authorized(*context)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid or expired token");
  }
  absl::MutexLock lock(&mu_);
  if (fail_reports_ > 0) {
    --fail_reports_;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "catalog is restarting");
  }
  if (!request->operation_id().empty()) reported_operations_.insert(request->operation_id());
  bool duplicate = !report_ids_.insert(request->report_id()).second;
  if (duplicate) ++duplicates_;
  reports_.push_back(*request);
  response->set_duplicate(duplicate);
  return grpc::Status::OK;
}

void FakeDownloadService::AddArtifact(const std::string& data, uint32_t chunk_size,
                                      std::string sha256) {
  absl::MutexLock lock(&mu_);
  if (sha256.empty()) sha256 = Sha256Hex(data);
  artifacts_[sha256] = Artifact{data, chunk_size};
}

void FakeDownloadService::TamperChunk(int index) {
  absl::MutexLock lock(&mu_);
  tamper_ = index;
}

void FakeDownloadService::DropAfter(int chunks, int times) {
  absl::MutexLock lock(&mu_);
  drop_after_ = chunks;
  drops_left_ = times;
}

std::vector<int64_t> FakeDownloadService::requested_offsets() const {
  absl::MutexLock lock(&mu_);
  return offsets_;
}

int64_t FakeDownloadService::chunks_sent() const {
  absl::MutexLock lock(&mu_);
  return chunks_sent_;
}

grpc::Status FakeDownloadService::Fetch(grpc::ServerContext* context,
                                        const v1::FetchRequest* request,
                                        grpc::ServerWriter<v1::Chunk>* writer) {
  if (auth_ != nullptr && !auth_->Authorized(*context)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid or expired token");
  }
  absl::MutexLock lock(&mu_);
  offsets_.push_back(request->offset());
  auto it = artifacts_.find(request->sha256());
  if (it == artifacts_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("artifact ", request->sha256(), " not found"));
  }
  const Artifact& a = it->second;
  if (request->offset() < 0 || request->offset() > static_cast<int64_t>(a.data.size())) {
    return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "offset out of range");
  }
  bool drop = drops_left_ > 0;
  if (drop) --drops_left_;
  int sent = 0;
  for (size_t off = (request->offset() / a.chunk_size) * a.chunk_size; off < a.data.size();
       off += a.chunk_size) {
    if (drop && sent == drop_after_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset by peer");
    }
    v1::Chunk chunk;
    chunk.set_index(static_cast<uint32_t>(off / a.chunk_size));
    chunk.set_offset(static_cast<int64_t>(off));
    std::string data = a.data.substr(off, a.chunk_size);
    if (static_cast<int>(chunk.index()) == tamper_) data[0] ^= 0x5a;
    chunk.set_sha256(Sha256(data));
    chunk.set_data(std::move(data));
    if (!writer->Write(chunk)) break;
    ++sent;
    ++chunks_sent_;
  }
  return grpc::Status::OK;
}

InProcessServer StartInProcess(const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  for (grpc::Service* s : services) builder.RegisterService(s);
  InProcessServer result;
  result.server = builder.BuildAndStart();
  result.channel = result.server->InProcessChannel(grpc::ChannelArguments());
  return result;
}

}  // namespace updraft::device::testutil
