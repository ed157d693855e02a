#include "tools/device_sim/progress_printer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::device_sim {
namespace {

using ::testing::ElementsAre;
using Step = device::ProgressEvent::Step;

class ProgressPrinterTest : public ::testing::Test {
 protected:
  ProgressPrinterTest()
      : printer_("phone-0001", [this](const std::string& l) { lines_.push_back(l); }) {
    v1::Release* r = offer_.mutable_release();
    r->set_package_name("demo-app");
    r->set_version("1.0.0");
    r->mutable_artifact()->set_size(455 * 1024);
    r->mutable_artifact()->set_sha256(std::string(64, 'a'));
    for (int i = 0; i < 8; ++i) r->mutable_artifact()->add_chunk_sha256(std::string(32, 'x'));
    offer_.set_kind(v1::FRESH_INSTALL);
  }

  device::ProgressEvent Event(Step step) {
    device::ProgressEvent e;
    e.step = step;
    e.offer = &offer_;
    e.offer_index = 1;
    e.offer_count = 1;
    return e;
  }

  v1::Offer offer_;
  std::vector<std::string> lines_;
  ProgressPrinter printer_;
};

TEST_F(ProgressPrinterTest, PrintsTheFlowAsAPersonReadsIt) {
  device::ProgressEvent login;
  login.step = Step::kLoggedIn;
  login.token_lifetime = absl::Minutes(15);
  printer_.OnProgress(login);
  printer_.OnProgress(Event(Step::kFoundUpdate));
  printer_.OnConsent(offer_, true);
  device::ProgressEvent dl = Event(Step::kDownloading);
  dl.download.chunks_done = 3;
  dl.download.chunks_total = 8;
  dl.download.bytes_done = 171 * 1024;
  printer_.OnProgress(dl);
  device::ProgressEvent inst = Event(Step::kInstalled);
  inst.install_location = "/h/demo-app";
  printer_.OnProgress(inst);
  device::ProgressEvent dcs = Event(Step::kComponentsRegistered);
  dcs.dc_ids = {"DC_1", "DC_2"};
  printer_.OnProgress(dcs);
  device::ProgressEvent rep = Event(Step::kReported);
  rep.result = v1::SUCCESS;
  printer_.OnProgress(rep);
  device::UpdateOutcome ok;
  ok.result = v1::SUCCESS;
  ok.reported = true;
  printer_.OnResult(ok);
  EXPECT_THAT(lines_,
              ElementsAre("[device phone-0001] logged in (token valid 15 min)",
                          "[device phone-0001] found update: demo-app 1.0.0 (fresh install), 8 "
                          "chunks, 455 KiB",
                          "[device phone-0001] user consented",
                          "[device phone-0001] downloading 3/8 chunks (171 KiB)",
                          "[device phone-0001] installed demo-app 1.0.0 into /h/demo-app",
                          "[device phone-0001] components DC_1 and DC_2 registered",
                          "[device phone-0001] result 1200 (success) reported to server"));
}

TEST_F(ProgressPrinterTest, FailuresNothingNewAndUnsentReports) {
  device::UpdateOutcome failed;
  failed.release = offer_.release();
  failed.result = v1::PACKAGE_VALIDATION_FAILED;
  failed.message = "chunk 3 of abc does not match the release manifest";
  failed.reported = false;
  failed.report_error = "catalog unreachable";
  printer_.OnResult(failed);
  device::UpdateOutcome nothing;
  nothing.nothing_new = true;
  printer_.OnResult(nothing);
  EXPECT_THAT(lines_,
              ElementsAre("[device phone-0001] update of demo-app 1.0.0 failed: result 1407 "
                          "(package validation failed): chunk 3 of abc does not match the "
                          "release manifest",
                          "[device phone-0001] result 1407 (package validation failed) not "
                          "reported yet (catalog unreachable); it will be re-sent",
                          "[device phone-0001] nothing new"));
}

TEST_F(ProgressPrinterTest, LargeDownloadsPrintEveryTenth) {
  for (uint32_t i = 1; i <= 100; ++i) {
    device::ProgressEvent dl = Event(Step::kDownloading);
    dl.download.chunks_done = i;
    dl.download.chunks_total = 100;
    printer_.OnProgress(dl);
  }
  EXPECT_EQ(lines_.size(), 10u);
  EXPECT_EQ(lines_.back(), "[device phone-0001] downloading 100/100 chunks (0 B)");
}

TEST(FormatTest, Sizes) {
  EXPECT_EQ(ProgressPrinter::FormatSize(812), "812 B");
  EXPECT_EQ(ProgressPrinter::FormatSize(455 * 1024 + 100), "455 KiB");
  EXPECT_EQ(ProgressPrinter::FormatSize(3355443), "3.2 MiB");
  EXPECT_EQ(ProgressPrinter::FormatSize(int64_t{3} << 30), "3.0 GiB");
}

TEST(FormatTest, JoinAndDurations) {
  EXPECT_EQ(ProgressPrinter::JoinAnd({}), "");
  EXPECT_EQ(ProgressPrinter::JoinAnd({"DC_1"}), "DC_1");
  EXPECT_EQ(ProgressPrinter::JoinAnd({"DC_1", "DC_2", "DC_3"}), "DC_1, DC_2 and DC_3");
  EXPECT_EQ(ProgressPrinter::FormatDuration(absl::Seconds(45)), "45 s");
  EXPECT_EQ(ProgressPrinter::FormatDuration(absl::Minutes(15)), "15 min");
  EXPECT_EQ(ProgressPrinter::FormatDuration(absl::Hours(3)), "3 h");
}

}  // namespace
}  // namespace updraft::device_sim
