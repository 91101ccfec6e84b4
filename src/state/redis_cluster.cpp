// RedisConnection's routing: one server, or a Redis Cluster reached through any node (see
// redis_connection.hpp). Cluster mode starts at the first -MOVED reply.

#include "state/redis_cluster.hpp"

#include <thread>

#include <fmt/format.h>

#include <scalectl/core/redis_cluster.hpp>
#include <scalectl/error.hpp>

#include "state/redis_connection.hpp"

namespace scalectl::state {

namespace {

// Bounds on what a cluster may make scalectl do or hold.
constexpr std::size_t k_max_nodes = 1000;
constexpr int k_max_tryagain = 40;  // TRYAGAIN: a multi-key command met a slot half migrated

// The pause before TRYAGAIN retry `n` (1-based): 5 ms more each time, at most 50 ms.
int tryagain_delay_ms(int n) { return 5 * std::min(n, 10); }

// The pauses of the first `n` retries together (about 1.8 s for all k_max_tryagain).
int tryagain_wait_ms(int n)
{
  int total = 0;
  for (int i = 1; i <= n; ++i) {
    total += tryagain_delay_ms(i);
  }
  return total;
}

std::optional<std::int64_t> integer_of(const redisReply* reply)
{
  if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER) {
    return reply->integer;
  }
  return std::nullopt;
}

}  // namespace

struct RedisConnection::Node {
  std::string host;
  int port = 0;
  std::unique_ptr<RedisLink> link;  // connected on first use
};

RedisConnection::RedisConnection(const RedisEndpoint& endpoint, std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds command_timeout)
    : m_endpoint(endpoint),
      m_connect_timeout(connect_timeout),
      m_command_timeout(command_timeout),
      m_first(endpoint, connect_timeout, command_timeout),
      m_last_address(m_first.address())
{
}

RedisConnection::~RedisConnection() = default;

bool RedisConnection::usable() const noexcept
{
  if (m_broken || !m_first.usable()) {
    return false;
  }
  for (const auto& node : m_nodes) {
    if (node->link && !node->link->usable()) {
      return false;
    }
  }
  return true;
}

std::size_t RedisConnection::node_index(const std::string& host, int port)
{
  for (std::size_t i = 0; i < m_nodes.size(); ++i) {
    if (m_nodes[i]->host == host && m_nodes[i]->port == port) {
      return i;
    }
  }
  if (m_nodes.size() >= k_max_nodes) {
    m_broken = true;
    throw Error(fmt::format("the Redis Cluster at {} names more than {} nodes; check `redis-cli cluster nodes`",
                            m_first.address(), k_max_nodes));
  }
  auto node = std::make_unique<Node>();
  node->host = host;
  node->port = port;
  m_nodes.push_back(std::move(node));
  return m_nodes.size() - 1;
}

RedisLink& RedisConnection::link_at(std::optional<std::size_t> index)
{
  if (!index) {
    return m_first;
  }
  Node& node = *m_nodes[*index];
  if (!node.link) {
    if (node.host == m_endpoint.host && node.port == m_endpoint.port && m_endpoint.socket_path.empty()) {
      return m_first;
    }
    RedisEndpoint endpoint = m_endpoint;
    endpoint.host = node.host;
    endpoint.port = node.port;
    endpoint.socket_path.clear();
    node.link = std::make_unique<RedisLink>(endpoint, m_connect_timeout, m_command_timeout);
  }
  return *node.link;
}

const std::string& RedisConnection::host_at(std::optional<std::size_t> index) const
{
  return index ? m_nodes[*index]->host : m_endpoint.host;
}

std::optional<std::size_t> RedisConnection::route(std::optional<std::uint16_t> slot) const
{
  if (!slot || m_slot_node.empty() || m_slot_node[*slot] == 0) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(m_slot_node[*slot] - 1);
}

void RedisConnection::refresh_slots(std::optional<std::size_t> index, std::string_view doing)
{
  // CLUSTER SLOTS: [[start, end, [host, port, id ...], replicas ...] ...]; replicas are ignored.
  const std::string_view args[] = {"CLUSTER", "SLOTS"};
  const auto reply = link_at(index).command(args, doing);
  if (reply->type != REDIS_REPLY_ARRAY) {
    return;
  }
  const std::string fallback_host = host_at(index);
  std::vector<std::uint16_t> map(core::k_cluster_slots, 0);
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* range = reply->element[i];
    if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) {
      return;
    }
    const auto start = integer_of(range->element[0]);
    const auto end = integer_of(range->element[1]);
    const redisReply* primary = range->element[2];
    if (!start || !end || *start < 0 || *start > *end || *end >= core::k_cluster_slots ||
        primary->type != REDIS_REPLY_ARRAY || primary->elements < 2) {
      return;
    }
    std::string host = reply_text(*primary->element[0]);
    const auto port = integer_of(primary->element[1]);
    if (!port || *port < 1 || *port > 65535 || host.size() > 255) {
      return;
    }
    if (host.empty() || host == "?") {
      host = fallback_host;
    }
    const auto node = node_index(host, static_cast<int>(*port));
    for (auto slot = *start; slot <= *end; ++slot) {
      map[static_cast<std::size_t>(slot)] = static_cast<std::uint16_t>(node + 1);
    }
  }
  m_slot_node = std::move(map);
}

RedisReplyPtr RedisConnection::command(std::span<const std::string_view> args, std::string_view doing)
{
  std::optional<std::uint16_t> slot;
  if (const auto key = core::command_key_index(args)) {
    slot = core::redis_key_slot(args[*key]);
  }
  std::optional<std::size_t> node = route(slot);
  bool asking = false;
  bool refreshed = false;
  int redirects = 0;
  int retries = 0;
  for (;;) {
    RedisLink& link = link_at(node);
    m_last_address = link.address();
    if (asking) {
      const std::string_view asking_args[] = {"ASKING"};
      auto reply = link.command(asking_args, doing);
      if (reply->type == REDIS_REPLY_ERROR) {
        return reply;
      }
    }
    auto reply = link.command(args, doing);
    if (reply->type != REDIS_REPLY_ERROR) {
      return reply;
    }
    const std::string text = reply_text(*reply);
    if (text.starts_with("TRYAGAIN")) {
      // The keys of one operation are half way through a migration (some moved, or one missing
      // on both nodes): wait for the migration to finish, starting again from the slot's owner.
      // The ASK that led here was not a loop, so the redirect count starts again too.
      if (retries == k_max_tryagain) {
        throw Error(fmt::format("the Redis Cluster answered TRYAGAIN {} times in about {} ms while {} (last from {}): "
                                "slot {} is half migrated; finish or undo the migration (`redis-cli --cluster "
                                "fix HOST:PORT`), then retry",
                                retries + 1, tryagain_wait_ms(retries), doing, link.address(),
                                slot ? std::to_string(*slot) : std::string("?")));
      }
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(tryagain_delay_ms(retries)));
      node = route(slot);
      asking = false;
      redirects = 0;
      continue;
    }
    const auto redirect = core::parse_cluster_redirect(text);
    if (!redirect) {
      return reply;
    }
    if (redirects == k_max_redirects) {
      throw Error(fmt::format("the Redis Cluster redirected one command {} times while {} (last: \"{}\" from {}); "
                              "the slot is moving or the cluster is misconfigured; retry, and check "
                              "`redis-cli -h HOST -p PORT cluster info` on its nodes",
                              redirects, doing, text, link.address()));
    }
    ++redirects;
    const std::string host = redirect->host.empty() ? host_at(node) : redirect->host;
    const std::optional<std::size_t> from = node;
    node = node_index(host, redirect->port);
    if (redirect->kind == core::ClusterRedirect::Kind::moved) {
      if (m_slot_node.empty()) {
        m_slot_node.assign(core::k_cluster_slots, 0);
      }
      if (!refreshed) {
        refreshed = true;
        refresh_slots(from, doing);
      }
      m_slot_node[redirect->slot] = static_cast<std::uint16_t>(*node + 1);
      asking = false;
    } else {
      asking = true;
    }
  }
}

void throw_cross_slot(const std::string& address, std::span<const std::string_view> keys, std::string_view doing)
{
  std::string listed;
  for (const auto key : keys) {
    listed += fmt::format("{}{} (slot {})", listed.empty() ? "" : ", ", key, core::redis_key_slot(key));
  }
  throw Error(fmt::format("the Redis Cluster at {} cannot run one atomic step on keys in different hash slots: {}, "
                          "while {}; give the pool a hash tag, e.g. pool = \"{{server}}\" (keys {{server}}:workers, "
                          "{{server}}:cpu:allocated, {{server}}:ram:allocated; see \"Redis Cluster\" in the README)",
                          address, listed, doing));
}

}  // namespace scalectl::state
