#ifndef UPDRAFT_SERVICES_AUTH_FAKES_H_
#define UPDRAFT_SERVICES_AUTH_FAKES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/revocation.h"
#include "services/auth/api_key_store.h"
#include "services/auth/audit_log.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"
#include "services/auth/rate_limiter.h"
#include "services/auth/signing_key_store.h"

namespace updraft {

// In-memory AuditLog for tests; the other fakes append to it.
class FakeAuditLog : public AuditLog {
 public:
  absl::Status Append(const AuditEntry& entry) override;
  absl::StatusOr<std::vector<AuditEntry>> List(const AuditQuery& query) override;
  // Every entry, oldest first.
  std::vector<AuditEntry> entries();

 private:
  absl::Mutex mu_;
  std::vector<AuditEntry> entries_ ABSL_GUARDED_BY(mu_);
};

// In-memory DeviceRegistry for tests; writes audit entries to `audit` when
// given.
class FakeDeviceRegistry : public DeviceRegistry {
 public:
  explicit FakeDeviceRegistry(FakeAuditLog* audit = nullptr) : audit_(audit) {}
  absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device,
                                        const AuditEntry& audit) override;
  absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) override;
  absl::StatusOr<std::vector<DeviceRecord>> List(const DeviceQuery& query) override;
  absl::StatusOr<DeviceRecord> Transition(absl::string_view device_id,
                                          const std::vector<DeviceStatus>& from, DeviceStatus to,
                                          const AuditEntry& audit) override;
  absl::Status Import(const std::vector<DeviceRecord>& devices, const AuditEntry& audit,
                      size_t* conflict_index) override;
  size_t size();

 private:
  void Audit(const AuditEntry& entry);
  FakeAuditLog* audit_;
  absl::Mutex mu_;
  std::map<std::string, DeviceRecord, std::less<>> devices_ ABSL_GUARDED_BY(mu_);
};

// In-memory ChallengeStore for tests; a challenge expires when `clock`
// reaches its TTL, like a Redis key would.
class FakeChallengeStore : public ChallengeStore {
 public:
  explicit FakeChallengeStore(const Clock* clock) : clock_(clock) {}
  absl::Status Put(absl::string_view nonce, absl::string_view device_id,
                   absl::Duration ttl) override;
  absl::Status PutNext(absl::string_view device_id, absl::string_view nonce,
                       absl::Duration ttl) override;
  absl::StatusOr<TakenChallenge> Take(absl::string_view device_id,
                                      absl::string_view nonce) override;
  // Challenges stored and not yet taken (expired ones included), of both
  // kinds.
  size_t size();
  // Next challenges stored and not yet taken (expired ones included).
  size_t next_size();
  // Forgets every challenge (a Redis that lost its data).
  void Clear();

 private:
  const Clock* clock_;
  absl::Mutex mu_;
  // nonce -> (device ID, expiry)
  std::map<std::string, std::pair<std::string, absl::Time>, std::less<>> challenges_
      ABSL_GUARDED_BY(mu_);
  // device ID -> (nonce, expiry)
  std::map<std::string, std::pair<std::string, absl::Time>, std::less<>> next_ ABSL_GUARDED_BY(mu_);
};

// In-memory ApiKeyStore for tests.
class FakeApiKeyStore : public ApiKeyStore {
 public:
  explicit FakeApiKeyStore(FakeAuditLog* audit = nullptr) : audit_(audit) {}
  absl::Status Create(const ApiKeyRecord& key, const AuditEntry& audit) override;
  absl::Status CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) override;
  absl::StatusOr<ApiKeyRecord> FindByHash(absl::string_view key_hash) override;
  absl::StatusOr<ApiKeyRecord> Get(absl::string_view key_id) override;
  absl::StatusOr<ApiKeyRecord> Revoke(absl::string_view key_id, const AuditEntry& audit) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> List() override;

 private:
  absl::Status CreateLocked(const ApiKeyRecord& key, const AuditEntry& audit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FakeAuditLog* audit_;
  absl::Mutex mu_;
  std::vector<ApiKeyRecord> keys_ ABSL_GUARDED_BY(mu_);
};

// In-memory SigningKeyStore for tests; two SigningKeyRings over one fake
// behave like two auth replicas over one database.
class FakeSigningKeyStore : public SigningKeyStore {
 public:
  explicit FakeSigningKeyStore(FakeAuditLog* audit = nullptr) : audit_(audit) {}
  absl::StatusOr<std::vector<StoredSigningKey>> List() override;
  absl::StatusOr<bool> InsertIfEmpty(const StoredSigningKey& key, const AuditEntry& audit) override;
  absl::Status Rotate(const StoredSigningKey& key, const AuditEntry& audit) override;

 private:
  FakeAuditLog* audit_;
  absl::Mutex mu_;
  std::vector<StoredSigningKey> keys_ ABSL_GUARDED_BY(mu_);
};

// In-memory RateLimiter with the same fixed windows as RedisRateLimiter.
class FakeRateLimiter : public RateLimiter {
 public:
  explicit FakeRateLimiter(const Clock* clock) : clock_(clock) {}
  absl::StatusOr<absl::Duration> Hit(absl::string_view key, const RateLimit& limit) override;

 private:
  const Clock* clock_;
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

// Records published revocations and applies them to `list` when given, like
// the Redis feed would.
class FakeRevocationPublisher : public RevocationPublisher {
 public:
  explicit FakeRevocationPublisher(RevocationList* list = nullptr) : list_(list) {}
  absl::Status Publish(const Revocation& revocation) override;
  std::vector<Revocation> published();

 private:
  RevocationList* list_;
  absl::Mutex mu_;
  std::vector<Revocation> published_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_FAKES_H_
