// End-to-end active upgrade: the real device SDK against the real auth,
// download, catalog and notifier servers over PostgreSQL and Redis.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "tests/e2e_fixture.h"

namespace updraft::e2e {
namespace {

using device::ProgressEvent;
using device::UpdateOutcome;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using ActiveUpgradeTest = PlatformTest;

// The only outcome of a run that handled exactly one offer.
UpdateOutcome OnlyOutcome(device::Client& client) {
  auto outcomes = client.RunActiveUpgrade();
  EXPECT_TRUE(outcomes.ok()) << outcomes.status();
  if (!outcomes.ok()) return UpdateOutcome();
  EXPECT_THAT(*outcomes, SizeIs(1));
  return outcomes->empty() ? UpdateOutcome() : outcomes->front();
}

// Checks a Deployed node as the device keeps it and as the catalog records it.
void ExpectNode(const v1::InventoryComponent& c, const std::string& dc_id,
                const std::string& release_id, const std::string& author, const std::string& name,
                const std::string& version) {
  EXPECT_EQ(c.dc_id(), dc_id);
  EXPECT_EQ(c.release_id(), release_id);
  EXPECT_EQ(c.author(), author);
  EXPECT_EQ(c.name(), name);
  EXPECT_EQ(c.version(), version);
  EXPECT_EQ(c.location(), v1::DEPLOYED);
  EXPECT_EQ(c.state(), v1::ACTIVE);
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// True for a directory without entries (not even staging leftovers).
bool IsEmptyDir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_empty(path, ec) && !ec;
}

void ExpectRecord(const v1::ResultRecord& r, const UpdateOutcome& outcome) {
  EXPECT_EQ(r.report_id(), outcome.report_id);
  EXPECT_EQ(r.release_id(), outcome.release.release_id());
  EXPECT_EQ(r.result(), outcome.result);
  EXPECT_EQ(r.message(), outcome.message);
}

TEST_F(ActiveUpgradeTest, FreshInstallThenNothingNewThenOverwrite) {
  auto device = NewDevice("dev-happy");
  ASSERT_NE(device, nullptr);
  DemoArtifact v1_0;
  v1::Release r1;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &v1_0, &r1));

  UpdateOutcome first = OnlyOutcome(device->client());
  EXPECT_FALSE(first.nothing_new);
  EXPECT_EQ(first.kind, v1::FRESH_INSTALL);
  EXPECT_EQ(first.result, v1::SUCCESS) << first.message;
  EXPECT_EQ(first.release.release_id(), r1.release_id());
  EXPECT_THAT(first.dc_ids, ElementsAre("DC_1", "DC_2"));
  EXPECT_TRUE(first.reported) << first.report_error;
  ASSERT_THAT(device->offers(), SizeIs(1));
  EXPECT_EQ(device->offers()[0].kind(), v1::FRESH_INSTALL);
  EXPECT_EQ(device->offers()[0].installed_version(), "");
  EXPECT_EQ(device->offers()[0].download_target(), platform_->download_address());
  EXPECT_EQ(device->Count(ProgressEvent::Step::kDownloading), r1.artifact().chunk_sha256_size());

  const std::string dir = device->PackageDir("demo-app");
  EXPECT_EQ(first.install_location, dir);
  EXPECT_EQ(ReadFile(dir + "/app.bin"), v1_0.app_bin);
  EXPECT_EQ(ReadFile(dir + "/libcodec.so"), v1_0.libcodec);
  EXPECT_EQ(ReadFile(dir + "/.updraft/settings.conf"), "server=prod\nvolume=7\n");

  v1::DeviceLocalState local = device->client().LocalState();
  ASSERT_THAT(local.deployed(), SizeIs(2));
  ExpectNode(local.deployed(0), "DC_1", r1.release_id(), "acme", "DC_1", "1.0.0");
  ExpectNode(local.deployed(1), "DC_2", r1.release_id(), "acme", "DC_2", "1.0.0");
  EXPECT_THAT(local.delivered(), IsEmpty());
  EXPECT_THAT(local.downloads(), IsEmpty());
  EXPECT_THAT(local.pending_reports(), IsEmpty());

  v1::DeviceState server = DeviceState("dev-happy");
  ASSERT_THAT(server.deployed(), SizeIs(2));
  ExpectNode(server.deployed(0), "DC_1", r1.release_id(), "acme", "DC_1", "1.0.0");
  ExpectNode(server.deployed(1), "DC_2", r1.release_id(), "acme", "DC_2", "1.0.0");
  ASSERT_THAT(server.history(), SizeIs(1));
  ExpectRecord(server.history(0), first);
  EXPECT_EQ(server.history(0).result(), 1200);

  UpdateOutcome again = OnlyOutcome(device->client());
  EXPECT_TRUE(again.nothing_new);
  EXPECT_THAT(again.message, HasSubstr("nothing new"));
  EXPECT_THAT(DeviceState("dev-happy").history(), SizeIs(1));

  platform_->clock().Advance(absl::Minutes(1));
  DemoArtifact v1_1;
  v1::Release r2;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.1.0", &v1_1, &r2));
  UpdateOutcome upgrade = OnlyOutcome(device->client());
  EXPECT_EQ(upgrade.kind, v1::OVERWRITE);
  EXPECT_EQ(upgrade.result, v1::SUCCESS) << upgrade.message;
  EXPECT_THAT(upgrade.message, HasSubstr("upgraded demo-app 1.1.0"));
  ASSERT_THAT(device->offers(), SizeIs(2));
  EXPECT_EQ(device->offers()[1].kind(), v1::OVERWRITE);
  EXPECT_EQ(device->offers()[1].installed_version(), "1.0.0");
  EXPECT_EQ(ReadFile(dir + "/app.bin"), v1_1.app_bin);
  EXPECT_EQ(ReadFile(dir + "/libcodec.so"), v1_1.libcodec);

  server = DeviceState("dev-happy");
  ASSERT_THAT(server.deployed(), SizeIs(2));
  ExpectNode(server.deployed(0), "DC_1", r2.release_id(), "acme", "DC_1", "1.1.0");
  ExpectNode(server.deployed(1), "DC_2", r2.release_id(), "acme", "DC_2", "1.1.0");
  ASSERT_THAT(server.history(), SizeIs(2));
  ExpectRecord(server.history(1), upgrade);
}

TEST_F(ActiveUpgradeTest, TriplesGetCatalogAssignedDcIds) {
  auto device = NewDevice("dev-triples");
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::ArtifactManifest manifest;
  ASSERT_NO_FATAL_FAILURE(UploadDemo("2.0.0", &artifact, &manifest));
  v1::CreateReleaseRequest request = DemoRequest("2.0.0", manifest.sha256());
  request.mutable_dcinfo()->Clear();
  request.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  v1::DcEntry* player = request.mutable_dcinfo()->add_entries();
  player->set_author("acme");
  player->set_name("player");
  player->set_version("2.0.0");
  v1::DcEntry* codec = request.mutable_dcinfo()->add_entries();
  codec->set_author("Codec Labs");
  codec->set_name("codec");
  codec->set_version("3.1.4");
  auto created = platform_->CreateRelease(request);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(platform_->PublishRelease(created->release_id()).ok());

  // Computed here as a device or an offline tool would.
  const std::string player_id = "dc-" + Sha256Hex(std::string("acme\0player", 11)).substr(0, 12);
  const std::string codec_id =
      "dc-" + Sha256Hex(std::string("Codec Labs\0codec", 16)).substr(0, 12);
  auto stored = platform_->GetRelease(created->release_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_THAT(stored->dcinfo().entries(), SizeIs(2));
  EXPECT_EQ(stored->dcinfo().entries(0).dc_id(), player_id);
  EXPECT_EQ(stored->dcinfo().entries(1).dc_id(), codec_id);

  UpdateOutcome outcome = OnlyOutcome(device->client());
  EXPECT_EQ(outcome.result, v1::SUCCESS) << outcome.message;
  EXPECT_THAT(outcome.dc_ids, ElementsAre(player_id, codec_id));
  v1::DeviceLocalState local = device->client().LocalState();
  ASSERT_THAT(local.deployed(), SizeIs(2));
  ExpectNode(local.deployed(0), player_id, created->release_id(), "acme", "player", "2.0.0");
  ExpectNode(local.deployed(1), codec_id, created->release_id(), "Codec Labs", "codec", "3.1.4");
  v1::DeviceState server = DeviceState("dev-triples");
  ASSERT_THAT(server.deployed(), SizeIs(2));  // ordered by author, name
  ExpectNode(server.deployed(0), codec_id, created->release_id(), "Codec Labs", "codec", "3.1.4");
  ExpectNode(server.deployed(1), player_id, created->release_id(), "acme", "player", "2.0.0");
}

// Flips one byte of the stored artifact (in place, as bit rot would).
void FlipByte(const std::string& path, off_t offset) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  char c = 0;
  ASSERT_EQ(pread(fd, &c, 1, offset), 1);
  c = static_cast<char>(c ^ 0x5a);
  ASSERT_EQ(pwrite(fd, &c, 1, offset), 1);
  close(fd);
}

TEST_F(ActiveUpgradeTest, TamperedChunkFailsValidationThenDownloadResumes) {
  auto device = NewDevice("dev-tamper");
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string sha = release.artifact().sha256();
  const int chunks = release.artifact().chunk_sha256_size();
  const std::string object = platform_->ArtifactObjectPath(sha);
  ASSERT_EQ(ReadFile(object), artifact.tar);
  ASSERT_NO_FATAL_FAILURE(FlipByte(object, 2 * kChunkSize + 100));

  UpdateOutcome failed = OnlyOutcome(device->client());
  EXPECT_EQ(failed.result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(failed.result, 1407);
  EXPECT_THAT(failed.message,
              HasSubstr(absl::StrCat("chunk 2 of ", sha, " does not match the release manifest")));
  EXPECT_TRUE(failed.reported) << failed.report_error;
  EXPECT_THAT(failed.dc_ids, IsEmpty());
  EXPECT_FALSE(Exists(device->PackageDir("demo-app")));
  EXPECT_TRUE(IsEmptyDir(device->install_root()));
  v1::DeviceLocalState local = device->client().LocalState();
  EXPECT_THAT(local.deployed(), IsEmpty());
  EXPECT_THAT(local.packages(), IsEmpty());
  EXPECT_THAT(local.pending_reports(), IsEmpty());
  ASSERT_THAT(local.downloads(), SizeIs(1));  // the two good chunks are kept
  EXPECT_EQ(local.downloads(0).verified_chunks(), 2u);
  v1::DeviceState server = DeviceState("dev-tamper");
  EXPECT_THAT(server.deployed(), IsEmpty());
  ASSERT_THAT(server.history(), SizeIs(1));
  ExpectRecord(server.history(0), failed);

  // Repaired on the server: the next run resumes at chunk 2 and installs.
  ASSERT_NO_FATAL_FAILURE(FlipByte(object, 2 * kChunkSize + 100));
  platform_->clock().Advance(absl::Seconds(10));
  device->ClearEvents();
  UpdateOutcome resumed = OnlyOutcome(device->client());
  EXPECT_EQ(resumed.result, v1::SUCCESS) << resumed.message;
  std::vector<uint32_t> progress;
  for (const ProgressEvent& e : device->events()) {
    if (e.step == ProgressEvent::Step::kDownloading) progress.push_back(e.download.chunks_done);
  }
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front(), 2u);
  EXPECT_EQ(progress.size(), static_cast<size_t>(chunks - 2 + 1));
  EXPECT_EQ(ReadFile(device->PackageDir("demo-app") + "/app.bin"), artifact.app_bin);
  server = DeviceState("dev-tamper");
  EXPECT_THAT(server.deployed(), SizeIs(2));
  ASSERT_THAT(server.history(), SizeIs(2));
  ExpectRecord(server.history(1), resumed);
}

TEST_F(ActiveUpgradeTest, DeclinedConsentIsReportedAndInstallsNothing) {
  auto device = NewDevice("dev-declines", {.consent = false});
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));

  UpdateOutcome outcome = OnlyOutcome(device->client());
  EXPECT_EQ(outcome.result, v1::USER_CANCELLED);
  EXPECT_EQ(outcome.result, 1401);
  EXPECT_EQ(outcome.message, "the user declined demo-app 1.0.0");
  EXPECT_TRUE(outcome.reported) << outcome.report_error;
  EXPECT_EQ(device->Count(ProgressEvent::Step::kDownloading), 0);
  EXPECT_FALSE(Exists(device->PackageDir("demo-app")));
  EXPECT_TRUE(IsEmptyDir(device->install_root()));
  v1::DeviceLocalState local = device->client().LocalState();
  EXPECT_THAT(local.deployed(), IsEmpty());
  EXPECT_THAT(local.downloads(), IsEmpty());
  EXPECT_THAT(local.pending_reports(), IsEmpty());
  v1::DeviceState server = DeviceState("dev-declines");
  EXPECT_THAT(server.deployed(), IsEmpty());
  ASSERT_THAT(server.history(), SizeIs(1));
  ExpectRecord(server.history(0), outcome);
}

TEST_F(ActiveUpgradeTest, UnreachableDownloadServerThenSuccessWithoutDuplicateReports) {
  const std::string dir = device::testutil::NewTempDir("dev-retry");
  RefusingAddress nowhere;
  auto offline = NewDevice("dev-retry", {.download_target_override = nowhere.address()}, dir);
  ASSERT_NE(offline, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));

  UpdateOutcome failed = OnlyOutcome(offline->client());
  EXPECT_EQ(failed.result, v1::DOWNLOAD_SERVER_UNAVAILABLE);
  EXPECT_EQ(failed.result, 1501);
  EXPECT_THAT(failed.message,
              HasSubstr(absl::StrCat(
                  "download of ", release.artifact().sha256(), " stopped at chunk 0 of ",
                  release.artifact().chunk_sha256_size(), " after 4 attempts without progress")));
  EXPECT_THAT(offline->waits(),
              ElementsAre(absl::Milliseconds(500), absl::Seconds(1), absl::Seconds(2)));
  EXPECT_TRUE(failed.reported) << failed.report_error;
  EXPECT_THAT(offline->client().LocalState().deployed(), IsEmpty());
  offline.reset();

  // The same handset restarted with the real download address.
  platform_->clock().Advance(absl::Seconds(10));
  auto online = NewDevice("dev-retry", {}, dir, /*register_device=*/false);
  ASSERT_NE(online, nullptr);
  UpdateOutcome installed = OnlyOutcome(online->client());
  EXPECT_EQ(installed.result, v1::SUCCESS) << installed.message;
  EXPECT_NE(installed.report_id, failed.report_id);
  EXPECT_EQ(ReadFile(online->PackageDir("demo-app") + "/libcodec.so"), artifact.libcodec);
  auto pending = online->client().ResendPendingReports();
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(*pending, 0);

  v1::DeviceState server = DeviceState("dev-retry");
  ASSERT_THAT(server.history(), SizeIs(2));
  ExpectRecord(server.history(0), failed);
  ExpectRecord(server.history(1), installed);
  EXPECT_THAT(server.deployed(), SizeIs(2));
}

TEST_F(ActiveUpgradeTest, IpPushAnnouncementReachesSubscribedDevice) {
  auto device = NewDevice("dev-push");
  ASSERT_NE(device, nullptr);
  auto token = platform_->AccessToken("dev-push", device->key());
  ASSERT_TRUE(token.ok()) << token.status();
  {
    grpc::ClientContext stream_ctx;
    stream_ctx.AddMetadata("authorization", "Bearer " + *token);
    auto stream = platform_->notifier().Subscribe(&stream_ctx, v1::SubscribeRequest());
    stream->WaitForInitialMetadata();  // the stream is registered
    EXPECT_EQ(platform_->notifier_server().connected_devices(), 1u);

    grpc::ClientContext ctx;
    ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
    v1::AnnounceRequest announce;
    announce.set_software_name("demo-app");
    announce.set_location("rel_42");
    announce.set_server_address(platform_->catalog_address());
    v1::AnnounceResponse response;
    grpc::Status s = platform_->notifier().Announce(&ctx, announce, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.replicas_reached(), 1);
    v1::Notification n;
    ASSERT_TRUE(stream->Read(&n));
    EXPECT_EQ(n.notification_id(), response.notification_id());
    EXPECT_EQ(n.software_name(), "demo-app");
    EXPECT_EQ(n.location(), "rel_42");
    EXPECT_EQ(n.server_address(), platform_->catalog_address());
    stream_ctx.TryCancel();
    (void)stream->Finish();
  }
  platform_->clock().Advance(Platform::kTokenTtl + absl::Seconds(1));
  grpc::ClientContext expired_ctx;
  expired_ctx.AddMetadata("authorization", "Bearer " + *token);
  auto rejected = platform_->notifier().Subscribe(&expired_ctx, v1::SubscribeRequest());
  v1::Notification n;
  EXPECT_FALSE(rejected->Read(&n));
  grpc::Status s = rejected->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("access token expired"));
}

}  // namespace
}  // namespace updraft::e2e
