// The `redis` key's URL: what parses, what is refused, and that a password never shows in redacted().
#include <gtest/gtest.h>

#include "rendezvous/fleet/redis_url.h"

namespace rdv::fleet {
namespace {

TEST(RedisUrl, ParsesEveryForm) {
  auto plain = parseRedisUrl("redis://127.0.0.1:6379");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0u);
  EXPECT_TRUE(plain->user.empty() && plain->password.empty());

  auto full = parseRedisUrl("redis://fleet:p@ss:word@redis.internal:7000/3");
  ASSERT_TRUE(full) << full.error();
  EXPECT_EQ(full->user, "fleet");
  EXPECT_EQ(full->password, "p@ss:word");  // the last @ ends the user info; the first : splits it
  EXPECT_EQ(full->host, "redis.internal");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(full->db, 3u);

  auto passwordOnly = parseRedisUrl("redis://secret@[::1]:6380");
  ASSERT_TRUE(passwordOnly) << passwordOnly.error();
  EXPECT_EQ(passwordOnly->host, "::1");
  EXPECT_EQ(passwordOnly->password, "secret");
  EXPECT_EQ(passwordOnly->redacted(), "redis://:***@[::1]:6380");
}

TEST(RedisUrl, RefusesWhatIsNotARedisUrl) {
  for (const char* bad : {"", "127.0.0.1:6379", "rediss://h:1", "http://h:1", "redis://h", "redis://:6379",
                          "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h:1/16", "redis://h:1/x",
                          "redis://[::1]6379", "redis://h h:1"}) {
    EXPECT_FALSE(parseRedisUrl(bad)) << bad;
  }
  auto e = parseRedisUrl("http://user:hunter2hunter2@h:1");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().find("hunter2"), std::string::npos) << e.error();
}

TEST(RedisUrl, RedactedHidesThePassword) {
  auto u = parseRedisUrl("redis://fleet:topsecret@10.0.0.5:6379/2");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->redacted(), "redis://fleet:***@10.0.0.5:6379/2");
}

TEST(FleetName, AllowsOnlyHashTagSafeNames) {
  EXPECT_TRUE(validFleetName("default"));
  EXPECT_TRUE(validFleetName("eu-west.1_a"));
  EXPECT_FALSE(validFleetName(""));
  EXPECT_FALSE(validFleetName("a{b}"));
  EXPECT_FALSE(validFleetName("a b"));
  EXPECT_FALSE(validFleetName(std::string(65, 'a')));
}

}  // namespace
}  // namespace rdv::fleet
