#include "services/notifier/notifier_metrics.h"

#include "services/notifier/outbox_store.h"

namespace updraft::notifier {
namespace {

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900};
}

}  // namespace

NotifierMetrics::NotifierMetrics(prometheus::Registry& registry)
    : connected_(prometheus::BuildGauge()
                     .Name("updraft_notifier_devices_connected")
                     .Help("Devices holding an IP Push stream on this replica.")
                     .Register(registry)
                     .Add({})),
      notifications_(prometheus::BuildCounter()
                         .Name("updraft_notifier_notifications_total")
                         .Help("Notification deliveries by channel and resulting state.")
                         .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("updraft_notifier_delivery_latency_seconds")
                   .Help("From announcement to the device's acknowledgement, by channel.")
                   .Register(registry)),
      fallbacks_(prometheus::BuildCounter()
                     .Name("updraft_notifier_fallbacks_total")
                     .Help("Notifications moved to the next channel (offline, no ack, errors).")
                     .Register(registry)),
      gateway_errors_(prometheus::BuildCounter()
                          .Name("updraft_notifier_gateway_errors_total")
                          .Help("SMS and WAP Push gateway requests that failed.")
                          .Register(registry)) {
  for (v1::Channel c : DefaultChannelOrder()) {
    for (absl::string_view state : kOutboxStates) {
      notification_series_[{c, std::string(state)}] =
          &notifications_.Add({{"channel", ChannelName(c)}, {"state", std::string(state)}});
    }
    latency_series_[c] = &latency_.Add({{"channel", ChannelName(c)}}, LatencyBuckets());
    if (c != v1::CHANNEL_IP_PUSH) gateway_errors_.Add({{"channel", ChannelName(c)}});
    for (v1::Channel to : DefaultChannelOrder()) {
      if (to != c) fallbacks_.Add({{"from", ChannelName(c)}, {"to", ChannelName(to)}});
    }
  }
}

void NotifierMetrics::Count(v1::Channel channel, const std::string& state) {
  auto it = notification_series_.find({channel, state});
  if (it != notification_series_.end()) {
    it->second->Increment();
    return;
  }
  notifications_.Add({{"channel", ChannelName(channel)}, {"state", state}}).Increment();
}

void NotifierMetrics::Latency(v1::Channel channel, absl::Duration d) {
  auto it = latency_series_.find(channel);
  prometheus::Histogram& h =
      it != latency_series_.end()
          ? *it->second
          : latency_.Add({{"channel", ChannelName(channel)}}, LatencyBuckets());
  h.Observe(absl::ToDoubleSeconds(d));
}

void NotifierMetrics::Fallback(v1::Channel from, v1::Channel to) {
  fallbacks_.Add({{"from", ChannelName(from)}, {"to", ChannelName(to)}}).Increment();
}

void NotifierMetrics::GatewayError(v1::Channel channel) {
  gateway_errors_.Add({{"channel", ChannelName(channel)}}).Increment();
}

}  // namespace updraft::notifier
