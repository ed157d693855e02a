#ifndef UPDRAFT_SDK_DEVICE_FAKE_SERVICES_H_
#define UPDRAFT_SDK_DEVICE_FAKE_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/catalog.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::device::testutil {

// In-process fakes of the services a device talks to, for the SDK's tests.
// They implement the v1 protos with just enough behaviour to check the
// device's side: real signature checks at login, bearer tokens on every
// device RPC, chunked artifacts with faults on demand.

// Auth: challenge-response login against registered public keys; issues
// opaque tokens valid for `ttl` on the given clock. Like the real service,
// each Login answer carries the device's next challenge (single use, bound
// to the device, replacing the previous one; valid for ttl + 5 min unless
// set otherwise).
class FakeAuthService final : public v1::Auth::Service {
 public:
  FakeAuthService(const Clock* clock, absl::Duration ttl)
      : clock_(clock), ttl_(ttl), next_challenge_ttl_(ttl + absl::Minutes(5)) {}

  void RegisterDevice(const std::string& device_id, const std::string& public_key);
  // True when `authorization` is "Bearer <t>" for an unexpired, unrevoked t.
  bool Authorized(const grpc::ServerContext& context);
  void RevokeAllTokens();
  // Successful logins.
  int logins() const;
  // Every GetChallenge and Login call, answered OK or not.
  int get_challenge_calls() const;
  int login_calls() const;
  // Lifetime of the next challenges issued from now on; 0: none.
  void SetNextChallengeTtl(absl::Duration ttl);
  // Forgets every outstanding challenge (auth restarted on a flushed Redis).
  void ForgetChallenges();

  grpc::Status GetChallenge(grpc::ServerContext*, const v1::GetChallengeRequest* request,
                            v1::Challenge* response) override;
  grpc::Status Login(grpc::ServerContext*, const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;

 private:
  struct Outstanding {
    std::string device_id;
    absl::Time expires_at;
  };
  const Clock* clock_;
  const absl::Duration ttl_;
  mutable absl::Mutex mu_;
  absl::Duration next_challenge_ttl_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> devices_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Outstanding> nonces_ ABSL_GUARDED_BY(mu_);
  // device -> its next challenge (nonce, expiry)
  std::map<std::string, std::pair<std::string, absl::Time>> next_nonces_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> tokens_ ABSL_GUARDED_BY(mu_);
  int logins_ ABSL_GUARDED_BY(mu_) = 0;
  int get_challenge_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int login_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int next_token_ ABSL_GUARDED_BY(mu_) = 0;
};

// DeviceCatalog: offers every configured offer whose release the device's
// Deployed inventory does not hold, and every configured per-component
// operation not reported yet (as the catalog queues them until reported);
// records requests and reports.
class FakeCatalogService final : public v1::DeviceCatalog::Service {
 public:
  explicit FakeCatalogService(FakeAuthService* auth) : auth_(auth) {}

  void SetOffers(std::vector<v1::Offer> offers);
  void SetOperations(std::vector<v1::PendingOperation> operations);
  // The next `n` ReportResult calls fail with UNAVAILABLE.
  void FailNextReports(int n);
  std::vector<v1::CheckForUpdatesRequest> checks() const;
  std::vector<v1::ReportResultRequest> reports() const;
  int duplicate_reports() const;

  grpc::Status CheckForUpdates(grpc::ServerContext* context,
                               const v1::CheckForUpdatesRequest* request,
                               v1::CheckForUpdatesResponse* response) override;
  grpc::Status ReportResult(grpc::ServerContext* context, const v1::ReportResultRequest* request,
                            v1::ReportResultResponse* response) override;

 private:
  FakeAuthService* auth_;
  mutable absl::Mutex mu_;
  std::vector<v1::Offer> offers_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::PendingOperation> operations_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> reported_operations_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::CheckForUpdatesRequest> checks_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ReportResultRequest> reports_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> report_ids_ ABSL_GUARDED_BY(mu_);
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_reports_ ABSL_GUARDED_BY(mu_) = 0;
};

// Download: serves byte buffers in chunks. Chunk.sha256 is always the hash
// of the bytes actually sent, so a tampered chunk looks consistent to a
// client that trusts the server.
class FakeDownloadService final : public v1::Download::Service {
 public:
  // `auth` may be null: then no token is required.
  explicit FakeDownloadService(FakeAuthService* auth) : auth_(auth) {}

  // Serves `data` under `sha256`, by default its real SHA-256.
  void AddArtifact(const std::string& data, uint32_t chunk_size, std::string sha256 = "");
  // Chunk `index` is served with its first byte flipped.
  void TamperChunk(int index);
  // The next `times` streams end with UNAVAILABLE after sending `chunks`
  // chunks.
  void DropAfter(int chunks, int times);
  // Offsets of every Fetch request, in order.
  std::vector<int64_t> requested_offsets() const;
  int64_t chunks_sent() const;

  grpc::Status Fetch(grpc::ServerContext* context, const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::Chunk>* writer) override;

 private:
  struct Artifact {
    std::string data;
    uint32_t chunk_size;
  };
  FakeAuthService* auth_;
  mutable absl::Mutex mu_;
  std::map<std::string, Artifact> artifacts_ ABSL_GUARDED_BY(mu_);
  int tamper_ ABSL_GUARDED_BY(mu_) = -1;
  int drop_after_ ABSL_GUARDED_BY(mu_) = -1;
  int drops_left_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> offsets_ ABSL_GUARDED_BY(mu_);
  int64_t chunks_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

// A started in-process server carrying `services`.
struct InProcessServer {
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
};
InProcessServer StartInProcess(const std::vector<grpc::Service*>& services);

}  // namespace updraft::device::testutil

#endif  // UPDRAFT_SDK_DEVICE_FAKE_SERVICES_H_
