// Redis-backend specifics against real redis-server processes: URLs, passwords, unix sockets,
// script caching, the seed's key layout and a server that stops mid-run.

#include <doctest/doctest.h>

#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include <scalectl/error.hpp>
#include <scalectl/state/store.hpp>

#include "state/redis_connection.hpp"
#include "state/redis_scripts.hpp"
#include "support/errors.hpp"
#include "support/redis_server.hpp"
#include "support/sanitizer_scale.hpp"
#include "support/temp_dir.hpp"

using namespace scalectl;
using namespace scalectl::state;
using nlohmann::json;
using scalectl::test::error_of;
using namespace std::chrono_literals;

namespace {

StoreOptions redis_options(const std::string& url)
{
  StoreOptions options;
  options.backend = "redis";
  options.redis_url = url;
  options.connect_timeout = 1s;
  options.command_timeout = 2s;
  return options;
}

AllocateRequest request(const std::string& pool, const std::string& id, core::Resources need)
{
  AllocateRequest r;
  r.pool = pool;
  r.lease.id = id;
  r.lease.type = "index-ocr";
  r.lease.resources = need;
  r.usable = core::resources_from(16, 32);
  return r;
}

}  // namespace

TEST_SUITE("state.redis")
{
  TEST_CASE("redis URLs: host, port, db, user, password, IPv6 and unix sockets")
  {
    auto plain = parse_redis_url("redis://127.0.0.1:6390/2");
    REQUIRE(plain.has_value());
    CHECK(plain->host == "127.0.0.1");
    CHECK(plain->port == 6390);
    CHECK(plain->db == 2);
    CHECK(plain->password.empty());
    CHECK(plain->address() == "127.0.0.1:6390");

    auto defaults = parse_redis_url("redis://localhost");
    REQUIRE(defaults.has_value());
    CHECK(defaults->port == 6379);
    CHECK(defaults->db == 0);

    auto password_only = parse_redis_url("redis://:s3cr%40t@redis.internal:6379/0");
    REQUIRE(password_only.has_value());
    CHECK(password_only->user.empty());
    CHECK(password_only->password == "s3cr@t");
    CHECK(password_only->address() == "redis.internal:6379");

    auto with_user = parse_redis_url("redis://scalectl:pw@127.0.0.1:6379/1");
    REQUIRE(with_user.has_value());
    CHECK(with_user->user == "scalectl");
    CHECK(with_user->password == "pw");

    auto v6 = parse_redis_url("redis://[::1]:6380");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->address() == "[::1]:6380");

    auto socket = parse_redis_url("unix:///run/redis/redis.sock?db=3");
    REQUIRE(socket.has_value());
    CHECK(socket->socket_path == "/run/redis/redis.sock");
    CHECK(socket->db == 3);
    CHECK(socket->address() == "unix:/run/redis/redis.sock");

    for (const char* bad : {"", "http://x", "redis://", "redis://host:0", "redis://host:99999", "redis://host/x",
                            "unix://relative.sock", "redis://[::1", "redis://h:1?x=y", "redis://:pw%4@h"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_redis_url(bad).has_value());
    }
    // DigitalOcean Managed Valkey's connection string, pasted as it is.
    const auto tls = parse_redis_url("rediss://default:AVNS_s3cr%40t@db-valkey-fra1-1.b.db.ondigitalocean.com:25061");
    REQUIRE(tls.has_value());
    CHECK(tls->tls);
    CHECK(tls->user == "default");
    CHECK(tls->password == "AVNS_s3cr@t");
    CHECK(tls->host == "db-valkey-fra1-1.b.db.ondigitalocean.com");
    CHECK(tls->port == 25061);
    CHECK(tls->address().find("s3cr") == std::string::npos);
    CHECK_FALSE(parse_redis_url("redis://h:6380")->tls);

    const auto [code, message] = error_of([] { open_store(redis_options("redis://:hunter2@host:notaport")); });
    CHECK(code == to_int(ExitCode::usage));
    CHECK(message.find("hunter2") == std::string::npos);
  }

  TEST_CASE("passwords come from the URL or the options; a wrong one is a clear error that hides it")
  {
    test::RedisServer server({"--requirepass", "right-horse-battery"});
    const std::string address = "127.0.0.1:" + std::to_string(server.port());

    auto from_url = open_store(redis_options("redis://:right-horse-battery@" + address + "/0"));
    CHECK(from_url->allocate(request("server", "w1", core::resources_from(1, 1))).outcome ==
          AllocateResult::Outcome::allocated);

    auto options = redis_options("redis://" + address + "/0");
    options.redis_password = "right-horse-battery";
    CHECK(open_store(options)->snapshot("server").leases.size() == 1);

    auto with_user = open_store(redis_options("redis://default:right-horse-battery@" + address));
    CHECK(with_user->snapshot("server").leases.size() == 1);

    const auto [wrong_code, wrong_message] =
        error_of([&] { open_store(redis_options("redis://:wrong-staple@" + address)); });
    CHECK(wrong_code == to_int(ExitCode::failure));
    CHECK(wrong_message.find(address) != std::string::npos);
    CHECK(wrong_message.find("REDISCLI_AUTH") != std::string::npos);
    CHECK(wrong_message.find("wrong-staple") == std::string::npos);

    auto no_password = open_store(redis_options("redis://" + address));
    const auto [none_code, none_message] = error_of([&] { no_password->snapshot("server"); });
    CHECK(none_code == to_int(ExitCode::failure));
    CHECK(none_message.find("requires a password") != std::string::npos);
  }

  TEST_CASE("unix socket URLs select the database")
  {
    test::RedisServer socket_server({}, true);
    const std::string path = socket_server.socket_path();
    auto store = open_store(redis_options("unix://" + path + "?db=3"));
    CHECK(store->describe() == "redis unix:" + path + " db 3");
    store->update("droplet-1", [](const std::optional<json>&) { return json{{"db", 3}}; });
    CHECK(open_store(redis_options("redis://127.0.0.1:" + std::to_string(socket_server.port()) + "/3"))
              ->get("droplet-1")
              .has_value());
    CHECK_FALSE(open_store(redis_options("redis://127.0.0.1:" + std::to_string(socket_server.port()) + "/0"))
                    ->get("droplet-1")
                    .has_value());
  }

  TEST_CASE("the store's clock is the server's TIME; the file backend has none")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    const auto host_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto at = store->time_ms();
    REQUIRE(at.has_value());
    // Same machine, so the two clocks agree to well within a minute.
    CHECK(std::llabs(*at - host_ms) < 60'000);
    test::TempDir dir;
    StoreOptions file;
    file.backend = "file";
    file.state_dir = dir.path() / "state";
    CHECK_FALSE(open_store(file)->time_ms().has_value());
  }

  TEST_CASE("key layout: seed-compatible pools, hash-tagged own keys, exact decimal totals")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    store->update("droplet-1", [](const std::optional<json>&) { return json{{"v", 1}}; });
    CHECK(server.command({"GET", "scalectl:{rec}:droplet-1"}) == R"({"v":1})");
    store->append("audit", json{{"time_ms", 1}});
    CHECK(server.command({"XLEN", "scalectl:{log}:audit"}) == "1");
    {
      auto lock = store->lock("droplet-1", LockOwner{}, 0ms);
      const auto value = json::parse(server.command({"GET", "scalectl:{lock}:droplet-1"}));
      CHECK(value["token"].get<std::string>().size() == 32);
      CHECK(value["pid"] == ::getpid());
      const long long ttl = std::stoll(server.command({"PTTL", "scalectl:{lock}:droplet-1"}));
      CHECK(ttl > 0);
      CHECK(ttl <= 30'000);
    }
    CHECK(server.command({"EXISTS", "scalectl:{lock}:droplet-1"}) == "0");

    // 1 millicore and 100 MiB have exact decimal forms: 0.001 vCPU and 0.09765625 GB.
    REQUIRE(store->allocate(request("server", "odd", core::Resources{1, 100})).outcome ==
            AllocateResult::Outcome::allocated);
    CHECK(server.command({"GET", "server:cpu:allocated"}) == "0.001");
    CHECK(server.command({"GET", "server:ram:allocated"}) == "0.09765625");
    const auto raw = json::parse(server.command({"HGET", "server:workers", "odd"}));
    CHECK(raw["type"] == "index-ocr");
    CHECK(raw["cpu"] == 0.001);
    CHECK(raw["ram"] == 0.09765625);
    CHECK(raw["millicores"] == 1);
    CHECK(raw["mib"] == 100);
    CHECK(raw["startedAt"].is_number());

    // Cluster users give the pool a hash tag; all three keys then share it.
    REQUIRE(store->allocate(request("{server}", "tagged", core::resources_from(1.5, 0.75))).outcome ==
            AllocateResult::Outcome::allocated);
    CHECK(server.command({"GET", "{server}:cpu:allocated"}) == "1.5");
    CHECK(server.command({"GET", "{server}:ram:allocated"}) == "0.75");
    CHECK(server.command({"HLEN", "{server}:workers"}) == "1");
  }

  TEST_CASE("drifted counters are a second view, changed only by increments, rewritten only by repair")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    REQUIRE(store->allocate(request("server", "w1", core::resources_from(2, 1))).outcome ==
            AllocateResult::Outcome::allocated);
    server.command({"INCRBYFLOAT", "server:cpu:allocated", "0.30000000000000004"});
    server.command({"SET", "server:ram:allocated", "-7"});
    const auto snapshot = store->snapshot("server");
    CHECK(snapshot.allocated == core::resources_from(2, 1));  // counted from the hash
    REQUIRE(snapshot.counters.has_value());
    CHECK(snapshot.counters->resources == core::Resources{2300, 0});  // a negative counter counts as 0
    CHECK(snapshot.counters->ram_text == "-7");
    CHECK(stricter_usage(snapshot) == core::Resources{2300, 1024});
    CHECK(store->release("server", "nobody").outcome == ReleaseResult::Outcome::unknown);
    CHECK(server.command({"GET", "server:cpu:allocated"}) == "2.30000000000000004");  // not rewritten
    CHECK(server.command({"GET", "server:ram:allocated"}) == "-7");
    // Releasing w1 subtracts exactly its amounts; a subtraction stops at 0.
    CHECK(store->release("server", "w1").outcome == ReleaseResult::Outcome::released);
    CHECK(server.command({"GET", "server:cpu:allocated"}) == "0.30000000000000004");
    CHECK(server.command({"GET", "server:ram:allocated"}) == "-7");
    const auto repaired = store->repair("server");
    CHECK(repaired.has_counters);
    CHECK(repaired.before.cpu_text == "0.30000000000000004");
    CHECK(repaired.after.cpu_text == "0");
    CHECK(server.command({"GET", "server:cpu:allocated"}) == "0");
    CHECK(server.command({"GET", "server:ram:allocated"}) == "0");
    server.command({"SET", "server:cpu:allocated", "NaN-ish"});
    const auto [code, message] = error_of([&] { store->allocate(request("server", "w2", core::resources_from(1, 1))); });
    CHECK(code == to_int(ExitCode::failure));
    CHECK(message.find("capacity repair") != std::string::npos);
  }

  TEST_CASE("totals and the expiry index follow the hash: batches of expired leases, old workers, hand edits")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    const auto one = core::resources_from(1, 1);
    auto r = request("server", "live", one);
    r.usable = core::resources_from(1000, 1000);
    REQUIRE(store->allocate(r).outcome == AllocateResult::Outcome::allocated);
    // Long enough that none of the 150 expires while they are still being allocated (ASan makes
    // each round trip several times slower), short enough to wait out.
    r.ttl = std::chrono::milliseconds(test::scaled(500, 3'000));
    for (int i = 0; i < 150; ++i) {
      r.lease.id = "short-" + std::to_string(i);
      REQUIRE(store->allocate(r).outcome == AllocateResult::Outcome::allocated);
    }
    CHECK(server.command({"HGET", "server:scalectl:totals", "n"}) == "151");
    // The index holds the leases and its sentinel "~" (it never empties: see redis_scripts.cpp).
    CHECK(server.command({"ZCARD", "server:scalectl:expiry"}) == "152");
    std::this_thread::sleep_for(*r.ttl + 200ms);
    // Fits only once all 150 expired leases (more than one batch of 100) are taken off.
    auto next = request("server", "next", one);
    next.usable = core::resources_from(2, 2);
    const auto admitted = store->allocate(next);
    CHECK(admitted.outcome == AllocateResult::Outcome::allocated);
    CHECK(admitted.reaped.size() == 150);
    CHECK(server.command({"HLEN", "server:workers"}) == "2");
    CHECK(server.command({"HGET", "server:scalectl:totals", "mc"}) == "2000");
    CHECK(server.command({"ZCARD", "server:scalectl:expiry"}) == "3");

    // An old worker's lease (HSET behind scalectl's back) is summed again on every call.
    server.command({"HSET", "server:workers", "old", R"({"type":"registre","cpu":3,"ram":1,"startedAt":1})"});
    auto more = request("server", "more", one);
    more.usable = core::resources_from(5, 100);
    const auto refused = store->allocate(more);
    CHECK(refused.outcome == AllocateResult::Outcome::insufficient);
    CHECK(refused.fit.reason == "Insufficient CPU (need 1, available 0)");
    server.command({"HDEL", "server:workers", "old"});
    CHECK(store->allocate(more).outcome == AllocateResult::Outcome::allocated);

    // A lease deleted by hand is noticed (the hash holds fewer than counted) and the totals rebuilt.
    server.command({"HDEL", "server:workers", "next"});
    CHECK(store->release("server", "nobody").outcome == ReleaseResult::Outcome::unknown);
    CHECK(server.command({"HGET", "server:scalectl:totals", "n"}) == "2");
    CHECK(server.command({"HGET", "server:scalectl:totals", "mc"}) == "2000");
    CHECK(server.command({"ZCARD", "server:scalectl:expiry"}) == "3");
    CHECK(store->snapshot("server").allocated == core::resources_from(2, 2));
  }

  TEST_CASE("an invalid lease in the hash stops the pool with a message naming it")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    server.command({"HSET", "server:workers", "junk", "not json"});
    const auto [code, message] = error_of([&] { store->allocate(request("server", "w1", core::resources_from(1, 1))); });
    CHECK(code == to_int(ExitCode::failure));
    CHECK(message.find("lease junk in server:workers is not a JSON object") != std::string::npos);
    CHECK(server.command({"HLEN", "server:workers"}) == "1");  // nothing written
    const auto removed = store->purge("server");
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].type == "(invalid)");
    CHECK(store->allocate(request("server", "w1", core::resources_from(1, 1))).outcome ==
          AllocateResult::Outcome::allocated);
  }

  TEST_CASE("scripts run by SHA and are re-sent after SCRIPT FLUSH")
  {
    test::RedisServer server;
    auto store = open_store(redis_options(server.url()));
    const std::string sha = lease_allocate_script().sha1;
    CHECK(server.command({"SCRIPT", "EXISTS", sha}) == "[0]");
    REQUIRE(store->allocate(request("server", "w1", core::resources_from(1, 1))).outcome ==
            AllocateResult::Outcome::allocated);
    CHECK(server.command({"SCRIPT", "EXISTS", sha}) == "[1]");  // our SHA-1 is the server's
    CHECK(server.command({"SCRIPT", "FLUSH"}) == "OK");
    CHECK(store->allocate(request("server", "w2", core::resources_from(1, 1))).outcome ==
          AllocateResult::Outcome::allocated);
    CHECK(store->snapshot("server").leases.size() == 2);
  }

  TEST_CASE("a server that freezes or dies mid-run gives Error(failure) and leaves consistent state")
  {
    test::RedisServer server;
    auto options = redis_options(server.url());
    options.command_timeout = 300ms;
    const std::string address = "127.0.0.1:" + std::to_string(server.port());
    auto store = open_store(options);
    REQUIRE(store->allocate(request("server", "before", core::resources_from(1, 1))).outcome ==
            AllocateResult::Outcome::allocated);

    server.pause();
    const auto [frozen_code, frozen_message] =
        error_of([&] { store->allocate(request("server", "during", core::resources_from(1, 1))); });
    server.resume();
    CHECK(frozen_code == to_int(ExitCode::failure));
    CHECK(frozen_message.find("Redis at " + address + ": no reply within 300ms") != std::string::npos);
    CHECK(frozen_message.find("allocating lease during in pool server") != std::string::npos);

    // Whether or not the interrupted script ran, the totals equal the sum of the leases.
    const auto snapshot = open_store(options)->snapshot("server");
    CHECK((snapshot.leases.size() == 1 || snapshot.leases.size() == 2));
    CHECK(snapshot.allocated == core::resources_from(1, 1) * static_cast<std::int64_t>(snapshot.leases.size()));
    CHECK(server.command({"GET", "server:cpu:allocated"}) == std::to_string(snapshot.leases.size()));

    // The store reconnects after a broken connection.
    CHECK(store->snapshot("server").leases.size() == snapshot.leases.size());

    server.stop();
    const auto [dead_code, dead_message] = error_of([&] { store->release("server", "before"); });
    CHECK(dead_code == to_int(ExitCode::failure));
    CHECK(dead_message.find(address) != std::string::npos);
    CHECK(dead_message.find("is redis-server running") != std::string::npos);
    const auto [open_code, open_message] = error_of([&] { open_store(options); });
    CHECK(open_code == to_int(ExitCode::failure));
    CHECK(open_message.find("cannot connect to Redis at " + address) != std::string::npos);
    CHECK(open_message.find("check state.redis_url") != std::string::npos);
  }
}
