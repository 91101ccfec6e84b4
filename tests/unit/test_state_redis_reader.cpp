#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "state/redis_connection.hpp"

using scalectl::state::k_max_reply_elements;
using scalectl::state::make_bounded_reader;

namespace {

// Feeds `bytes` to a bounded reader; returns "ERR", "nil" or the element count of the array read.
std::string read_one(std::string_view bytes)
{
  const auto reader = make_bounded_reader();
  REQUIRE(redisReaderFeed(reader.get(), bytes.data(), bytes.size()) == REDIS_OK);
  void* raw = nullptr;
  if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) {
    return "ERR";
  }
  REQUIRE(raw != nullptr);
  const scalectl::state::RedisReplyPtr reply(static_cast<redisReply*>(raw), &freeReplyObject);
  if (reply->type == REDIS_REPLY_NIL) {
    return "nil";
  }
  REQUIRE(reply->type == REDIS_REPLY_ARRAY);
  return std::to_string(reply->elements);
}

}  // namespace

TEST_SUITE("state.redis_reader")
{
  TEST_CASE("an array announced larger than the cap is an error, not an allocation")
  {
    CHECK(read_one("*2\r\n$1\r\na\r\n:7\r\n") == "2");
    CHECK(read_one("*0\r\n") == "0");
    CHECK(read_one("*-1\r\n") == "nil");
    CHECK(read_one("*" + std::to_string(k_max_reply_elements + 1) + "\r\n") == "ERR");
    CHECK(read_one("*233333333\r\n") == "ERR");  // the fuzz finding: 1.8 GB of pointers
    CHECK(read_one("*2147483647\r\n") == "ERR");
  }
}
