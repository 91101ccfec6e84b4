#pragma once
// Redis Cluster arithmetic: key slots (CRC16 with hash tags), redirect replies and which argument
// of a command is its key. Pure: data in, data out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace scalectl::core {

// The number of hash slots of a Redis Cluster.
inline constexpr std::uint16_t k_cluster_slots = 16384;

// Returns the CRC16-CCITT (XModem: polynomial 0x1021, initial 0) of `data`, as Redis Cluster uses it.
std::uint16_t crc16_xmodem(std::string_view data);

// Returns the hash slot of `key`: CRC16 mod 16384 of the whole key, or of the part between the
// first '{' and the next '}' when that part is not empty (the hash tag).
std::uint16_t redis_key_slot(std::string_view key);

// A -MOVED or -ASK error reply: the slot and the node that serves it.
struct ClusterRedirect {
  enum class Kind { moved, ask };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  std::string host;  // empty when the server did not know its own address (use the node asked)
  int port = 0;
};

// Parses "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>" (host may be an IPv6 address,
// with or without brackets, or empty); nullopt for any other text or a malformed one.
std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error_text);

// Returns the index of the key argument of the commands scalectl sends (GET, SET, XADD, XRANGE,
// HGET ... : 1; EVAL/EVALSHA with at least one key: 3), or nullopt for commands without a key
// (AUTH, SELECT, PING, CLUSTER, ASKING, SCRIPT, INFO, or EVAL with no keys).
std::optional<std::size_t> command_key_index(std::span<const std::string_view> args);

}  // namespace scalectl::core
