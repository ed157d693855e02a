#ifndef UPDRAFT_SERVICES_NOTIFIER_OUTBOX_STORE_H_
#define UPDRAFT_SERVICES_NOTIFIER_OUTBOX_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// "ip_push", "sms", "wap_push" (stored names); parse returns UNSPECIFIED for
// anything else.
std::string ChannelName(v1::Channel c);
v1::Channel ParseChannel(absl::string_view name);
const std::vector<v1::Channel>& DefaultChannelOrder();
inline constexpr absl::string_view kOutboxStates[] = {"queued", "sent", "acknowledged", "expired",
                                                      "failed"};

// How to reach one device. Empty/zero fields in an update keep what is stored.
struct DevicePrefs {
  std::string device_id;
  std::string msisdn;
  std::vector<v1::Channel> channels;
  absl::Duration ack_timeout = absl::ZeroDuration();
};

// One (device, notification) row of the outbox, with what delivery needs.
struct OutboxEntry {
  std::string device_id;
  v1::Notification notification;  // including the signed bytes
  std::string state;
  int channel_index = 0;
  int attempts = 0;
  absl::Time created;
  DevicePrefs prefs;  // complete (defaults applied)
};

// What OutboxStore::Enqueue wrote.
struct EnqueueResult {
  // Devices newly queued with the notification, with their preferences
  // (msisdn not filled in).
  std::vector<DevicePrefs> queued;
  // With an idempotency key: targets that already held an entry with that
  // key (nothing written for them), with that entry.
  std::vector<OutboxEntry> existing;
  // False when the notification was not stored: it had an idempotency key
  // and every target already held an entry with that key.
  bool stored = true;
};

// What a delivery attempt decided for an entry.
struct OutboxUpdate {
  std::string device_id;
  std::string notification_id;
  std::string state;
  int channel_index = 0;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  int attempts = 0;
  absl::Time next_attempt;
  std::optional<absl::Time> sent;
  std::string last_error;
  // Receipt written with the update: event and detail ("" writes none).
  std::string receipt_event;
  std::string receipt_detail;
};

// Result of an acknowledgement.
struct AckResult {
  bool newly_acknowledged = false;  // false: already acknowledged
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  absl::Time created;
};

// The durable outbox (PostgreSQL in production; see pg_outbox_store.h).
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // Creates the device with defaults, or updates the non-empty fields. A
  // device listed more than once gets its entries in order (a later
  // non-empty field wins). INVALID_ARGUMENT for a negative ack timeout.
  virtual absl::Status UpsertDevices(const std::vector<DevicePrefs>& devices) = 0;
  // Writes the announcement and one queued row per device (every known
  // device when `devices` is empty), in one transaction, due at `due` (the
  // fast path's lease: the worker leaves them alone until then). With a
  // non-empty `idempotency_key`, a device that already holds a row with that
  // key gets no new row (one row per device and key, also under concurrent
  // calls): its row is returned in `existing`; when no device got a new row,
  // the announcement is not stored either.
  virtual absl::StatusOr<EnqueueResult> Enqueue(const v1::Notification& n,
                                                const std::vector<std::string>& devices,
                                                const std::string& idempotency_key, absl::Time now,
                                                absl::Time due) = 0;
  // Ends the fast path of an announcement in one transaction: the rows of
  // `sent` (device, ack due) become sent over IP Push (receipt "sent"), and
  // the still queued rows of `released` become due at `now` for the worker.
  virtual absl::Status FinishFastPath(const std::string& notification_id,
                                      const std::vector<std::pair<std::string, absl::Time>>& sent,
                                      const std::vector<std::string>& released, absl::Time now) = 0;
  // Takes up to `limit` rows in state queued or sent that are due, and
  // leases them until now + `lease` so other replicas skip them; only rows
  // of `only_notification` unless it is empty.
  virtual absl::StatusOr<std::vector<OutboxEntry>> ClaimDue(
      absl::Time now, int limit, absl::Duration lease, const std::string& only_notification) = 0;
  // Rows not acknowledged, expired or delivered elsewhere, for a device that
  // (re)connected, oldest first; marks them sent over IP Push, ack due at
  // now + its ack timeout.
  virtual absl::StatusOr<std::vector<OutboxEntry>> TakePendingFor(const std::string& device_id,
                                                                  absl::Time now) = 0;
  virtual absl::Status Apply(const std::vector<OutboxUpdate>& updates, absl::Time now) = 0;
  // NOT_FOUND when the device has no such notification.
  virtual absl::StatusOr<AckResult> Acknowledge(const std::string& device_id,
                                                const std::string& notification_id,
                                                absl::Time now) = 0;
  // The newest signing key's raw private key; creates one from `seed` (or a
  // random one when empty) when there is none.
  virtual absl::StatusOr<std::vector<std::string>> SigningKeys(const std::string& seed,
                                                               absl::Time now) = 0;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_OUTBOX_STORE_H_
