#ifndef UPDRAFT_BENCH_PUSH_COORDINATOR_H_
#define UPDRAFT_BENCH_PUSH_COORDINATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/child_process.h"
#include "common/crypto.h"

namespace updraft::bench {

// The push benchmark's conductor (see push_bench.cc): starts the notifier
// and the device processes, announces, restarts the notifier, runs the
// Mosquitto peer, and prints the figures and the RESULT lines. Every wait
// is bounded in time.
class Coordinator {
 public:
  struct Options {
    std::string self;  // this binary, run again in the other roles
    std::string pg_uri;
    std::string redis;
    int devices = 15000;
    int processes = 4;
    int announcements = 5;
    int ttl_seconds = 10;
    bool storm = true;
    std::string mosquitto;
    std::string work_dir;
  };
  explicit Coordinator(Options options);

  int Run();
  // Memory per idle stream for a series of server settings.
  int RunTuning(int devices);

 private:
  using Children = std::vector<std::unique_ptr<ChildProcess>>;
  struct Dumped {
    std::vector<std::pair<std::string, int64_t>> receipts;
    std::vector<int64_t> attempts;
    std::vector<int64_t> connects;
  };
  struct FanOut {
    double p50 = 0, p99 = 0, max = 0;
    int64_t missing = 0;
  };

  std::unique_ptr<ChildProcess> StartServer(int port, bool lean, const std::string& extra_args);
  Children StartGrpcDevices(int port, int devices, int processes);
  Children StartMqttDevices(int port);
  bool All(Children& children, const std::string& command);
  static void Trim(ChildProcess& server);
  // Sum of field `field` (0-based) of every child's STATUS line.
  int64_t StatusSum(Children& children, int field);
  bool WaitForSum(Children& children, int field, int64_t target, absl::Duration timeout);
  Dumped Dump(Children& children);
  static FanOut Delays(const Dumped& d, const std::vector<std::pair<std::string, int64_t>>& sent,
                       int64_t expected_each);
  bool Announce(int port, int k, std::pair<std::string, int64_t>* sent);
  void Storm(int port, double jitter, Children& devices, std::unique_ptr<ChildProcess>& server);
  bool RunMosquitto(FanOut* fan, double* kib_per_connection);

  const Options options_;
  std::optional<Ed25519KeyPair> key_;
};

}  // namespace updraft::bench

#endif  // UPDRAFT_BENCH_PUSH_COORDINATOR_H_
