#ifndef UPDRAFT_SDK_DEVICE_PERIODIC_CHECKER_H_
#define UPDRAFT_SDK_DEVICE_PERIODIC_CHECKER_H_

#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace updraft::device {

// Active upgrade on a schedule (design.md section 1, "periodic check"): runs
// `check` about every `interval`, each wait shortened or lengthened by up to
// `jitter` of it, so a fleet switched on at the same moment does not check at
// the same moment. The first check comes after a random fraction of
// `first_delay_max` (default: one interval) for the same reason. A failed
// check (an error, e.g. the catalog unreachable) is retried after
// `retry_interval` (jittered too) instead of a whole interval.
//
// The schedule is driven by `clock`: tests advance a FakeClock and call
// RunIfDue(); Start() runs a background thread that waits on the real time
// until the next check is due (Stop() interrupts it). Thread-safe.
class PeriodicChecker {
 public:
  struct Options {
    absl::Duration interval = absl::Hours(24);
    // Fraction of each wait randomised, in [0, 1): a wait is
    // interval * (1 + jitter * u) with u uniform in [-1, 1].
    double jitter = 0.1;
    absl::Duration retry_interval = absl::Minutes(15);
    // Upper bound of the random delay before the first check; negative: one
    // interval; zero: check at once.
    absl::Duration first_delay_max = absl::Seconds(-1);
    // The check, e.g. Client::RunActiveUpgrade; an error schedules a retry.
    std::function<absl::Status()> check;
    const Clock* clock = nullptr;  // the real clock by default
    // Seed of the jitter (0: random), so tests see a fixed schedule.
    uint64_t seed = 0;
  };

  // INVALID_ARGUMENT names a missing `check` or a bad interval or jitter.
  static absl::StatusOr<std::unique_ptr<PeriodicChecker>> Create(Options options);
  ~PeriodicChecker();

  // When the next check is due.
  absl::Time next_check() const;
  // Runs the check when it is due on `clock` and schedules the next one;
  // true when it ran.
  bool RunIfDue();
  // Starts the background thread (once); Stop() joins it.
  void Start();
  void Stop();

  int checks_run() const;
  // How the last check ended (OK before the first).
  absl::Status last_status() const;

 private:
  explicit PeriodicChecker(Options options);
  // interval * (1 + jitter * u) for u uniform in [-1, 1].
  absl::Duration Jittered(absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  Options options_;
  RealClock real_clock_;
  const Clock* clock_;
  // Held while a check runs, so two never overlap.
  absl::Mutex run_mu_;
  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  absl::Time next_ ABSL_GUARDED_BY(mu_);
  int checks_run_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_PERIODIC_CHECKER_H_
