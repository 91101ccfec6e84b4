// RESP replies as scalectl reads them: bytes arrive in pieces (a socket or a TLS record at a time)
// and are fed to hiredis's reader as they come. The reply must not depend on where the pieces
// split, and memory stays bounded (the fuzzer's -rss_limit_mb catches an array announced larger
// than state::k_max_reply_elements; libFuzzer found "*233333333" allocating 1.8 GB). Input: one byte choosing the piece size, then the server's bytes.
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "state/redis_connection.hpp"

#include "fuzz_support.hpp"

namespace {

using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// Returns a canonical text of `reply` (type, length-prefixed payload, children); hiredis bounds the
// nesting depth.
std::string describe(const redisReply& reply)
{
  std::string out = std::to_string(reply.type) + ":";
  const std::string text = scalectl::state::reply_text(reply);
  out += std::to_string(text.size()) + ":" + text;
  if (reply.type == REDIS_REPLY_INTEGER) {
    out += std::to_string(reply.integer);
  }
  if (reply.type == REDIS_REPLY_ARRAY) {  // hiredis 0.14 (Debian 12) reads RESP2 only
    out += "[" + std::to_string(reply.elements);
    for (std::size_t i = 0; i < reply.elements; ++i) {
      out += "," + describe(*reply.element[i]);
    }
    out += "]";
  }
  return out;
}

// Feeds `bytes` in pieces of `piece` bytes and returns the canonical text of every complete reply,
// then "ERR" if the reader failed.
std::string read_all(std::string_view bytes, std::size_t piece)
{
  // The reader scalectl's connections use: "*N" with N above the cap is an error, not a calloc.
  const auto reader = scalectl::state::make_bounded_reader();
  std::string out;
  std::size_t offset = 0;
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) {
      return out + "ERR";
    }
    if (raw != nullptr) {
      const ReplyPtr reply(static_cast<redisReply*>(raw), &freeReplyObject);
      out += describe(*reply) + ";";
      continue;
    }
    if (offset >= bytes.size()) {
      return out;
    }
    const std::size_t n = std::min(piece, bytes.size() - offset);
    if (redisReaderFeed(reader.get(), bytes.data() + offset, n) != REDIS_OK) {
      return out + "ERR";
    }
    offset += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) {
    return 0;
  }
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view bytes = scalectl::fuzz::as_text(data + 1, size - 1);
  const std::string whole = read_all(bytes, bytes.size() + 1);
  const std::string pieces = read_all(bytes, piece);
  scalectl::fuzz::require(whole == pieces, "a reply does not depend on how its bytes were split");
  return 0;
}
