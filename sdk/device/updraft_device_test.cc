// Drives the C API (updraft_device.h) against fake auth, catalog, download
// and notifier services on 127.0.0.1 (port 0), and runs the C example
// binary against them.

#include "sdk/device/updraft_device.h"

#include <sys/wait.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/notification_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/fake_notifier.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/file_util.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint32_t kChunk = 1024;
constexpr char kDevice[] = "phone-c-1";

// What the callbacks saw (they may run on the IP Push thread).
struct Recorder {
  bool consent = true;
  absl::Mutex mu;
  std::vector<std::string> offers;
  std::vector<int> results;
  std::vector<std::string> dc_ids;
  // Per result: "[operation_id|operation_kind|operation_dc_id]".
  std::vector<std::string> operations;
  std::vector<int> steps;
  std::vector<std::string> notifications;
  absl::Notification got_result;
  // install_fn
  int install_code = 0;
  std::vector<std::string> installed_artifacts;
  std::map<std::string, std::string> settings;
  // remove_fn and the per-component callbacks: what they were asked
  // ("activate demo-app DC_1 demo-app 1.0.0"), and what they answer per verb
  // (default UPDRAFT_COMPONENT_OK) with `component_message`.
  std::vector<std::string> component_calls;
  std::map<std::string, int> component_answer;
  std::string component_message;
};

int Consent(void* ud, const updraft_offer_t* offer) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->offers.push_back(absl::StrCat(offer->package_name, " ", offer->version, " ",
                                   offer->fresh_install ? "fresh" : "overwrite"));
  return r->consent ? 1 : 0;
}

void Result(void* ud, const updraft_result_t* result) {
  auto* r = static_cast<Recorder*>(ud);
  {
    absl::MutexLock lock(&r->mu);
    r->results.push_back(result->nothing_new ? 0 : result->result_code);
    for (size_t i = 0; i < result->dc_id_count; ++i) r->dc_ids.push_back(result->dc_ids[i]);
    r->operations.push_back(absl::StrCat("[", result->operation_id, "|", result->operation_kind,
                                         "|", result->operation_dc_id, "]"));
  }
  if (!r->got_result.HasBeenNotified()) r->got_result.Notify();
}

void Progress(void* ud, const updraft_progress_t* p) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->steps.push_back(p->step);
}

void Notified(void* ud, const updraft_notification_t* n) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->notifications.push_back(absl::StrCat(n->software_name, " ", n->acked));
}

int Install(void* ud, const char*, const char* artifact_path, const char*, const char*,
            const char* const* keys, const char* const* values, size_t count, int* fresh,
            char* location, char* message, size_t message_size) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->installed_artifacts.push_back(artifact_path);
  for (size_t i = 0; i < count; ++i) r->settings[keys[i]] = values[i];
  *fresh = 1;
  snprintf(location, message_size, "/system/app/demo");
  if (r->install_code != 0) snprintf(message, message_size, "storage full");
  return r->install_code;
}

int RemovePackage(void* ud, const char* package_name, char*, size_t) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->component_calls.push_back(absl::StrCat("remove-package ", package_name));
  return 0;
}

int ComponentCall(void* ud, const char* verb, const updraft_component_ref_t* c, char* message,
                  size_t message_size) {
  auto* r = static_cast<Recorder*>(ud);
  absl::MutexLock lock(&r->mu);
  r->component_calls.push_back(
      absl::StrCat(verb, " ", c->package_name, " ", c->dc_id, " ", c->name, " ", c->version));
  snprintf(message, message_size, "%s", r->component_message.c_str());
  auto it = r->component_answer.find(verb);
  return it == r->component_answer.end() ? UPDRAFT_COMPONENT_OK : it->second;
}

int ActivateComponent(void* ud, const updraft_component_ref_t* c, char* m, size_t n) {
  return ComponentCall(ud, "activate", c, m, n);
}

int DeactivateComponent(void* ud, const updraft_component_ref_t* c, char* m, size_t n) {
  return ComponentCall(ud, "deactivate", c, m, n);
}

int RemoveComponent(void* ud, const updraft_component_ref_t* c, char* m, size_t n) {
  return ComponentCall(ud, "remove", c, m, n);
}

// Misbehaving callbacks: an out-of-range answer with an unterminated message
// that is not valid UTF-8, an exception, a negative answer.
int GarbageActivate(void*, const updraft_component_ref_t*, char* message, size_t size) {
  memset(message, 'x', size);
  const char prefix[] = "caf\xc3\xa9 \xc0\xaf\xff";  // overlong '/', then a stray byte
  memcpy(message, prefix, sizeof(prefix) - 1);
  return 77;
}

int ThrowingDeactivate(void*, const updraft_component_ref_t*, char*, size_t) {
  throw std::runtime_error("vendor bug");
}

int NegativeRemove(void*, const updraft_component_ref_t*, char*, size_t) { return -1; }

v1::PendingOperation Operation(const std::string& id, v1::ComponentOperation::Kind kind,
                               const std::string& dc_id) {
  v1::PendingOperation op;
  op.set_operation_id(id);
  op.set_kind(kind);
  op.set_dc_id(dc_id);
  op.set_release_id("r_1");
  return op;
}

class UpdraftDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("capi");
    signing_ = *Ed25519KeyPair::Generate();
    notifier_.SetKeys({signing_.public_key()});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&auth_);
    builder.RegisterService(&catalog_);
    builder.RegisterService(&download_);
    builder.RegisterService(&notifier_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port_);
    artifact_ = testutil::BuildTar({testutil::File("app.bin", "demo app"),
                                    testutil::File("libcodec.so", std::string(5000, 'c'))});
    download_.AddArtifact(artifact_, kChunk);
    v1::Offer offer = testutil::DemoOffer("r_1", "1.0.0", artifact_, kChunk);
    offer.set_download_target(address_);
    catalog_.SetOffers({offer});
  }

  void TearDown() override {
    notifier_.Shutdown();
    server_->Shutdown();
  }

  updraft_device_options_t Options(Recorder* r) {
    updraft_device_options_t o;
    updraft_device_options_init(&o);
    o.device_id = kDevice;
    o.auth_address = address_.c_str();
    o.catalog_address = address_.c_str();
    o.notifier_address = address_.c_str();
    o.plaintext = 1;
    key_file_ = dir_ + "/key";
    state_dir_ = dir_ + "/state";
    install_dir_ = dir_ + "/apps";
    o.key_file = key_file_.c_str();
    o.state_dir = state_dir_.c_str();
    o.install_dir = install_dir_.c_str();
    o.consent_fn = Consent;
    o.result_fn = Result;
    o.progress_fn = Progress;
    o.notification_fn = Notified;
    o.user_data = r;
    return o;
  }

  // Creates the device and registers its key with the fake auth.
  updraft_device_t* Create(const updraft_device_options_t& o) {
    updraft_device_t* device = nullptr;
    EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_OK) << updraft_last_error();
    if (device == nullptr) return nullptr;
    char key[128];
    EXPECT_EQ(updraft_device_public_key(device, key, sizeof(key)), UPDRAFT_OK);
    std::string raw;
    EXPECT_TRUE(absl::WebSafeBase64Unescape(key, &raw));
    auth_.RegisterDevice(kDevice, raw);
    return device;
  }

  // Options with the host installer (install_fn, remove_fn) and the three
  // per-component callbacks.
  updraft_device_options_t HostOptions(Recorder* r) {
    updraft_device_options_t o = Options(r);
    o.install_fn = Install;
    o.remove_fn = RemovePackage;
    o.install_dir = nullptr;
    o.activate_fn = ActivateComponent;
    o.deactivate_fn = DeactivateComponent;
    o.remove_component_fn = RemoveComponent;
    return o;
  }

  // Creates the device and installs demo-app 1.0.0 (DC_1 "demo-app", DC_2
  // "codec") through its installer; then no more offers.
  updraft_device_t* CreateInstalled(const updraft_device_options_t& o, Recorder* r) {
    updraft_device_t* device = Create(o);
    if (device == nullptr) return nullptr;
    int failed = -1;
    EXPECT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK)
        << updraft_last_error();
    EXPECT_EQ(failed, 0);
    EXPECT_THAT(Inventory(device), ElementsAre("DC_1 r_1 1", "DC_2 r_1 1"));
    catalog_.SetOffers({});
    absl::MutexLock lock(&r->mu);
    r->results.clear();
    r->component_calls.clear();
    return device;
  }

  // Queues `operations`, runs a check, returns how many outcomes failed.
  int RunOperations(updraft_device_t* device, std::vector<v1::PendingOperation> operations) {
    catalog_.SetOperations(std::move(operations));
    int failed = -1;
    EXPECT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK)
        << updraft_last_error();
    return failed;
  }

  // The catalog's report for operation `id`: "<code> <message>".
  std::string ReportOf(const std::string& id) {
    std::string out = "<not reported>";
    for (const v1::ReportResultRequest& report : catalog_.reports()) {
      if (report.operation_id() == id) out = absl::StrCat(report.result(), " ", report.message());
    }
    return out;
  }

  std::string SignedSms(char id_byte) {
    NotificationFields f;
    f.id = std::string(kNotificationIdSize, id_byte);
    f.server_address = address_;
    f.software_name = "demo-app";
    f.location = "r_1";
    f.timestamp_unix = absl::ToUnixSeconds(absl::Now());
    f.expires_at_unix = f.timestamp_unix + 3600;
    return *EncodeNotification(f, signing_);
  }

  std::vector<std::string> Inventory(updraft_device_t* device) {
    updraft_component_t* components = nullptr;
    size_t count = 0;
    EXPECT_EQ(updraft_device_get_inventory(device, &components, &count), UPDRAFT_OK);
    std::vector<std::string> out;
    for (size_t i = 0; i < count; ++i) {
      out.push_back(absl::StrCat(components[i].dc_id, " ", components[i].release_id, " ",
                                 components[i].active));
    }
    updraft_inventory_free(components, count);
    return out;
  }

  std::string dir_, key_file_, state_dir_, install_dir_, artifact_, address_;
  Ed25519KeyPair signing_ = *Ed25519KeyPair::Generate();
  RealClock clock_;
  testutil::FakeAuthService auth_{&clock_, absl::Minutes(15)};
  testutil::FakeCatalogService catalog_{&auth_};
  testutil::FakeDownloadService download_{&auth_};
  testutil::FakeNotifierService notifier_{&auth_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(UpdraftDeviceTest, CreateValidatesOptions) {
  updraft_device_t* device = reinterpret_cast<updraft_device_t*>(0x1);
  EXPECT_EQ(updraft_device_create(nullptr, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_EQ(device, nullptr);
  EXPECT_STREQ(updraft_last_error(), "options is NULL");
  Recorder r;
  updraft_device_options_t o = Options(&r);
  o.struct_size = 8;
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(updraft_last_error(), HasSubstr("struct_size"));
  o = Options(&r);
  o.key_file = nullptr;
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(updraft_last_error(), HasSubstr("key_file"));
  o = Options(&r);
  o.plaintext = 0;  // and no CA
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(updraft_last_error(), HasSubstr("ca_file"));
  o = Options(&r);
  o.check_jitter = 1.5;
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_EQ(updraft_device_run_active_upgrade(nullptr, nullptr), UPDRAFT_INVALID_ARGUMENT);
  updraft_device_destroy(nullptr);
}

TEST_F(UpdraftDeviceTest, ActiveUpgradeInstallsAndFillsTheInventory) {
  Recorder r;
  updraft_device_t* device = Create(Options(&r));
  ASSERT_NE(device, nullptr);
  int failed = -1;
  ASSERT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK) << updraft_last_error();
  EXPECT_EQ(failed, 0);
  EXPECT_STREQ(updraft_last_error(), "");
  EXPECT_THAT(r.offers, ElementsAre("demo-app 1.0.0 fresh"));
  EXPECT_THAT(r.results, ElementsAre(1200));
  EXPECT_THAT(r.dc_ids, ElementsAre("DC_1", "DC_2"));
  EXPECT_EQ(r.steps.front(), UPDRAFT_STEP_LOGGED_IN);
  EXPECT_EQ(r.steps.back(), UPDRAFT_STEP_REPORTED);
  EXPECT_EQ(testutil::ReadOrMissing(dir_ + "/apps/demo-app/app.bin"), "demo app");
  EXPECT_THAT(Inventory(device), ElementsAre("DC_1 r_1 1", "DC_2 r_1 1"));
  ASSERT_EQ(catalog_.checks().size(), 1u);
  EXPECT_EQ(catalog_.checks()[0].attributes().model(), "");

  ASSERT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK);
  EXPECT_THAT(r.results, ElementsAre(1200, 0));  // then nothing new
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, DeclinedOfferIsReportedAsUserCancelled) {
  Recorder r;
  r.consent = false;
  updraft_device_t* device = Create(Options(&r));
  int failed = -1;
  ASSERT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK);
  EXPECT_EQ(failed, 1);
  EXPECT_THAT(r.results, ElementsAre(1401));
  ASSERT_EQ(catalog_.reports().size(), 1u);
  EXPECT_EQ(catalog_.reports()[0].result(), v1::USER_CANCELLED);
  EXPECT_TRUE(Inventory(device).empty());
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, HostInstallerGetsTheArtifactAndSettings) {
  Recorder r;
  r.install_code = 1406;
  updraft_device_options_t o = Options(&r);
  o.install_fn = Install;
  o.install_dir = nullptr;
  updraft_device_t* device = Create(o);
  int failed = 0;
  ASSERT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK);
  EXPECT_EQ(failed, 1);
  EXPECT_THAT(r.results, ElementsAre(1406));
  ASSERT_EQ(r.installed_artifacts.size(), 1u);
  EXPECT_EQ(r.settings["server"], "prod");
  EXPECT_EQ(r.settings["volume"], "7");
  ASSERT_EQ(catalog_.reports().size(), 1u);
  EXPECT_THAT(catalog_.reports()[0].message(), HasSubstr("storage full"));

  r.install_code = 0;
  ASSERT_EQ(updraft_device_run_active_upgrade(device, &failed), UPDRAFT_OK);
  EXPECT_EQ(failed, 0);
  EXPECT_THAT(r.results, ElementsAre(1406, 1200));
  EXPECT_THAT(Inventory(device), ElementsAre("DC_1 r_1 1", "DC_2 r_1 1"));
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, SmsIsVerifiedAcknowledgedAndRunsTheFlow) {
  Recorder r;
  updraft_device_t* device = Create(Options(&r));
  std::string sms = SignedSms('\x07');
  ASSERT_EQ(
      updraft_device_handle_sms(device, reinterpret_cast<const uint8_t*>(sms.data()), sms.size()),
      UPDRAFT_OK)
      << updraft_last_error();
  EXPECT_THAT(r.notifications, ElementsAre("demo-app 1"));
  EXPECT_THAT(r.results, ElementsAre(1200));
  EXPECT_EQ(notifier_.acks().size(), 1u);

  // Replayed.
  EXPECT_EQ(
      updraft_device_handle_sms(device, reinterpret_cast<const uint8_t*>(sms.data()), sms.size()),
      UPDRAFT_ALREADY_EXISTS);
  // Forged: a byte of the signed part altered.
  std::string forged = SignedSms('\x08');
  forged[forged.size() / 2] ^= 1;
  updraft_status_t s = updraft_device_handle_sms(
      device, reinterpret_cast<const uint8_t*>(forged.data()), forged.size());
  EXPECT_TRUE(s == UPDRAFT_UNAUTHENTICATED || s == UPDRAFT_INVALID_ARGUMENT) << s;
  EXPECT_THAT(updraft_last_error(), HasSubstr("notification"));
  EXPECT_EQ(updraft_device_handle_sms(device, nullptr, 3), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_EQ(updraft_device_handle_sms(device, reinterpret_cast<const uint8_t*>("abc"), 3),
            UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(r.results, ElementsAre(1200));  // no further flow
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, WapPushSiHref) {
  Recorder r;
  updraft_device_t* device = Create(Options(&r));
  std::string href =
      absl::StrCat("https://updraft.example/n/", NotificationToBase64(SignedSms('\x09')));
  std::string si = absl::StrCat("<si><indication href=\"", href, "\">update</indication></si>");
  ASSERT_EQ(updraft_device_handle_wap_push(device, si.c_str()), UPDRAFT_OK) << updraft_last_error();
  EXPECT_THAT(r.results, ElementsAre(1200));
  EXPECT_EQ(updraft_device_handle_wap_push(device, "https://updraft.example/n/zz"),
            UPDRAFT_INVALID_ARGUMENT);
  EXPECT_EQ(updraft_device_handle_wap_push(device, nullptr), UPDRAFT_INVALID_ARGUMENT);
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, IpPushNotificationRunsTheFlowInTheBackground) {
  Recorder r;
  updraft_device_t* device = Create(Options(&r));
  v1::Notification n;
  std::string signed_bytes = SignedSms('\x0a');
  n.set_notification_id(NotificationIdHex(std::string(kNotificationIdSize, '\x0a')));
  n.set_signed_(signed_bytes);
  notifier_.AddStream({n});
  notifier_.AddStream({});  // then a stream held open
  EXPECT_EQ(updraft_device_ip_push_streams_opened(device), 0);
  ASSERT_EQ(updraft_device_start_ip_push(device), UPDRAFT_OK) << updraft_last_error();
  ASSERT_EQ(updraft_device_start_ip_push(device), UPDRAFT_OK);  // idempotent
  ASSERT_TRUE(r.got_result.WaitForNotificationWithTimeout(absl::Seconds(60)));
  {
    absl::MutexLock lock(&r.mu);
    EXPECT_THAT(r.notifications, ElementsAre("demo-app 1"));
    EXPECT_THAT(r.results, ElementsAre(1200));
  }
  EXPECT_GE(updraft_device_ip_push_streams_opened(device), 1);
  EXPECT_EQ(updraft_device_stop_ip_push(device), UPDRAFT_OK);
  EXPECT_EQ(updraft_device_ip_push_streams_opened(device), 0);
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, PushNeedsANotifier) {
  Recorder r;
  updraft_device_options_t o = Options(&r);
  o.notifier_address = nullptr;
  updraft_device_t* device = Create(o);
  EXPECT_EQ(updraft_device_start_ip_push(device), UPDRAFT_FAILED_PRECONDITION);
  EXPECT_THAT(updraft_last_error(), HasSubstr("notifier_address"));
  std::string sms = SignedSms('\x0b');
  EXPECT_EQ(
      updraft_device_handle_sms(device, reinterpret_cast<const uint8_t*>(sms.data()), sms.size()),
      UPDRAFT_FAILED_PRECONDITION);
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, ScheduledChecksRunTheFlow) {
  Recorder r;
  updraft_device_options_t o = Options(&r);
  o.check_interval_seconds = 1;  // first check within a second
  updraft_device_t* device = Create(o);
  ASSERT_EQ(updraft_device_start_scheduled_checks(device), UPDRAFT_OK);
  ASSERT_TRUE(r.got_result.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(updraft_device_stop_scheduled_checks(device), UPDRAFT_OK);
  absl::MutexLock lock(&r.mu);
  EXPECT_EQ(r.results.front(), 1200);
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, UnreachableServicesAreUnavailable) {
  Recorder r;
  updraft_device_options_t o = Options(&r);
  o.auth_address = "127.0.0.1:1";
  o.catalog_address = "127.0.0.1:1";
  o.rpc_timeout_seconds = 5;
  updraft_device_t* device = Create(o);
  updraft_status_t s = updraft_device_run_active_upgrade(device, nullptr);
  EXPECT_TRUE(s == UPDRAFT_UNAVAILABLE || s == UPDRAFT_DEADLINE_EXCEEDED) << s;
  EXPECT_STRNE(updraft_last_error(), "");
  updraft_device_destroy(device);
}

struct RunResult {
  int exit_code;
  std::string output;
};

RunResult RunExample(const std::string& args) {
  std::string cmd = absl::StrCat("sdk/device/updraft_example ", args, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(UpdraftDeviceTest, CExampleInstallsAndListsTheInventory) {
  std::string common =
      absl::StrCat("--device_id=", kDevice, " --key_file=", dir_, "/ex.key --state_dir=", dir_,
                   "/ex-state --install_dir=", dir_, "/ex-apps --auth=", address_,
                   " --catalog=", address_, " --plaintext");
  RunResult key = RunExample(common + " --print_public_key");
  ASSERT_EQ(key.exit_code, 0) << key.output;
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(absl::StripAsciiWhitespace(key.output), &raw));
  auth_.RegisterDevice(kDevice, raw);

  RunResult r = RunExample(common);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("offer: demo-app 1.0.0 (fresh install"));
  EXPECT_THAT(r.output, HasSubstr("result: demo-app 1.0.0 -> 1200"));
  EXPECT_THAT(r.output, HasSubstr("1.0.0 (release r_1, active)"));
  EXPECT_EQ(testutil::ReadOrMissing(dir_ + "/ex-apps/demo-app/app.bin"), "demo app");

  RunResult again = RunExample(common + " --consent=no");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("result: nothing new"));
  EXPECT_EQ(RunExample(common + " --consent=maybe").exit_code, 2);
  RunResult bad = RunExample(absl::StrCat("--device_id=x --key_file=", dir_, "/k2"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.output, HasSubstr("install_dir"));
}

// Per-component operations through the host installer's callbacks.
using Kind = v1::ComponentOperation;
using ::testing::StartsWith;

// Afterwards: each operation reached the right callback with the component's
// package, DC ID, name and version; the server got 1200 for each; the
// inventory shows the new states; removing a package's last component went
// to remove_fn; a reported operation is not run again.
TEST_F(UpdraftDeviceTest, HostInstallerRunsPerComponentOperations) {
  Recorder r;
  updraft_device_t* device = CreateInstalled(HostOptions(&r), &r);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(RunOperations(device, {Operation("op_d", Kind::DEACTIVATE, "DC_2"),
                                   Operation("op_a", Kind::ACTIVATE, "DC_1"),
                                   Operation("op_r", Kind::REMOVE, "DC_1")}),
            0);
  EXPECT_THAT(r.component_calls, ElementsAre("deactivate demo-app DC_2 codec 1.0.0",
                                             "activate demo-app DC_1 demo-app 1.0.0",
                                             "remove demo-app DC_1 demo-app 1.0.0"));
  EXPECT_THAT(r.results, ElementsAre(1200, 1200, 1200));
  EXPECT_THAT(ReportOf("op_d"), StartsWith("1200 deactivated component DC_2"));
  EXPECT_THAT(ReportOf("op_a"), StartsWith("1200 activated component DC_1"));
  EXPECT_THAT(ReportOf("op_r"), StartsWith("1200 removed component DC_1"));
  EXPECT_THAT(Inventory(device), ElementsAre("DC_2 r_1 0"));

  // The last component of the package: remove_fn for the whole package.
  r.component_calls.clear();
  EXPECT_EQ(RunOperations(device, {Operation("op_last", Kind::REMOVE, "DC_2")}), 0);
  EXPECT_THAT(r.component_calls, ElementsAre("remove-package demo-app"));
  EXPECT_THAT(ReportOf("op_last"), StartsWith("1200 "));
  EXPECT_TRUE(Inventory(device).empty());

  // Everything reported: the next check runs nothing.
  r.component_calls.clear();
  EXPECT_EQ(RunOperations(device, {Operation("op_last", Kind::REMOVE, "DC_2")}), 0);
  EXPECT_TRUE(r.component_calls.empty());
  updraft_device_destroy(device);
}

// Afterwards: the result callback saw, for each per-component outcome, the
// operation's ID, kind and DC ID (so a host can tell them apart, failures
// too), and empty ones ("", UPDRAFT_OPERATION_NONE, "") for the ordinary
// install and for a check with nothing new.
TEST_F(UpdraftDeviceTest, ResultsNameTheirPerComponentOperation) {
  Recorder r;
  updraft_device_t* device = CreateInstalled(HostOptions(&r), &r);
  ASSERT_NE(device, nullptr);
  r.component_answer = {{"activate", UPDRAFT_COMPONENT_FAILED}};
  EXPECT_EQ(RunOperations(device, {Operation("op_d", Kind::DEACTIVATE, "DC_2"),
                                   Operation("op_a", Kind::ACTIVATE, "DC_1"),
                                   Operation("op_r", Kind::REMOVE, "DC_1")}),
            1);
  EXPECT_THAT(r.results, ElementsAre(1200, 1409, 1200));
  EXPECT_THAT(r.operations,
              ElementsAre("[|0|]",  // the install of demo-app by CreateInstalled
                          absl::StrCat("[op_d|", UPDRAFT_OPERATION_DEACTIVATE, "|DC_2]"),
                          absl::StrCat("[op_a|", UPDRAFT_OPERATION_ACTIVATE, "|DC_1]"),
                          absl::StrCat("[op_r|", UPDRAFT_OPERATION_REMOVE, "|DC_1]")));
  r.operations.clear();
  EXPECT_EQ(RunOperations(device, {}), 0);
  EXPECT_THAT(r.results, ElementsAre(1200, 1409, 1200, 0));  // nothing new
  EXPECT_THAT(r.operations, ElementsAre("[|0|]"));
  updraft_device_destroy(device);
}

// Afterwards: FAILED gives the operation's failure code (1410 deactivate,
// 1409 activate) with the host's message and no state change; NOT_SUPPORTED
// gives 1411; NOT_FOUND gives 1409 for activate but 1200 for remove (gone
// already; dropped from the inventory); a DC the SDK does not know gives the
// failure code without asking the host.
TEST_F(UpdraftDeviceTest, HostComponentFailuresGiveTheDocumentedCodes) {
  Recorder r;
  updraft_device_t* device = CreateInstalled(HostOptions(&r), &r);
  ASSERT_NE(device, nullptr);
  r.component_answer = {{"deactivate", UPDRAFT_COMPONENT_FAILED},
                        {"activate", UPDRAFT_COMPONENT_NOT_SUPPORTED},
                        {"remove", UPDRAFT_COMPONENT_NOT_FOUND}};
  r.component_message = "component busy";
  EXPECT_EQ(RunOperations(device, {Operation("op_1", Kind::DEACTIVATE, "DC_2"),
                                   Operation("op_2", Kind::ACTIVATE, "DC_2"),
                                   Operation("op_3", Kind::REMOVE, "DC_1"),
                                   Operation("op_4", Kind::ACTIVATE, "DC_9")}),
            3);
  EXPECT_THAT(r.component_calls, ElementsAre("deactivate demo-app DC_2 codec 1.0.0",
                                             "activate demo-app DC_2 codec 1.0.0",
                                             "remove demo-app DC_1 demo-app 1.0.0"));
  EXPECT_THAT(r.results, ElementsAre(1410, 1411, 1200, 1409));
  EXPECT_EQ(ReportOf("op_1"),
            "1410 the platform failed to deactivate component DC_2 of package demo-app: "
            "component busy");
  EXPECT_THAT(ReportOf("op_2"), StartsWith("1411 the platform does not support this"));
  EXPECT_THAT(ReportOf("op_3"), StartsWith("1200 removed component DC_1"));
  EXPECT_THAT(ReportOf("op_4"), HasSubstr("DC_9 is not deployed"));
  EXPECT_THAT(Inventory(device), ElementsAre("DC_2 r_1 1"));

  r.component_answer = {{"activate", UPDRAFT_COMPONENT_NOT_FOUND}};
  r.component_message = "";
  EXPECT_EQ(RunOperations(device, {Operation("op_5", Kind::ACTIVATE, "DC_2")}), 1);
  EXPECT_EQ(ReportOf("op_5"),
            "1409 cannot activate component DC_2 of package demo-app: the platform does not "
            "have it");
  updraft_device_destroy(device);
}

// Afterwards: without a callback each operation is answered 1411 and
// nothing changes, also for a caller built against the version-1 options
// struct (the fields past its struct_size, here garbage, are never read).
TEST_F(UpdraftDeviceTest, MissingComponentCallbacksAnswerNotImplemented) {
  Recorder r;
  updraft_device_options_t o = HostOptions(&r);
  o.activate_fn = nullptr;
  o.deactivate_fn = nullptr;
  o.remove_component_fn = nullptr;
  updraft_device_t* device = CreateInstalled(o, &r);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(RunOperations(device, {Operation("op_1", Kind::ACTIVATE, "DC_1"),
                                   Operation("op_2", Kind::DEACTIVATE, "DC_1"),
                                   Operation("op_3", Kind::REMOVE, "DC_1")}),
            3);
  EXPECT_THAT(r.results, ElementsAre(1411, 1411, 1411));
  EXPECT_THAT(ReportOf("op_2"), HasSubstr("deactivate_fn not set"));
  EXPECT_TRUE(r.component_calls.empty());
  EXPECT_THAT(Inventory(device), ElementsAre("DC_1 r_1 1", "DC_2 r_1 1"));
  updraft_device_destroy(device);

  o = HostOptions(&r);
  o.struct_size = offsetof(updraft_device_options_t, activate_fn);
  o.activate_fn = reinterpret_cast<updraft_component_fn>(uintptr_t{1});
  o.deactivate_fn = reinterpret_cast<updraft_component_fn>(uintptr_t{1});
  o.remove_component_fn = reinterpret_cast<updraft_component_fn>(uintptr_t{1});
  device = Create(o);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(RunOperations(device, {Operation("op_4", Kind::DEACTIVATE, "DC_1")}), 1);
  EXPECT_EQ(ReportOf("op_4").substr(0, 5), "1411 ");
  updraft_device_destroy(device);
}

TEST_F(UpdraftDeviceTest, ComponentCallbacksNeedTheHostInstaller) {
  Recorder r;
  updraft_device_options_t o = Options(&r);  // default installer
  o.deactivate_fn = DeactivateComponent;
  updraft_device_t* device = nullptr;
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(updraft_last_error(), HasSubstr("install_fn"));
  EXPECT_EQ(device, nullptr);
  o = HostOptions(&r);
  o.struct_size = sizeof(o) + 8;  // from a newer header
  EXPECT_EQ(updraft_device_create(&o, &device), UPDRAFT_INVALID_ARGUMENT);
  EXPECT_THAT(updraft_last_error(), HasSubstr("struct_size"));
}

// Afterwards: an unknown answer, an exception and a negative answer each
// give the operation's failure code; the call returns UPDRAFT_OK (nothing
// crossed the API); the unterminated message, not valid UTF-8, reached the
// server cut, as printable ASCII.
TEST_F(UpdraftDeviceTest, MisbehavingComponentCallbacksAreContained) {
  Recorder r;
  updraft_device_options_t o = HostOptions(&r);
  o.activate_fn = GarbageActivate;
  o.deactivate_fn = ThrowingDeactivate;
  o.remove_component_fn = NegativeRemove;
  updraft_device_t* device = CreateInstalled(o, &r);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(RunOperations(device, {Operation("op_1", Kind::ACTIVATE, "DC_1"),
                                   Operation("op_2", Kind::DEACTIVATE, "DC_1"),
                                   Operation("op_3", Kind::REMOVE, "DC_1")}),
            3);
  EXPECT_THAT(r.results, ElementsAre(1409, 1410, 1408));
  const std::string garbage = ReportOf("op_1");
  EXPECT_THAT(garbage,
              StartsWith("1409 activate_fn returned 77, not an updraft_component_result_t"));
  EXPECT_THAT(garbage, HasSubstr(": caf?? ???xxx"));
  EXPECT_THAT(ReportOf("op_2"), StartsWith("1410 deactivate_fn threw an exception"));
  EXPECT_THAT(ReportOf("op_3"), StartsWith("1408 remove_component_fn returned -1"));
  EXPECT_THAT(Inventory(device), ElementsAre("DC_1 r_1 1", "DC_2 r_1 1"));
  updraft_device_destroy(device);
}

}  // namespace
}  // namespace updraft::device
