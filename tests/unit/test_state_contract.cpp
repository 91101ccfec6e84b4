// One contract for both state-store backends: every TEST_CASE runs once against the file
// backend and once against each real Redis deployment: redis-server, redis-server on TLS,
// valkey-server 8 on mutual TLS, and a 3-master Redis Cluster reached through a node that does
// not serve the pool's slot (SUBCASE per backend). The cluster uses the hash-tagged pool
// "{server}"; the others the seed's "server".

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include <scalectl/clock.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/capacity_multi.hpp>
#include <scalectl/state/store.hpp>

#include "support/errors.hpp"
#include "support/processes.hpp"
#include "support/recording_reporter.hpp"
#include "support/sanitizer_scale.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

using namespace scalectl;
using namespace scalectl::state;
using nlohmann::json;
using scalectl::test::error_of;
using namespace std::chrono_literals;

namespace {

test::RedisServer& shared_redis()
{
  static test::RedisServer server;
  return server;
}

// redis-server on TLS only, with an ACL user whose password is in the rediss:// URL.
test::RedisServer& shared_tls_redis()
{
  static test::RedisServer server(test::RedisTls(test::RedisTls::Server::redis, test::RedisTls::Auth::password));
  return server;
}

// valkey-server 8 on TLS only, with mutual TLS (client certificate) and an ACL user.
test::RedisServer& shared_tls_valkey()
{
  static test::RedisServer server(test::RedisTls(test::RedisTls::Server::valkey, test::RedisTls::Auth::client_certificate));
  return server;
}

// The capacity pool the current backend's cases use: "{server}" on the cluster, else "server".
std::string g_pool = "server";
const std::string& pool() { return g_pool; }
// A second pool of the same backend ("{other-pool}" on the cluster).
std::string other_pool() { return g_pool == "server" ? "other-pool" : "{other-pool}"; }

test::RedisCluster& shared_cluster()
{
  static test::RedisCluster cluster;
  return cluster;
}

// One backend under test: how to open stores on it and how to reach behind the Store API.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual StoreOptions options() const = 0;
  // Opens a new store (and connection); safe to call in a forked child.
  std::unique_ptr<Store> open() const { return open_store(options()); }
  // Makes the lock of `resource` vanish behind its holder's back (expired key / deleted file).
  virtual void drop_lock(const std::string& resource) = 0;
  // Writes a lease the way the seed's TypeScript workers do: only type/cpu/ram/startedAt.
  virtual void put_seed_lease(const std::string& pool, const std::string& id, double cpu, double ram) = 0;
  // Returns the stored totals as text ("cpu", "ram"), or nothing when the backend keeps none.
  virtual std::optional<std::pair<std::string, std::string>> stored_totals(const std::string& pool) = 0;
  // Returns the lock TTL the options use (renewal test sleeps past it).
  virtual std::chrono::milliseconds lock_ttl() const = 0;
  // Returns the stored total of named resource `name` (<pool>:<name>:allocated), or nothing when
  // the backend keeps none.
  virtual std::optional<std::string> stored_named(const std::string& pool, const std::string& name)
  {
    static_cast<void>(pool);
    static_cast<void>(name);
    return std::nullopt;
  }
};

class FileBackend final : public Backend {
 public:
  explicit FileBackend(std::filesystem::path base = {}) : m_dir("scalectl-state", std::move(base)) {}
  StoreOptions options() const override
  {
    StoreOptions options;
    options.backend = "file";
    options.state_dir = state_dir();
    return options;
  }
  void drop_lock(const std::string& resource) override
  {
    REQUIRE(std::filesystem::remove(state_dir() / "locks" / (resource + ".lock")));
  }
  void put_seed_lease(const std::string& pool, const std::string& id, double cpu, double ram) override
  {
    open();  // creates the directory
    const auto path = state_dir() / "state.json";
    json doc = json::object();
    if (std::filesystem::exists(path)) {
      std::ifstream in(path);
      doc = json::parse(in);
    }
    doc["pools"][pool]["workers"][id] =
        json{{"type", "registre"}, {"cpu", cpu}, {"ram", ram}, {"startedAt", 1'732'000'000'000}};
    std::ofstream(path) << doc.dump();
  }
  std::optional<std::pair<std::string, std::string>> stored_totals(const std::string&) override { return std::nullopt; }
  std::chrono::milliseconds lock_ttl() const override { return 600ms; }

  std::filesystem::path state_dir() const { return m_dir.path() / "state"; }

 private:
  test::TempDir m_dir;
};

class RedisBackend final : public Backend {
 public:
  explicit RedisBackend(test::RedisServer& server = shared_redis()) : m_server(server)
  {
    REQUIRE(m_server.command({"FLUSHALL"}) == "OK");
  }
  StoreOptions options() const override
  {
    StoreOptions options;
    options.backend = "redis";
    options.redis_url = m_server.url();
    m_server.tls_options(options.redis_ca_file, options.redis_cert_file, options.redis_key_file);
    options.lock_ttl = lock_ttl();
    return options;
  }
  void drop_lock(const std::string& resource) override
  {
    REQUIRE(m_server.command({"DEL", "scalectl:{lock}:" + resource}) == "1");
  }
  void put_seed_lease(const std::string& pool, const std::string& id, double cpu, double ram) override
  {
    // Exactly what the seed's allocateResources() does.
    m_server.command({"INCRBYFLOAT", pool + ":cpu:allocated", json(cpu).dump()});
    m_server.command({"INCRBYFLOAT", pool + ":ram:allocated", json(ram).dump()});
    const json raw{{"type", "registre"}, {"cpu", cpu}, {"ram", ram}, {"startedAt", 1'732'000'000'000}};
    REQUIRE(m_server.command({"HSET", pool + ":workers", id, raw.dump()}) == "1");
  }
  std::optional<std::pair<std::string, std::string>> stored_totals(const std::string& pool) override
  {
    return std::pair{m_server.command({"GET", pool + ":cpu:allocated"}),
                     m_server.command({"GET", pool + ":ram:allocated"})};
  }
  std::chrono::milliseconds lock_ttl() const override { return 600ms; }
  std::optional<std::string> stored_named(const std::string& pool, const std::string& name) override
  {
    return m_server.command({"GET", pool + ":" + name + ":allocated"});
  }

 private:
  test::RedisServer& m_server;
};

// The Redis Cluster: scalectl connects to a node that does not serve "{server}"'s slot.
class ClusterBackend final : public Backend {
 public:
  ClusterBackend() : m_cluster(shared_cluster()), m_url(m_cluster.url_not_serving("{server}"))
  {
    m_cluster.flush();
    g_pool = "{server}";
  }
  ClusterBackend(const ClusterBackend&) = delete;
  ClusterBackend& operator=(const ClusterBackend&) = delete;
  ~ClusterBackend() override { g_pool = "server"; }
  StoreOptions options() const override
  {
    StoreOptions options;
    options.backend = "redis";
    options.redis_url = m_url;
    options.lock_ttl = lock_ttl();
    return options;
  }
  void drop_lock(const std::string& resource) override
  {
    REQUIRE(m_cluster.command({"DEL", "scalectl:{lock}:" + resource}) == "1");
  }
  void put_seed_lease(const std::string& pool_name, const std::string& id, double cpu, double ram) override
  {
    m_cluster.command({"INCRBYFLOAT", pool_name + ":cpu:allocated", json(cpu).dump()});
    m_cluster.command({"INCRBYFLOAT", pool_name + ":ram:allocated", json(ram).dump()});
    const json raw{{"type", "registre"}, {"cpu", cpu}, {"ram", ram}, {"startedAt", 1'732'000'000'000}};
    REQUIRE(m_cluster.command({"HSET", pool_name + ":workers", id, raw.dump()}) == "1");
  }
  std::optional<std::pair<std::string, std::string>> stored_totals(const std::string& pool_name) override
  {
    return std::pair{m_cluster.command({"GET", pool_name + ":cpu:allocated"}),
                     m_cluster.command({"GET", pool_name + ":ram:allocated"})};
  }
  std::chrono::milliseconds lock_ttl() const override { return 600ms; }

 private:
  test::RedisCluster& m_cluster;
  std::string m_url;
};

enum class FileMedium { disk, memory };

// Runs `body` once per backend; FileMedium::memory puts the file backend on /dev/shm for tests
// that do thousands of fsync'ed writes to check arithmetic, not durability.
template <class Body>
void for_each_backend(Body&& body, FileMedium medium = FileMedium::disk)
{
  SUBCASE("file backend")
  {
    FileBackend backend(medium == FileMedium::memory ? test::TempDir::memory_base() : std::filesystem::path());
    body(backend);
  }
  SUBCASE("redis backend")
  {
    RedisBackend backend;
    body(backend);
  }
  SUBCASE("redis backend over TLS (ACL user)")
  {
    RedisBackend backend(shared_tls_redis());
    body(backend);
  }
  SUBCASE("valkey 8 backend over mutual TLS")
  {
    RedisBackend backend(shared_tls_valkey());
    body(backend);
  }
  SUBCASE("redis cluster backend (3 masters, entered through a non-owner node)")
  {
    ClusterBackend backend;
    body(backend);
  }
}

LockOwner owner(const std::string& command)
{
  return LockOwner{static_cast<long>(::getpid()), "web1", "ops", command, 0};
}

AllocateRequest request(const std::string& id, core::Resources need, core::Resources usable,
                        std::optional<std::chrono::milliseconds> ttl = std::nullopt)
{
  AllocateRequest r;
  r.pool = pool();
  r.lease.id = id;
  r.lease.type = "acte-ocr";
  r.lease.resources = need;
  r.lease.host = "web1";
  r.lease.pid = 4242;
  r.usable = usable;
  r.ttl = ttl;
  return r;
}

// Polls the snapshot until lease `id` shows as expired (bounded).
bool wait_until_expired(Store& store, const std::string& id)
{
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto snapshot = store.snapshot(pool());
    for (const auto& lease : snapshot.leases) {
      if (lease.id == id && lease.expired) {
        return true;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::vector<std::string> ids_of(const std::vector<Lease>& leases)
{
  std::vector<std::string> ids;
  for (const auto& lease : leases) {
    ids.push_back(lease.id);
  }
  return ids;
}

}  // namespace

TEST_SUITE("state.contract")
{
  TEST_CASE("records: get, update and a second store see the same value")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      CHECK_FALSE(store->get("droplet-1").has_value());
      const json created = store->update("droplet-1", [](const std::optional<json>& old) {
        CHECK_FALSE(old.has_value());
        return json{{"n", 1}, {"size", "s-2vcpu-4gb"}};
      });
      CHECK(created["n"] == 1);
      const json updated = store->update("droplet-1", [](const std::optional<json>& old) {
        json value = old.value();
        value["n"] = value["n"].get<int>() + 1;
        return value;
      });
      CHECK(updated == json{{"n", 2}, {"size", "s-2vcpu-4gb"}});
      auto other = backend.open();
      CHECK(other->get("droplet-1") == std::optional<json>(updated));
      CHECK_FALSE(other->get("droplet-2").has_value());
    });
  }

  TEST_CASE("records: concurrent updates from forked processes lose nothing")
  {
    for_each_backend([](Backend& backend) {
      constexpr int k_processes = 6;
      constexpr int k_increments = 40;
      std::vector<pid_t> children;
      for (int p = 0; p < k_processes; ++p) {
        children.push_back(test::fork_child([&]() {
          auto store = backend.open();
          for (int i = 0; i < k_increments; ++i) {
            store->update("counter", [](const std::optional<json>& old) {
              return json(old ? old->get<int>() + 1 : 1);
            });
          }
          return 0;
        }));
      }
      for (const pid_t child : children) {
        CHECK(test::wait_child(child) == 0);
      }
      CHECK(backend.open()->get("counter") == std::optional<json>(json(k_processes * k_increments)));
    });
  }

  TEST_CASE("logs: entries come back oldest first, filtered on time_ms")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      CHECK(store->read_log("audit", 0).empty());
      store->append("audit", json{{"time_ms", 1000}, {"event", "resize"}});
      store->append("audit", json{{"time_ms", 2000}, {"event", "power_off"}});
      store->append("audit", json{{"time_ms", 3000}, {"event", "power_on"}});
      store->append("other", json{{"time_ms", 2500}, {"event", "elsewhere"}});
      const auto all = store->read_log("audit", 0);
      REQUIRE(all.size() == 3);
      CHECK(all[0]["event"] == "resize");
      CHECK(all[2]["event"] == "power_on");
      const auto recent = store->read_log("audit", 2000);
      REQUIRE(recent.size() == 2);
      CHECK(recent[0]["event"] == "power_off");
      CHECK(store->read_log("audit", 3001).empty());
      CHECK(backend.open()->read_log("other", 0).size() == 1);
    });
  }

  TEST_CASE("logs: concurrent appends from forked processes are all kept, none torn")
  {
    for_each_backend([](Backend& backend) {
      constexpr int k_processes = 8;
      constexpr int k_entries = 50;
      std::vector<pid_t> children;
      for (int p = 0; p < k_processes; ++p) {
        children.push_back(test::fork_child([&backend, p]() {
          auto store = backend.open();
          for (int i = 0; i < k_entries; ++i) {
            store->append("audit", json{{"time_ms", 1000 + i}, {"proc", p}, {"i", i}, {"pad", std::string(300, 'x')}});
          }
          return 0;
        }));
      }
      for (const pid_t child : children) {
        CHECK(test::wait_child(child) == 0);
      }
      const auto entries = backend.open()->read_log("audit", 0);
      CHECK(entries.size() == static_cast<std::size_t>(k_processes * k_entries));
      std::map<int, int> next;
      std::set<std::pair<int, int>> seen;
      for (const auto& entry : entries) {
        const int p = entry["proc"];
        const int i = entry["i"];
        CHECK(entry["pad"].get<std::string>().size() == 300);
        CHECK(seen.insert({p, i}).second);
        CHECK(i == next[p]);  // each writer's entries stay in its order
        next[p] = i + 1;
      }
      CHECK(seen.size() == static_cast<std::size_t>(k_processes * k_entries));
    });
  }

  TEST_CASE("locks: exclusive across processes, holder named, freed by the holder")
  {
    for_each_backend([](Backend& backend) {
      test::Signal locked;
      test::Signal release;
      test::Signal released;
      const pid_t child = test::fork_child([&]() {
        auto store = backend.open();
        {
          auto lock = store->lock("droplet-123", LockOwner{static_cast<long>(::getpid()), "web1", "ops",
                                                             "scalectl droplet up", 0},
                                  0ms);
          locked.notify();
          if (!release.wait()) {
            return 2;
          }
        }
        released.notify();
        return 0;
      });
      REQUIRE(locked.wait());
      auto store = backend.open();
      const auto holder = store->lock_holder("droplet-123");
      REQUIRE(holder.has_value());
      CHECK(holder->pid == child);
      CHECK(holder->host == "web1");
      CHECK(holder->user == "ops");
      CHECK(holder->command == "scalectl droplet up");
      CHECK(holder->since_ms > 0);

      const auto [code, message] = error_of([&] { store->lock("droplet-123", owner("scalectl droplet down"), 0ms); });
      CHECK(code == to_int(ExitCode::lock_held));
      CHECK(message.starts_with("droplet-123 is locked by pid " + std::to_string(child) +
                                " on host web1 (scalectl droplet up), since "));
      CHECK(message.ends_with(" ago); rerun later or pass --wait-lock DURATION"));
      const auto [waited_code, waited_message] =
          error_of([&] { store->lock("droplet-123", owner("scalectl droplet down"), 300ms); });
      CHECK(waited_code == to_int(ExitCode::lock_held));

      release.notify();
      REQUIRE(released.wait());
      CHECK(test::wait_child(child) == 0);
      CHECK_FALSE(store->lock_holder("droplet-123").has_value());
      auto lock = store->lock("droplet-123", owner("scalectl droplet down"), 0ms);
      CHECK(lock->still_held());
      CHECK(store->lock_holder("droplet-123")->command == "scalectl droplet down");
    });
  }

  TEST_CASE("locks: a waiter gets the lock once the holder lets go")
  {
    for_each_backend([](Backend& backend) {
      test::Signal locked;
      const pid_t child = test::fork_child([&]() {
        auto store = backend.open();
        auto lock = store->lock("droplet-7", owner("holder"), 0ms);
        locked.notify();
        std::this_thread::sleep_for(300ms);
        return 0;  // the lock is released on the way out
      });
      REQUIRE(locked.wait());
      auto store = backend.open();
      auto lock = store->lock("droplet-7", owner("waiter"), 20s);
      CHECK(lock->still_held());
      CHECK(test::wait_child(child) == 0);
    });
  }

  TEST_CASE("locks: a holder killed with SIGKILL does not block forever")
  {
    for_each_backend([](Backend& backend) {
      test::Signal locked;
      const pid_t child = test::fork_child([&]() {
        auto store = backend.open();
        auto lock = store->lock("droplet-9", owner("doomed"), 0ms);
        locked.notify();
        std::this_thread::sleep_for(60s);
        return 0;
      });
      REQUIRE(locked.wait());
      ::kill(child, SIGKILL);
      CHECK(test::wait_child(child) == -1);
      auto store = backend.open();
      auto lock = store->lock("droplet-9", owner("survivor"), 20s);  // Redis: after the TTL
      CHECK(lock->still_held());
    });
  }

  TEST_CASE("locks: waiting for a lock stops at SIGINT with Interrupted")
  {
    for_each_backend([](Backend& backend) {
      // The child is forked before the parent takes its lock: a Redis lock renews itself from a
      // thread, and a fork while another thread holds a libc, OpenSSL or ASan allocator lock
      // leaves the child deadlocked on it.
      test::Signal ready;
      test::Signal go;
      test::Signal waiting;
      const pid_t child = test::fork_child([&]() {
        install_interrupt_handlers();
        auto waiter = backend.open();
        ready.notify();
        if (!go.wait(30s)) {
          return 3;
        }
        waiting.notify();
        try {
          waiter->lock("droplet-4", owner("waiter"), 60s);
        } catch (const Interrupted&) {
          return to_int(ExitCode::interrupted);
        } catch (const Error& e) {
          return to_int(e.code());
        }
        return 0;
      });
      REQUIRE(ready.wait());
      auto store = backend.open();
      auto held = store->lock("droplet-4", owner("holder"), 0ms);
      go.notify();
      REQUIRE(waiting.wait());
      std::this_thread::sleep_for(100ms);
      ::kill(child, SIGINT);
      CHECK(test::wait_child(child, 20s) == to_int(ExitCode::interrupted));
      CHECK(held->still_held());
    });
  }

  TEST_CASE("locks: a second lock in the same process conflicts; destruction releases")
  {
    for_each_backend([](Backend& backend) {
      auto first_store = backend.open();
      auto second_store = backend.open();
      auto lock = first_store->lock("app-1", owner("first"), 0ms);
      CHECK(second_store->lock_holder("app-1")->pid == ::getpid());
      CHECK(error_of([&] { second_store->lock("app-1", owner("second"), 0ms); }).first == to_int(ExitCode::lock_held));
      lock.reset();
      CHECK_FALSE(second_store->lock_holder("app-1").has_value());
      auto second = second_store->lock("app-1", owner("second"), 0ms);
      CHECK(second->still_held());
      CHECK(first_store->lock_holder("app-1")->command == "second");
    });
  }

  TEST_CASE("locks: held past the TTL while the holder lives")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      auto lock = store->lock("droplet-5", owner("long job"), 0ms);
      std::this_thread::sleep_for(backend.lock_ttl() * 3);
      CHECK(lock->still_held());
      auto other = backend.open();
      CHECK(error_of([&] { other->lock("droplet-5", owner("intruder"), 0ms); }).first == to_int(ExitCode::lock_held));
      CHECK(other->lock_holder("droplet-5")->command == "long job");
    });
  }

  TEST_CASE("locks: a lost lock is detected and its old holder cannot free the new one")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      auto old_lock = store->lock("droplet-8", owner("old"), 0ms);
      CHECK(old_lock->still_held());
      backend.drop_lock("droplet-8");
      CHECK_FALSE(old_lock->still_held());

      auto other = backend.open();
      auto new_lock = other->lock("droplet-8", owner("new"), 0ms);
      CHECK(new_lock->still_held());
      CHECK_FALSE(old_lock->still_held());
      old_lock.reset();  // must not free the new holder's lock
      CHECK(new_lock->still_held());
      CHECK(other->lock_holder("droplet-8")->command == "new");
      CHECK(error_of([&] { store->lock("droplet-8", owner("third"), 0ms); }).first == to_int(ExitCode::lock_held));
    });
  }

  TEST_CASE("leases: allocate, already held, insufficient with the seed's wording, release")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(6.4, 12.8);
      auto first = store->allocate(request("registre-1", core::resources_from(3, 1), usable));
      CHECK(first.outcome == AllocateResult::Outcome::allocated);
      CHECK(first.fit.fits);
      CHECK(first.lease.id == "registre-1");
      CHECK(first.lease.resources == core::resources_from(3, 1));
      CHECK(first.lease.started_at_ms > 0);
      CHECK_FALSE(first.lease.expires_at_ms.has_value());
      CHECK(first.lease.host == "web1");
      CHECK(first.lease.pid == 4242);

      auto again = store->allocate(request("registre-1", core::resources_from(3, 1), usable));
      CHECK(again.outcome == AllocateResult::Outcome::already_held);
      CHECK(again.lease.started_at_ms == first.lease.started_at_ms);
      CHECK(store->snapshot(pool()).allocated == core::resources_from(3, 1));

      CHECK(store->allocate(request("index-1", core::resources_from(1.5, 0.75), usable)).outcome ==
            AllocateResult::Outcome::allocated);
      const auto cpu_short = store->allocate(request("registre-2", core::resources_from(3, 1), usable));
      CHECK(cpu_short.outcome == AllocateResult::Outcome::insufficient);
      CHECK(cpu_short.fit.reason == "Insufficient CPU (need 3, available 1.9)");
      const auto ram_short = store->allocate(request("big-ram", core::resources_from(0.1, 12), usable));
      CHECK(ram_short.outcome == AllocateResult::Outcome::insufficient);
      CHECK(ram_short.fit.reason == "Insufficient RAM (need 12GB, available 11.05GB)");

      const auto snapshot = store->snapshot(pool());
      // Sorted by start time, then id (both may start in the same millisecond).
      CHECK(std::is_sorted(snapshot.leases.begin(), snapshot.leases.end(), [](const Lease& a, const Lease& b) {
        return std::tie(a.started_at_ms, a.id) < std::tie(b.started_at_ms, b.id);
      }));
      auto ids = ids_of(snapshot.leases);
      std::sort(ids.begin(), ids.end());
      CHECK(ids == std::vector<std::string>{"index-1", "registre-1"});
      CHECK(snapshot.allocated == core::resources_from(4.5, 1.75));
      CHECK(snapshot.now_ms > 0);
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"4.5", "1.75"});
      }

      const auto released = store->release(pool(), "index-1");
      CHECK(released.outcome == ReleaseResult::Outcome::released);
      CHECK(released.lease.resources == core::resources_from(1.5, 0.75));
      CHECK(store->release(pool(), "index-1").outcome == ReleaseResult::Outcome::unknown);
      CHECK(store->snapshot(pool()).allocated == core::resources_from(3, 1));
      CHECK(store->snapshot(other_pool()).leases.empty());
    });
  }

  TEST_CASE("leases: renew extends only a live lease; expired and unknown are refused")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(4, 8);
      const auto live = store->allocate(request("live", core::resources_from(1, 1), usable, 60s));
      REQUIRE(live.outcome == AllocateResult::Outcome::allocated);
      REQUIRE(live.lease.expires_at_ms.has_value());
      CHECK(*live.lease.expires_at_ms == live.lease.started_at_ms + 60'000);

      const auto renewed = store->renew(pool(), "live", 120s);
      CHECK(renewed.outcome == RenewResult::Outcome::renewed);
      REQUIRE(renewed.lease.expires_at_ms.has_value());
      CHECK(*renewed.lease.expires_at_ms >= *live.lease.expires_at_ms + 60'000);
      CHECK(store->snapshot(pool()).leases.at(0).expires_at_ms == renewed.lease.expires_at_ms);

      CHECK(store->renew(pool(), "nobody", 60s).outcome == RenewResult::Outcome::unknown);

      REQUIRE(store->allocate(request("short", core::resources_from(1, 1), usable, 100ms)).outcome ==
              AllocateResult::Outcome::allocated);
      REQUIRE(wait_until_expired(*store, "short"));
      const auto late = store->renew(pool(), "short", 60s);
      CHECK(late.outcome == RenewResult::Outcome::expired);
      CHECK(late.lease.id == "short");
      CHECK(ids_of(store->snapshot(pool()).leases) == std::vector<std::string>{"live"});  // reaped, not renewed
      CHECK(store->renew(pool(), "short", 60s).outcome == RenewResult::Outcome::unknown);
    });
  }

  TEST_CASE("leases: expired leases are not counted and are reaped inside allocate")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto one_worker = core::resources_from(1, 0.5);
      REQUIRE(store->allocate(request("a", one_worker, one_worker, 100ms)).outcome ==
              AllocateResult::Outcome::allocated);
      REQUIRE(wait_until_expired(*store, "a"));
      const auto before = store->snapshot(pool());
      CHECK(before.allocated == core::Resources{});
      REQUIRE(before.leases.size() == 1);
      CHECK(before.leases[0].expired);

      const auto next = store->allocate(request("b", one_worker, one_worker));
      CHECK(next.outcome == AllocateResult::Outcome::allocated);
      CHECK(next.reaped == std::vector<std::string>{"a"});
      CHECK(ids_of(store->snapshot(pool()).leases) == std::vector<std::string>{"b"});
      CHECK(store->snapshot(pool()).allocated == one_worker);
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"1", "0.5"});
      }
    });
  }

  TEST_CASE("leases: 10,000 allocate/release cycles (1,000 under ASan) of a 0.1 vCPU worker leave exactly 0")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto need = core::resources_from(0.1, 0.1);
      const auto usable = core::resources_from(1, 1);
      constexpr int k_cycles = test::scaled(10'000, 1'000);
      int allocated = 0;
      int released = 0;
      for (int i = 0; i < k_cycles; ++i) {
        allocated += store->allocate(request("tiny", need, usable)).outcome == AllocateResult::Outcome::allocated;
        released += store->release(pool(), "tiny").outcome == ReleaseResult::Outcome::released;
      }
      CHECK(allocated == k_cycles);
      CHECK(released == k_cycles);
      const auto snapshot = store->snapshot(pool());
      CHECK(snapshot.leases.empty());
      CHECK(snapshot.allocated == core::Resources{});
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"0", "0"});
      }
    }, FileMedium::memory);
  }

  TEST_CASE("leases: 50 concurrent processes (16 under ASan) against a budget for 7 allocate exactly 7")
  {
    for_each_backend([](Backend& backend) {
      constexpr int k_processes = test::scaled(50, 16);
      const auto need = core::resources_from(1, 0.5);
      const auto usable = need * 7;
      test::Signal go;
      std::vector<pid_t> children;
      for (int p = 0; p < k_processes; ++p) {
        children.push_back(test::fork_child([&, p]() {
          auto store = backend.open();
          if (!go.wait(30s)) {
            return 3;
          }
          const auto result = store->allocate(request("worker-" + std::to_string(p), need, usable));
          switch (result.outcome) {
            case AllocateResult::Outcome::allocated:
              return 0;
            case AllocateResult::Outcome::insufficient:
              return 1;
            default:
              return 2;
          }
        }));
      }
      for (int p = 0; p < k_processes; ++p) {
        go.notify();
      }
      std::map<int, int> codes;
      for (const pid_t child : children) {
        ++codes[test::wait_child(child)];
      }
      CHECK(codes[0] == 7);
      CHECK(codes[1] == k_processes - 7);
      const auto snapshot = backend.open()->snapshot(pool());
      CHECK(snapshot.leases.size() == 7);
      core::Resources sum;
      for (const auto& lease : snapshot.leases) {
        sum = sum + lease.resources;
      }
      CHECK(snapshot.allocated == sum);
      CHECK(sum == usable);
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"7", "3.5"});
      }
    });
  }

  TEST_CASE("named resources: 10,000 allocate/release cycles (1,000 under ASan) of 0.1 per resource leave exactly 0")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const core::Amount tenth{1, 1};
      core::Resources need{100, 128, {{"gemini_rpm", tenth}, {"gemini_tpm", tenth}, {"gpu", tenth}}};
      core::Resources usable{1000, 1024, {{"gemini_rpm", {10, 0}}, {"gemini_tpm", {3, 0}}, {"gpu", {1, 0}}}};
      REQUIRE(store->allocate(request("other", core::Resources{100, 128, {{"gemini_rpm", {72, 1}}}}, usable)).outcome ==
              AllocateResult::Outcome::allocated);
      constexpr int k_cycles = test::scaled(10'000, 1'000);
      int allocated = 0;
      int released = 0;
      for (int i = 0; i < k_cycles; ++i) {
        allocated += store->allocate(request("tiny", need, usable)).outcome == AllocateResult::Outcome::allocated;
        released += store->release(pool(), "tiny").outcome == ReleaseResult::Outcome::released;
      }
      CHECK(allocated == k_cycles);
      CHECK(released == k_cycles);
      auto snapshot = store->snapshot(pool());
      CHECK(snapshot.allocated == core::Resources{100, 128, {{"gemini_rpm", {72, 1}}}});
      if (const auto rpm = backend.stored_named(pool(), "gemini_rpm")) {
        CHECK(*rpm == "7.2");
        CHECK(backend.stored_named(pool(), "gpu") == std::optional<std::string>("0"));
      }
      CHECK(store->release(pool(), "other").outcome == ReleaseResult::Outcome::released);
      snapshot = store->snapshot(pool());
      CHECK(snapshot.leases.empty());
      CHECK(snapshot.allocated == core::Resources{});
      if (const auto rpm = backend.stored_named(pool(), "gemini_rpm")) {
        CHECK(*rpm == "0");
      }
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"0", "0"});
      }
    }, FileMedium::memory);
  }

  TEST_CASE("named resources: the refusal names the short resource in the seed's words")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const core::Resources usable{16000, 32768, {{"gemini_rpm", {103, 1}}, {"gemini_tpm", {6'400'000, 0}}}};
      const core::Resources acte{1000, 512, {{"gemini_rpm", {72, 1}}, {"gemini_tpm", {242'000, 0}}}};
      const auto first = store->allocate(request("acte-1", acte, usable));
      REQUIRE(first.outcome == AllocateResult::Outcome::allocated);
      CHECK(first.lease.resources == acte);
      const auto second = store->allocate(request("acte-2", acte, usable));
      CHECK(second.outcome == AllocateResult::Outcome::insufficient);
      CHECK(second.fit.reason == "Insufficient gemini_rpm (need 7.2, available 3.1)");
      const auto held = store->allocate(request("acte-1", acte, usable));
      CHECK(held.outcome == AllocateResult::Outcome::already_held);
      CHECK(held.fit.fits);
      // A worker type that needs none of it still fits.
      CHECK(store->allocate(request("registre-1", core::resources_from(3, 1), usable)).outcome ==
            AllocateResult::Outcome::allocated);
      const auto snapshot = store->snapshot(pool());
      CHECK(snapshot.allocated == core::Resources{4000, 1536, acte.named});
      if (const auto tpm = backend.stored_named(pool(), "gemini_tpm")) {
        CHECK(*tpm == "242000");
      }
      // Once released, a process that never saw the resource still gives its amount back.
      auto fresh = backend.open();
      CHECK(fresh->release(pool(), "acte-1").outcome == ReleaseResult::Outcome::released);
      CHECK(store->snapshot(pool()).allocated == core::resources_from(3, 1));
      if (const auto rpm = backend.stored_named(pool(), "gemini_rpm")) {
        CHECK(*rpm == "0");
      }
      CHECK(store->allocate(request("acte-2", acte, usable)).outcome == AllocateResult::Outcome::allocated);
    });
  }

  TEST_CASE("named resources: 50 concurrent processes (16 under ASan) against an API budget for 7 allocate exactly 7")
  {
    for_each_backend([](Backend& backend) {
      constexpr int k_processes = test::scaled(50, 16);
      const core::Resources need{100, 64, {{"gemini_rpm", {72, 1}}}};
      const core::Resources usable{100'000, 100'000, {{"gemini_rpm", {504, 1}}}};  // 7 x 7.2 = 50.4
      test::Signal go;
      std::vector<pid_t> children;
      for (int p = 0; p < k_processes; ++p) {
        children.push_back(test::fork_child([&, p]() {
          auto store = backend.open();
          if (!go.wait(30s)) {
            return 3;
          }
          const auto result = store->allocate(request("worker-" + std::to_string(p), need, usable));
          if (result.outcome == AllocateResult::Outcome::insufficient) {
            return result.fit.reason == "Insufficient gemini_rpm (need 7.2, available 0)" ? 1 : 4;
          }
          return result.outcome == AllocateResult::Outcome::allocated ? 0 : 2;
        }));
      }
      for (int p = 0; p < k_processes; ++p) {
        go.notify();
      }
      std::map<int, int> codes;
      for (const pid_t child : children) {
        ++codes[test::wait_child(child)];
      }
      CHECK(codes[0] == 7);
      CHECK(codes[1] == k_processes - 7);
      const auto snapshot = backend.open()->snapshot(pool());
      CHECK(snapshot.leases.size() == 7);
      CHECK(named_amount(snapshot.allocated, "gemini_rpm") == core::Amount{504, 1});
      if (const auto rpm = backend.stored_named(pool(), "gemini_rpm")) {
        CHECK(*rpm == "50.4");
      }
    });
  }

  TEST_CASE("leases: leases in the seed's layout are read and counted")
  {
    for_each_backend([](Backend& backend) {
      backend.put_seed_lease(pool(), "registre-seed", 3, 1);
      auto store = backend.open();
      const auto snapshot = store->snapshot(pool());
      REQUIRE(snapshot.leases.size() == 1);
      const auto& lease = snapshot.leases[0];
      CHECK(lease.id == "registre-seed");
      CHECK(lease.type == "registre");
      CHECK(lease.resources == core::resources_from(3, 1));
      CHECK(lease.started_at_ms == 1'732'000'000'000);
      CHECK_FALSE(lease.expires_at_ms.has_value());
      CHECK(snapshot.allocated == core::resources_from(3, 1));

      const auto full = store->allocate(request("acte-1", core::resources_from(1, 0.5), core::resources_from(3.2, 6.4)));
      CHECK(full.outcome == AllocateResult::Outcome::insufficient);
      CHECK(full.fit.reason == "Insufficient CPU (need 1, available 0.2)");
      CHECK(store->release(pool(), "registre-seed").outcome == ReleaseResult::Outcome::released);
      CHECK(store->snapshot(pool()).allocated == core::Resources{});
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"0", "0"});
      }
    });
  }

  TEST_CASE("leases: purge removes every lease and returns them")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(8, 16);
      for (const char* id : {"w1", "w2", "w3"}) {
        REQUIRE(store->allocate(request(id, core::resources_from(1, 1), usable)).outcome ==
                AllocateResult::Outcome::allocated);
      }
      const auto removed = store->purge(pool());
      CHECK(removed.size() == 3);
      std::set<std::string> ids;
      for (const auto& lease : removed) {
        ids.insert(lease.id);
      }
      CHECK(ids == std::set<std::string>{"w1", "w2", "w3"});
      CHECK(store->snapshot(pool()).leases.empty());
      CHECK(store->snapshot(pool()).allocated == core::Resources{});
      CHECK(store->purge(pool()).empty());
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(*totals == std::pair<std::string, std::string>{"0", "0"});
      }
    });
  }

  TEST_CASE("names and arguments are validated before anything is stored")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const int usage = to_int(ExitCode::usage);
      CHECK(error_of([&] { store->get(""); }).first == usage);
      CHECK(error_of([&] { store->append("", json::object()); }).first == usage);
      CHECK(error_of([&] { store->lock("bad\nname", owner("x"), 0ms); }).first == usage);
      CHECK(error_of([&] { store->renew(pool(), "w", 0ms); }).first == usage);
      CHECK(error_of([&] {
              store->allocate(request("neg", core::Resources{-1, 0}, core::resources_from(1, 1)));
            }).first == usage);
      CHECK(store->snapshot(pool()).leases.empty());
    });
  }
}

// --- several pools per worker (issue 13): all or nothing across this host's pool and a pool
// shared by every host, driven by ops::allocate_across_pools over each backend -----------------

namespace {

// The shared pool of the current backend ("{gemini}" on the cluster, else "gemini").
std::string shared_pool() { return g_pool == "server" ? "gemini" : "{gemini}"; }

// An acte-ocr worker: 1 vCPU and 0.5 GB from this host's pool, 7.2 RPM from the shared pool.
ops::MultiAllocateRequest multi_request(const std::string& id, core::Amount rpm_usable,
                                        std::optional<std::chrono::milliseconds> ttl = std::nullopt,
                                        std::chrono::milliseconds pending = 30s, double host_cpu = 4)
{
  ops::MultiAllocateRequest r;
  r.lease.id = id;
  r.lease.type = "acte-ocr";
  r.lease.host = "web1";
  r.lease.pid = 4242;
  r.parts.push_back({pool(), core::resources_from(host_cpu, 2 * host_cpu), core::resources_from(1, 0.5), false});
  r.parts.push_back({shared_pool(), core::Resources{0, 0, {{"gemini_rpm", rpm_usable}}},
                     core::Resources{0, 0, {{"gemini_rpm", {72, 1}}}}, true});
  r.ttl = ttl;
  r.pending_ttl = pending;
  return r;
}

ops::MultiAllocateOutcome allocate_multi(Store& store, const ops::MultiAllocateRequest& r)
{
  test::RecordingReporter reporter;
  return ops::allocate_across_pools(store, real_clock(), reporter, r, {}, 1);
}

// A store that dies by SIGKILL when asked to allocate in `pool`: a worker killed between pools.
class DyingStore final : public Store {
 public:
  DyingStore(std::unique_ptr<Store> inner, std::string pool) : m_inner(std::move(inner)), m_pool(std::move(pool)) {}
  std::string describe() const override { return m_inner->describe(); }
  std::unique_ptr<OperationLock> lock(std::string_view r, const LockOwner& me, std::chrono::milliseconds w) override
  {
    return m_inner->lock(r, me, w);
  }
  std::optional<LockOwner> lock_holder(std::string_view r) override { return m_inner->lock_holder(r); }
  std::optional<json> get(std::string_view k) override { return m_inner->get(k); }
  json update(std::string_view k, const std::function<json(const std::optional<json>&)>& fn) override
  {
    return m_inner->update(k, fn);
  }
  void append(std::string_view n, const json& e) override { m_inner->append(n, e); }
  std::vector<json> read_log(std::string_view n, std::int64_t s) override { return m_inner->read_log(n, s); }
  AllocateResult allocate(const AllocateRequest& request) override
  {
    if (request.pool == m_pool) {
      ::kill(::getpid(), SIGKILL);
    }
    return m_inner->allocate(request);
  }
  RenewResult renew(std::string_view p, std::string_view id, std::chrono::milliseconds ttl) override
  {
    return m_inner->renew(p, id, ttl);
  }
  RenewResult persist(std::string_view p, std::string_view id) override { return m_inner->persist(p, id); }
  ReleaseResult release(std::string_view p, std::string_view id) override { return m_inner->release(p, id); }
  std::vector<Lease> purge(std::string_view p) override { return m_inner->purge(p); }
  PoolSnapshot snapshot(std::string_view p) override { return m_inner->snapshot(p); }

 private:
  std::unique_ptr<Store> m_inner;
  std::string m_pool;
};

}  // namespace

// --- fair waiting (issue 13): the waiter queue, on every backend ------------------------------

namespace {

// A request of worker type `type` with `priority`; `queue_ttl` set: it waits (joins the queue).
AllocateRequest fair_request(const std::string& id, const std::string& type, std::int64_t priority, double cpu,
                             core::Resources usable,
                             std::optional<std::chrono::milliseconds> queue_ttl = std::nullopt)
{
  AllocateRequest r = request(id, core::resources_from(cpu, 0.5), usable);
  r.lease.type = type;
  r.priority = priority;
  r.queue_ttl = queue_ttl;
  return r;
}

std::vector<std::string> waiter_ids(const PoolSnapshot& snapshot)
{
  std::vector<std::string> ids;
  for (const auto& waiter : snapshot.waiters) {
    ids.push_back(waiter.id);
  }
  return ids;
}

}  // namespace

TEST_SUITE("state.contract")
{
  TEST_CASE("several pools: allocated only when both fit; a shared refusal leaves nothing in the host pool")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      // Room in the shared pool for two 7.2 RPM workers (14.4), in the host pool for four.
      const auto first = allocate_multi(*store, multi_request("w1", {144, 1}));
      REQUIRE(first.outcome == AllocateResult::Outcome::allocated);
      CHECK(first.pools.size() == 2);
      for (const auto& p : {pool(), shared_pool()}) {
        const auto snap = store->snapshot(p);
        REQUIRE(snap.leases.size() == 1);
        CHECK(snap.leases[0].id == "w1");
        CHECK_FALSE(snap.leases[0].expires_at_ms.has_value());  // --ttl none: the pending TTL was removed
      }
      CHECK(store->snapshot(shared_pool()).allocated == core::Resources{0, 0, {{"gemini_rpm", {72, 1}}}});
      CHECK(store->snapshot(pool()).allocated == core::resources_from(1, 0.5));

      const auto second = allocate_multi(*store, multi_request("w2", {144, 1}, 60s));
      REQUIRE(second.outcome == AllocateResult::Outcome::allocated);
      const auto w2 = store->snapshot(pool()).leases.at(1);
      REQUIRE(w2.expires_at_ms.has_value());
      CHECK(*w2.expires_at_ms - w2.started_at_ms >= 59'000);  // confirmed to the real TTL

      // The shared pool is full: the host pool had room, took w3 pending and gave it back.
      const auto third = allocate_multi(*store, multi_request("w3", {144, 1}));
      CHECK(third.outcome == AllocateResult::Outcome::insufficient);
      REQUIRE(third.refused.has_value());
      CHECK(*third.refused == 1u);
      CHECK(third.pools.back().result.fit.reason == "Insufficient gemini_rpm (need 7.2, available 0)");
      CHECK(third.rolled_back == std::vector<std::string>{pool()});
      CHECK(ids_of(store->snapshot(pool()).leases) == std::vector<std::string>{"w1", "w2"});
      CHECK(store->snapshot(pool()).allocated == core::resources_from(2, 1));
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(totals->first == "2");
      }

      // The host pool refuses (room for 2 vCPUs): the shared pool is never asked.
      const auto fourth = allocate_multi(*store, multi_request("w4", {1000, 0}, std::nullopt, 30s, 2));
      CHECK(fourth.outcome == AllocateResult::Outcome::insufficient);
      CHECK(*fourth.refused == 0u);
      CHECK(fourth.pools.size() == 1);
      CHECK(store->snapshot(shared_pool()).leases.size() == 2);

      // Again with the same id: already held everywhere, nothing changes.
      CHECK(allocate_multi(*store, multi_request("w1", {144, 1})).outcome == AllocateResult::Outcome::already_held);

      // Release and renew act on every pool of the lease.
      const auto renewed = store->renew(shared_pool(), "w2", 120s);
      CHECK(renewed.outcome == RenewResult::Outcome::renewed);
      const auto released = ops::release_across_pools(*store, {pool(), shared_pool()}, "w1");
      REQUIRE(released.size() == 2);
      CHECK(released[0].result.outcome == ReleaseResult::Outcome::released);
      CHECK(released[1].result.outcome == ReleaseResult::Outcome::released);
      CHECK(ids_of(store->snapshot(shared_pool()).leases) == std::vector<std::string>{"w2"});
      CHECK(ids_of(store->snapshot(pool()).leases) == std::vector<std::string>{"w2"});
    });
  }

  TEST_CASE("several pools: a worker killed between the two pools leaves a pending lease that expires")
  {
    for_each_backend([](Backend& backend) {
      const auto child = test::fork_child([&]() {
        DyingStore store(backend.open(), shared_pool());
        allocate_multi(store, multi_request("doomed", {144, 1}, 1h, 1s));
        return 0;  // not reached: SIGKILL on the way to the shared pool
      });
      CHECK(test::wait_child(child) == -1);
      auto store = backend.open();
      const auto host = store->snapshot(pool());
      REQUIRE(host.leases.size() == 1);
      CHECK(host.leases[0].id == "doomed");
      REQUIRE(host.leases[0].expires_at_ms.has_value());
      CHECK(*host.leases[0].expires_at_ms - host.leases[0].started_at_ms == 1000);  // pending, not the 1 h TTL
      CHECK(store->snapshot(shared_pool()).leases.empty());

      REQUIRE(wait_until_expired(*store, "doomed"));
      CHECK(store->snapshot(pool()).allocated == core::Resources{});
      // The next allocation reaps it, and the pool returns to empty after its release.
      const auto next = allocate_multi(*store, multi_request("next", {144, 1}));
      REQUIRE(next.outcome == AllocateResult::Outcome::allocated);
      CHECK(next.pools[0].result.reaped == std::vector<std::string>{"doomed"});
      ops::release_across_pools(*store, {pool(), shared_pool()}, "next");
      CHECK(store->snapshot(pool()).leases.empty());
      CHECK(store->snapshot(shared_pool()).leases.empty());
      if (const auto totals = backend.stored_totals(pool())) {
        CHECK(totals->first == "0");
      }
    });
  }

  TEST_CASE("several pools: 40 concurrent processes (16 under ASan) against a shared budget for 7 allocate exactly 7")
  {
    for_each_backend([](Backend& backend) {
      constexpr int k_processes = test::scaled(40, 16);
      test::Signal go;
      std::vector<pid_t> children;
      for (int p = 0; p < k_processes; ++p) {
        children.push_back(test::fork_child([&, p]() {
          auto store = backend.open();
          if (!go.wait(30s)) {
            return 3;
          }
          const auto outcome = allocate_multi(*store, multi_request("worker-" + std::to_string(p), {504, 1},
                                                                    std::nullopt, 30s, 100));
          if (outcome.outcome == AllocateResult::Outcome::insufficient) {
            return outcome.refused == 1u ? 1 : 4;
          }
          return outcome.outcome == AllocateResult::Outcome::allocated ? 0 : 2;
        }));
      }
      for (int p = 0; p < k_processes; ++p) {
        go.notify();
      }
      std::map<int, int> codes;
      for (const pid_t child : children) {
        ++codes[test::wait_child(child)];
      }
      CHECK(codes[0] == 7);
      CHECK(codes[1] == k_processes - 7);
      auto store = backend.open();
      CHECK(store->snapshot(shared_pool()).leases.size() == 7);
      auto host_ids = ids_of(store->snapshot(pool()).leases);
      auto shared_ids = ids_of(store->snapshot(shared_pool()).leases);
      std::sort(host_ids.begin(), host_ids.end());
      std::sort(shared_ids.begin(), shared_ids.end());
      CHECK(host_ids == shared_ids);  // no refused worker left a lease in the host pool
      CHECK(store->snapshot(pool()).allocated == core::resources_from(7, 3.5));
      if (const auto rpm = backend.stored_named(shared_pool(), "gemini_rpm")) {
        CHECK(*rpm == "50.4");
      }
    });
  }

  TEST_CASE("fair waiting: waiters are admitted by priority, then first come, first served")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(4, 8);
      REQUIRE(store->allocate(fair_request("busy", "acte-ocr", 5, 4, usable)).outcome ==
              AllocateResult::Outcome::allocated);

      const auto low1 = store->allocate(fair_request("low-1", "acte-ocr", 5, 1, usable, 60s));
      CHECK(low1.outcome == AllocateResult::Outcome::insufficient);
      CHECK_FALSE(low1.blocker.has_value());  // it is the head: only the room is missing
      CHECK(low1.position == 1);
      const auto low2 = store->allocate(fair_request("low-2", "acte-ocr", 5, 1, usable, 60s));
      CHECK(low2.outcome == AllocateResult::Outcome::insufficient);
      REQUIRE(low2.blocker.has_value());
      CHECK(low2.blocker->id == "low-1");
      CHECK(low2.position == 2);
      const auto high = store->allocate(fair_request("high", "registre", 10, 3, usable, 60s));
      CHECK(high.outcome == AllocateResult::Outcome::insufficient);
      CHECK_FALSE(high.blocker.has_value());  // a higher priority goes before earlier arrivals
      CHECK(high.position == 1);

      // A heartbeat keeps the waiter's place.
      const auto low1_again = store->allocate(fair_request("low-1", "acte-ocr", 5, 1, usable, 60s));
      CHECK(low1_again.position == 2);
      REQUIRE(low1_again.blocker.has_value());
      CHECK(low1_again.blocker->id == "high");
      const auto queued = store->snapshot(pool());
      CHECK(waiter_ids(queued) == std::vector<std::string>{"high", "low-1", "low-2"});
      REQUIRE(queued.waiters.size() == 3);
      CHECK(queued.waiters[0].priority == 10);
      CHECK(queued.waiters[0].type == "registre");
      CHECK(queued.waiters[0].resources == core::resources_from(3, 0.5));
      CHECK(queued.waiters[0].expires_at_ms > queued.now_ms);
      CHECK(queued.waiters[1].seq < queued.waiters[2].seq);
      CHECK(queued.waiters[1].since_ms <= queued.waiters[2].since_ms);

      REQUIRE(store->release(pool(), "busy").outcome == ReleaseResult::Outcome::released);
      // 4 vCPUs free: high (3) and low-1 (1) fit in that order; low-2 would fit alone but must
      // leave their room.
      const auto low2_squeezed = store->allocate(fair_request("low-2", "acte-ocr", 5, 1, usable, 60s));
      CHECK(low2_squeezed.outcome == AllocateResult::Outcome::insufficient);
      CHECK(low2_squeezed.fit.fits);
      REQUIRE(low2_squeezed.blocker.has_value());
      CHECK(low2_squeezed.blocker->id == "high");
      CHECK(low2_squeezed.position == 3);
      CHECK(store->allocate(fair_request("low-1", "acte-ocr", 5, 1, usable, 60s)).outcome ==
            AllocateResult::Outcome::allocated);  // next to high's 3 vCPUs
      CHECK(waiter_ids(store->snapshot(pool())) == std::vector<std::string>{"high", "low-2"});
      CHECK(store->allocate(fair_request("high", "registre", 10, 3, usable, 60s)).outcome ==
            AllocateResult::Outcome::allocated);
      const auto low2_full = store->allocate(fair_request("low-2", "acte-ocr", 5, 1, usable, 60s));
      CHECK(low2_full.outcome == AllocateResult::Outcome::insufficient);
      CHECK_FALSE(low2_full.blocker.has_value());
      CHECK(low2_full.position == 1);
      CHECK(store->leave_queue(pool(), "low-2"));
      CHECK_FALSE(store->leave_queue(pool(), "low-2"));
      CHECK(store->snapshot(pool()).waiters.empty());
      CHECK(store->snapshot(other_pool()).waiters.empty());
    });
  }

  TEST_CASE("fair waiting: a newcomer that would fit is refused, naming the waiter it is queued behind")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(4, 8);
      REQUIRE(store->allocate(fair_request("ocr-a", "acte-ocr", 5, 2, usable)).outcome ==
              AllocateResult::Outcome::allocated);
      auto heavy = fair_request("registre-w", "registre", 10, 3, usable, 60s);
      heavy.lease.host = "web7";
      heavy.lease.pid = 777;
      CHECK(store->allocate(heavy).outcome == AllocateResult::Outcome::insufficient);

      for (const std::int64_t priority : {5, 10}) {
        CAPTURE(priority);
        const auto newcomer = store->allocate(fair_request("ocr-new", "acte-ocr", priority, 1, usable));
        CHECK(newcomer.outcome == AllocateResult::Outcome::insufficient);
        CHECK(newcomer.fit.fits);  // it would fit: only the queue refuses it
        CHECK(newcomer.position == 0);
        REQUIRE(newcomer.blocker.has_value());
        CHECK(newcomer.blocker->id == "registre-w");
        CHECK(newcomer.blocker->type == "registre");
        CHECK(newcomer.blocker->priority == 10);
        CHECK(newcomer.blocker->host == "web7");
        CHECK(newcomer.blocker->pid == 777);
      }
      // Giving up leaves the queue; the newcomer then gets in.
      CHECK(store->leave_queue(pool(), "registre-w"));
      CHECK(store->allocate(fair_request("ocr-new", "acte-ocr", 5, 1, usable)).outcome ==
            AllocateResult::Outcome::allocated);
    });
  }

  TEST_CASE("fair waiting: a waiter that stops heartbeating drops out of the queue by itself")
  {
    for_each_backend([](Backend& backend) {
      auto store = backend.open();
      const auto usable = core::resources_from(4, 8);
      REQUIRE(store->allocate(fair_request("ocr-a", "acte-ocr", 5, 2, usable)).outcome ==
              AllocateResult::Outcome::allocated);
      CHECK(store->allocate(fair_request("dead", "registre", 10, 3, usable, 1s)).outcome ==
            AllocateResult::Outcome::insufficient);
      CHECK(waiter_ids(store->snapshot(pool())) == std::vector<std::string>{"dead"});
      CHECK(store->allocate(fair_request("ocr-b", "acte-ocr", 5, 1, usable)).blocker.has_value());

      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!store->snapshot(pool()).waiters.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
      }
      CHECK(store->snapshot(pool()).waiters.empty());
      const auto after = store->allocate(fair_request("ocr-b", "acte-ocr", 5, 1, usable));
      CHECK(after.outcome == AllocateResult::Outcome::allocated);
      CHECK_FALSE(after.blocker.has_value());
      // A waiter that expired and comes back polling joins the queue again.
      const auto back = store->allocate(fair_request("dead", "registre", 10, 3, usable, 60s));
      CHECK(back.outcome == AllocateResult::Outcome::insufficient);
      CHECK(back.position == 1);
      CHECK(waiter_ids(store->snapshot(pool())) == std::vector<std::string>{"dead"});
    });
  }
}
