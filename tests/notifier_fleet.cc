#include "tests/notifier_fleet.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace updraft::e2e {
namespace {

constexpr absl::Duration kResubscribeDelay = absl::Milliseconds(50);
constexpr absl::Duration kAckDeadline = absl::Seconds(10);

}  // namespace

// One device's Subscribe call to one notifier.
class NotifierFleet::Stream final : public grpc::ClientReadReactor<v1::Notification> {
 public:
  Stream(NotifierFleet* fleet, int device, int gen, v1::Notifier::Stub* stub,
         const std::string& token)
      : fleet_(fleet), device_(device), gen_(gen), stub_(stub) {
    ctx_.AddMetadata("authorization", "Bearer " + token);
  }
  int device() const { return device_; }
  int gen() const { return gen_; }

  void Start() {
    stub_->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&n_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) fleet_->OnSubscribed(device_, gen_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    fleet_->OnReceived(device_, gen_, n_.notification_id(), stub_);
    StartRead(&n_);
  }
  void OnDone(const grpc::Status&) override { fleet_->OnEnded(this); }

 private:
  NotifierFleet* const fleet_;
  const int device_;
  const int gen_;
  v1::Notifier::Stub* const stub_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::Notification n_;
};

NotifierFleet::NotifierFleet(std::vector<Device> devices, int devices_per_connection)
    : devices_(std::move(devices)),
      per_connection_(std::max(1, devices_per_connection)),
      states_(devices_.size()) {
  loop_ = std::thread([this] { Loop(); });
}

NotifierFleet::~NotifierFleet() { Stop(); }

void NotifierFleet::Target(const std::string& address, int gen) {
  absl::MutexLock lock(&mu_);
  address_ = address;
  gen_ = gen;
  if (address.empty() || stubs_.count(gen) > 0) return;
  auto& stubs = stubs_[gen];
  const size_t connections = (devices_.size() + per_connection_ - 1) / per_connection_;
  for (size_t i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    // Without it, channels to one address share one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(v1::Notifier::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
  }
}

void NotifierFleet::OnReceipt(int n, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  receipts_until_ = n;
  on_receipt_ = std::move(fn);
}

void NotifierFleet::Loop() {
  while (true) {
    std::vector<Stream*> start;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(10));
      if (stop_) return;
      if (address_.empty()) continue;
      const absl::Time now = absl::Now();
      auto& stubs = stubs_[gen_];
      for (size_t i = 0; i < states_.size(); ++i) {
        State& s = states_[i];
        if (s.gen != 0 || s.not_before > now) continue;
        s.gen = gen_;
        streams_.push_back(std::make_unique<Stream>(this, i, gen_, stubs[i / per_connection_].get(),
                                                    devices_[i].token));
        ++open_;
        start.push_back(streams_.back().get());
      }
    }
    for (Stream* s : start) s->Start();
  }
}

void NotifierFleet::OnSubscribed(int device, int gen) {
  absl::MutexLock lock(&mu_);
  if (states_[device].gen == gen) states_[device].subscribed = true;
}

void NotifierFleet::OnReceived(int device, int gen, const std::string& id,
                               v1::Notifier::Stub* stub) {
  std::function<void()> fn;
  {
    absl::MutexLock lock(&mu_);
    states_[device].receipts.push_back({id, gen, absl::Now()});
    if (on_receipt_ && --receipts_until_ <= 0) fn.swap(on_receipt_);
    ++acks_in_flight_;
  }
  if (fn) fn();
  struct AckCall {
    grpc::ClientContext ctx;
    v1::AckRequest request;
    v1::AckResponse response;
  };
  auto* call = new AckCall;
  call->ctx.AddMetadata("authorization", "Bearer " + devices_[device].token);
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + kAckDeadline));
  call->request.set_notification_id(id);
  stub->async()->Ack(
      &call->ctx, &call->request, &call->response, [this, call, device, gen, id](grpc::Status s) {
        {
          absl::MutexLock lock(&mu_);
          states_[device].acks.push_back(
              {id, gen, s.ok(), absl::StrCat(s.error_code(), " ", s.error_message())});
          --acks_in_flight_;
        }
        delete call;
      });
}

void NotifierFleet::OnEnded(Stream* stream) {
  absl::MutexLock lock(&mu_);
  State& s = states_[stream->device()];
  if (s.gen == stream->gen()) {
    s.gen = 0;
    s.subscribed = false;
    s.not_before = absl::Now() + kResubscribeDelay;
  }
  --open_;
}

void NotifierFleet::Stop() {
  std::vector<Stream*> streams;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    for (auto& s : streams_) streams.push_back(s.get());
  }
  if (loop_.joinable()) loop_.join();
  for (Stream* s : streams) s->Cancel();
  absl::MutexLock lock(&mu_);
  auto idle = [this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return open_ == 0 && acks_in_flight_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&idle), absl::Seconds(30));
}

int NotifierFleet::Subscribed(int gen) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const State& s : states_) n += s.gen == gen && s.subscribed;
  return n;
}

int NotifierFleet::OpenStreams(int gen) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const State& s : states_) n += s.gen == gen;
  return n;
}

int NotifierFleet::Receipts() {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const State& s : states_) n += s.receipts.size();
  return n;
}

std::string NotifierFleet::FirstNotificationFrom(int gen, const std::set<std::string>& except) {
  absl::MutexLock lock(&mu_);
  const Receipt* first = nullptr;
  for (const State& s : states_) {
    for (const Receipt& r : s.receipts) {
      if (r.gen == gen && except.count(r.id) == 0 && (first == nullptr || r.at < first->at)) {
        first = &r;
      }
    }
  }
  return first ? first->id : "";
}

absl::Duration NotifierFleet::ReceiptSpread(const std::string& notification_id, int gen) {
  absl::MutexLock lock(&mu_);
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  for (const State& s : states_) {
    for (const Receipt& r : s.receipts) {
      if (r.gen != gen || r.id != notification_id) continue;
      lo = std::min(lo, r.at);
      hi = std::max(hi, r.at);
    }
  }
  return hi > lo ? hi - lo : absl::ZeroDuration();
}

absl::Time NotifierFleet::LastReceipt(const std::string& notification_id) {
  absl::MutexLock lock(&mu_);
  absl::Time last = absl::InfinitePast();
  for (const State& s : states_) {
    for (const Receipt& r : s.receipts) {
      if (r.id == notification_id) last = std::max(last, r.at);
    }
  }
  return last;
}

int NotifierFleet::DevicesAckedBy(const std::string& notification_id, int gen) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const State& s : states_) {
    n += std::any_of(s.acks.begin(), s.acks.end(), [&](const AckAnswer& a) {
      return a.id == notification_id && a.gen == gen && a.ok;
    });
  }
  return n;
}

int NotifierFleet::DevicesWith(const std::string& notification_id, int gen) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const State& s : states_) {
    n += std::any_of(s.receipts.begin(), s.receipts.end(), [&](const Receipt& r) {
      return r.id == notification_id && (gen == 0 || r.gen == gen);
    });
  }
  return n;
}

NotifierFleet::Counts NotifierFleet::Check(const std::string& notification_id,
                                           const std::set<std::string>& known, int gen) {
  absl::MutexLock lock(&mu_);
  Counts c;
  for (size_t i = 0; i < states_.size(); ++i) {
    const State& s = states_[i];
    int times = 0;
    bool other = false;
    for (const Receipt& r : s.receipts) {
      times += r.id == notification_id;
      other = other || known.count(r.id) == 0;
    }
    bool acked = false, acked_by_gen = false, lost = false;
    for (const AckAnswer& a : s.acks) {
      if (a.id != notification_id) continue;
      acked = acked || a.ok;
      acked_by_gen = acked_by_gen || (a.ok && a.gen == gen);
      lost = lost || (!a.ok && a.gen == gen);
    }
    c.twice += times == 2;
    c.more_than_twice += times > 2;
    c.other_ids += other;
    c.resent_after_ack += acked_by_gen && times > 1;
    const bool answer_lost = !acked && lost && times == 1;
    c.answer_lost += answer_lost;
    c.not_acked += !acked && !answer_lost;
    if (!acked && !answer_lost && c.not_acked <= 3) {
      absl::StrAppend(&c.not_acked_examples, devices_[i].id, " read:");
      for (const Receipt& r : s.receipts) {
        absl::StrAppend(&c.not_acked_examples, " ", r.id, "@", r.gen, "/", absl::FormatTime(r.at));
      }
      absl::StrAppend(&c.not_acked_examples, "; acks:");
      for (const AckAnswer& a : s.acks) {
        absl::StrAppend(&c.not_acked_examples, " ", a.id, "@", a.gen, "=", a.error);
      }
      absl::StrAppend(&c.not_acked_examples, "\n");
    }
  }
  return c;
}

}  // namespace updraft::e2e
