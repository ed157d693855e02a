#ifndef UPDRAFT_BENCH_PUSH_DEVICES_H_
#define UPDRAFT_BENCH_PUSH_DEVICES_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sdk/device/reconnect_backoff.h"

namespace updraft::bench {

// Nanoseconds of the real-time clock: comparable between processes.
int64_t RealNanos();

// Many simulated devices in one process, each holding a Notifier.Subscribe
// stream on its own channel (own TCP connection) with the callback API, and
// reconnecting by `policy` whenever its stream ends (the SDK's policy; a
// stream that was established resets it). Records when each
// notification arrived, and every attempt and established stream since the
// last Mark(). Driven by push_bench's line protocol (see push_bench.cc).
class GrpcDevices {
 public:
  struct Options {
    std::string target;  // "127.0.0.3:7404"
    int first = 0;       // device index of the first device
    int count = 0;
    std::vector<std::string> tokens;  // one access token per device
    device::ReconnectPolicy policy;
  };
  explicit GrpcDevices(Options options);
  ~GrpcDevices();

  void OpenAll();
  void SetJitter(double jitter);
  struct Counts {
    int64_t connected = 0;
    int64_t received = 0;
    int64_t attempts = 0;
  };
  Counts counts() const;
  // Forgets recorded attempts and connections (not receipts).
  void Mark();
  // "R <notification id> <ns>", "A <ns>", "C <ns>" lines, then "END".
  void Dump(FILE* out) const;

 private:
  class Call;
  struct Device {
    explicit Device(const device::ReconnectPolicy* policy) : backoff(policy) {}
    bool connected = false;
    device::ReconnectBackoff backoff;
  };
  void Attempt(int device);
  void OnConnected(int device);
  void OnReceived(int device, const std::string& id);
  void OnEnded(int device, Call* call);
  void SchedulerLoop();

  const Options options_;
  mutable absl::Mutex mu_;
  device::ReconnectPolicy policy_ ABSL_GUARDED_BY(mu_);  // options_.policy, jitter settable
  std::vector<Device> devices_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t connected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t attempts_total_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, int64_t>> receipts_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> attempt_ns_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> connect_ns_ ABSL_GUARDED_BY(mu_);
  // Due attempts: (time, device), earliest first.
  using Due = std::pair<absl::Time, int>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int calls_alive_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Call*> ended_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> keeper_;
  std::thread scheduler_;
};

}  // namespace updraft::bench

#endif  // UPDRAFT_BENCH_PUSH_DEVICES_H_
