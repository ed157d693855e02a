#include "tools/updraftctl/commands.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

TEST(CreateReleaseTest, MissingRequiredOptionIsUsageError) {
  Stubs stubs;
  Args a;
  EXPECT_EQ(CreateRelease(a, stubs, stdout).message(), "--package_id is required");
}

}  // namespace
}  // namespace updraft::ctl
