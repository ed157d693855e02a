#ifndef UPDRAFT_TOOLS_FLEET_SIM_FLEET_H_
#define UPDRAFT_TOOLS_FLEET_SIM_FLEET_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sdk/device/channels.h"
#include "sdk/device/push_handler.h"
#include "sdk/device/reconnect_backoff.h"
#include "tools/fleet_sim/sim_device.h"
#include "tools/fleet_sim/work_pool.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::fleet_sim {

// What one phase (register, active upgrade, stream opening, pushes) did
// across the fleet: counts by outcome and the duration of each device's
// step.
struct PhaseStats {
  std::string name;
  std::map<std::string, int64_t> outcomes;
  std::vector<double> durations_ms;
  absl::Duration wall;

  void Add(const std::string& outcome, absl::Duration d);
  // The p-th percentile (0..100) of durations_ms; 0 when empty.
  double PercentileMs(double p) const;
};

// Many simulated handsets in one process, for demos and load: each device
// has its own key, SCOMO state and installed apps under
// <base_dir>/<device_id>/ (device IDs <id_prefix><index>, zero-padded) and
// runs the real device SDK. Auth, catalog and download channels are shared
// by all devices (like a NAT in front of a fleet). The IP Push streams of
// `devices_per_connection` devices share one HTTP/2 connection (each with its
// own token): 100 by default, which keeps a device at about 30 KiB; 1 gives
// every device a connection of its own, as on real handsets (about 60 KiB
// per device), for loading the notifier's connection handling.
//
// File descriptors: a connection is one socket, so with one connection per
// device a process holds at most about RLIMIT_NOFILE - 200 devices (19,800 at
// the usual 20,000 limit); Create raises the soft limit to the hard one and
// refuses a fleet that cannot fit.
// At most `concurrency` devices log in, check or download at once.
class Fleet {
 public:
  struct Options {
    std::string base_dir;
    int devices = 0;
    std::string id_prefix = "sim-";
    int first_index = 1;
    std::string auth_address;
    std::string catalog_address;
    std::string notifier_address;
    std::string download_address;  // overrides the offers' download target
    device::ChannelSecurity security;
    int concurrency = 32;
    bool consent = true;
    v1::DeviceAttributes attributes;
    int devices_per_connection = 100;
    // Extra integer arguments of the stream channels (tuning experiments).
    std::vector<std::pair<std::string, int>> stream_channel_args;
    int keepalive_time_ms = 300000;
    absl::Duration rpc_timeout = absl::Seconds(30);
    // Reconnect backoff of the IP Push streams: by default the SDK's own
    // (IpPushListener), so the fleet comes back after a notifier restart the
    // way real devices do.
    device::ReconnectPolicy reconnect;
  };

  // Creates (or reloads) every device: key, directories, client.
  static absl::StatusOr<std::unique_ptr<Fleet>> Create(Options options);
  ~Fleet();

  int size() const { return static_cast<int>(devices_.size()); }
  const std::string& device_id(int i) const;
  // AuthAdmin.ImportDevices CSV of the fleet ("device_id,key_type,public_key").
  std::string ImportCsv(int begin, int end) const;
  // Registers the fleet with auth (ImportDevices in batches of 10,000;
  // `authorize` adds an admin operator token to each call, e.g.
  // OperatorTokenSource::Authorize); a batch holding an already registered
  // device falls back to RegisterDevice per device, counting those as
  // "already_registered".
  PhaseStats Register(const std::function<absl::Status(grpc::ClientContext*)>& authorize);
  // The active upgrade once on every device.
  PhaseStats RunActiveUpgrades();
  // Logs every device in and opens its IP Push stream; returns once every
  // device's first attempt ended (open or failed). Streams stay open,
  // re-opened with backoff when they end, until StopStreams; notifications
  // received run the active upgrade (see PushStats).
  PhaseStats OpenStreams(absl::Duration timeout);
  int streams_open() const;
  // Wait (up to `timeout`) until at least `open` streams are open and
  // `opened_total` were ever opened (re-opened ones count again) / `n`
  // notifications were handled; false on timeout.
  bool WaitForStreams(int open, int opened_total, absl::Duration timeout) const;
  bool WaitForPushes(int n, absl::Duration timeout) const;
  PhaseStats PushStats() const;
  void StopStreams();

  // The per-process file descriptor check Create does, for `devices`
  // streams: raises the soft RLIMIT_NOFILE when needed. RESOURCE_EXHAUSTED
  // says how many devices fit.
  static absl::Status CheckFileLimit(int devices, int devices_per_connection);

 private:
  class Stream;
  struct Device {
    explicit Device(const device::ReconnectPolicy* policy) : backoff(policy) {}
    std::unique_ptr<SimDevice> sim;
    absl::Mutex mu;  // serialises the device's client
    std::shared_ptr<grpc::Channel> stream_channel;
    std::unique_ptr<v1::Notifier::Stub> notifier;
    std::unique_ptr<device::PushHandler> push;  // created on the first notification
    device::ReconnectBackoff backoff;           // guarded by the fleet's mu_
    bool first_done = false;
  };

  explicit Fleet(Options options);
  void Connect(int index, bool first);
  void StreamOpened(int index);
  void StreamEnded(int index, Stream* stream, const grpc::Status& status);
  void HandleNotification(int index, const v1::Notification& notification);
  void FirstAttemptDone(int index, const std::string& outcome, absl::Duration d);
  static std::string OutcomeOf(const absl::StatusOr<std::vector<device::UpdateOutcome>>& r);

  Options options_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::shared_ptr<grpc::Channel> auth_channel_;
  std::shared_ptr<grpc::Channel> catalog_channel_;
  std::vector<std::shared_ptr<grpc::Channel>> connections_;
  std::unique_ptr<WorkPool> pool_;

  mutable absl::Mutex mu_;
  std::map<int, Stream*> streams_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int opened_total_ ABSL_GUARDED_BY(mu_) = 0;
  int first_pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  PhaseStats connect_stats_ ABSL_GUARDED_BY(mu_);
  PhaseStats push_stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::fleet_sim

#endif  // UPDRAFT_TOOLS_FLEET_SIM_FLEET_H_
