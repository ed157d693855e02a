// Fault injection against a real auth process (issue 10): the auth binary
// runs as a child process on real PostgreSQL and Redis; 150 pre-provisioned
// devices (AuthAdmin.ImportDevices) log in on 6 connections the way the SDK
// does (GetChallenge, sign, Login), 30 unknown devices present their keys
// and are recorded as pending, and an operator rotates the token signing
// key over and over. Auth is killed with SIGKILL once 40 logins
// succeeded, with logins, admissions and possibly a rotation in flight; a
// second auth process starts on the same stores. What must hold:
//  1. every token issued before the kill verifies with the keys the new
//     process publishes (GetPublicKeys; the signing keys are durable), and
//     so do tokens it issues itself (a rotation cut short leaves a usable
//     key): every rotation answered before the kill is published, and the
//     published keys are exactly the seed plus one per rotate audit entry;
//  2. a challenge that served a login cannot be replayed (UNAUTHENTICATED);
//     a challenge whose Login was cut by the kill, or that was taken and
//     never used, works at most once;
//  3. every provisioned device logs in again;
//  4. no half-written admission: every unknown device is in the pending
//     list at most once, exactly when it has one self_register_device audit
//     entry, and each one that was told "pending" before the kill is there.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/device_auth.h"
#include "common/operator_auth.h"
#include "common/test_env.h"
#include "common/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"
#include "tests/service_process.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft::e2e {
namespace {

constexpr int kDevices = 150;
constexpr int kNewDevices = 30;
constexpr int kConnections = 6;
constexpr int kKillAfterLogins = 40;
constexpr int kUnusedChallenges = 10;
constexpr absl::Duration kWaitLimit = absl::Seconds(30);

std::string DeviceId(int i) { return absl::StrFormat("login-dev-%03d", i); }
std::string NewDeviceId(int i) { return absl::StrFormat("new-dev-%02d", i); }

grpc::ClientContext* WithDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return ctx;
}

// Its own TCP connection (channels otherwise share one).
std::unique_ptr<v1::Auth::Stub> AuthStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::Auth::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

// A challenge and the device's signature of it.
struct SignedChallenge {
  int device = 0;
  std::string nonce;
  std::string signature;
};

class AuthKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    for (int i = 0; i < kDevices + kNewDevices; ++i) keys_.push_back(*Ed25519KeyPair::Generate());
  }

  std::unique_ptr<ServiceProcess> StartAuth(const std::string& name) {
    auto p = ServiceProcess::Start(
        "services/auth/auth",
        {"--listen=127.0.0.1:0", "--metrics_listen=", absl::StrCat("--pg_uri=", env_->pg_uri()),
         absl::StrCat("--redis=", env_->redis_options().host, ":", env_->redis_options().port),
         absl::StrCat("--redis_key_prefix=", env_->redis_prefix()),
         absl::StrCat("--signing_key_file=", dir_, "/signing.key"),
         absl::StrCat("--bootstrap_admin_key_file=", dir_, "/admin.key"),
         "--login_attempts_per_device=0", "--login_attempts_per_source=0",
         // A rotated key signs at once: a rotation cut short by the kill
         // decides which key the restarted auth signs with.
         "--signing_key_activation_delay=0s"},
        absl::StrCat(dir_, "/", name, ".log"), "auth listening", kWaitLimit);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }

  std::unique_ptr<OperatorTokenSource> Operator(const std::string& address) {
    auto key = ReadApiKeyFile(absl::StrCat(dir_, "/admin.key"));
    EXPECT_TRUE(key.ok()) << key.status();
    return std::make_unique<OperatorTokenSource>(AuthStub(address), key.ok() ? *key : "", &clock_);
  }

  absl::StatusOr<SignedChallenge> Challenge(v1::Auth::Stub& stub, int device) {
    grpc::ClientContext ctx;
    v1::GetChallengeRequest request;
    request.set_device_id(DeviceId(device));
    v1::Challenge challenge;
    grpc::Status s = stub.GetChallenge(WithDeadline(&ctx), request, &challenge);
    if (!s.ok()) return FromGrpc(s);
    auto signature = keys_[device].Sign(LoginMessage(DeviceId(device), challenge.nonce()));
    if (!signature.ok()) return signature.status();
    return SignedChallenge{device, challenge.nonce(), *signature};
  }

  static absl::StatusOr<std::string> Login(v1::Auth::Stub& stub, const SignedChallenge& c) {
    grpc::ClientContext ctx;
    v1::LoginRequest request;
    request.set_device_id(DeviceId(c.device));
    request.set_nonce(c.nonce);
    request.set_signature(c.signature);
    v1::LoginResponse response;
    grpc::Status s = stub.Login(WithDeadline(&ctx), request, &response);
    if (!s.ok()) return FromGrpc(s);
    return response.access_token();
  }

  // An unknown device presenting its key: recorded as pending.
  absl::Status Admit(v1::Auth::Stub& stub, int n) {
    grpc::ClientContext ctx;
    v1::GetChallengeRequest request;
    request.set_device_id(NewDeviceId(n));
    request.set_public_key(keys_[kDevices + n].public_key());
    request.set_key_type(v1::KEY_TYPE_ED25519);
    v1::Challenge challenge;
    return FromGrpc(stub.GetChallenge(WithDeadline(&ctx), request, &challenge));
  }

  static absl::Status FromGrpc(const grpc::Status& s) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }

  RealClock clock_;
  std::unique_ptr<TestEnv> env_;
  std::string dir_ = device::testutil::NewTempDir("auth-kill");
  std::vector<Ed25519KeyPair> keys_;
};

TEST_F(AuthKillTest, KilledMidLoginStormKeepsKeysChallengesAndAdmissionsConsistent) {
  auto first = StartAuth("first");
  ASSERT_NE(first, nullptr);
  auto op = Operator(first->address());
  auto admin = v1::AuthAdmin::NewStub(
      grpc::CreateChannel(first->address(), grpc::InsecureChannelCredentials()));
  {
    std::string csv = "device_id,key_type,public_key\n";
    for (int i = 0; i < kDevices; ++i) {
      absl::StrAppend(&csv, DeviceId(i), ",ed25519,",
                      absl::WebSafeBase64Escape(keys_[i].public_key()), "\n");
    }
    grpc::ClientContext ctx;
    ASSERT_TRUE(op->Authorize(&ctx).ok());
    v1::ImportDevicesRequest request;
    request.set_csv(csv);
    v1::ImportDevicesResponse response;
    grpc::Status s = admin->ImportDevices(WithDeadline(&ctx), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(response.imported(), kDevices);
  }
  // Challenges taken before the kill and never used before the restart.
  std::vector<SignedChallenge> unused;
  {
    auto stub = AuthStub(first->address());
    for (int i = 0; i < kUnusedChallenges; ++i) {
      auto c = Challenge(*stub, i);
      ASSERT_TRUE(c.ok()) << c.status();
      unused.push_back(*c);
    }
  }

  // The storm: logins and admissions on 6 connections, rotations beside.
  absl::Mutex mu;
  std::vector<std::pair<SignedChallenge, std::string>> issued;  // challenge, token
  std::vector<SignedChallenge> cut;                             // Login sent, no answer: the kill
  std::vector<int> told_pending;                                // new devices answered "pending"
  std::vector<std::string> rotated;                             // key IDs of answered rotations
  int rotations_cut = 0;
  std::atomic<int> logins{0};
  std::atomic<bool> dead{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kConnections; ++t) {
    threads.emplace_back([&, t] {
      auto stub = AuthStub(first->address());
      int next_new = t;
      for (int i = t; i < kDevices && !dead; i += kConnections) {
        if (i % 5 == 0 && next_new < kNewDevices) {
          absl::Status s = Admit(*stub, next_new);
          if (s.code() == absl::StatusCode::kUnavailable) break;
          EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
          if (s.code() == absl::StatusCode::kPermissionDenied) {
            absl::MutexLock lock(&mu);
            told_pending.push_back(next_new);
          }
          next_new += kConnections;
        }
        auto c = Challenge(*stub, i);
        if (!c.ok()) {
          EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
          break;
        }
        auto token = Login(*stub, *c);
        absl::MutexLock lock(&mu);
        if (!token.ok()) {
          EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable) << token.status();
          cut.push_back(*c);
          break;
        }
        issued.push_back({*c, *token});
        ++logins;
      }
    });
  }
  threads.emplace_back([&] {
    while (!dead) {
      grpc::ClientContext ctx;
      if (!op->Authorize(&ctx).ok()) return;
      v1::RotateSigningKeyResponse response;
      grpc::Status s =
          admin->RotateSigningKey(WithDeadline(&ctx), v1::RotateSigningKeyRequest(), &response);
      absl::MutexLock lock(&mu);
      if (!s.ok()) {
        ++rotations_cut;
        return;
      }
      rotated.push_back(response.key_id());
    }
  });
  ASSERT_TRUE(PollUntil([&] { return logins >= kKillAfterLogins; }, kWaitLimit));
  const absl::Time killed_at = absl::Now();
  first->Kill();
  dead = true;
  for (auto& t : threads) t.join();
  ASSERT_LT(issued.size(), kDevices) << "the kill came after every login";

  auto second = StartAuth("second");
  ASSERT_NE(second, nullptr);
  const absl::Duration restart = absl::Now() - killed_at;
  auto stub = AuthStub(second->address());
  AuthServiceKeySource keys(AuthStub(second->address()), &clock_);
  ASSERT_TRUE(keys.Refresh().ok());
  TokenVerifier verifier(&keys, &clock_, std::string(kDeviceAudience));

  // 1. Tokens issued before the kill still verify.
  for (const auto& [c, token] : issued) {
    auto claims = verifier.Verify(token);
    ASSERT_TRUE(claims.ok()) << DeviceId(c.device) << ": " << claims.status();
    EXPECT_EQ(claims->subject, DeviceId(c.device));
  }
  // 2. Used challenges cannot be replayed; cut or unused ones work at most once.
  for (const auto& [c, token] : issued) {
    auto replay = Login(*stub, c);
    ASSERT_EQ(replay.status().code(), absl::StatusCode::kUnauthenticated) << replay.status();
    EXPECT_THAT(std::string(replay.status().message()), ::testing::HasSubstr("already used"));
  }
  int worked_once = 0;
  std::vector<SignedChallenge> pending_use = cut;
  pending_use.insert(pending_use.end(), unused.begin(), unused.end());
  for (const SignedChallenge& c : pending_use) {
    auto once = Login(*stub, c);
    if (once.ok()) {
      ++worked_once;
      EXPECT_TRUE(verifier.Verify(*once).ok());
    } else {
      EXPECT_EQ(once.status().code(), absl::StatusCode::kUnauthenticated) << once.status();
    }
    auto twice = Login(*stub, c);
    EXPECT_EQ(twice.status().code(), absl::StatusCode::kUnauthenticated) << twice.status();
  }
  // 3. Every provisioned device logs in again; its token verifies.
  for (int i = 0; i < kDevices; ++i) {
    auto c = Challenge(*stub, i);
    ASSERT_TRUE(c.ok()) << DeviceId(i) << ": " << c.status();
    auto token = Login(*stub, *c);
    ASSERT_TRUE(token.ok()) << DeviceId(i) << ": " << token.status();
    ASSERT_TRUE(verifier.Verify(*token).ok()) << DeviceId(i);
  }

  // 4. Pending admissions: listed at most once, exactly with their audit.
  auto op2 = Operator(second->address());
  auto admin2 = v1::AuthAdmin::NewStub(
      grpc::CreateChannel(second->address(), grpc::InsecureChannelCredentials()));
  std::map<std::string, int> listed;
  for (std::string after;;) {
    grpc::ClientContext ctx;
    ASSERT_TRUE(op2->Authorize(&ctx).ok());
    v1::ListDevicesRequest request;
    request.set_status("pending");
    request.set_after_device_id(after);
    request.set_limit(7);
    v1::ListDevicesResponse response;
    grpc::Status s = admin2->ListDevices(WithDeadline(&ctx), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& d : response.devices()) ++listed[d.device_id()];
    if (response.next_after_device_id().empty()) break;
    after = response.next_after_device_id();
  }
  for (const auto& [id, n] : listed) EXPECT_EQ(n, 1) << id << " listed " << n << " times";
  for (int n : told_pending) EXPECT_EQ(listed.count(NewDeviceId(n)), 1u) << NewDeviceId(n);
  std::map<std::string, int> actions;  // action -> count, over the whole audit
  std::map<std::string, int> self_registered;
  for (int64_t before = 0;;) {
    grpc::ClientContext ctx;
    ASSERT_TRUE(op2->Authorize(&ctx).ok());
    v1::ListAuditEntriesRequest request;
    request.set_before_id(before);
    request.set_limit(1000);
    v1::ListAuditEntriesResponse response;
    grpc::Status s = admin2->ListAuditEntries(WithDeadline(&ctx), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& e : response.entries()) {
      ++actions[e.action()];
      if (e.action() == "self_register_device") ++self_registered[e.device_id()];
      before = e.id();
    }
    if (response.entries_size() < 1000) break;
  }
  EXPECT_EQ(self_registered, listed);
  // Admitting the same devices again on the new process records nothing new.
  for (int n = 0; n < kNewDevices; ++n) {
    absl::Status s = Admit(*stub, n);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  }

  // Rotations: each answered one is published; the key set and the audit
  // agree (a key and its audit entry are one transaction).
  std::vector<std::string> published;
  {
    grpc::ClientContext ctx;
    v1::PublicKeySet set;
    ASSERT_TRUE(stub->GetPublicKeys(WithDeadline(&ctx), v1::GetPublicKeysRequest(), &set).ok());
    for (const auto& k : set.keys()) published.push_back(k.key_id());
  }
  for (const std::string& id : rotated) EXPECT_THAT(published, ::testing::Contains(id));
  EXPECT_EQ(actions["seed_signing_key"], 1);
  EXPECT_EQ(static_cast<int>(published.size()), 1 + actions["rotate_signing_key"]);
  EXPECT_EQ(actions["import_device"], kDevices);

  std::cerr << "before the kill: " << issued.size() << " logins, " << told_pending.size()
            << " pending recorded, " << rotated.size() << " rotations answered, " << rotations_cut
            << " cut; Login cut by the kill: " << cut.size() << "; after: " << listed.size()
            << " pending listed, " << actions["rotate_signing_key"] << " rotations stored, "
            << worked_once << " of " << pending_use.size()
            << " cut/unused challenges worked once; restart took " << absl::FormatDuration(restart)
            << "\n";
}

}  // namespace
}  // namespace updraft::e2e
