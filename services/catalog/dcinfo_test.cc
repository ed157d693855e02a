#include "services/catalog/dcinfo.h"

#include <string>

#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

const std::string kSha(64, 'a');

v1::ArtifactManifest Manifest() {
  v1::ArtifactManifest m;
  m.set_sha256(kSha);
  m.add_files("app.bin");
  m.add_files("lib/codec.so");
  m.add_files("lib/x.so");
  return m;
}

v1::DcInfo Files(std::initializer_list<std::pair<std::string, std::vector<std::string>>> e) {
  v1::DcInfo d;
  d.set_variant(v1::DcInfo::FILES);
  for (const auto& [id, files] : e) {
    v1::DcEntry* entry = d.add_entries();
    entry->set_dc_id(id);
    for (const auto& f : files) entry->add_files(f);
  }
  return d;
}

v1::DcInfo Triples(std::initializer_list<std::array<std::string, 3>> e) {
  v1::DcInfo d;
  d.set_variant(v1::DcInfo::TRIPLES);
  for (const auto& t : e) {
    v1::DcEntry* entry = d.add_entries();
    entry->set_author(t[0]);
    entry->set_name(t[1]);
    entry->set_version(t[2]);
  }
  return d;
}

absl::Status Check(const v1::DcInfo& d) {
  return ValidateDcInfo(d, Manifest(), "Acme", "1.2.0").status();
}

void ExpectInvalid(const v1::DcInfo& d, const std::string& message) {
  absl::Status s = Check(d);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(message));
}

TEST(DcInfoTest, FilesVariantFillsDefaults) {
  auto d = ValidateDcInfo(Files({{"DC_1", {"app.bin"}}, {"DC_2", {"lib/codec.so", "lib/x.so"}}}),
                          Manifest(), "Acme", "1.2.0");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->entries_size(), 2);
  EXPECT_EQ(d->variant(), v1::DcInfo::FILES);
  EXPECT_EQ(d->entries(0).dc_id(), "DC_1");
  EXPECT_EQ(d->entries(0).author(), "Acme");
  EXPECT_EQ(d->entries(0).name(), "DC_1");
  EXPECT_EQ(d->entries(0).version(), "1.2.0");
  EXPECT_EQ(d->entries(1).files_size(), 2);
}

TEST(DcInfoTest, FilesVariantKeepsDeclaredIdentity) {
  v1::DcInfo in = Files({{"DC_1", {"app.bin"}}});
  in.mutable_entries(0)->set_author("Other");
  in.mutable_entries(0)->set_name("Player");
  in.mutable_entries(0)->set_version("7");
  auto d = ValidateDcInfo(in, Manifest(), "Acme", "1.2.0");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->entries(0).author(), "Other");
  EXPECT_EQ(d->entries(0).name(), "Player");
  EXPECT_EQ(d->entries(0).version(), "7");
}

TEST(DcInfoTest, RejectsBadVariantAndCounts) {
  v1::DcInfo d = Files({{"DC_1", {"app.bin"}}});
  d.set_variant(v1::DcInfo::VARIANT_UNSPECIFIED);
  ExpectInvalid(d, "variant must be FILES or TRIPLES");
  d.set_variant(static_cast<v1::DcInfo::Variant>(9));
  ExpectInvalid(d, "variant must be FILES or TRIPLES");
  ExpectInvalid(Files({}), "at least one entry");
  v1::DcInfo many;
  many.set_variant(v1::DcInfo::TRIPLES);
  for (int i = 0; i < 257; ++i) {
    auto* e = many.add_entries();
    e->set_author("a");
    e->set_name(std::to_string(i));
    e->set_version("1");
  }
  ExpectInvalid(many, "at most 256");
  many.mutable_entries()->RemoveLast();
  EXPECT_TRUE(Check(many).ok());
}

TEST(DcInfoTest, FilesVariantRejections) {
  ExpectInvalid(Files({{"DC_1", {"app.bin"}}, {"DC_1", {"lib/x.so"}}}),
                "duplicate DC ID DC_1 in DCinfo");
  ExpectInvalid(Files({{"DC_1", {"app.bin"}}, {"DC_2", {"lib/y.so"}}}),
                "file lib/y.so of DC_2 is not in artifact " + kSha);
  ExpectInvalid(Files({{"", {"app.bin"}}}), "DCinfo entry 0 dc_id");
  ExpectInvalid(Files({{"DC 1", {"app.bin"}}}), "DCinfo entry 0 dc_id");
  ExpectInvalid(Files({{std::string(65, 'd'), {"app.bin"}}}), "dc_id must be 1 to 64");
  ExpectInvalid(Files({{"DC_1", {}}}), "lists no files");
  ExpectInvalid(Files({{"DC_1", {"/app.bin"}}}), "must be relative");
  ExpectInvalid(Files({{"DC_1", {"lib/../app.bin"}}}), "'..'");
  ExpectInvalid(Files({{"DC_1", {".."}}}), "'..'");
  ExpectInvalid(Files({{"DC_1", {"lib//x.so"}}}), "empty");
  ExpectInvalid(Files({{"DC_1", {""}}}), "files[0] is required");
  ExpectInvalid(Files({{"DC_1", {std::string("a\0b", 3)}}}), "NUL");
}

TEST(DcInfoTest, FilesVariantRejectsDuplicateIdentity) {
  v1::DcInfo d = Files({{"DC_1", {"app.bin"}}, {"DC_2", {"lib/x.so"}}});
  d.mutable_entries(1)->set_name("DC_1");
  ExpectInvalid(d, "duplicate DC author 'Acme' and name 'DC_1'");
}

TEST(DcInfoTest, FilesVariantBoundsDeclaredFields) {
  v1::DcInfo d = Files({{"DC_1", {"app.bin"}}});
  d.mutable_entries(0)->set_author(std::string(129, 'a'));
  ExpectInvalid(d, "DCinfo entry 0 author");
  d = Files({{"DC_1", {"app.bin"}}});
  d.mutable_entries(0)->set_version(std::string(65, '1'));
  ExpectInvalid(d, "DCinfo entry 0 version");
}

TEST(DcInfoTest, TriplesVariantAssignsDeterministicIds) {
  auto a = ValidateDcInfo(Triples({{"Acme", "player", "1.0"}, {"Acme", "codec", "r7"}}), Manifest(),
                          "Ignored", "1.2.0");
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = ValidateDcInfo(Triples({{"Acme", "player", "2.0"}}), Manifest(), "Ignored", "2.0.0");
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string expected =
      "dc-" + Sha256Hex(std::string("Acme") + std::string(1, '\0') + "player").substr(0, 12);
  EXPECT_EQ(a->entries(0).dc_id(), expected);
  EXPECT_EQ(b->entries(0).dc_id(), expected);  // stable across versions
  EXPECT_EQ(TripleDcId("Acme", "player"), expected);
  EXPECT_NE(a->entries(1).dc_id(), expected);
  EXPECT_EQ(a->entries(1).dc_id().size(), 15u);
  EXPECT_EQ(a->entries(0).author(), "Acme");  // the package author is not applied
  EXPECT_EQ(a->entries(0).version(), "1.0");
  // "ab"+"c" and "a"+"bc" are different DCs.
  EXPECT_NE(TripleDcId("ab", "c"), TripleDcId("a", "bc"));
}

TEST(DcInfoTest, TriplesVariantRejections) {
  ExpectInvalid(Triples({{"Acme", "a", "1"}, {"Acme", "", "1"}}),
                "DCinfo entry 1 has an empty name");
  ExpectInvalid(Triples({{"", "a", "1"}}), "DCinfo entry 0 has an empty author");
  ExpectInvalid(Triples({{"Acme", "a", ""}}), "DCinfo entry 0 has an empty version");
  ExpectInvalid(Triples({{"Acme", "a", "1"}, {"Acme", "a", "2"}}), "duplicate DC");
  ExpectInvalid(Triples({{"Acme", std::string(129, 'n'), "1"}}), "DCinfo entry 0 name");
  ExpectInvalid(Triples({{std::string(129, 'n'), "a", "1"}}), "DCinfo entry 0 author");
  ExpectInvalid(Triples({{"Acme", "a", std::string(65, '1')}}), "DCinfo entry 0 version");
  ExpectInvalid(Triples({{"Acme", "a\xff", "1"}}), "UTF-8");
}

TEST(DcInfoTest, TriplesVariantCallerDcId) {
  v1::DcInfo d = Triples({{"Acme", "player", "1.0"}});
  d.mutable_entries(0)->set_dc_id("DC_1");
  ExpectInvalid(d, "assigned by the catalog");
  d.mutable_entries(0)->set_dc_id(TripleDcId("Acme", "player"));
  EXPECT_TRUE(Check(d).ok());
}

TEST(DcInfoTest, TriplesVariantFilesAreOptionalButChecked) {
  v1::DcInfo d = Triples({{"Acme", "player", "1.0"}});
  d.mutable_entries(0)->add_files("app.bin");
  EXPECT_TRUE(Check(d).ok());
  d.mutable_entries(0)->add_files("lib/missing.so");
  ExpectInvalid(
      d, "file lib/missing.so of " + TripleDcId("Acme", "player") + " is not in artifact " + kSha);
}

}  // namespace
}  // namespace updraft::catalog
