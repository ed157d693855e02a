#include "services/catalog/validation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

using ::testing::HasSubstr;

using Components = google::protobuf::RepeatedPtrField<v1::InventoryComponent>;

v1::InventoryComponent Component(std::string name, v1::ComponentLocation location) {
  v1::InventoryComponent c;
  c.set_release_id("rel_0123456789abcdef");
  c.set_dc_id("DC_1");
  c.set_author("Acme");
  c.set_name(std::move(name));
  c.set_version("1.0");
  c.set_location(location);
  c.set_state(v1::ACTIVE);
  return c;
}

void ExpectInvalid(const absl::Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(message));
}

TEST(ValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));
}

TEST(ValidationTest, TextAndIdentifier) {
  EXPECT_TRUE(ValidateText("f", "", 3, false).ok());
  ExpectInvalid(ValidateText("f", "", 3, true), "f is required");
  ExpectInvalid(ValidateText("f", "abcd", 3, false), "f is 4 bytes long; at most 3");
  ExpectInvalid(ValidateText("f", std::string("a\0", 2), 3, false), "NUL");
  EXPECT_TRUE(ValidateIdentifier("id", "rel_0a.B-9", 64).ok());
  ExpectInvalid(ValidateIdentifier("id", "", 64), "id must be 1 to 64");
  ExpectInvalid(ValidateIdentifier("id", "a b", 64), "id may contain only");
}

TEST(ValidationTest, InventoryNamesTheIndex) {
  Components c;
  *c.Add() = Component("a", v1::DEPLOYED);
  *c.Add() = Component("b", v1::DELIVERED);
  EXPECT_TRUE(ValidateInventory("inventory", c).ok());
  c.Mutable(1)->set_location(v1::COMPONENT_LOCATION_UNSPECIFIED);
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[1].location");
  c.Mutable(1)->set_location(static_cast<v1::ComponentLocation>(7));
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[1].location");
  c.Mutable(1)->set_location(v1::DELIVERED);
  c.Mutable(1)->set_state(static_cast<v1::ComponentState>(5));
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[1].state 5");
  c.Mutable(1)->set_state(v1::INACTIVE);
  c.Mutable(0)->set_name(std::string(129, 'n'));
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[0].name");
  c.Mutable(0)->set_name("a");
  c.Mutable(0)->set_release_id("rel/../x");
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[0].release_id");
  c.Mutable(0)->set_release_id("");
  c.Mutable(0)->set_dc_id("");
  EXPECT_TRUE(ValidateInventory("inventory", c).ok());  // offline component
  c.Mutable(0)->set_version(std::string(65, '1'));
  ExpectInvalid(ValidateInventory("inventory", c), "inventory[0].version");
}

TEST(ValidationTest, InventorySizeLimit) {
  Components c;
  for (int i = 0; i < 1000; ++i) *c.Add() = Component("n", v1::DEPLOYED);
  EXPECT_TRUE(ValidateInventory("inventory", c).ok());
  *c.Add() = Component("n", v1::DEPLOYED);
  ExpectInvalid(ValidateInventory("inventory", c), "at most 1000");
}

TEST(ValidationTest, Deployed) {
  Components c;
  *c.Add() = Component("a", v1::DEPLOYED);
  *c.Add() = Component("b", v1::COMPONENT_LOCATION_UNSPECIFIED);
  EXPECT_TRUE(ValidateDeployed("deployed", c).ok());
  *c.Add() = Component("a", v1::DEPLOYED);
  ExpectInvalid(ValidateDeployed("deployed", c), "deployed[2] repeats author 'Acme' and name 'a'");
  c.Mutable(2)->set_name("c");
  c.Mutable(2)->set_location(v1::DELIVERED);
  ExpectInvalid(ValidateDeployed("deployed", c), "deployed[2].location must be DEPLOYED");
  c.Mutable(2)->set_location(v1::DEPLOYED);
  c.Mutable(2)->set_version("");
  ExpectInvalid(ValidateDeployed("deployed", c), "deployed[2].version is required");
  c.Mutable(2)->set_version("1");
  c.Mutable(2)->set_name("");
  ExpectInvalid(ValidateDeployed("deployed", c), "deployed[2].name is required");
}

}  // namespace
}  // namespace updraft::catalog
