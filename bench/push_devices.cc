#include "bench/push_devices.h"

#include <time.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::bench {

int64_t RealNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// One Subscribe attempt of one device, on a channel of its own.
class GrpcDevices::Call final : public grpc::ClientReadReactor<v1::Notification> {
 public:
  Call(GrpcDevices* owner, int device) : owner_(owner), device_(device) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    args.SetInt("updraft.bench.device", owner->options_.first + device);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    channel_ =
        grpc::CreateCustomChannel(owner->options_.target, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Notifier::NewStub(channel_);
    ctx_.AddMetadata("authorization", "Bearer " + owner->options_.tokens[device]);
  }
  void Start() {
    stub_->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&n_);
    StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) owner_->OnConnected(device_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    owner_->OnReceived(device_, n_.notification_id());
    StartRead(&n_);
  }
  // Deleted by the scheduler thread: destroying a channel on gRPC's own
  // callback thread can free the callback queue under that thread.
  void OnDone(const grpc::Status&) override { owner_->OnEnded(device_, this); }

 private:
  GrpcDevices* const owner_;
  const int device_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Notifier::Stub> stub_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::Notification n_;
};

GrpcDevices::GrpcDevices(Options options)
    : options_(std::move(options)), policy_(options_.policy), rng_(std::random_device{}()) {
  // Holds gRPC's callback queue for the life of the process.
  keeper_ = grpc::CreateChannel(options_.target, grpc::InsecureChannelCredentials());
  absl::MutexLock lock(&mu_);
  devices_.reserve(options_.count);
  for (int i = 0; i < options_.count; ++i) devices_.emplace_back(&policy_);
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

GrpcDevices::~GrpcDevices() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  scheduler_.join();
}

void GrpcDevices::OpenAll() {
  absl::MutexLock lock(&mu_);
  absl::Time now = absl::Now();
  for (int i = 0; i < options_.count; ++i) due_.push({now, i});
}

void GrpcDevices::SetJitter(double jitter) {
  absl::MutexLock lock(&mu_);
  policy_.jitter = jitter;
}

GrpcDevices::Counts GrpcDevices::counts() const {
  absl::MutexLock lock(&mu_);
  return {connected_, static_cast<int64_t>(receipts_.size()), attempts_total_};
}

void GrpcDevices::Mark() {
  absl::MutexLock lock(&mu_);
  attempt_ns_.clear();
  connect_ns_.clear();
}

void GrpcDevices::Dump(FILE* out) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, ns] : receipts_) fprintf(out, "R %s %lld\n", id.c_str(), (long long)ns);
  for (int64_t ns : attempt_ns_) fprintf(out, "A %lld\n", (long long)ns);
  for (int64_t ns : connect_ns_) fprintf(out, "C %lld\n", (long long)ns);
  fprintf(out, "END\n");
  fflush(out);
}

void GrpcDevices::Attempt(int device) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    ++attempts_total_;
    ++calls_alive_;
    attempt_ns_.push_back(RealNanos());
  }
  (new Call(this, device))->Start();
}

void GrpcDevices::OnConnected(int device) {
  absl::MutexLock lock(&mu_);
  devices_[device].connected = true;
  ++connected_;
  connect_ns_.push_back(RealNanos());
}

void GrpcDevices::OnReceived(int, const std::string& id) {
  int64_t now = RealNanos();
  absl::MutexLock lock(&mu_);
  receipts_.emplace_back(id, now);
}

void GrpcDevices::OnEnded(int device, Call* call) {
  absl::MutexLock lock(&mu_);
  --calls_alive_;
  ended_.push_back(call);
  if (stopping_) return;
  Device& d = devices_[device];
  if (d.connected) {
    d.connected = false;
    --connected_;
    d.backoff.Reset();
  }
  due_.push({absl::Now() + d.backoff.Next(rng_), device});
}

void GrpcDevices::SchedulerLoop() {
  while (true) {
    std::vector<int> now_due;
    std::vector<Call*> ended;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !ended_.empty() || (!due_.empty() && due_.top().first <= absl::Now());
      };
      absl::Time wake = due_.empty() ? absl::Now() + absl::Milliseconds(50) : due_.top().first;
      mu_.AwaitWithDeadline(absl::Condition(&ready),
                            std::min(wake, absl::Now() + absl::Milliseconds(50)));
      if (stopping_) break;
      ended.swap(ended_);
      const absl::Time now = absl::Now();
      while (!due_.empty() && due_.top().first <= now && now_due.size() < 512) {
        now_due.push_back(due_.top().second);
        due_.pop();
      }
    }
    for (Call* c : ended) delete c;
    for (int d : now_due) Attempt(d);
  }
  // Cancel nothing explicitly: the process exits after Dump/QUIT.
}

}  // namespace updraft::bench
