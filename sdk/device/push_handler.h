#ifndef UPDRAFT_SDK_DEVICE_PUSH_HANDLER_H_
#define UPDRAFT_SDK_DEVICE_PUSH_HANDLER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/notification_format.h"
#include "sdk/device/channels.h"
#include "sdk/device/client.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::device {

// What handling one pushed notification did.
struct PushResult {
  NotificationFields notification;
  // Lower-case hex notification ID, as the notifier names it.
  std::string notification_id;
  // Whether the notifier acknowledged the receipt; otherwise `ack_error`.
  bool acked = false;
  std::string ack_error;
  // The active-upgrade flow the notification triggered (see Client).
  absl::StatusOr<std::vector<UpdateOutcome>> outcomes = std::vector<UpdateOutcome>();
};

// The device side of the push flows (design.md section 1): takes what the
// host app received over binary SMS, WAP Push SI or the IP Push stream,
// checks it is authentic (signed by a notifier key), fresh and not seen
// before (NotificationVerifier), acknowledges it to the notifier (so it does
// not fall back to the next channel) and runs the normal active upgrade: the
// push is only a hint, the catalog decides what is offered.
//
// The notifier's public keys come from Notifier.GetNotificationKeys and are
// cached in `state_dir`, so an SMS received offline is still verified; they
// are fetched again when a notification names an unknown key (at most once
// per `key_refresh_interval`).
//
// Thread-safe: calls into the Client are serialised here; while a
// PushHandler (or an IpPushListener over it) is in use, the host app uses
// the Client only through RunExclusive.
class PushHandler {
 public:
  struct Options {
    Client* client = nullptr;  // not owned; must outlive the handler
    // The notifier, as a channel or an address dialled with `security`.
    std::shared_ptr<grpc::Channel> notifier_channel;
    std::string notifier_address;
    ChannelSecurity security;
    // Where the key cache file (notification_keys) lives: the client's state
    // directory.
    std::string state_dir;
    // Keys provisioned with the device, trusted besides the fetched ones.
    std::vector<std::string> trusted_keys;
    const Clock* clock = nullptr;  // the real clock by default
    absl::Duration max_clock_skew = absl::Minutes(5);
    absl::Duration key_refresh_interval = absl::Minutes(1);
    absl::Duration rpc_timeout = absl::Seconds(30);
    // Optional: told of every notification the Handle* calls accept, after
    // the ack was tried (`acked`) and before the flow runs (e.g. to show it
    // to the user).
    std::function<void(const NotificationFields&, bool acked)> on_accepted;
  };

  static absl::StatusOr<std::unique_ptr<PushHandler>> Create(Options options);

  // A binary SMS payload (the notification bytes, reassembled if it was
  // concatenated). Errors: INVALID_ARGUMENT malformed, UNAUTHENTICATED forged
  // or altered, FAILED_PRECONDITION expired or from the future,
  // ALREADY_EXISTS replayed or already received over another channel. On an
  // error nothing is acknowledged and no flow runs.
  absl::StatusOr<PushResult> HandleSmsPayload(absl::string_view payload);
  // A WAP Push Service Indication: either its href or the SI XML document
  // (<indication href="...">). Errors as for HandleSmsPayload.
  absl::StatusOr<PushResult> HandleWapPushSi(absl::string_view href_or_si);
  // A notification from the IP Push stream (its `signed` bytes are checked).
  absl::StatusOr<PushResult> HandleIpPush(const v1::Notification& notification);

  // The steps separately, for the IP Push listener. Verify does the checks
  // above (and remembers the ID); Acknowledge sends Notifier.Ack.
  absl::StatusOr<NotificationFields> Verify(absl::string_view signed_bytes);
  absl::Status Acknowledge(const std::string& notification_id_hex);
  // Client::RunActiveUpgrade, serialised with the handler's other calls.
  absl::StatusOr<std::vector<UpdateOutcome>> RunActiveUpgrade();
  // Runs `fn` with exclusive use of the client.
  void RunExclusive(const std::function<void(Client&)>& fn);
  // The device's access token (serialised with the other client calls), and
  // forgetting it after a service rejected it.
  absl::StatusOr<std::string> AccessToken();
  void ForgetToken();

  // Fetches the notifier's keys, trusts them and rewrites the cache file.
  absl::Status RefreshKeys();
  // Keys trusted now (provisioned, cached and fetched).
  std::vector<std::string> TrustedKeys() const;

  v1::Notifier::StubInterface& notifier() { return *notifier_; }
  const std::shared_ptr<grpc::Channel>& notifier_channel() const {
    return options_.notifier_channel;
  }

 private:
  explicit PushHandler(Options options);
  absl::StatusOr<PushResult> Handle(absl::string_view signed_bytes);
  void Trust(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(keys_mu_);
  std::string KeyFile() const;
  // `<state_dir>/seen_notifications`: the IDs accepted and not yet expired,
  // one "expiry hex-id" line each, so replays stay refused after a restart.
  std::string SeenFile() const;
  absl::Status SaveSeen();

  Options options_;
  RealClock real_clock_;
  std::unique_ptr<v1::Notifier::StubInterface> notifier_;
  std::unique_ptr<NotificationVerifier> verifier_;
  absl::Mutex client_mu_;
  mutable absl::Mutex keys_mu_;
  std::vector<std::string> keys_ ABSL_GUARDED_BY(keys_mu_);
  absl::Time last_refresh_ ABSL_GUARDED_BY(keys_mu_) = absl::InfinitePast();
};

// The href of a WAP Push SI document (<indication href="..."/>, XML
// entities decoded), or `href_or_si` itself when it is not XML.
absl::StatusOr<std::string> SiHref(absl::string_view href_or_si);
// The signed notification bytes a WAP Push SI (href or XML) carries;
// INVALID_ARGUMENT when it is malformed.
absl::StatusOr<std::string> NotificationFromSi(absl::string_view href_or_si);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_PUSH_HANDLER_H_
