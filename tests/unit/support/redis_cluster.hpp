#pragma once
// A throwaway 3-master Redis Cluster on loopback for the backend contract suite: three
// `redis-server --cluster-enabled yes` (RedisServer, no persistence) joined with
// `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`; every wait is bounded.

#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "state/redis_connection.hpp"

namespace scalectl::test {

class RedisCluster {
 public:
  RedisCluster()
  {
    for (auto& node : m_nodes) {
      // RedisServer retries on another port when redis-server exits (a port above 55535 has no
      // room for the cluster bus at port + 10000).
      node = std::make_unique<RedisServer>(std::vector<std::string>{
          "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"});
    }
    std::string create = "redis-cli --cluster create";
    for (const auto& node : m_nodes) {
      create += " 127.0.0.1:" + std::to_string(node->port());
    }
    create += " --cluster-replicas 0 --cluster-yes >'" + m_nodes[0]->log_path() + ".create' 2>&1";
    if (std::system(create.c_str()) != 0) {
      throw std::runtime_error("redis-cli --cluster create failed; see " + m_nodes[0]->log_path() + ".create");
    }
    for (int attempt = 0; attempt < 400; ++attempt) {
      bool ok = true;
      for (const auto& node : m_nodes) {
        ok = ok && node->command({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
      }
      if (ok) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the test Redis Cluster did not reach cluster_state:ok within 20 s");
  }

  // Returns redis://127.0.0.1:<port>/0 of a node that does not serve the slot of `key`, so the
  // first command about it is answered -MOVED.
  std::string url_not_serving(std::string_view key) const
  {
    for (const auto& node : m_nodes) {
      if (node->command({"EXISTS", std::string(key)}).starts_with("MOVED")) {
        return node->url();
      }
    }
    throw std::runtime_error("every node serves the slot of " + std::string(key));
  }

  // Runs one command through a cluster-aware connection (it follows -MOVED) and returns the
  // reply as RedisServer::command() formats it.
  std::string command(const std::vector<std::string>& args) const
  {
    state::RedisEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = m_nodes[0]->port();
    state::RedisConnection connection(endpoint, std::chrono::seconds(2), std::chrono::seconds(5));
    std::vector<std::string_view> views(args.begin(), args.end());
    return RedisServer::format_reply(*connection.command(views, "running a test command"));
  }

  // Empties every node.
  void flush() const
  {
    for (const auto& node : m_nodes) {
      if (node->command({"FLUSHALL"}) != "OK") {
        throw std::runtime_error("FLUSHALL failed on a test cluster node");
      }
    }
  }

 private:
  std::array<std::unique_ptr<RedisServer>, 3> m_nodes;
};

}  // namespace scalectl::test
