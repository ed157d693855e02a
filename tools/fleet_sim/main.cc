// fleet_sim: thousands of simulated handsets in one process, each running the
// real device SDK with its own key, inventory and state directory, for demos
// and load (see tools/fleet_sim/fleet.h and docs/sdk.md).
//
//   fleet_sim --devices=5000 --base_dir=/tmp/fleet --plaintext
//       --api_key_file=.run/admin.key            # register through ImportDevices
//       --upgrade                                # active upgrade once per device
//       --hold_streams_seconds=60                # then hold IP Push streams
//       [--json] [--concurrency=32] [--ready_file=/tmp/fleet/ready]
//
// Exit code: 0 every device ended well (registered, installed or nothing new,
// stream open), 1 some did not (see the summary), 2 bad flags or setup.

#include <grpc/grpc.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/operator_auth.h"
#include "common/signals.h"
#include "tools/fleet_sim/fleet.h"
#include "tools/fleet_sim/summary.h"

ABSL_FLAG(int, devices, 100, "Number of simulated devices.");
ABSL_FLAG(std::string, base_dir, "", "Directory holding one sub-directory per device (required).");
ABSL_FLAG(std::string, id_prefix, "sim-", "Device ID prefix; IDs are <prefix><zero-padded index>.");
ABSL_FLAG(int, first_index, 1, "Index of the first device.");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401", "Auth service address.");
ABSL_FLAG(std::string, catalog_address, "127.0.0.1:7402", "Catalog service address.");
ABSL_FLAG(std::string, notifier_address, "127.0.0.1:7404", "Notifier service address.");
ABSL_FLAG(std::string, download_address, "",
          "Download service address; empty uses the one each offer names.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle verifying the servers; required unless --plaintext.");
ABSL_FLAG(std::string, tls_cert, "", "PEM device certificate (mutual TLS), shared by the fleet.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "", "Name expected in the servers' certificates.");
ABSL_FLAG(bool, plaintext, false, "Talk to plaintext development servers (no TLS).");
ABSL_FLAG(std::string, api_key_file, "",
          "Admin API key file: register the fleet with auth (ImportDevices) first.");
ABSL_FLAG(bool, upgrade, true, "Run the active upgrade once on every device.");
ABSL_FLAG(
    int, hold_streams_seconds, 0,
    "Hold every device's IP Push stream this long (-1: until SIGINT/SIGTERM; 0: no streams).");
ABSL_FLAG(int, connect_timeout_seconds, 300, "How long opening the streams may take.");
ABSL_FLAG(int, concurrency, 32, "Devices logging in, checking or downloading at once.");
ABSL_FLAG(int, devices_per_connection, 100,
          "IP Push streams sharing one HTTP/2 connection (1: a connection per device, as on "
          "handsets; at most about 19,800 devices per process at a 20,000 open-file limit).");
ABSL_FLAG(std::vector<std::string>, stream_channel_arg, {},
          "Extra integer arguments of the IP Push channels, name=value,... (tuning).");
ABSL_FLAG(std::string, consent, "yes", "Every user's answer to every offer: yes or no.");
ABSL_FLAG(std::string, model, "sim-phone", "Device model attribute.");
ABSL_FLAG(std::string, os_version, "1.0", "Device OS version attribute.");
ABSL_FLAG(std::string, carrier, "", "Device carrier attribute.");
ABSL_FLAG(bool, json, false, "Print the summary as one JSON object.");
ABSL_FLAG(std::string, ready_file, "",
          "Written (with the number of open streams) once the streams are open.");

namespace updraft::fleet_sim {
namespace {

int Fail(const std::string& message) {
  fprintf(stderr, "fleet_sim: %s\n", message.c_str());
  return 2;
}

// Resident memory of this process in KiB (/proc/self/status VmRSS).
int64_t RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(
                               absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), "kB")),
                           &kib)) {
        return kib;
      }
    }
  }
  return -1;
}

// Waits for SIGINT/SIGTERM (blocked in main), at most `seconds` (-1: forever).
void Hold(int seconds) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (seconds < 0) {
    int sig;
    sigwait(&set, &sig);
    return;
  }
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < end) {
    timespec ts = absl::ToTimespec(std::min(end - absl::Now(), absl::Seconds(1)));
    if (sigtimedwait(&set, nullptr, &ts) > 0) return;
  }
}

int Run() {
  grpc_init();
  const int64_t rss_start = RssKib();
  const std::string consent = absl::GetFlag(FLAGS_consent);
  if (consent != "yes" && consent != "no") return Fail("--consent must be yes or no");
  if (absl::GetFlag(FLAGS_base_dir).empty()) return Fail("--base_dir is required");
  Fleet::Options o;
  o.base_dir = absl::GetFlag(FLAGS_base_dir);
  o.devices = absl::GetFlag(FLAGS_devices);
  o.id_prefix = absl::GetFlag(FLAGS_id_prefix);
  o.first_index = absl::GetFlag(FLAGS_first_index);
  o.auth_address = absl::GetFlag(FLAGS_auth_address);
  o.catalog_address = absl::GetFlag(FLAGS_catalog_address);
  o.notifier_address = absl::GetFlag(FLAGS_notifier_address);
  o.download_address = absl::GetFlag(FLAGS_download_address);
  o.security.ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.security.client_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.security.client_key_file = absl::GetFlag(FLAGS_tls_key);
  o.security.server_name_override = absl::GetFlag(FLAGS_tls_server_name);
  o.security.plaintext = absl::GetFlag(FLAGS_plaintext);
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.devices_per_connection = absl::GetFlag(FLAGS_devices_per_connection);
  o.consent = consent == "yes";
  for (const std::string& arg : absl::GetFlag(FLAGS_stream_channel_arg)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(arg, absl::MaxSplits('=', 1));
    int value;
    if (kv.first.empty() || !absl::SimpleAtoi(kv.second, &value)) {
      return Fail(absl::StrCat("--stream_channel_arg: expected name=integer, got ", arg));
    }
    o.stream_channel_args.emplace_back(kv.first, value);
  }
  o.attributes.set_model(absl::GetFlag(FLAGS_model));
  o.attributes.set_os_version(absl::GetFlag(FLAGS_os_version));
  o.attributes.set_carrier(absl::GetFlag(FLAGS_carrier));
  // The CA and client key are read once, for the fleet and the operator login.
  absl::StatusOr<device::ChannelSecurity> loaded = device::LoadChannelCredentials(o.security);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  o.security = *std::move(loaded);
  std::string api_key;
  if (!absl::GetFlag(FLAGS_api_key_file).empty()) {
    absl::StatusOr<std::string> key = ReadApiKeyFile(absl::GetFlag(FLAGS_api_key_file));
    if (!key.ok()) return Fail(std::string(key.status().message()));
    api_key = *key;
  }
  const device::ChannelSecurity security = o.security;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Create(std::move(o));
  if (!fleet.ok()) return Fail(std::string(fleet.status().message()));
  const int64_t rss_created = RssKib();
  if (!absl::GetFlag(FLAGS_json)) {
    fprintf(stderr, "fleet_sim: %d devices ready under %s\n", (*fleet)->size(),
            absl::GetFlag(FLAGS_base_dir).c_str());
  }

  std::vector<PhaseStats> phases;
  if (!api_key.empty()) {
    RealClock clock;
    auto auth_channel = device::MakeServiceChannel(absl::GetFlag(FLAGS_auth_address), security);
    if (!auth_channel.ok()) return Fail(std::string(auth_channel.status().message()));
    OperatorTokenSource op(v1::Auth::NewStub(*auth_channel), api_key, &clock);
    phases.push_back(
        (*fleet)->Register([&op](grpc::ClientContext* ctx) { return op.Authorize(ctx); }));
  }
  if (absl::GetFlag(FLAGS_upgrade)) phases.push_back((*fleet)->RunActiveUpgrades());
  int streams_open = -1;
  int64_t rss_ready = -1;
  const int hold = absl::GetFlag(FLAGS_hold_streams_seconds);
  if (hold != 0) {
    phases.push_back(
        (*fleet)->OpenStreams(absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds))));
    streams_open = (*fleet)->streams_open();
    rss_ready = RssKib();
    if (!absl::GetFlag(FLAGS_ready_file).empty()) {
      std::ofstream out(absl::GetFlag(FLAGS_ready_file));
      out << streams_open << " " << rss_start << " " << rss_ready << "\n";
    }
    if (!absl::GetFlag(FLAGS_json)) {
      fprintf(stderr, "fleet_sim: %d IP Push streams open; holding them\n", streams_open);
    }
    Hold(hold);
    streams_open = (*fleet)->streams_open();
    PhaseStats push = (*fleet)->PushStats();
    if (!push.outcomes.empty()) phases.push_back(push);
    (*fleet)->StopStreams();
  }
  const int devices = (*fleet)->size();
  if (absl::GetFlag(FLAGS_json)) {
    std::string json = SummaryJson(devices, phases, streams_open);
    json.pop_back();  // "}\n" -> add the memory figures
    json.pop_back();
    printf(
        "%s,\"rss_kib_start\":%lld,\"rss_kib_devices_created\":%lld,"
        "\"rss_kib_streams_open\":%lld}\n",
        json.c_str(), static_cast<long long>(rss_start), static_cast<long long>(rss_created),
        static_cast<long long>(rss_ready));
  } else {
    printf("%s", SummaryText(devices, phases, streams_open).c_str());
  }
  fflush(stdout);
  return AllGood(phases) ? 0 : 1;
}

}  // namespace
}  // namespace updraft::fleet_sim

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  std::vector<char*> positional = updraft::ParseFlagsWithEnvironment(argc, argv);
  if (positional.size() > 1) {
    fprintf(stderr, "fleet_sim: unexpected argument %s\n", positional[1]);
    return 2;
  }
  return updraft::fleet_sim::Run();
}
