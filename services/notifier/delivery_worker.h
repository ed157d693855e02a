#ifndef UPDRAFT_SERVICES_NOTIFIER_DELIVERY_WORKER_H_
#define UPDRAFT_SERVICES_NOTIFIER_DELIVERY_WORKER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logger.h"
#include "services/notifier/device_router.h"
#include "services/notifier/gateway.h"
#include "services/notifier/notifier_metrics.h"
#include "services/notifier/outbox_store.h"

namespace updraft::notifier {

// Delivers what the outbox holds. Each pass claims due rows and, per row,
// tries the device's channels in order from where it stands:
//   IP Push  routed to the replica holding the stream; offline -> next channel
//   SMS      binary SMS to the device's msisdn; none -> next channel
//   WAP Push SI whose href carries the notification; none -> next channel
// A sent row waits for the ack timeout, then falls back to the next channel
// (after the last one it waits for a reconnect or its expiry). A gateway
// error retries the same channel with exponential backoff, and after
// `max_attempts` moves on. No channel left: failed (a reconnect still
// delivers it). Past its expiry: expired. Receipts record every step.
class DeliveryWorker {
 public:
  struct Options {
    OutboxStore* store = nullptr;
    DeviceRouter* router = nullptr;
    SmsGateway* sms = nullptr;      // null: channel unavailable
    WapPushGateway* wap = nullptr;  // null: channel unavailable
    NotifierMetrics* metrics = nullptr;
    const Clock* clock = nullptr;
    Logger* logger = nullptr;
    std::string wap_href_base = "https://updraft.example/n/";
    int batch = 500;
    absl::Duration lease = absl::Seconds(30);
    absl::Duration initial_backoff = absl::Seconds(2);
    absl::Duration max_backoff = absl::Minutes(5);
    int max_attempts = 5;
  };
  static absl::StatusOr<std::unique_ptr<DeliveryWorker>> Create(Options options);

  struct Pass {
    std::string notification_id;  // only this one ("" = all due)
    bool ip_push_only = false;    // leave other channels to the next pass
  };
  struct PassResult {
    int64_t claimed = 0;
    int64_t replicas_reached = 0;
  };
  absl::StatusOr<PassResult> RunOnce(const Pass& pass);

 private:
  explicit DeliveryWorker(Options options) : options_(std::move(options)) {}
  absl::Status SendOver(v1::Channel c, const OutboxEntry& e);

  const Options options_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_DELIVERY_WORKER_H_
