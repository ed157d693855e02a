#ifndef UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_
#define UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/logger.h"
#include "services/notifier/device_router.h"
#include "services/notifier/notifier_metrics.h"
#include "services/notifier/outbox_store.h"
#include "services/notifier/subscriber_hub.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// Longest AnnounceRequest.idempotency_key accepted, in bytes.
inline constexpr size_t kMaxIdempotencyKeyLength = 128;

// The notifier's domain logic, free of transport. Announce validates the
// request, signs the notification (common/notification_format.h), writes it
// to the outbox for its target devices before anything is sent, then routes
// it at once to the devices online on any replica; the delivery worker does
// the rest (fallback, retries, expiry). Opening a stream registers presence
// and re-delivers what the device has not acknowledged. Ack records receipt.
// An announcement with an idempotency key gives a device that already holds
// an entry with that key no second notification (see notifier.proto).
class NotifierService {
 public:
  struct Options {
    OutboxStore* store = nullptr;
    DeviceRouter* router = nullptr;
    SubscriberHub* hub = nullptr;
    NotifierMetrics* metrics = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    // Seeds the shared signing key when the outbox has none ("" = random).
    std::string signing_key_seed;
    absl::Duration default_ttl = absl::Hours(24);
    absl::Duration max_ttl = absl::Hours(24 * 30);
    // How long the delivery worker leaves a new announcement's rows to the
    // fast path (routing to online devices right after the outbox write);
    // after a crash in between, the worker takes them over then.
    absl::Duration fast_path_lease = absl::Seconds(30);
  };
  static absl::StatusOr<std::unique_ptr<NotifierService>> Create(Options options);

  absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request);
  absl::Status Ack(const std::string& device_id, const std::string& notification_id);
  // Raw Ed25519 public keys that sign notifications, newest first.
  std::vector<std::string> PublicKeys() const;

  absl::StatusOr<std::shared_ptr<Subscription>> OpenStream(const std::string& device_id);
  void CloseStream(const std::shared_ptr<Subscription>& sub);
  // The replica is shutting down: closing streams no longer deletes presence.
  void BeginDrain() { draining_ = true; }
  // The next live notification for `sub`, skipping expired ones; nullopt on
  // timeout or when the stream was closed.
  std::optional<v1::Notification> NextFor(Subscription& sub, absl::Duration timeout);
  // False once `n` expired: streams skip it.
  bool Live(const PreparedNotification& n) const;

 private:
  explicit NotifierService(Options options) : options_(std::move(options)) {}
  void FastPath(const v1::Notification& n, const std::vector<DevicePrefs>& queued, absl::Time now,
                v1::AnnounceResponse* resp);
  const Options options_;
  std::vector<Ed25519KeyPair> keys_;  // newest first
  std::atomic<bool> draining_{false};
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_SERVICE_H_
