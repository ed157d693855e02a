#ifndef UPDRAFT_SERVICES_AUTH_DURABLE_REVOCATION_PUBLISHER_H_
#define UPDRAFT_SERVICES_AUTH_DURABLE_REVOCATION_PUBLISHER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/pg_pool.h"
#include "common/revocation.h"

namespace updraft {

// Makes revocations outlive a Redis that loses its data (a flush, a failover
// to an empty replica): each revocation is first stored in PostgreSQL (table
// revocations, until it expires), then published through `next` (Redis
// snapshot and pub/sub). Republish() publishes every unexpired stored
// revocation again, which verifiers and the snapshot absorb without change
// when nothing was lost; a background thread calls it every `interval`, so
// a revoked token is refused again at most that long after Redis lost it.
class DurableRevocationPublisher : public RevocationPublisher {
 public:
  struct Options {
    PgPool* pool = nullptr;
    RevocationPublisher* next = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    // Zero: no thread (call Republish yourself).
    absl::Duration interval = absl::Seconds(10);
  };

  static absl::StatusOr<std::unique_ptr<DurableRevocationPublisher>> Create(Options options);
  ~DurableRevocationPublisher() override;

  // Stores, then publishes. An error after storing leaves the revocation
  // for the next Republish.
  absl::Status Publish(const Revocation& revocation) override;
  // Publishes every unexpired stored revocation again and forgets expired
  // ones; returns how many were published.
  absl::StatusOr<int> Republish();

 private:
  explicit DurableRevocationPublisher(Options options) : options_(std::move(options)) {}
  void Run();

  const Options options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_DURABLE_REVOCATION_PUBLISHER_H_
