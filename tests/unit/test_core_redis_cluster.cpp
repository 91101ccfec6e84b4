#include <doctest/doctest.h>

#include <string_view>
#include <vector>

#include <scalectl/core/redis_cluster.hpp>

using namespace scalectl::core;

TEST_SUITE("core.redis_cluster")
{
  TEST_CASE("CRC16 and key slots match the Redis Cluster specification")
  {
    CHECK(crc16_xmodem("123456789") == 0x31C3);
    CHECK(crc16_xmodem("") == 0);
    struct Row {
      std::string_view key;
      std::uint16_t slot;
    };
    const Row table[] = {
        {"foo", 12182},
        {"123456789", 0x31C3 % 16384},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"user1000", 3443},
        {"foo{}{bar}", redis_key_slot("foo{}{bar}")},  // empty first tag: the whole key
        {"foo{{bar}}zap", redis_key_slot("{bar")},     // the tag is "{bar"
        {"foo{bar}{zap}", redis_key_slot("bar")},      // only the first tag counts
        {"server:workers", 14519},
        {"server:cpu:allocated", 2676},
        {"server:ram:allocated", 6709},
        {"{server}:workers", redis_key_slot("server")},
    };
    for (const auto& row : table) {
      CAPTURE(row.key);
      CHECK(redis_key_slot(row.key) == row.slot);
    }
    CHECK(redis_key_slot("foo{}{bar}") == crc16_xmodem("foo{}{bar}") % 16384);
    CHECK(redis_key_slot("{server}:cpu:allocated") == redis_key_slot("{server}:ram:allocated"));
    CHECK(redis_key_slot("a{") == crc16_xmodem("a{") % 16384);
  }

  TEST_CASE("redirect replies")
  {
    const auto moved = parse_cluster_redirect("MOVED 3999 127.0.0.1:6381");
    REQUIRE(moved);
    CHECK(moved->kind == ClusterRedirect::Kind::moved);
    CHECK(moved->slot == 3999);
    CHECK(moved->host == "127.0.0.1");
    CHECK(moved->port == 6381);
    const auto ask = parse_cluster_redirect("ASK 12182 ::1:7000");
    REQUIRE(ask);
    CHECK(ask->kind == ClusterRedirect::Kind::ask);
    CHECK(ask->host == "::1");
    CHECK(ask->port == 7000);
    const auto bracketed = parse_cluster_redirect("MOVED 1 [::1]:7000");
    REQUIRE(bracketed);
    CHECK(bracketed->host == "::1");
    const auto unknown_host = parse_cluster_redirect("MOVED 1 :7000");
    REQUIRE(unknown_host);
    CHECK(unknown_host->host.empty());
    for (const std::string_view bad : {"MOVED", "MOVED 16384 127.0.0.1:1", "MOVED x 127.0.0.1:1", "MOVED 1 host",
                                       "MOVED 1 host:0", "MOVED 1 host:65536", "ASK 1 host:7x", "ERR MOVED 1 h:1",
                                       "NOSCRIPT No matching script", "MOVED 1 a b:1"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_cluster_redirect(bad));
    }
  }

  TEST_CASE("the key argument of a command")
  {
    using Args = std::vector<std::string_view>;
    CHECK(command_key_index(Args{"GET", "k"}) == 1U);
    CHECK(command_key_index(Args{"set", "k", "v", "NX"}) == 1U);
    CHECK(command_key_index(Args{"XRANGE", "k", "-", "+"}) == 1U);
    CHECK(command_key_index(Args{"EVALSHA", "abc", "3", "a", "b", "c", "x"}) == 3U);
    CHECK(command_key_index(Args{"EVAL", "return 1", "0"}) == std::nullopt);
    CHECK(command_key_index(Args{"EVAL", "return 1", "0", "arg"}) == std::nullopt);
    CHECK(command_key_index(Args{"EVALSHA", "abc", "x", "k"}) == std::nullopt);
    CHECK(command_key_index(Args{"AUTH", "user", "pw"}) == std::nullopt);
    CHECK(command_key_index(Args{"CLUSTER", "SLOTS"}) == std::nullopt);
    CHECK(command_key_index(Args{"ASKING"}) == std::nullopt);
    CHECK(command_key_index(Args{"PING"}) == std::nullopt);
    CHECK(command_key_index(Args{}) == std::nullopt);
  }
}
