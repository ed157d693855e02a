#ifndef UPDRAFT_SERVICES_NOTIFIER_FAKE_OUTBOX_STORE_H_
#define UPDRAFT_SERVICES_NOTIFIER_FAKE_OUTBOX_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/notifier/outbox_store.h"

namespace updraft::notifier {

// In-memory OutboxStore for unit tests, with the semantics of PgOutboxStore
// (migrations/): one row per (device, notification), at most one row per
// (device, non-empty idempotency key), defaults for unknown devices, leases
// by next attempt time, acknowledged rows never overwritten. Each call is
// atomic (one mutex). Rows() and announcements() let tests look inside.
class FakeOutboxStore : public OutboxStore {
 public:
  // One row as stored.
  struct Row {
    std::string device_id;
    std::string notification_id;
    std::string idempotency_key;
    std::string state = "queued";
    int channel_index = 0;
    std::string channel;
    int attempts = 0;
    absl::Time next_attempt;
    absl::Time created;
    int64_t sequence = 0;  // insertion order
  };

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

  // Every row of `device_id` ("" = every row), oldest first.
  std::vector<Row> Rows(const std::string& device_id = "");
  // IDs of the stored announcements.
  std::vector<std::string> announcements();

 private:
  using Key = std::pair<std::string, std::string>;  // device, notification
  OutboxEntry EntryOf(const Row& row) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  DevicePrefs PrefsOf(const std::string& device_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, DevicePrefs> devices_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Notification> announcements_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Row> rows_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> keys_ ABSL_GUARDED_BY(mu_);
  int64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_FAKE_OUTBOX_STORE_H_
