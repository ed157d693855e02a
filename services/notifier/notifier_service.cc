#include "services/notifier/notifier_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace updraft::notifier {
namespace {

absl::Status CheckField(absl::string_view name, absl::string_view value, size_t max) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  if (value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is longer than ", max, " bytes"));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(name, " contains a control character"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<NotifierService>> NotifierService::Create(Options options) {
  if (!options.bus || !options.hub || !options.clock) {
    return absl::InvalidArgumentError("NotifierService needs a bus, a hub and a clock");
  }
  return std::unique_ptr<NotifierService>(new NotifierService(options));
}

absl::StatusOr<v1::AnnounceResponse> NotifierService::Announce(const v1::AnnounceRequest& req) {
  absl::Status s = CheckField("software_name", req.software_name(), 128);
  if (s.ok()) s = CheckField("location", req.location(), 256);
  if (s.ok()) s = CheckField("server_address", req.server_address(), 256);
  if (!s.ok()) return s;
  if (req.ttl_seconds() < 0 || absl::Seconds(req.ttl_seconds()) > options_.max_ttl) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_seconds must be between 0 and ", absl::ToInt64Seconds(options_.max_ttl)));
  }
  absl::Duration ttl =
      req.ttl_seconds() == 0 ? options_.default_ttl : absl::Seconds(req.ttl_seconds());
  absl::Time now = options_.clock->Now();
  v1::Notification n;
  n.set_notification_id(absl::BytesToHexString(RandomBytes(12)));
  n.set_server_address(req.server_address());
  n.set_software_name(req.software_name());
  n.set_location(req.location());
  n.set_timestamp_unix(absl::ToUnixSeconds(now));
  n.set_expires_at_unix(absl::ToUnixSeconds(now + ttl));
  auto reached = options_.bus->Publish(n);
  if (!reached.ok()) {
    return absl::UnavailableError(
        absl::StrCat("announcement not sent: ", reached.status().message()));
  }
  v1::AnnounceResponse resp;
  resp.set_notification_id(n.notification_id());
  resp.set_replicas_reached(*reached);
  return resp;
}

std::shared_ptr<Subscription> NotifierService::OpenStream(const std::string& device_id) {
  return options_.hub->Subscribe(device_id);
}

void NotifierService::CloseStream(const std::shared_ptr<Subscription>& sub) {
  options_.hub->Unsubscribe(sub);
}

std::optional<v1::Notification> NotifierService::NextFor(Subscription& sub,
                                                         absl::Duration timeout) {
  while (true) {
    auto n = sub.Next(timeout);
    if (!n) return std::nullopt;
    if (absl::FromUnixSeconds(n->expires_at_unix()) > options_.clock->Now()) return n;
  }
}

}  // namespace updraft::notifier
