#include "tools/updraftctl/commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth_mock.grpc.pb.h"
#include "updraft/v1/catalog_mock.grpc.pb.h"

namespace updraft::ctl {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;

TEST(ArgsTest, ParsesBothForms) {
  Args a;
  ASSERT_TRUE(ParseArgs({"--dc=DC_1=app.bin", "--dc", "DC_2=lib.so", "--version=1.0.0"}, &a).ok());
  EXPECT_EQ(a.GetAll("dc"), (std::vector<std::string>{"DC_1=app.bin", "DC_2=lib.so"}));
  EXPECT_EQ(a.Get("version"), "1.0.0");
  EXPECT_EQ(a.Get("absent"), "");
}

TEST(ArgsTest, RejectsStrayWordsAndMissingValue) {
  Args a;
  EXPECT_EQ(ParseArgs({"oops"}, &a).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseArgs({"--name"}, &a).code(), absl::StatusCode::kInvalidArgument);
}

TEST(DcParseTest, FilesAndTriples) {
  v1::DcEntry e;
  ASSERT_TRUE(ParseDcFiles("DC_2=lib/a.so,lib/b.so", &e).ok());
  EXPECT_EQ(e.dc_id(), "DC_2");
  EXPECT_THAT(e.files(), ::testing::ElementsAre("lib/a.so", "lib/b.so"));
  EXPECT_FALSE(ParseDcFiles("DC_2", &e).ok());
  EXPECT_FALSE(ParseDcFiles("=x", &e).ok());
  v1::DcEntry t;
  ASSERT_TRUE(ParseDcTriple("acme/codec/2.0.1", &t).ok());
  EXPECT_EQ(t.author(), "acme");
  EXPECT_EQ(t.version(), "2.0.1");
  EXPECT_FALSE(ParseDcTriple("acme/codec", &t).ok());
}

TEST(CreateReleaseTest, SendsVariantAAndReportsServerError) {
  Stubs stubs;
  auto catalog = std::make_unique<v1::MockCatalogAdminStub>();
  v1::CreateReleaseRequest sent;
  EXPECT_CALL(*catalog, CreateRelease(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                             "duplicate DC ID DC_1 in DCinfo"))));
  stubs.catalog = std::move(catalog);
  Args a;
  ASSERT_TRUE(ParseArgs({"--package_id=pkg_1", "--version=1.0.0", "--artifact_sha256=ab",
                         "--dc=DC_1=app.bin", "--dc=DC_1=lib.so"},
                        &a)
                  .ok());
  absl::Status s = CreateRelease(a, stubs, stdout);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "duplicate DC ID DC_1 in DCinfo");
  EXPECT_EQ(sent.dcinfo().variant(), v1::DcInfo::FILES);
  EXPECT_EQ(sent.dcinfo().entries_size(), 2);
}

TEST(CreateReleaseTest, SendsCompatibilityRules) {
  Stubs stubs;
  auto catalog = std::make_unique<v1::MockCatalogAdminStub>();
  v1::CreateReleaseRequest sent;
  EXPECT_CALL(*catalog, CreateRelease(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Return(grpc::Status::OK)));
  stubs.catalog = std::move(catalog);
  Args a;
  ASSERT_TRUE(ParseArgs({"--package_id=pkg_1", "--version=1.0.0", "--artifact_sha256=ab",
                         "--dc=DC_1=app.bin", "--model=A1", "--model=B2", "--carrier=acme",
                         "--min_os_version=13"},
                        &a)
                  .ok());
  ASSERT_TRUE(CreateRelease(a, stubs, stdout).ok());
  EXPECT_THAT(sent.compatibility().models(), ::testing::ElementsAre("A1", "B2"));
  EXPECT_THAT(sent.compatibility().carriers(), ::testing::ElementsAre("acme"));
  EXPECT_EQ(sent.compatibility().min_os_version(), "13");
  EXPECT_EQ(sent.compatibility().max_os_version(), "");
}

TEST(CreateReleaseTest, MissingRequiredOptionIsUsageError) {
  Stubs stubs;
  Args a;
  EXPECT_EQ(CreateRelease(a, stubs, stdout).message(), "--package_id is required");
}

std::string TempPath(const std::string& name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// Output written by a command, via a temporary FILE*.
class Output {
 public:
  Output() : f_(tmpfile()) {}
  ~Output() { fclose(f_); }
  FILE* get() { return f_; }
  std::string text() {
    fflush(f_);
    rewind(f_);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f_)) > 0) out.append(buf, n);
    return out;
  }

 private:
  FILE* f_;
};

TEST(LogInTest, SendsTheKeyFromTheFileAndKeepsTheToken) {
  std::string path = TempPath("ctl_login.key");
  std::string raw(32, 'k');
  ASSERT_TRUE(WriteKeyFile(path, raw).ok());
  Stubs stubs;
  auto auth = std::make_unique<v1::MockAuthStub>();
  v1::OperatorLoginRequest sent;
  v1::OperatorLoginResponse resp;
  resp.set_access_token("op-token");
  EXPECT_CALL(*auth, OperatorLogin(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(resp), Return(grpc::Status::OK)));
  stubs.auth = std::move(auth);
  ASSERT_TRUE(LogIn(path, stubs).ok());
  EXPECT_EQ(sent.api_key(), absl::WebSafeBase64Escape(raw));
  EXPECT_EQ(stubs.token, "op-token");
  EXPECT_EQ(LogIn(path + ".missing", stubs).code(), absl::StatusCode::kInvalidArgument);
}

TEST(LogInTest, RefusedKeyIsTheServersAnswer) {
  std::string path = TempPath("ctl_login_bad.key");
  ASSERT_TRUE(WriteKeyFile(path, std::string(32, 'x')).ok());
  Stubs stubs;
  auto auth = std::make_unique<v1::MockAuthStub>();
  EXPECT_CALL(*auth, OperatorLogin(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid API key")));
  stubs.auth = std::move(auth);
  absl::Status s = LogIn(path, stubs);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "invalid API key");
}

TEST(CreateApiKeyTest, OutWritesAPrivateKeyFile) {
  Stubs stubs;
  auto admin = std::make_unique<v1::MockAuthAdminStub>();
  v1::CreateApiKeyResponse resp;
  std::string raw(32, 'p');
  resp.set_api_key(absl::WebSafeBase64Escape(raw));
  resp.mutable_key()->set_key_id("ak_1");
  resp.mutable_key()->set_name("publisher");
  resp.mutable_key()->set_role("publisher");
  v1::CreateApiKeyRequest sent;
  EXPECT_CALL(*admin, CreateApiKey(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(resp), Return(grpc::Status::OK)));
  stubs.auth_admin = std::move(admin);
  std::string path = TempPath("ctl_created.key");
  Args a;
  ASSERT_TRUE(ParseArgs({"--name=publisher", "--role=publisher", "--out=" + path}, &a).ok());
  Output out;
  ASSERT_TRUE(CreateApiKey(a, stubs, out.get()).ok());
  EXPECT_EQ(sent.role(), "publisher");
  EXPECT_EQ(*ReadKeyFile(path), raw);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(out.text(), "API key ak_1 (publisher, role publisher) written to " + path + "\n");
  Args missing;
  EXPECT_EQ(CreateApiKey(missing, stubs, out.get()).message(), "--name is required");
}

TEST(ImportDevicesTest, SendsTheFileAndReportsTheServersRowError) {
  std::string path = TempPath("ctl_devices.csv");
  std::ofstream(path) << "device_id,key_type,public_key\nx,ed25519,zz\n";
  Stubs stubs;
  auto admin = std::make_unique<v1::MockAuthAdminStub>();
  v1::ImportDevicesRequest sent;
  EXPECT_CALL(*admin, ImportDevices(_, _, _))
      .WillOnce(
          DoAll(SaveArg<1>(&sent), Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                       "row 2: public_key is not base64url"))));
  stubs.auth_admin = std::move(admin);
  Args a;
  ASSERT_TRUE(ParseArgs({"--file=" + path}, &a).ok());
  Output out;
  absl::Status s = ImportDevices(a, stubs, out.get());
  EXPECT_EQ(s.message(), "row 2: public_key is not base64url");
  EXPECT_EQ(sent.csv(), "device_id,key_type,public_key\nx,ed25519,zz\n");
  Args none;
  ASSERT_TRUE(ParseArgs({"--file=" + path + ".missing"}, &none).ok());
  EXPECT_EQ(ImportDevices(none, stubs, out.get()).code(), absl::StatusCode::kNotFound);
}

TEST(DeviceCommandsTest, ListAndRevoke) {
  Stubs stubs;
  auto admin = std::make_unique<v1::MockAuthAdminStub>();
  v1::ListDevicesResponse list;
  v1::Device* d = list.add_devices();
  d->set_device_id("phone-1");
  d->set_status("pending");
  d->set_key_type(v1::KEY_TYPE_ECDSA_P256);
  (*d->mutable_attributes())["model"] = "X1";
  v1::ListDevicesRequest list_sent;
  EXPECT_CALL(*admin, ListDevices(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&list_sent), SetArgPointee<2>(list), Return(grpc::Status::OK)));
  v1::Device revoked;
  revoked.set_device_id("phone-1");
  revoked.set_status("revoked");
  v1::DeviceActionRequest action_sent;
  EXPECT_CALL(*admin, RevokeDevice(_, _, _))
      .WillOnce(
          DoAll(SaveArg<1>(&action_sent), SetArgPointee<2>(revoked), Return(grpc::Status::OK)));
  stubs.auth_admin = std::move(admin);
  Args a;
  ASSERT_TRUE(ParseArgs({"--status=pending"}, &a).ok());
  Output out;
  ASSERT_TRUE(ListDevices(a, stubs, out.get()).ok());
  EXPECT_EQ(list_sent.status(), "pending");
  EXPECT_NE(out.text().find("phone-1"), std::string::npos);
  EXPECT_NE(out.text().find("ecdsa-p256"), std::string::npos);
  EXPECT_NE(out.text().find("model=X1"), std::string::npos);
  Args r;
  ASSERT_TRUE(ParseArgs({"--device_id=phone-1", "--reason=stolen"}, &r).ok());
  Output out2;
  ASSERT_TRUE(RevokeDevice(r, stubs, out2.get()).ok());
  EXPECT_EQ(action_sent.reason(), "stolen");
  EXPECT_EQ(out2.text(), "device phone-1 revoked (status revoked)\n");
}

}  // namespace
}  // namespace updraft::ctl
