// device_sim: a simulated handset running the device SDK's active upgrade
// against the dev services, printing each step as a person reads it. The
// single-device case of the fleet simulator (tools/fleet_sim/sim_device.h).
//
//   device_sim --device_id=phone-0001 --key_file=/tmp/phone-0001.key
//       --state_dir=/tmp/phone-0001/state --install_dir=/tmp/phone-0001/apps
//       --tls_ca=.run/tls/ca.pem [--tls_cert=device.pem --tls_key=device.key]
//   (or --plaintext instead of --tls_ca against plaintext dev servers)
//   device_sim --key_file=/tmp/phone-0001.key --print_public_key
//   device_sim ... --wait_for_push=60s [--notifier_address=127.0.0.1:7404]
//       holds the IP Push stream and runs the flow each announcement
//       triggers, until one finds something to install, instead of checking
//       at once
//
// Exit code: 0 success or nothing new, 1 a failed (or declined) update,
// 2 bad flags, unreachable services or a result that could not be reported,
// 3 no announcement within --wait_for_push.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/flags.h"
#include "common/release_metadata.h"
#include "sdk/device/client.h"
#include "sdk/device/file_key_store.h"
#include "sdk/device/ip_push_listener.h"
#include "sdk/device/push_handler.h"
#include "tools/device_sim/progress_printer.h"
#include "tools/fleet_sim/sim_device.h"

ABSL_FLAG(std::string, device_id, "", "Device ID registered with auth, e.g. phone-0001.");
ABSL_FLAG(std::string, key_file, "",
          "File with the device's Ed25519 private key (base64url); generated if missing.");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401", "Auth service address.");
ABSL_FLAG(std::string, catalog_address, "127.0.0.1:7402", "Catalog service address.");
ABSL_FLAG(std::string, download_address, "",
          "Download service address; empty uses the one each offer names.");
ABSL_FLAG(std::string, state_dir, "", "Directory for the device's SCOMO state and downloads.");
ABSL_FLAG(std::string, install_dir, "", "Directory standing for the handset's installed apps.");
ABSL_FLAG(std::string, consent, "yes", "The user's answer to every offer: yes or no.");
ABSL_FLAG(std::string, model, "sim-phone", "Device model attribute.");
ABSL_FLAG(std::string, os_version, "1.0", "Device OS version attribute.");
ABSL_FLAG(std::string, carrier, "", "Device carrier attribute.");
ABSL_FLAG(std::string, time_zone, "",
          "IANA time zone of the device (e.g. Europe/Paris), for campaign quiet hours.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle verifying the servers (TLS); required unless --plaintext.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM device certificate, for servers requiring client certificates (mutual TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name expected in the servers' certificates when it differs from the address host.");
ABSL_FLAG(bool, plaintext, false, "Talk to plaintext development servers (no TLS).");
ABSL_FLAG(std::string, publisher_keys_file, "",
          "Publisher public keys the device trusts (one base64url key per line): every offer "
          "must then carry release metadata signed by one of them. Empty: unsigned releases.");
ABSL_FLAG(std::string, notifier_address, "127.0.0.1:7404",
          "Notifier address, for --wait_for_push (IP Push stream and acknowledgements).");
ABSL_FLAG(absl::Duration, wait_for_push, absl::ZeroDuration(),
          "Instead of checking at once, hold the IP Push stream and wait this long for an "
          "announcement that leads to an update: verify and acknowledge each, run the flow it "
          "triggers, and exit after the first that found something (exit code 3 when none "
          "did). 0: active upgrade at once.");
ABSL_FLAG(bool, print_public_key, false,
          "Print the base64url raw public key (generating the key if needed) and exit.");

namespace updraft::device_sim {
namespace {

constexpr int kOk = 0;
constexpr int kUpdateFailed = 1;
constexpr int kUsageOrConnection = 2;

int Fail(const std::string& message) {
  fprintf(stderr, "device_sim: %s\n", message.c_str());
  return kUsageOrConnection;
}

// absl exits with 1 on an unknown flag or a bad value; we promise 2.
bool FlagsValid(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::StartsWith(arg, "-")) continue;
    absl::string_view name = absl::StripPrefix(absl::StripPrefix(arg, "-"), "-");
    size_t eq = name.find('=');
    absl::string_view value = eq == absl::string_view::npos ? "" : name.substr(eq + 1);
    name = name.substr(0, eq);
    if (name == "help" || name == "helpfull" || name == "version" || name == "helpshort") continue;
    if (absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name)) {
      std::string error;
      if (eq != absl::string_view::npos && !flag->ParseFrom(value, &error)) {
        fprintf(stderr, "device_sim: bad value for --%s: %s\n", std::string(name).c_str(),
                error.c_str());
        return false;
      }
      continue;
    }
    if (absl::StartsWith(name, "no") && absl::FindCommandLineFlag(name.substr(2)) != nullptr) {
      continue;
    }
    fprintf(stderr, "device_sim: unknown flag --%s\n", std::string(name).c_str());
    return false;
  }
  return true;
}

constexpr int kNoNotification = 3;

// The exit code for the outcomes of one flow.
int ExitCode(const std::vector<device::UpdateOutcome>& outcomes) {
  int code = kOk;
  for (const device::UpdateOutcome& o : outcomes) {
    if (o.nothing_new) continue;
    if (!o.success()) code = kUpdateFailed;
    if (!o.reported && code == kOk) code = kUsageOrConnection;
  }
  return code;
}

// Holds the IP Push stream until an accepted notification (verified,
// acknowledged) triggers a flow that finds something new, or `wait` passes.
int WaitForPush(device::Client& client, const device::ChannelSecurity& security,
                absl::Duration wait, ProgressPrinter& printer) {
  device::PushHandler::Options p;
  p.client = &client;
  p.notifier_address = absl::GetFlag(FLAGS_notifier_address);
  p.security = security;
  p.state_dir = absl::GetFlag(FLAGS_state_dir);
  auto handler = device::PushHandler::Create(std::move(p));
  if (!handler.ok()) return Fail(std::string(handler.status().message()));
  absl::Notification done;
  int code = kOk;
  device::IpPushListener::Options o;
  o.handler = handler->get();
  o.on_notification = [&](const NotificationFields& n) {
    if (done.HasBeenNotified()) return;
    printer.Line(absl::StrCat("IP Push: announcement of ", n.software_name, " (",
                              NotificationIdHex(n.id), ") verified and acknowledged"));
    auto outcomes = (*handler)->RunActiveUpgrade();
    if (!outcomes.ok()) {
      printer.Line(absl::StrCat("error: ", outcomes.status().message()));
      code = kUsageOrConnection;
    } else {
      // An older announcement (redelivered because it was never
      // acknowledged) may find nothing new: keep waiting for one that does.
      const bool nothing_new = std::all_of(outcomes->begin(), outcomes->end(),
                                           [](const auto& o) { return o.nothing_new; });
      if (nothing_new) return;
      code = ExitCode(*outcomes);
    }
    done.Notify();
  };
  o.on_rejected = [&](const absl::Status& s) {
    printer.Line(absl::StrCat("IP Push: notification refused: ", s.message()));
  };
  auto listener = device::IpPushListener::Create(std::move(o));
  if (!listener.ok()) return Fail(std::string(listener.status().message()));
  printer.Line(absl::StrCat("holding the IP Push stream to ", absl::GetFlag(FLAGS_notifier_address),
                            "; waiting up to ", absl::FormatDuration(wait),
                            " for an announcement"));
  (*listener)->Start();
  const bool got = done.WaitForNotificationWithTimeout(wait);
  (*listener)->Stop();
  if (!got) {
    printer.Line(absl::StrCat("no announcement within ", absl::FormatDuration(wait)));
    return kNoNotification;
  }
  return code;
}

int Run() {
  const std::string key_file = absl::GetFlag(FLAGS_key_file);
  if (key_file.empty()) return Fail("--key_file is required");
  device::FileKeyStore keys(key_file);
  if (absl::GetFlag(FLAGS_print_public_key)) {
    absl::StatusOr<Ed25519KeyPair> key = keys.LoadOrGenerate();
    if (!key.ok()) return Fail(std::string(key.status().message()));
    printf("%s\n", absl::WebSafeBase64Escape(key->public_key()).c_str());
    return kOk;
  }
  const std::string device_id = absl::GetFlag(FLAGS_device_id);
  const std::string consent = absl::GetFlag(FLAGS_consent);
  if (device_id.empty()) return Fail("--device_id is required");
  if (absl::GetFlag(FLAGS_state_dir).empty()) return Fail("--state_dir is required");
  if (absl::GetFlag(FLAGS_install_dir).empty()) return Fail("--install_dir is required");
  if (consent != "yes" && consent != "no") return Fail("--consent must be yes or no");

  ProgressPrinter printer(device_id, [](const std::string& line) {
    printf("%s\n", line.c_str());
    fflush(stdout);
  });

  device::ChannelSecurity security;
  security.ca_file = absl::GetFlag(FLAGS_tls_ca);
  security.client_cert_file = absl::GetFlag(FLAGS_tls_cert);
  security.client_key_file = absl::GetFlag(FLAGS_tls_key);
  security.server_name_override = absl::GetFlag(FLAGS_tls_server_name);
  security.plaintext = absl::GetFlag(FLAGS_plaintext);
  if (!security.plaintext && security.ca_file.empty()) {
    return Fail("--tls_ca is required (or --plaintext against plaintext development servers)");
  }
  if (security.plaintext && !security.ca_file.empty()) {
    return Fail("--plaintext and --tls_ca exclude each other");
  }
  // Read once, for the client's channels and the notifier's.
  absl::StatusOr<device::ChannelSecurity> loaded = device::LoadChannelCredentials(security);
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  security = *std::move(loaded);
  fleet_sim::SimDevice::Options options;
  options.device_id = device_id;
  options.key_file = key_file;
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  options.install_dir = absl::GetFlag(FLAGS_install_dir);
  options.auth_address = absl::GetFlag(FLAGS_auth_address);
  options.catalog_address = absl::GetFlag(FLAGS_catalog_address);
  const device::ChannelSecurity push_security = security;
  options.security = std::move(security);
  if (!absl::GetFlag(FLAGS_publisher_keys_file).empty()) {
    absl::StatusOr<std::vector<std::string>> publishers =
        ReadPublisherKeyFile(absl::GetFlag(FLAGS_publisher_keys_file));
    if (!publishers.ok()) return Fail(std::string(publishers.status().message()));
    options.trusted_publisher_keys = *std::move(publishers);
  }
  options.download_target_override = absl::GetFlag(FLAGS_download_address);
  options.attributes.set_model(absl::GetFlag(FLAGS_model));
  options.attributes.set_os_version(absl::GetFlag(FLAGS_os_version));
  options.attributes.set_carrier(absl::GetFlag(FLAGS_carrier));
  options.attributes.set_time_zone(absl::GetFlag(FLAGS_time_zone));
  options.consent = [&](const v1::Offer& offer) {
    bool yes = consent == "yes";
    printer.OnConsent(offer, yes);
    return yes;
  };
  options.on_progress = [&](const device::ProgressEvent& e) { printer.OnProgress(e); };
  options.on_result = [&](const device::UpdateOutcome& o) { printer.OnResult(o); };

  auto sim = fleet_sim::SimDevice::Create(std::move(options));
  if (!sim.ok()) return Fail(std::string(sim.status().message()));
  const absl::Duration wait_for_push = absl::GetFlag(FLAGS_wait_for_push);
  if (wait_for_push > absl::ZeroDuration()) {
    return WaitForPush((*sim)->client(), push_security, wait_for_push, printer);
  }
  auto outcomes = (*sim)->client().RunActiveUpgrade();
  if (!outcomes.ok()) {
    std::string hint;
    if (absl::IsUnavailable(outcomes.status()) || absl::IsDeadlineExceeded(outcomes.status())) {
      hint = absl::StrCat(
          " (are auth at ", absl::GetFlag(FLAGS_auth_address), " and catalog at ",
          absl::GetFlag(FLAGS_catalog_address), " running?",
          absl::GetFlag(FLAGS_plaintext) ? ")" : " Is their certificate signed by --tls_ca?)");
    }
    printer.Line(absl::StrCat("error: ", outcomes.status().message(), hint));
    return kUsageOrConnection;
  }
  return ExitCode(*outcomes);
}

}  // namespace
}  // namespace updraft::device_sim

int main(int argc, char** argv) {
  if (!updraft::device_sim::FlagsValid(argc, argv)) return 2;
  std::vector<char*> positional = updraft::ParseFlagsWithEnvironment(argc, argv);
  if (positional.size() > 1) {
    fprintf(stderr, "device_sim: unexpected argument %s\n", positional[1]);
    return 2;
  }
  return updraft::device_sim::Run();
}
