#ifndef UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_METRICS_H_
#define UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_METRICS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "updraft/v1/notifier.pb.h"

namespace updraft::notifier {

// The notifier's business metrics. Every label combination exists from the
// start (at zero), so dashboards show zeros rather than nothing:
//   updraft_notifier_devices_connected
//   updraft_notifier_notifications_total{channel, state}
//   updraft_notifier_delivery_latency_seconds{channel} (announce -> ack)
//   updraft_notifier_fallbacks_total{from, to}
//   updraft_notifier_gateway_errors_total{channel}
class NotifierMetrics {
 public:
  explicit NotifierMetrics(prometheus::Registry& registry);

  prometheus::Gauge& connected() { return connected_; }
  void Count(v1::Channel channel, const std::string& state);
  void Latency(v1::Channel channel, absl::Duration d);
  void Fallback(v1::Channel from, v1::Channel to);
  void GatewayError(v1::Channel channel);

 private:
  prometheus::Gauge& connected_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& fallbacks_;
  prometheus::Family<prometheus::Counter>& gateway_errors_;
  // The series counted per device on the fan-out path, looked up once
  // (Family::Add hashes its labels under a lock); read-only after
  // construction.
  absl::flat_hash_map<std::pair<int, std::string>, prometheus::Counter*> notification_series_;
  absl::flat_hash_map<int, prometheus::Histogram*> latency_series_;
};

}  // namespace updraft::notifier

#endif  // UPDRAFT_SERVICES_NOTIFIER_NOTIFIER_METRICS_H_
