// A device process for tests/crash_recovery_test: runs the real SDK's active
// upgrade against a platform and kills itself with SIGKILL at a chosen step,
// the way a phone loses power or the OS kills the updater. Every progress
// event is printed as "EVENT <step> <chunks_done>" and the outcome as
// "OUTCOME <result code> <message>", so the test can see what happened.
//   crash_device --auth=ADDR --catalog=ADDR --device_id=ID --dir=DIR
//                --publisher_key=BASE64URL --now_unix=SECONDS
//                [--crash_at=STEP [--crash_after_chunks=N]] [--download_target=ADDR]
// At the verified step it also prints "ARTIFACT <sha256 of the downloaded file>".
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/file_key_store.h"

ABSL_FLAG(std::string, auth, "", "Auth address.");
ABSL_FLAG(std::string, catalog, "", "Catalog address.");
ABSL_FLAG(std::string, device_id, "", "Device ID.");
ABSL_FLAG(std::string, dir, "", "Handset directory: key, state, installed packages.");
ABSL_FLAG(std::string, publisher_key, "", "Trusted publisher public key (base64url).");
ABSL_FLAG(int64_t, now_unix, 0, "The platform's (fake) time; the device's clock stays there.");
ABSL_FLAG(std::string, crash_at, "", "Step to die at (see StepName); empty: never.");
ABSL_FLAG(int, crash_after_chunks, 1, "For crash_at=downloading: chunks done before dying.");
ABSL_FLAG(std::string, download_target, "",
          "Download service address instead of the offer's (e.g. a proxy in front of it).");

namespace {

using updraft::device::ProgressEvent;

const char* StepName(ProgressEvent::Step step) {
  switch (step) {
    case ProgressEvent::Step::kLoggedIn:
      return "logged_in";
    case ProgressEvent::Step::kFoundUpdate:
      return "found_update";
    case ProgressEvent::Step::kConsented:
      return "consented";
    case ProgressEvent::Step::kDownloading:
      return "downloading";
    case ProgressEvent::Step::kVerified:
      return "verified";
    case ProgressEvent::Step::kInstalled:
      return "installed";
    case ProgressEvent::Step::kConfigured:
      return "configured";
    case ProgressEvent::Step::kComponentsRegistered:
      return "components_registered";
    case ProgressEvent::Step::kReported:
      return "reported";
  }
  return "unknown";
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_dir);
  const std::string crash_at = absl::GetFlag(FLAGS_crash_at);
  const uint32_t crash_chunks = static_cast<uint32_t>(absl::GetFlag(FLAGS_crash_after_chunks));
  std::string publisher;
  if (!absl::WebSafeBase64Unescape(absl::GetFlag(FLAGS_publisher_key), &publisher)) {
    fprintf(stderr, "--publisher_key is not base64url\n");
    return 2;
  }
  updraft::FakeClock clock(absl::FromUnixSeconds(absl::GetFlag(FLAGS_now_unix)));
  updraft::device::FileKeyStore keys(absl::StrCat(dir, "/device.key"));
  auto installer =
      updraft::device::DirectoryInstaller::Create({.root = absl::StrCat(dir, "/handset")});
  if (!installer.ok()) {
    fprintf(stderr, "%s\n", installer.status().ToString().c_str());
    return 2;
  }
  updraft::device::Client::Options o;
  o.device_id = absl::GetFlag(FLAGS_device_id);
  o.auth_channel = Channel(absl::GetFlag(FLAGS_auth));
  o.catalog_channel = Channel(absl::GetFlag(FLAGS_catalog));
  o.download_channel_factory = Channel;
  o.security.plaintext = true;
  o.key_store = &keys;
  o.installer = installer->get();
  o.state_dir = absl::StrCat(dir, "/state");
  o.trusted_publisher_keys = {publisher};
  o.clock = &clock;
  o.consent = [](const updraft::v1::Offer&) { return true; };
  o.sleep = [](absl::Duration) {};
  o.rpc_timeout = absl::Seconds(20);
  o.download_target_override = absl::GetFlag(FLAGS_download_target);
  o.on_progress = [&](const ProgressEvent& e) {
    printf("EVENT %s %u\n", StepName(e.step), e.download.chunks_done);
    if (e.step == ProgressEvent::Step::kVerified) {
      std::string bytes;
      FILE* f = fopen(absl::StrCat(dir, "/state/downloads/", e.download.sha256).c_str(), "rb");
      const bool found = f != nullptr;
      char buf[65536];
      for (size_t n; found && (n = fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
      if (found) fclose(f);
      printf("ARTIFACT %s\n", found ? updraft::Sha256Hex(bytes).c_str() : "<missing>");
    }
    fflush(stdout);
    if (crash_at == StepName(e.step) &&
        (e.step != ProgressEvent::Step::kDownloading || e.download.chunks_done >= crash_chunks)) {
      raise(SIGKILL);
    }
  };
  auto client = updraft::device::Client::Create(std::move(o));
  if (!client.ok()) {
    fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 2;
  }
  auto outcomes = (*client)->RunActiveUpgrade();
  if (!outcomes.ok()) {
    printf("ERROR %s\n", outcomes.status().ToString().c_str());
    return 1;
  }
  for (const auto& out : *outcomes) {
    printf("OUTCOME %d %s\n", out.nothing_new ? 0 : static_cast<int>(out.result),
           out.message.c_str());
  }
  return 0;
}
