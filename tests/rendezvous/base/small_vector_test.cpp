#include "rendezvous/base/small_vector.h"

#include <gtest/gtest.h>

#include <vector>

#include "rendezvous/base/address.h"

namespace rdv {
namespace {

template <typename V>
std::vector<int> items(const V& v) {
  return std::vector<int>(v.begin(), v.end());
}

TEST(SmallVector, StaysInlineUpToItsCapacity) {
  SmallVector<int, 2> v;
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.isInline());
  v.push_back(1);
  v.push_back(2);
  EXPECT_TRUE(v.isInline());
  EXPECT_EQ(v.capacity(), 2u);
  EXPECT_EQ(items(v), (std::vector<int>{1, 2}));
}

TEST(SmallVector, GrowsPastItsInlineCapacityKeepingOrder) {
  SmallVector<int, 2> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  EXPECT_FALSE(v.isInline());
  ASSERT_EQ(v.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[static_cast<uint32_t>(i)], i);
  v.clear();
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.isInline()) << "clear gives the heap block back";
  v.push_back(7);
  EXPECT_EQ(items(v), (std::vector<int>{7}));
}

TEST(SmallVector, EraseKeepsTheOrderOfTheRestInlineAndOnTheHeap) {
  for (int n : {4, 40}) {  // inline (capacity 4) and on the heap
    SmallVector<int, 4> v;
    for (int i = 0; i < n; ++i) v.push_back(i);
    int* next = v.erase(v.begin());  // first
    EXPECT_EQ(*next, 1);
    v.erase(v.begin() + 1);  // middle: 2
    v.erase(v.end() - 1);    // last
    std::vector<int> want;
    for (int i = 1; i < n - 1; ++i)
      if (i != 2) want.push_back(i);
    EXPECT_EQ(items(v), want) << n;
  }
}

TEST(SmallVector, EraseIfRemovesEveryMatchInOrder) {
  SmallVector<int, 2> v;
  for (int i = 0; i < 10; ++i) v.push_back(i);
  v.eraseIf([](int x) { return x % 3 == 0; });
  EXPECT_EQ(items(v), (std::vector<int>{1, 2, 4, 5, 7, 8}));
  v.eraseIf([](int) { return true; });
  EXPECT_TRUE(v.empty());
}

TEST(SmallVector, CopiesAndMovesInlineAndHeapContents) {
  for (int n : {1, 9}) {
    SmallVector<int, 2> a;
    for (int i = 0; i < n; ++i) a.push_back(i * 10);
    SmallVector<int, 2> b(a);
    EXPECT_EQ(items(b), items(a));
    b.push_back(99);
    EXPECT_EQ(a.size(), static_cast<uint32_t>(n)) << "a copy is independent";
    SmallVector<int, 2> c(std::move(b));
    EXPECT_EQ(c.size(), static_cast<uint32_t>(n + 1));
    EXPECT_EQ(c.back(), 99);
    EXPECT_TRUE(b.empty());
    b = c;
    EXPECT_EQ(items(b), items(c));
    a = std::move(c);
    EXPECT_EQ(items(a), items(b));
    a = a;  // self-assignment keeps the contents
    EXPECT_EQ(items(a), items(b));
  }
}

TEST(SmallVector, HoldsAddresses) {
  SmallVector<IpAddress, 1> v;
  v.push_back(IpAddress::v4(0x7F000001));
  v.push_back(IpAddress::v4(0x7F000002));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], IpAddress::v4(0x7F000001));
  EXPECT_EQ(v[1], IpAddress::v4(0x7F000002));
  EXPECT_LE(sizeof(SmallVector<uint16_t, 4>), 16u) << "smaller than an empty std::vector";
}

}  // namespace
}  // namespace rdv
