#include "bench/push_coordinator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/mqtt_devices.h"
#include "bench/push_devices.h"
#include "common/clock.h"
#include "common/token.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::bench {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// Source/target addresses 127.0.0.2 .. 127.0.0.9, one per process.
std::string Loopback(int process) { return absl::StrCat("127.0.0.", 2 + process % 8); }

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

double Seconds(int64_t ns) { return ns / 1e9; }

}  // namespace

Coordinator::Coordinator(Options options)
    : options_(std::move(options)), key_(*Ed25519KeyPair::Generate()) {}

std::unique_ptr<ChildProcess> Coordinator::StartServer(int port, bool lean,
                                                       const std::string& extra_args) {
  auto c =
      ChildProcess::Start({options_.self, "--role=server", absl::StrCat("--listen=0.0.0.0:", port),
                           "--pg_uri=" + options_.pg_uri, "--redis=" + options_.redis,
                           "--public_key_hex=" + absl::BytesToHexString(key_->public_key()),
                           lean ? "--lean=true" : "--lean=false", "--extra_args=" + extra_args});
  if (!c.ok()) return nullptr;
  auto line = (*c)->ReadLine(absl::Seconds(60));
  if (!line || !absl::StartsWith(*line, "LISTENING")) {
    fprintf(stderr, "push: the notifier did not start\n");
    return nullptr;
  }
  return *std::move(c);
}

Coordinator::Children Coordinator::StartGrpcDevices(int port, int devices, int processes) {
  Children out;
  const std::string key = absl::BytesToHexString(key_->private_key());
  const int per = (devices + processes - 1) / processes;
  for (int p = 0; p < processes; ++p) {
    const int first = p * per, count = std::min(per, devices - first);
    if (count <= 0) break;
    auto c = ChildProcess::Start({options_.self, "--role=grpc_devices",
                                  absl::StrCat("--target=", Loopback(p), ":", port),
                                  absl::StrCat("--first=", first), absl::StrCat("--count=", count),
                                  "--signing_key_hex=" + key});
    if (c.ok()) out.push_back(*std::move(c));
  }
  return out;
}

Coordinator::Children Coordinator::StartMqttDevices(int port) {
  Children out;
  const int per = (options_.devices + options_.processes - 1) / options_.processes;
  for (int p = 0; p < options_.processes; ++p) {
    const int first = p * per, count = std::min(per, options_.devices - first);
    if (count <= 0) break;
    auto c = ChildProcess::Start({options_.self, "--role=mqtt_devices", "--host=" + Loopback(p),
                                  absl::StrCat("--port=", port), absl::StrCat("--first=", first),
                                  absl::StrCat("--count=", count)});
    if (c.ok()) out.push_back(*std::move(c));
  }
  return out;
}

void Coordinator::Trim(ChildProcess& server) {
  server.Send("TRIM");
  (void)server.ReadLine(absl::Seconds(30));
}

bool Coordinator::All(Children& children, const std::string& command) {
  bool ok = true;
  for (auto& c : children) ok = c->Send(command) && ok;
  for (auto& c : children) {
    auto line = c->ReadLine(absl::Seconds(30));
    ok = ok && line && *line == "OK";
  }
  return ok;
}

int64_t Coordinator::StatusSum(Children& children, int field) {
  int64_t sum = 0;
  for (auto& c : children) c->Send("STATUS");
  for (auto& c : children) {
    auto line = c->ReadLine(absl::Seconds(30));
    if (!line) continue;
    std::vector<std::string> f = absl::StrSplit(*line, ' ');
    int64_t v = 0;
    if (static_cast<int>(f.size()) > field + 1 && absl::SimpleAtoi(f[field + 1], &v)) sum += v;
  }
  return sum;
}

bool Coordinator::WaitForSum(Children& children, int field, int64_t target,
                             absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (StatusSum(children, field) >= target) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

Coordinator::Dumped Coordinator::Dump(Children& children) {
  Dumped d;
  for (auto& c : children) {
    c->Send("DUMP");
    while (auto line = c->ReadLine(absl::Seconds(60))) {
      if (*line == "END") break;
      std::vector<std::string> f = absl::StrSplit(*line, ' ');
      int64_t ns = 0;
      if (f.size() == 3 && f[0] == "R" && absl::SimpleAtoi(f[2], &ns)) {
        d.receipts.emplace_back(f[1], ns);
      } else if (f.size() == 2 && absl::SimpleAtoi(f[1], &ns)) {
        (f[0] == "A" ? d.attempts : d.connects).push_back(ns);
      }
    }
  }
  return d;
}

Coordinator::FanOut Coordinator::Delays(const Dumped& d,
                                        const std::vector<std::pair<std::string, int64_t>>& sent,
                                        int64_t expected_each) {
  std::map<std::string, int64_t> t0(sent.begin(), sent.end());
  std::map<std::string, int64_t> got;
  std::vector<double> ms;
  for (const auto& [id, ns] : d.receipts) {
    auto it = t0.find(id);
    if (it == t0.end()) continue;
    ++got[id];
    ms.push_back((ns - it->second) / 1e6);
  }
  FanOut f;
  for (const auto& [id, ns] : sent) f.missing += std::max<int64_t>(0, expected_each - got[id]);
  f.p50 = Percentile(ms, 0.50);
  f.p99 = Percentile(ms, 0.99);
  f.max = ms.empty() ? 0 : ms.back();
  return f;
}

bool Coordinator::Announce(int port, int k, std::pair<std::string, int64_t>* sent) {
  static RealClock clock;
  TokenSigner signer(*key_, &clock, absl::Minutes(15));
  auto stub = v1::Notifier::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata(
      "authorization",
      "Bearer " + signer.Issue("bench-operator", kOperatorAudience, {.role = "publisher"})->token);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::AnnounceRequest req;
  req.set_software_name("bench-app");
  req.set_location(absl::StrCat("rel_", k));
  req.set_server_address("127.0.0.1:7402");
  req.set_ttl_seconds(options_.ttl_seconds);
  v1::AnnounceResponse resp;
  const int64_t t0 = RealNanos();
  grpc::Status s = stub->Announce(&ctx, req, &resp);
  if (!s.ok()) {
    fprintf(stderr, "push: Announce failed: %s\n", s.error_message().c_str());
    return false;
  }
  printf("  announcement %d: %lld devices targeted, RPC returned after %.0f ms\n", k,
         static_cast<long long>(resp.devices_targeted()), (RealNanos() - t0) / 1e6);
  *sent = {resp.notification_id(), t0};
  return true;
}

void Coordinator::Storm(int port, double jitter, Children& devices,
                        std::unique_ptr<ChildProcess>& server) {
  const int n = options_.devices;
  All(devices, absl::StrCat("POLICY ", jitter));
  All(devices, "MARK");
  const int64_t kill_ns = RealNanos();
  server->Stop(absl::Seconds(60));
  const int64_t stopped_ns = RealNanos();
  server = StartServer(port, true, "");
  const int64_t started_ns = RealNanos();
  if (!server) return;
  bool all = WaitForSum(devices, 0, n, absl::Seconds(150));
  Dumped d = Dump(devices);
  std::vector<int64_t> per_second, per_100ms;
  std::vector<double> after;
  for (int64_t ns : d.connects) {
    const int64_t rel = ns - kill_ns;
    if (rel < 0) continue;
    size_t s = rel / 1000000000, t = rel / 100000000;
    if (per_second.size() <= s) per_second.resize(s + 1);
    if (per_100ms.size() <= t) per_100ms.resize(t + 1);
    ++per_second[s];
    ++per_100ms[t];
    after.push_back(Seconds(rel));
  }
  std::vector<int64_t> attempts_per_second;
  for (int64_t ns : d.attempts) {
    if (ns < kill_ns) continue;
    size_t s = (ns - kill_ns) / 1000000000;
    if (attempts_per_second.size() <= s) attempts_per_second.resize(s + 1);
    ++attempts_per_second[s];
  }
  auto peak = [](const std::vector<int64_t>& v) {
    return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  };
  const int64_t peak_100 = peak(per_100ms) * 10;
  printf(
      "storm jitter=%.1f: drain %.2f s, restart %.2f s; %zu of %d streams back%s; "
      "reconnects: peak %lld/s (1 s buckets), %lld/s (100 ms buckets); "
      "back after p50 %.2f s, p99 %.2f s, max %.2f s (from SIGTERM); attempts %zu\n",
      jitter, Seconds(stopped_ns - kill_ns), Seconds(started_ns - stopped_ns), d.connects.size(), n,
      all ? "" : " (TIMEOUT)", static_cast<long long>(peak(per_second)),
      static_cast<long long>(peak_100), Percentile(after, 0.5), Percentile(after, 0.99),
      after.empty() ? 0.0 : after.back(), d.attempts.size());
  std::vector<std::string> hist, att;
  for (size_t s = 0; s < per_second.size(); ++s)
    hist.push_back(absl::StrCat(s, "s:", per_second[s]));
  for (size_t s = 0; s < attempts_per_second.size(); ++s) {
    att.push_back(absl::StrCat(s, "s:", attempts_per_second[s]));
  }
  printf("  established per second since SIGTERM: %s\n", absl::StrJoin(hist, " ").c_str());
  printf("  attempts per second since SIGTERM:    %s\n", absl::StrJoin(att, " ").c_str());
  printf("RESULT bench=push metric=reconnect_peak_per_s_jitter_%s value=%lld\n",
         jitter > 0 ? "on" : "off", static_cast<long long>(peak(per_second)));
  fflush(stdout);
}

bool Coordinator::RunMosquitto(FanOut* fan, double* kib_per_connection) {
  const int port = FreePort();
  const std::string conf = options_.work_dir + "/mosquitto.conf";
  {
    std::ofstream out(conf);
    out << "listener " << port << " 0.0.0.0\nallow_anonymous true\npersistence false\n"
        << "log_dest stderr\nlog_type error\nmax_connections -1\n";
  }
  auto broker = ChildProcess::Start({options_.mosquitto, "-c", conf});
  if (!broker.ok()) return false;
  for (int i = 0; i < 100 && !Accepts(port); ++i) absl::SleepFor(absl::Milliseconds(50));
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss0 = (*broker)->RssKib();
  Children subs = StartMqttDevices(port);
  All(subs, "OPEN");
  const absl::Time t = absl::Now();
  if (!WaitForSum(subs, 0, options_.devices, absl::Seconds(120))) {
    fprintf(stderr, "push: only %lld MQTT subscribers\n",
            static_cast<long long>(StatusSum(subs, 0)));
  }
  printf("mosquitto: %d subscribers in %zu processes subscribed in %.1f s\n", options_.devices,
         subs.size(), absl::ToDoubleSeconds(absl::Now() - t));
  absl::SleepFor(absl::Seconds(3));
  const int64_t rss1 = (*broker)->RssKib();
  *kib_per_connection = static_cast<double>(rss1 - rss0) / options_.devices;
  printf("mosquitto: broker RSS %lld KiB idle, %lld KiB with %d subscribers: %.2f KiB each\n",
         static_cast<long long>(rss0), static_cast<long long>(rss1), options_.devices,
         *kib_per_connection);
  std::vector<std::pair<std::string, int64_t>> sent;
  for (int k = 1; k <= options_.announcements; ++k) {
    std::string id = absl::StrCat("pub-", k);
    std::string payload = id + " ";
    payload.resize(100, 'x');
    int64_t t0 = MqttPublishOnce("127.0.0.1", port, "updraft/announce", payload);
    if (t0 == 0) return false;
    sent.push_back({id, t0});
    WaitForSum(subs, 1, static_cast<int64_t>(options_.devices) * k, absl::Seconds(30));
    absl::SleepFor(absl::Milliseconds(500));
  }
  *fan = Delays(Dump(subs), sent, options_.devices);
  for (auto& c : subs) c->Send("QUIT");
  for (auto& c : subs) c->Stop(absl::Seconds(10));
  (*broker)->Stop(absl::Seconds(10));
  return true;
}

int Coordinator::Run() {
  const int n = options_.devices;
  const int port = FreePort();
  auto server = StartServer(port, true, "");
  if (!server) return 1;
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss0 = server->RssKib();
  Children devices = StartGrpcDevices(port, n, options_.processes);
  All(devices, "OPEN");
  const absl::Time t = absl::Now();
  if (!WaitForSum(devices, 0, n, absl::Seconds(180))) {
    fprintf(stderr, "push: only %lld streams open\n",
            static_cast<long long>(StatusSum(devices, 0)));
    return 1;
  }
  const double connect_s = absl::ToDoubleSeconds(absl::Now() - t);
  printf("push: %d streams from %zu processes (targets %s..%s) open in %.1f s (%.0f/s)\n", n,
         devices.size(), Loopback(0).c_str(), Loopback(devices.size() - 1).c_str(), connect_s,
         n / connect_s);
  absl::SleepFor(absl::Seconds(3));
  const int64_t rss1 = server->RssKib();
  const double kib = static_cast<double>(rss1 - rss0) / n;
  printf("push: notifier RSS %lld KiB before, %lld KiB with %d idle streams: %.2f KiB per stream\n",
         static_cast<long long>(rss0), static_cast<long long>(rss1), n, kib);
  std::vector<std::pair<std::string, int64_t>> sent;
  for (int k = 1; k <= options_.announcements; ++k) {
    std::pair<std::string, int64_t> s;
    if (!Announce(port, k, &s)) return 1;
    sent.push_back(s);
    if (!WaitForSum(devices, 1, static_cast<int64_t>(n) * k, absl::Seconds(30))) {
      fprintf(stderr, "push: announcement %d did not reach every stream\n", k);
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  const int64_t last_announce = sent.back().second;
  FanOut ours = Delays(Dump(devices), sent, n);
  printf(
      "push: fan-out of %d announcements to %d streams: p50 %.1f ms, p99 %.1f ms, max %.1f ms, "
      "missing %lld\n",
      options_.announcements, n, ours.p50, ours.p99, ours.max,
      static_cast<long long>(ours.missing));
  fflush(stdout);
  if (options_.storm) {
    // Let the announcements expire: a reconnect then re-delivers nothing.
    const int64_t wait_ns = last_announce + (options_.ttl_seconds + 1) * 1000000000LL - RealNanos();
    if (wait_ns > 0) absl::SleepFor(absl::Nanoseconds(wait_ns));
    Storm(port, 0.2, devices, server);
    if (server) Storm(port, 0.0, devices, server);
  }
  for (auto& c : devices) c->Send("QUIT");
  for (auto& c : devices) c->Stop(absl::Seconds(10));
  if (server) server->Stop(absl::Seconds(30));

  FanOut peer;
  double peer_kib = 0;
  if (options_.mosquitto.empty() || !RunMosquitto(&peer, &peer_kib)) {
    fprintf(stderr, "push: Mosquitto run failed\n");
    return 1;
  }
  printf(
      "mosquitto: fan-out of %d publishes to %d subscribers: p50 %.1f ms, p99 %.1f ms, "
      "max %.1f ms, missing %lld\n",
      options_.announcements, n, peer.p50, peer.p99, peer.max,
      static_cast<long long>(peer.missing));
  printf(
      "RESULT bench=push metric=kib_per_stream value=%.2f peer=mosquitto peer_value=%.2f "
      "ratio=%.2f\n",
      kib, peer_kib, peer_kib > 0 ? kib / peer_kib : 0.0);
  printf(
      "RESULT bench=push metric=fanout_p99_ms value=%.1f peer=mosquitto peer_value=%.1f "
      "ratio=%.2f\n",
      ours.p99, peer.p99, peer.p99 > 0 ? ours.p99 / peer.p99 : 0.0);
  fflush(stdout);
  return 0;
}

int Coordinator::RunTuning(int devices) {
  struct Setting {
    const char* name;
    bool lean;
    const char* extra;
    const char* malloc_arena_max;  // "" = glibc's default
    bool trim;
  };
  const char* kChunk =
      "grpc.experimental.tcp_read_chunk_size=1024,grpc.experimental.tcp_min_read_chunk_size=256,"
      "grpc.experimental.tcp_max_read_chunk_size=4096";
  const std::string chunk_minimal = absl::StrCat(kChunk, ",grpc.minimal_stack=1");
  const Setting settings[] = {
      {"stock (keepalive args only)", false, "", "", false},
      {"+ channelz off", false, "grpc.enable_channelz=0", "", false},
      {"+ HPACK tables 0", false,
       "grpc.http2.hpack_table_size.decoder=0,grpc.http2.hpack_table_size.encoder=0", "", false},
      {"lean (channelz off, HPACK 0)", true, "", "", false},
      {"lean + minimal_stack", true, "grpc.minimal_stack=1", "", false},
      {"lean + tcp read chunk 1 KiB", true, kChunk, "", false},
      {"lean + bdp probe off, lookahead 4 KiB", true,
       "grpc.http2.bdp_probe=0,grpc.http2.lookahead_bytes=4096", "", false},
      {"lean + MALLOC_ARENA_MAX=2", true, "", "2", false},
      {"lean + malloc_trim after connecting", true, "", "", true},
      {"lean + read chunk 1 KiB + arena 2 + trim", true, kChunk, "2", true},
      {"all of the above + minimal_stack", true, chunk_minimal.c_str(), "2", true},
  };
  printf("tuning: %d idle streams per setting, 1 client process\n", devices);
  for (const Setting& s : settings) {
    const int port = FreePort();
    if (*s.malloc_arena_max) setenv("MALLOC_ARENA_MAX", s.malloc_arena_max, 1);
    auto server = StartServer(port, s.lean, s.extra);
    unsetenv("MALLOC_ARENA_MAX");
    if (!server) return 1;
    absl::SleepFor(absl::Seconds(1));
    if (s.trim) Trim(*server);
    const int64_t rss0 = server->RssKib();
    Children clients = StartGrpcDevices(port, devices, 1);
    All(clients, "OPEN");
    bool ok = WaitForSum(clients, 0, devices, absl::Seconds(60));
    absl::SleepFor(absl::Seconds(2));
    if (s.trim) Trim(*server);
    const int64_t rss1 = server->RssKib();
    printf("tuning: %-45s %6.2f KiB per stream%s\n", s.name,
           static_cast<double>(rss1 - rss0) / devices, ok ? "" : " (not all connected)");
    fflush(stdout);
    for (auto& c : clients) c->Send("QUIT");
    for (auto& c : clients) c->Stop(absl::Seconds(10));
    server->Stop(absl::Seconds(30));
  }
  return 0;
}

}  // namespace updraft::bench
