#include "sdk/device/periodic_checker.h"

#include <algorithm>

namespace updraft::device {

absl::StatusOr<std::unique_ptr<PeriodicChecker>> PeriodicChecker::Create(Options options) {
  if (!options.check)
    return absl::InvalidArgumentError("PeriodicChecker::Options.check is required");
  if (options.interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("PeriodicChecker::Options.interval must be at least 1 s");
  }
  if (options.retry_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "PeriodicChecker::Options.retry_interval must be at least 1 s");
  }
  if (!(options.jitter >= 0 && options.jitter < 1)) {
    return absl::InvalidArgumentError("PeriodicChecker::Options.jitter must be within [0, 1)");
  }
  return std::unique_ptr<PeriodicChecker>(new PeriodicChecker(std::move(options)));
}

PeriodicChecker::PeriodicChecker(Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &real_clock_) {
  absl::MutexLock lock(&mu_);
  rng_.seed(options_.seed != 0 ? options_.seed : std::random_device{}());
  absl::Duration first = options_.first_delay_max < absl::ZeroDuration() ? options_.interval
                                                                         : options_.first_delay_max;
  next_ = clock_->Now() + first * std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

PeriodicChecker::~PeriodicChecker() { Stop(); }

absl::Duration PeriodicChecker::Jittered(absl::Duration d) {
  double u = std::uniform_real_distribution<double>(-1.0, 1.0)(rng_);
  return d * (1.0 + options_.jitter * u);
}

absl::Time PeriodicChecker::next_check() const {
  absl::MutexLock lock(&mu_);
  return next_;
}

int PeriodicChecker::checks_run() const {
  absl::MutexLock lock(&mu_);
  return checks_run_;
}

absl::Status PeriodicChecker::last_status() const {
  absl::MutexLock lock(&mu_);
  return last_status_;
}

bool PeriodicChecker::RunIfDue() {
  absl::MutexLock run_lock(&run_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (clock_->Now() < next_) return false;
  }
  absl::Status status = options_.check();
  absl::MutexLock lock(&mu_);
  ++checks_run_;
  last_status_ = status;
  next_ = clock_->Now() + Jittered(status.ok() ? options_.interval : options_.retry_interval);
  return true;
}

void PeriodicChecker::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stop_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void PeriodicChecker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicChecker::Run() {
  while (true) {
    RunIfDue();
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    // Waits on real time; re-reads the clock each round, so a wait is cut
    // short when the (injected) clock moves.
    absl::Duration wait = std::min(next_ - clock_->Now(), absl::Minutes(1));
    if (wait > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&stop_), wait);
    if (stop_) return;
  }
}

}  // namespace updraft::device
