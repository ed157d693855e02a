// Fuzzes the device's push entry points (sdk/device/push_handler.h): binary
// SMS payloads, WAP Push Service Indications (href or SI XML document) and the
// two files PushHandler::Create parses from the state directory (the cached
// notifier keys and the notification history against replays).
//
// The first input byte picks the entry point; the rest is the payload. The
// handler trusts the key of common/testdata/notification_vectors.txt and its
// clock is at the vectors' time, so the genuine vectors are accepted once.
//
// Invariants:
//  - HandleSmsPayload / HandleWapPushSi succeed only for a genuine vector
//    (raw, or as the base64url end of an href); everything else fails with
//    INVALID_ARGUMENT, UNAUTHENTICATED, FAILED_PRECONDITION or ALREADY_EXISTS,
//    and a payload that was once accepted is refused ever after;
//  - SiHref(SI document whose href attribute is the XML-escaped string h) == h;
//  - a corrupt key cache or history file is DATA_LOSS, never a crash, and
//    Create succeeds exactly when every key line is base64url of 32 bytes.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/seeds.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/file_key_store.h"
#include "sdk/device/push_handler.h"

namespace updraft::device {
namespace {

enum Mode : uint8_t { kSms = 0, kWapSi = 1, kKeyCache = 2, kSeenFile = 3, kModes = 4 };

// A device whose services are unreachable: verification is all local; an
// accepted notification's ack and upgrade fail fast (nothing listens).
struct Device {
  Device() : dir("push-fuzz") {
    channel = grpc::CreateChannel("unix:" + dir.path() + "/nobody-listens",
                                  grpc::InsecureChannelCredentials());
    key_store = std::make_unique<FileKeyStore>(dir.path() + "/device.key");
    installer = *DirectoryInstaller::Create({.root = dir.path() + "/handset"});
    Client::Options o;
    o.device_id = "fuzz-phone";
    o.auth_channel = channel;
    o.catalog_channel = channel;
    o.download_channel_factory = [this](const std::string&) { return channel; };
    o.key_store = key_store.get();
    o.installer = installer.get();
    o.state_dir = dir.path() + "/state";
    o.consent = [](const v1::Offer&) { return false; };
    o.clock = &clock;
    o.rpc_timeout = absl::Milliseconds(200);
    o.max_stream_retries = 0;
    o.sleep = [](absl::Duration) {};
    client = *Client::Create(std::move(o));
    handler = *PushHandler::Create(HandlerOptions(dir.path() + "/state"));
  }

  PushHandler::Options HandlerOptions(const std::string& state_dir) {
    PushHandler::Options p;
    p.client = client.get();
    p.notifier_channel = channel;
    p.state_dir = state_dir;
    p.trusted_keys = {Ed25519KeyPair::FromPrivateKey(fuzz::NotificationSeed())->public_key()};
    p.clock = &clock;
    p.key_refresh_interval = absl::InfiniteDuration();
    p.rpc_timeout = absl::Milliseconds(200);
    return p;
  }

  fuzz::TempDir dir;
  FakeClock clock{absl::FromUnixSeconds(fuzz::kNotificationVerifyAt)};
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<FileKeyStore> key_store;
  std::unique_ptr<DirectoryInstaller> installer;
  std::unique_ptr<Client> client;
  std::unique_ptr<PushHandler> handler;
  std::string valid = absl::HexStringToBytes(fuzz::kValidNotificationHex);
  std::string long_fields = absl::HexStringToBytes(fuzz::kLongFieldsNotificationHex);
  bool accepted_valid = false;
  bool accepted_long = false;
};

Device& Get() {
  static Device* d = new Device();
  return *d;
}

// What a push result must look like for the notification `bytes`.
void CheckResult(Device& d, absl::string_view bytes, const absl::StatusOr<PushResult>& r) {
  if (!r.ok()) {
    absl::StatusCode c = r.status().code();
    UPDRAFT_FUZZ_CHECK(
        c == absl::StatusCode::kInvalidArgument || c == absl::StatusCode::kUnauthenticated ||
        c == absl::StatusCode::kFailedPrecondition || c == absl::StatusCode::kAlreadyExists);
    return;
  }
  bool* seen = bytes == d.valid         ? &d.accepted_valid
               : bytes == d.long_fields ? &d.accepted_long
                                        : nullptr;
  UPDRAFT_FUZZ_CHECK_MSG(seen != nullptr, "a push that is not a genuine notification was accepted");
  UPDRAFT_FUZZ_CHECK_MSG(!*seen, "a notification was accepted twice");
  *seen = true;
  UPDRAFT_FUZZ_CHECK(!r->acked);  // nothing listens
  UPDRAFT_FUZZ_CHECK(r->notification_id == NotificationIdHex(r->notification.id));
}

std::string XmlEscape(absl::string_view s) {
  return absl::StrReplaceAll(
      s, {{"&", "&amp;"}, {"\"", "&quot;"}, {"'", "&apos;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

void CheckSiHref(absl::string_view href) {
  std::string doc =
      absl::StrCat("<?xml version=\"1.0\"?>\n<si><indication href=\"", XmlEscape(href),
                   "\" si-id=\"1\">Update available</indication></si>");
  absl::StatusOr<std::string> back = SiHref(doc);
  UPDRAFT_FUZZ_CHECK(back.ok());
  UPDRAFT_FUZZ_CHECK(*back == href);
}

void CheckStateFile(Device& d, const char* name, absl::string_view contents) {
  const std::string state_dir = d.dir.path() + "/files";
  fuzz::RemoveTree(state_dir);
  UPDRAFT_FUZZ_CHECK(mkdir(state_dir.c_str(), 0700) == 0);
  fuzz::WriteFileOrDie(absl::StrCat(state_dir, "/", name), contents);
  absl::StatusOr<std::unique_ptr<PushHandler>> h = PushHandler::Create(d.HandlerOptions(state_dir));
  if (!h.ok()) {
    UPDRAFT_FUZZ_CHECK(absl::IsDataLoss(h.status()));
    return;
  }
  if (std::string(name) == "notification_keys") {
    size_t lines = 0;
    for (absl::string_view line : absl::StrSplit(contents, '\n', absl::SkipEmpty())) {
      std::string key;
      UPDRAFT_FUZZ_CHECK(absl::WebSafeBase64Unescape(line, &key));
      UPDRAFT_FUZZ_CHECK(key.size() == kEd25519PublicKeySize);
      ++lines;
    }
    UPDRAFT_FUZZ_CHECK((*h)->TrustedKeys().size() >= 1);
    UPDRAFT_FUZZ_CHECK((*h)->TrustedKeys().size() <= lines + 1);
  }
}

}  // namespace
}  // namespace updraft::device

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace updraft::device;  // NOLINT
  if (size == 0) return 0;
  Device& d = Get();
  const uint8_t mode = data[0] % kModes;
  absl::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case kSms:
      CheckResult(d, payload, d.handler->HandleSmsPayload(payload));
      break;
    case kWapSi: {
      CheckSiHref(payload);
      absl::StatusOr<std::string> href = SiHref(payload);
      absl::StatusOr<std::string> bytes =
          href.ok() ? updraft::NotificationFromHref(*href) : href.status();
      CheckResult(d, bytes.ok() ? *bytes : "", d.handler->HandleWapPushSi(payload));
      break;
    }
    case kKeyCache:
      CheckStateFile(d, "notification_keys", payload);
      break;
    case kSeenFile:
      CheckStateFile(d, "seen_notifications", payload);
      break;
  }
  return 0;
}
