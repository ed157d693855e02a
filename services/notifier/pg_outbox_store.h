#ifndef UPDRAFT_SERVICES_NOTIFIER_PG_OUTBOX_STORE_H_
#define UPDRAFT_SERVICES_NOTIFIER_PG_OUTBOX_STORE_H_

#include <memory>

#include "common/pg_pool.h"
#include "services/notifier/outbox_store.h"

namespace updraft::notifier {

// OutboxStore over PostgreSQL (tables in migrations/). Every
// method is one transaction; claims use FOR UPDATE SKIP LOCKED so replicas
// share the work without waiting for each other. UpsertDevices, Enqueue,
// FinishFastPath and Apply's plain IP Push sends write all devices with a
// few statements over array parameters (unnest), not one per device.
class PgOutboxStore : public OutboxStore {
 public:
  // Applies the notifier's migrations.
  static absl::StatusOr<std::unique_ptr<PgOutboxStore>> Create(PgPool* pool);

  absl::Status UpsertDevices(const std::vector<DevicePrefs>& devices) override;
  absl::StatusOr<EnqueueResult> Enqueue(const v1::Notification& n,
                                        const std::vector<std::string>& devices,
                                        const std::string& idempotency_key, absl::Time now,
                                        absl::Time due) override;
  absl::Status FinishFastPath(const std::string& notification_id,
                              const std::vector<std::pair<std::string, absl::Time>>& sent,
                              const std::vector<std::string>& released, absl::Time now) override;
  absl::StatusOr<std::vector<OutboxEntry>> ClaimDue(absl::Time now, int limit, absl::Duration lease,
                                                    const std::string& only_notification) override;
  absl::StatusOr<std::vector<OutboxEntry>> TakePendingFor(const std::string& device_id,
                                                          absl::Time now) override;
  absl::Status Apply(const std::vector<OutboxUpdate>& updates, absl::Time now) override;
  absl::StatusOr<AckResult> Acknowledge(const std::string& device_id,
                                        const std::string& notification_id,
                                        absl::Time now) override;
  absl::StatusOr<std::vector<std::string>> SigningKeys(const std::string& seed,
                                                       absl::Time now) override;

 private:
  explicit PgOutboxStore(PgPool* pool) : pool_(pool) {}
  PgPool* pool_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_PG_OUTBOX_STORE_H_
