#ifndef UPDRAFT_TESTS_NOTIFIER_FLEET_H_
#define UPDRAFT_TESTS_NOTIFIER_FLEET_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::e2e {

// Thousands of devices holding IP Push streams to a notifier, for fault
// injection tests (tests/notifier_fanout_kill_test.cc). Each device
// subscribes with its own token; `devices_per_connection` devices share one
// gRPC connection (their own, not gRPC's global subchannel pool), so
// thousands of streams need a few hundred file descriptors. Streams use the
// callback API (no thread per device). A device acknowledges every
// notification it reads, and re-subscribes when its stream ends (after
// 50 ms, as the SDK's backoff would) to the notifier named by the last
// Target call. Notifiers are told apart by a generation number given to
// Target; every receipt and Ack answer records the generation it came from.
class NotifierFleet {
 public:
  struct Device {
    std::string id;
    std::string token;
  };
  NotifierFleet(std::vector<Device> devices, int devices_per_connection);
  ~NotifierFleet();  // Stop()

  // From now on devices without a stream subscribe to `address`, notifier
  // generation `gen` (> 0); "" makes them wait (no notifier is up).
  void Target(const std::string& address, int gen);
  // Runs `fn` once, on the stream callback of the `n`-th notification the
  // devices read from now on (before that device acknowledges it); `fn` may
  // block and may call this fleet.
  void OnReceipt(int n, std::function<void()> fn);
  // Cancels every stream and waits for every stream and Ack to end.
  void Stop();

  // Devices whose stream to `gen` is open (its initial metadata came: the
  // notifier registered it).
  int Subscribed(int gen);
  // Streams to `gen` not ended yet.
  int OpenStreams(int gen);
  // Notifications all devices read so far.
  int Receipts();
  // The first notification ID read from `gen` that is not in `except` (""
  // when none).
  std::string FirstNotificationFrom(int gen, const std::set<std::string>& except);
  // Time between the first and the last receipt of `notification_id` from
  // `gen`.
  absl::Duration ReceiptSpread(const std::string& notification_id, int gen);
  // When the last device read `notification_id` (InfinitePast when none).
  absl::Time LastReceipt(const std::string& notification_id);
  // Devices that read `notification_id` from `gen` (0: from any notifier).
  int DevicesWith(const std::string& notification_id, int gen = 0);
  // Devices whose Ack of `notification_id` `gen` answered OK.
  int DevicesAckedBy(const std::string& notification_id, int gen);

  struct Counts {
    int twice = 0;             // read it exactly twice
    int more_than_twice = 0;   // read it three times or more
    int other_ids = 0;         // read an ID not in `known`
    int resent_after_ack = 0;  // read it again after `gen` answered its Ack OK
    // No Ack of it answered OK, but one sent to `gen` failed and it was not
    // sent again: that Ack committed and its answer was lost.
    int answer_lost = 0;
    int not_acked = 0;               // no Ack of it answered OK, none lost to `gen`
    std::string not_acked_examples;  // what a few of those read and were answered
  };
  Counts Check(const std::string& notification_id, const std::set<std::string>& known, int gen);

 private:
  class Stream;
  struct Receipt {
    std::string id;
    int gen;
    absl::Time at;
  };
  struct AckAnswer {
    std::string id;
    int gen;
    bool ok;
    std::string error;
  };
  struct State {
    int gen = 0;  // of its current stream; 0: none
    bool subscribed = false;
    absl::Time not_before;  // re-subscribes after this
    std::vector<Receipt> receipts;
    std::vector<AckAnswer> acks;
  };

  void Loop();
  void OnSubscribed(int device, int gen);
  void OnReceived(int device, int gen, const std::string& id, v1::Notifier::Stub* stub);
  void OnEnded(Stream* stream);

  const std::vector<Device> devices_;
  const int per_connection_;
  absl::Mutex mu_;
  std::vector<State> states_ ABSL_GUARDED_BY(mu_);
  std::string address_ ABSL_GUARDED_BY(mu_);
  int gen_ ABSL_GUARDED_BY(mu_) = 0;
  // One stub (one connection) per `per_connection_` devices, per generation.
  std::map<int, std::vector<std::unique_ptr<v1::Notifier::Stub>>> stubs_ ABSL_GUARDED_BY(mu_);
  // Every stream ever started; freed only by the destructor, so Stop can
  // cancel one that is ending.
  std::vector<std::unique_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int acks_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int receipts_until_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> on_receipt_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread loop_;
};

}  // namespace updraft::e2e

#endif  // UPDRAFT_TESTS_NOTIFIER_FLEET_H_
