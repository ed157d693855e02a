#include "tools/fleet_sim/fleet.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_util.h"
#include "sdk/device/file_util.h"
#include "sdk/device/push_handler.h"

namespace updraft::fleet_sim {
namespace {

// The calling thread's random bits (reconnect jitter).
std::mt19937_64& Rng() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

constexpr int kImportBatch = 10000;
// Descriptors besides the stream connections: shared channels, gRPC's
// pollers, state files being written, stdio.
constexpr int kReservedFds = 200;

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace

void PhaseStats::Add(const std::string& outcome, absl::Duration d) {
  ++outcomes[outcome];
  durations_ms.push_back(absl::ToDoubleMilliseconds(d));
}

double PhaseStats::PercentileMs(double p) const {
  if (durations_ms.empty()) return 0;
  std::vector<double> sorted = durations_ms;
  std::sort(sorted.begin(), sorted.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// One device's IP Push stream (Notifier.Subscribe) on gRPC's callback API,
// so thousands of streams need no thread each. Reference-counted: the call
// holds one reference until OnDone, StopStreams one while it cancels (gRPC
// may run OnDone inline in TryCancel, so that happens outside the fleet's
// lock).
class Fleet::Stream final : public grpc::ClientReadReactor<v1::Notification> {
 public:
  Stream(Fleet* fleet, int index, absl::Time started)
      : fleet_(fleet), index_(index), started_(started) {}

  void Start(v1::Notifier::Stub* stub, const std::string& token) {
    ctx_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    stub->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&notification_);
    StartCall();
  }
  void Cancel() { ctx_.TryCancel(); }
  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  bool opened() const { return opened_; }
  absl::Time started() const { return started_; }

  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;
    opened_ = true;
    fleet_->StreamOpened(index_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    fleet_->pool_->Post([fleet = fleet_, index = index_, notification = notification_] {
      fleet->HandleNotification(index, notification);
    });
    StartRead(&notification_);
  }
  void OnDone(const grpc::Status& status) override {
    fleet_->StreamEnded(index_, this, status);
    Unref();
  }

 private:
  Fleet* const fleet_;
  const int index_;
  const absl::Time started_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::Notification notification_;
  bool opened_ = false;
  std::atomic<int> refs_{1};
};

absl::Status Fleet::CheckFileLimit(int devices, int devices_per_connection) {
  const int64_t connections =
      (devices + std::max(devices_per_connection, 1) - 1) / std::max(devices_per_connection, 1);
  const int64_t needed = connections + kReservedFds;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("getrlimit failed");
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(limit.rlim_cur) < needed) {
    struct rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY
                          ? needed
                          : std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(needed));
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(limit.rlim_cur) < needed) {
    const int64_t fit = std::max<int64_t>(
        0, (static_cast<int64_t>(limit.rlim_cur) - kReservedFds) * devices_per_connection);
    return absl::ResourceExhaustedError(absl::StrCat(
        devices, " devices need about ", needed, " file descriptors (one connection per ",
        devices_per_connection, " device(s)) but this process may open ", limit.rlim_cur,
        " (RLIMIT_NOFILE): at most ", fit,
        " devices fit; run several processes, raise ulimit -n or --devices_per_connection"));
  }
  return absl::OkStatus();
}

Fleet::Fleet(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Create(Options options) {
  if (options.devices <= 0) return absl::InvalidArgumentError("the fleet needs at least 1 device");
  if (options.base_dir.empty()) return absl::InvalidArgumentError("the base directory is required");
  if (options.concurrency <= 0) return absl::InvalidArgumentError("concurrency must be positive");
  if (options.devices_per_connection <= 0) {
    return absl::InvalidArgumentError("devices_per_connection must be positive");
  }
  UPDRAFT_RETURN_IF_ERROR(CheckFileLimit(options.devices, options.devices_per_connection));
  UPDRAFT_RETURN_IF_ERROR(device::MakeDirectories(options.base_dir));
  // The CA and client key are read once for every channel of the fleet.
  UPDRAFT_ASSIGN_OR_RETURN(options.security, device::LoadChannelCredentials(options.security));
  std::unique_ptr<Fleet> f(new Fleet(std::move(options)));
  const Options& o = f->options_;
  UPDRAFT_ASSIGN_OR_RETURN(f->auth_channel_,
                           device::MakeServiceChannel(o.auth_address, o.security));
  UPDRAFT_ASSIGN_OR_RETURN(f->catalog_channel_,
                           device::MakeServiceChannel(o.catalog_address, o.security));
  // Download channels, one per target, shared by the fleet.
  struct DownloadChannels {
    absl::Mutex mu;
    std::map<std::string, std::shared_ptr<grpc::Channel>> by_target;
  };
  auto downloads = std::make_shared<DownloadChannels>();
  device::ChannelSecurity security = o.security;
  auto download_factory = [downloads, security](const std::string& target) {
    absl::MutexLock lock(&downloads->mu);
    std::shared_ptr<grpc::Channel>& c = downloads->by_target[target];
    if (c == nullptr) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
          device::MakeServiceChannel(target, security);
      if (!made.ok()) return std::shared_ptr<grpc::Channel>();
      c = *std::move(made);
    }
    return c;
  };
  const int width = std::max<int>(6, absl::StrCat(o.first_index + o.devices - 1).size());
  for (int i = 0; i < o.devices; ++i) {
    auto d = std::make_unique<Device>(&o.reconnect);
    const std::string id =
        absl::StrCat(o.id_prefix, absl::StrFormat("%0*d", width, o.first_index + i));
    SimDevice::Options so = SimDevice::FleetLayout(o.base_dir, id);
    UPDRAFT_RETURN_IF_ERROR(device::MakeDirectories(absl::StrCat(o.base_dir, "/", id)));
    so.auth_channel = f->auth_channel_;
    so.catalog_channel = f->catalog_channel_;
    so.download_channel_factory = download_factory;
    so.download_target_override = o.download_address;
    so.security = o.security;
    so.attributes = o.attributes;
    const bool consent = o.consent;
    so.consent = [consent](const v1::Offer&) { return consent; };
    absl::StatusOr<std::unique_ptr<SimDevice>> sim = SimDevice::Create(std::move(so));
    if (!sim.ok()) {
      return absl::Status(sim.status().code(), absl::StrCat(id, ": ", sim.status().message()));
    }
    d->sim = *std::move(sim);
    f->devices_.push_back(std::move(d));
  }
  f->pool_ = std::make_unique<WorkPool>(o.concurrency);
  return f;
}

Fleet::~Fleet() {
  StopStreams();
  pool_.reset();
}

const std::string& Fleet::device_id(int i) const { return devices_[i]->sim->device_id(); }

std::string Fleet::ImportCsv(int begin, int end) const {
  std::string csv = "device_id,key_type,public_key\n";
  for (int i = begin; i < end && i < size(); ++i) {
    absl::StrAppend(&csv, device_id(i), ",ed25519,", devices_[i]->sim->PublicKeyBase64(), "\n");
  }
  return csv;
}

PhaseStats Fleet::Register(const std::function<absl::Status(grpc::ClientContext*)>& authorize) {
  PhaseStats stats;
  stats.name = "register";
  const absl::Time start = absl::Now();
  auto admin = v1::AuthAdmin::NewStub(auth_channel_);
  for (int begin = 0; begin < size(); begin += kImportBatch) {
    const int end = std::min(size(), begin + kImportBatch);
    const absl::Time t0 = absl::Now();
    grpc::ClientContext ctx;
    SetDeadline(ctx, options_.rpc_timeout * 4);
    absl::Status s = authorize(&ctx);
    v1::ImportDevicesRequest request;
    request.set_csv(ImportCsv(begin, end));
    v1::ImportDevicesResponse response;
    if (s.ok()) s = FromGrpcStatus(admin->ImportDevices(&ctx, request, &response));
    if (s.ok()) {
      const absl::Duration per = (absl::Now() - t0) / (end - begin);
      for (int i = begin; i < end; ++i) stats.Add("imported", per);
      continue;
    }
    if (!absl::IsAlreadyExists(s)) {
      for (int i = begin; i < end; ++i) stats.Add(absl::StrCat("error_", CodeName(s.code())), {});
      fprintf(stderr, "fleet_sim: ImportDevices: %s\n", std::string(s.message()).c_str());
      continue;
    }
    for (int i = begin; i < end; ++i) {
      const absl::Time t1 = absl::Now();
      grpc::ClientContext one;
      SetDeadline(one, options_.rpc_timeout);
      absl::Status rs = authorize(&one);
      v1::RegisterDeviceRequest r;
      r.set_device_id(device_id(i));
      r.set_ed25519_public_key(devices_[i]->sim->client().public_key());
      v1::Device device;
      if (rs.ok()) rs = FromGrpcStatus(admin->RegisterDevice(&one, r, &device));
      stats.Add(rs.ok()                     ? "registered"
                : absl::IsAlreadyExists(rs) ? "already_registered"
                                            : absl::StrCat("error_", CodeName(rs.code())),
                absl::Now() - t1);
    }
  }
  stats.wall = absl::Now() - start;
  return stats;
}

std::string Fleet::OutcomeOf(const absl::StatusOr<std::vector<device::UpdateOutcome>>& r) {
  if (!r.ok()) return absl::StrCat("error_", CodeName(r.status().code()));
  bool installed = false;
  for (const device::UpdateOutcome& o : *r) {
    if (o.nothing_new) continue;
    if (!o.success()) return absl::StrCat("failed_", static_cast<int>(o.result));
    if (!o.reported) return "unreported";
    installed = true;
  }
  return installed ? "installed" : "nothing_new";
}

PhaseStats Fleet::RunActiveUpgrades() {
  PhaseStats stats;
  stats.name = "active_upgrade";
  absl::Mutex stats_mu;
  const absl::Time start = absl::Now();
  for (int i = 0; i < size(); ++i) {
    pool_->Post([this, i, &stats, &stats_mu] {
      Device& d = *devices_[i];
      absl::MutexLock lock(&d.mu);
      const absl::Time t0 = absl::Now();
      std::string outcome = OutcomeOf(d.sim->client().RunActiveUpgrade());
      absl::MutexLock slock(&stats_mu);
      stats.Add(outcome, absl::Now() - t0);
    });
  }
  pool_->WaitIdle();
  stats.wall = absl::Now() - start;
  return stats;
}

PhaseStats Fleet::OpenStreams(absl::Duration timeout) {
  const absl::Time start = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
    connect_stats_ = PhaseStats();
    connect_stats_.name = "ip_push_connect";
    first_pending_ = size();
    for (auto& d : devices_) d->first_done = false;
  }
  for (int i = 0; i < size(); ++i) {
    Device& d = *devices_[i];
    if (d.stream_channel == nullptr) {
      if (i % options_.devices_per_connection == 0) {
        grpc::ChannelArguments extra;
        extra.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        for (const auto& [name, value] : options_.stream_channel_args) extra.SetInt(name, value);
        absl::StatusOr<std::shared_ptr<grpc::Channel>> c = device::MakeStreamChannel(
            options_.notifier_address, options_.security, options_.keepalive_time_ms, extra);
        if (!c.ok()) {
          absl::MutexLock lock(&mu_);
          FirstAttemptDone(i, absl::StrCat("error_", CodeName(c.status().code())), {});
          continue;
        }
        connections_.push_back(*std::move(c));
      }
      if (connections_.empty()) continue;
      d.stream_channel = connections_.back();
      d.notifier = v1::Notifier::NewStub(d.stream_channel);
    }
    pool_->Post([this, i] { Connect(i, /*first=*/true); });
  }
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return first_pending_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  PhaseStats stats = connect_stats_;
  if (first_pending_ > 0) stats.outcomes["still_connecting"] += first_pending_;
  stats.wall = absl::Now() - start;
  return stats;
}

void Fleet::Connect(int index, bool first) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
  }
  Device& d = *devices_[index];
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::string> token;
  {
    absl::MutexLock lock(&d.mu);
    token = d.sim->client().AccessToken();
  }
  if (!token.ok()) {
    absl::MutexLock lock(&mu_);
    if (first)
      FirstAttemptDone(index, absl::StrCat("login_", CodeName(token.status().code())),
                       absl::Now() - t0);
    if (!stopping_) {
      pool_->PostAt(absl::Now() + d.backoff.Next(Rng()), [this, index] { Connect(index, false); });
    }
    return;
  }
  auto* stream = new Stream(this, index, t0);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      delete stream;
      return;
    }
    streams_[index] = stream;
  }
  stream->Start(d.notifier.get(), *token);
}

void Fleet::FirstAttemptDone(int index, const std::string& outcome, absl::Duration d) {
  Device& dev = *devices_[index];
  if (dev.first_done) return;
  dev.first_done = true;
  --first_pending_;
  connect_stats_.Add(outcome, d);
}

void Fleet::StreamOpened(int index) {
  absl::MutexLock lock(&mu_);
  ++open_;
  ++opened_total_;
  auto it = streams_.find(index);
  Device& d = *devices_[index];
  d.backoff.Reset();
  if (it != streams_.end()) FirstAttemptDone(index, "open", absl::Now() - it->second->started());
}

void Fleet::StreamEnded(int index, Stream* stream, const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(index);
  if (it != streams_.end() && it->second == stream) streams_.erase(it);
  if (stream->opened()) --open_;
  Device& d = *devices_[index];
  FirstAttemptDone(
      index, absl::StrCat("stream_", CodeName(static_cast<absl::StatusCode>(status.error_code()))),
      absl::Now() - stream->started());
  if (stopping_) return;
  const bool unauthenticated = status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  const absl::Duration wait = d.backoff.Next(Rng());
  pool_->PostAt(absl::Now() + wait, [this, index, unauthenticated] {
    if (unauthenticated) {
      Device& dev = *devices_[index];
      absl::MutexLock dlock(&dev.mu);
      dev.sim->client().ForgetToken();
    }
    Connect(index, false);
  });
}

void Fleet::HandleNotification(int index, const v1::Notification& notification) {
  Device& d = *devices_[index];
  const absl::Time t0 = absl::Now();
  std::string outcome;
  {
    absl::MutexLock lock(&d.mu);
    if (d.push == nullptr) {
      device::PushHandler::Options p;
      p.client = &d.sim->client();
      p.notifier_channel = d.stream_channel;
      p.state_dir = SimDevice::FleetLayout(options_.base_dir, d.sim->device_id()).state_dir;
      p.rpc_timeout = options_.rpc_timeout;
      absl::StatusOr<std::unique_ptr<device::PushHandler>> push =
          device::PushHandler::Create(std::move(p));
      if (push.ok()) d.push = *std::move(push);
    }
    if (d.push == nullptr) {
      outcome = "push_setup_failed";
    } else if (absl::StatusOr<device::PushResult> handled = d.push->HandleIpPush(notification);
               !handled.ok()) {
      outcome = absl::StrCat("rejected_", CodeName(handled.status().code()));
    } else {
      outcome = OutcomeOf(handled->outcomes);
    }
  }
  absl::MutexLock lock(&mu_);
  push_stats_.Add(outcome, absl::Now() - t0);
}

int Fleet::streams_open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

bool Fleet::WaitForStreams(int open, int opened_total, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, open, opened_total]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return open_ >= open && opened_total_ >= opened_total;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

bool Fleet::WaitForPushes(int n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(push_stats_.durations_ms.size()) >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

PhaseStats Fleet::PushStats() const {
  absl::MutexLock lock(&mu_);
  PhaseStats s = push_stats_;
  s.name = "push";
  return s;
}

void Fleet::StopStreams() {
  std::vector<Stream*> streams;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [index, stream] : streams_) {
      stream->Ref();
      streams.push_back(stream);
    }
  }
  for (Stream* s : streams) {
    s->Cancel();
    s->Unref();
  }
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&none), absl::Seconds(30));
}

}  // namespace updraft::fleet_sim
