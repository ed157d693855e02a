#include "common/arena_messages.h"

#include <string>

#include "gtest/gtest.h"
#include "updraft/v1/catalog.pb.h"

namespace updraft {
namespace {

TEST(ArenaMessagesTest, RequestAndResponseShareOneArenaPerCall) {
  ArenaMessages<v1::CheckForUpdatesRequest, v1::CheckForUpdatesResponse> allocator;
  auto* first = allocator.AllocateMessages();
  auto* second = allocator.AllocateMessages();
  ASSERT_NE(first->request()->GetArena(), nullptr);
  EXPECT_EQ(first->request()->GetArena(), first->response()->GetArena());
  EXPECT_NE(first->request()->GetArena(), second->request()->GetArena());
  first->Release();
  second->Release();
}

TEST(ArenaMessagesTest, ARequestLargerThanTheInlineBlockParses) {
  v1::CheckForUpdatesRequest big;
  for (int i = 0; i < 500; ++i) {
    v1::InventoryComponent* c = big.add_inventory();
    c->set_release_id("rel_" + std::to_string(i));
    c->set_name(std::string(100, 'n'));  // longer than a string's inline buffer
  }
  ArenaMessages<v1::CheckForUpdatesRequest, v1::CheckForUpdatesResponse, 1024> allocator;
  auto* holder = allocator.AllocateMessages();
  ASSERT_TRUE(holder->request()->ParseFromString(big.SerializeAsString()));
  EXPECT_EQ(holder->request()->inventory_size(), 500);
  EXPECT_EQ(holder->request()->inventory(499).release_id(), "rel_499");
  holder->response()->add_offers()->set_installed_version("1.0.0");
  holder->Release();
}

}  // namespace
}  // namespace updraft
