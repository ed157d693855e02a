#include "services/notifier/delivery_worker.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/notification_format.h"

namespace updraft::notifier {

absl::StatusOr<std::unique_ptr<DeliveryWorker>> DeliveryWorker::Create(Options options) {
  if (!options.store || !options.router || !options.metrics || !options.clock) {
    return absl::InvalidArgumentError("DeliveryWorker needs a store, a router, metrics, a clock");
  }
  return std::unique_ptr<DeliveryWorker>(new DeliveryWorker(std::move(options)));
}

absl::Status DeliveryWorker::SendOver(v1::Channel c, const OutboxEntry& e) {
  const v1::Notification& n = e.notification;
  if (c == v1::CHANNEL_SMS) {
    return options_.sms->SendBinary(e.prefs.msisdn, n.signed_());
  }
  WapPushGateway::Push push;
  push.msisdn = e.prefs.msisdn;
  push.push_id = absl::StrCat(n.notification_id(), ".", e.device_id, ".", e.attempts);
  push.href = options_.wap_href_base + NotificationToBase64(n.signed_());
  push.text = absl::StrCat("Update: ", n.software_name());
  push.created = absl::FromUnixSeconds(n.timestamp_unix());
  push.expires = absl::FromUnixSeconds(n.expires_at_unix());
  return options_.wap->Send(push);
}

absl::StatusOr<DeliveryWorker::PassResult> DeliveryWorker::RunOnce(const Pass& pass) {
  const absl::Time now = options_.clock->Now();
  auto claimed =
      options_.store->ClaimDue(now, options_.batch, options_.lease, pass.notification_id);
  if (!claimed.ok()) return claimed.status();
  PassResult result;
  result.claimed = claimed->size();

  // Where each row starts this pass; a sent row whose ack timed out moves on.
  struct Work {
    OutboxEntry* e;
    std::vector<v1::Channel> channels;
    int idx;
    OutboxUpdate u;
  };
  std::vector<Work> work;
  for (OutboxEntry& e : *claimed) {
    Work w{&e,
           e.prefs.channels.empty() ? DefaultChannelOrder() : e.prefs.channels,
           e.channel_index,
           {}};
    w.u.device_id = e.device_id;
    w.u.notification_id = e.notification.notification_id();
    w.u.attempts = e.attempts;
    work.push_back(std::move(w));
  }

  // IP Push first, batched per notification: one presence lookup and one
  // message per replica.
  absl::flat_hash_map<std::string, std::vector<Work*>> ip_batches;
  auto channel_at = [](const Work& w, int idx) {
    return idx < static_cast<int>(w.channels.size()) ? w.channels[idx] : v1::CHANNEL_UNSPECIFIED;
  };
  std::vector<OutboxUpdate> updates;
  for (Work& w : work) {
    OutboxEntry& e = *w.e;
    const absl::Time expires = absl::FromUnixSeconds(e.notification.expires_at_unix());
    if (expires <= now) {
      w.u.state = "expired";
      w.u.channel = channel_at(w, std::min<int>(w.idx, w.channels.size() - 1));
      w.u.channel_index = w.idx;
      w.u.next_attempt = expires;
      w.u.receipt_event = "expired";
      options_.metrics->Count(w.u.channel, "expired");
      updates.push_back(w.u);
      w.e = nullptr;
      continue;
    }
    if (e.state == "sent") {
      v1::Channel from = channel_at(w, w.idx);
      if (w.idx + 1 >= static_cast<int>(w.channels.size())) {
        // Nothing left to fall back to: wait for a reconnect or the expiry.
        w.u.state = "sent";
        w.u.channel = from;
        w.u.channel_index = w.idx;
        w.u.next_attempt = expires;
        updates.push_back(w.u);
        w.e = nullptr;
        continue;
      }
      ++w.idx;
      w.u.attempts = 0;
      options_.metrics->Fallback(from, channel_at(w, w.idx));
    }
    if (channel_at(w, w.idx) == v1::CHANNEL_IP_PUSH) {
      ip_batches[e.notification.notification_id()].push_back(&w);
    }
  }
  absl::flat_hash_map<Work*, bool> online;
  for (auto& [id, batch] : ip_batches) {
    std::vector<std::string> devices;
    for (Work* w : batch) devices.push_back(w->e->device_id);
    auto routed = options_.router->Route(devices, batch.front()->e->notification);
    if (!routed.ok()) {
      if (options_.logger) {
        options_.logger->Warning("IP Push routing failed", {{"error", routed.status().ToString()}});
      }
      continue;  // treated as offline below
    }
    result.replicas_reached += routed->replicas;
    for (Work* w : batch) online[w] = routed->devices.contains(w->e->device_id);
  }

  for (Work& w : work) {
    if (w.e == nullptr) continue;
    OutboxEntry& e = *w.e;
    const absl::Time expires = absl::FromUnixSeconds(e.notification.expires_at_unix());
    bool done = false;
    while (!done && w.idx < static_cast<int>(w.channels.size())) {
      const v1::Channel c = w.channels[w.idx];
      w.u.channel = c;
      w.u.channel_index = w.idx;
      std::string why_not;
      if (c == v1::CHANNEL_IP_PUSH) {
        auto it = online.find(&w);
        if (it != online.end() && it->second) {
          w.u.state = "sent";
          w.u.sent = now;
          w.u.next_attempt = std::min(now + e.prefs.ack_timeout, expires);
          w.u.receipt_event = "sent";
          options_.metrics->Count(c, "sent");
          done = true;
          break;
        }
        why_not = "device offline";
      } else if (pass.ip_push_only) {
        w.u.state = "queued";
        w.u.next_attempt = now;
        done = true;
        break;
      } else if (e.prefs.msisdn.empty()) {
        why_not = "no msisdn";
      } else if ((c == v1::CHANNEL_SMS && !options_.sms) ||
                 (c == v1::CHANNEL_WAP_PUSH && !options_.wap)) {
        why_not = "no gateway configured";
      } else {
        absl::Status s = SendOver(c, e);
        if (s.ok()) {
          w.u.state = "sent";
          w.u.sent = now;
          w.u.last_error.clear();
          w.u.next_attempt = std::min(now + e.prefs.ack_timeout, expires);
          w.u.receipt_event = "sent";
          options_.metrics->Count(c, "sent");
          done = true;
          break;
        }
        options_.metrics->GatewayError(c);
        ++w.u.attempts;
        w.u.last_error = std::string(s.message());
        if (w.u.attempts < options_.max_attempts) {
          absl::Duration backoff = options_.initial_backoff;
          for (int i = 1; i < w.u.attempts && backoff < options_.max_backoff; ++i) backoff *= 2;
          w.u.state = "queued";
          w.u.next_attempt = now + std::min(backoff, options_.max_backoff);
          w.u.receipt_event = "gateway_error";
          w.u.receipt_detail = w.u.last_error;
          done = true;
          break;
        }
        why_not = "gateway failed " + std::to_string(w.u.attempts) + " times: " + w.u.last_error;
      }
      // Next channel.
      updates.push_back({.device_id = e.device_id,
                         .notification_id = e.notification.notification_id(),
                         .state = "queued",
                         .channel_index = w.idx + 1,
                         .channel = c,
                         .attempts = 0,
                         .next_attempt = now,
                         .last_error = why_not,
                         .receipt_event = "fallback",
                         .receipt_detail = why_not});
      if (w.idx + 1 < static_cast<int>(w.channels.size())) {
        options_.metrics->Fallback(c, w.channels[w.idx + 1]);
      }
      ++w.idx;
      w.u.attempts = 0;
      w.u.last_error = why_not;
    }
    if (!done) {
      w.u.state = "failed";
      w.u.channel_index = w.idx;
      w.u.next_attempt = expires;
      w.u.receipt_event = "failed";
      w.u.receipt_detail = "no channel could deliver it: " + w.u.last_error;
      options_.metrics->Count(w.u.channel, "failed");
    }
    updates.push_back(w.u);
  }
  absl::Status s = options_.store->Apply(updates, now);
  if (!s.ok()) return s;
  return result;
}

}  // namespace updraft::notifier
