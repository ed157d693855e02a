#include "services/notifier/outbox_store.h"

namespace updraft::notifier {

std::string ChannelName(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_IP_PUSH:
      return "ip_push";
    case v1::CHANNEL_SMS:
      return "sms";
    case v1::CHANNEL_WAP_PUSH:
      return "wap_push";
    default:
      return "unspecified";
  }
}

v1::Channel ParseChannel(absl::string_view name) {
  if (name == "ip_push") return v1::CHANNEL_IP_PUSH;
  if (name == "sms") return v1::CHANNEL_SMS;
  if (name == "wap_push") return v1::CHANNEL_WAP_PUSH;
  return v1::CHANNEL_UNSPECIFIED;
}

const std::vector<v1::Channel>& DefaultChannelOrder() {
  static const auto* order =
      new std::vector<v1::Channel>{v1::CHANNEL_IP_PUSH, v1::CHANNEL_SMS, v1::CHANNEL_WAP_PUSH};
  return *order;
}

}  // namespace updraft::notifier
