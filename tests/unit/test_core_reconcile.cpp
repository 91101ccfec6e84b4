#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <scalectl/core/reconcile.hpp>

using namespace scalectl::core;
using Kind = ReconcileDecision::Kind;

namespace {

const std::vector<SizeSpec> k_sizes{
  {"s-2vcpu-4gb", 4096, 2},
  {"s-4vcpu-8gb", 8192, 4},
  {"m-2vcpu-16gb", 16384, 2},  // more memory, fewer vCPUs: slugs do not order sizes
  {"s-8vcpu-16gb", 16384, 8},
  {"s-8vcpu-32gb", 32768, 8},
};

Claim claim(const char* id, const char* size, std::int64_t created = 1)
{
  Claim c;
  c.id = id;
  c.size = size;
  c.created_ms = created;
  return c;
}

}  // namespace

TEST_SUITE("core.reconcile")
{
  TEST_CASE("satisfies compares memory and vCPUs")
  {
    CHECK(satisfies(k_sizes[3], k_sizes[2]));
    CHECK_FALSE(satisfies(k_sizes[2], k_sizes[3]));
    CHECK_FALSE(satisfies(k_sizes[2], k_sizes[1]));  // 16 GB but 2 vCPUs does not satisfy 4 vCPUs
    CHECK(largest_size(k_sizes, {"s-4vcpu-8gb", "s-8vcpu-16gb", "m-2vcpu-16gb"}) == "s-8vcpu-16gb");
    CHECK(largest_size(k_sizes, {}).empty());
  }

  TEST_CASE("decision table")
  {
    struct Row {
      const char* name;
      const char* current;
      const char* status;
      std::vector<Claim> claims;
      std::vector<std::string> scheduled;
      std::int64_t last_end;
      int leases;
      Kind kind;
      const char* desired;
    };
    constexpr std::int64_t now = 1'000'000'000;
    const std::vector<Row> rows{
      {"idle at down_size", "s-2vcpu-4gb", "active", {}, {}, 0, 0, Kind::none, "s-2vcpu-4gb"},
      {"a claim grows at once", "s-2vcpu-4gb", "active", {claim("a", "s-8vcpu-16gb")}, {}, 0, 0, Kind::resize,
       "s-8vcpu-16gb"},
      {"largest claim wins", "s-2vcpu-4gb", "active", {claim("a", "s-4vcpu-8gb"), claim("b", "s-8vcpu-32gb")}, {},
       0, 0, Kind::resize, "s-8vcpu-32gb"},
      {"granted when larger", "s-8vcpu-32gb", "active", {claim("a", "s-8vcpu-16gb")}, {}, 0, 0, Kind::none,
       "s-8vcpu-16gb"},
      {"claim beats schedule", "s-2vcpu-4gb", "active", {claim("a", "s-4vcpu-8gb")}, {"s-8vcpu-16gb"}, 0, 0,
       Kind::resize, "s-4vcpu-8gb"},
      {"schedule grows", "s-2vcpu-4gb", "active", {}, {"s-8vcpu-16gb"}, 0, 0, Kind::resize, "s-8vcpu-16gb"},
      {"schedule holds up", "s-8vcpu-16gb", "active", {}, {"s-8vcpu-16gb"}, 0, 0, Kind::none, "s-8vcpu-16gb"},
      {"down after delay", "s-8vcpu-16gb", "active", {}, {}, now - 600'000, 0, Kind::resize, "s-2vcpu-4gb"},
      {"down waits for delay", "s-8vcpu-16gb", "active", {}, {}, now - 599'000, 0, Kind::blocked, "s-2vcpu-4gb"},
      {"lease blocks down", "s-8vcpu-16gb", "active", {}, {}, 0, 1, Kind::blocked, "s-2vcpu-4gb"},
      {"never claimed goes down", "s-8vcpu-16gb", "active", {}, {}, 0, 0, Kind::resize, "s-2vcpu-4gb"},
      {"off at size is powered on", "s-2vcpu-4gb", "off", {}, {}, 0, 0, Kind::resize, "s-2vcpu-4gb"},
      {"off and larger than a claim stays", "s-8vcpu-32gb", "off", {claim("a", "s-8vcpu-16gb")}, {}, 0, 0,
       Kind::resize, "s-8vcpu-32gb"},
      {"2vcpu-16gb does not satisfy 4vcpu", "m-2vcpu-16gb", "active", {claim("a", "s-4vcpu-8gb")}, {}, 0, 0,
       Kind::resize, "s-4vcpu-8gb"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      ReconcileInput in;
      in.now_ms = now;
      in.current_size = row.current;
      in.status = row.status;
      in.claims = row.claims;
      in.scheduled = row.scheduled;
      in.down_size = "s-2vcpu-4gb";
      in.last_claim_ended_ms = row.last_end;
      in.live_leases = row.leases;
      in.sizes = k_sizes;
      const auto d = decide_reconcile(in);
      CHECK(d.kind == row.kind);
      CHECK(d.desired == row.desired);
      CHECK_FALSE(d.reason.empty());
    }
  }

  TEST_CASE("down_delay says when the down may happen")
  {
    ReconcileInput in;
    in.now_ms = 100'000;
    in.current_size = "s-8vcpu-16gb";
    in.status = "active";
    in.down_size = "s-2vcpu-4gb";
    in.last_claim_ended_ms = 90'000;
    in.down_delay = std::chrono::seconds(30);
    in.sizes = k_sizes;
    const auto d = decide_reconcile(in);
    REQUIRE(d.not_before_ms);
    CHECK(*d.not_before_ms == 120'000);
  }

  TEST_CASE("claim sets: expiry moves last_ended, JSON round trip")
  {
    ClaimSet set;
    auto a = claim("a", "s-8vcpu-16gb");
    a.expires_at_ms = 500;
    auto b = claim("b", "s-4vcpu-8gb", 2);
    set.claims["a"] = a;
    set.claims["b"] = b;
    CHECK(set.live(499).size() == 2);
    CHECK(set.live(500).size() == 1);
    set.prune(700);
    CHECK(set.claims.size() == 1);
    CHECK(set.last_ended_ms == 500);
    const auto back = ClaimSet::from_json(set.to_json());
    REQUIRE(back.claims.size() == 1);
    CHECK(back.claims.at("b").size == "s-4vcpu-8gb");
    CHECK_FALSE(back.claims.at("b").expires_at_ms);
    CHECK(back.last_ended_ms == 500);
    CHECK(ClaimSet::from_json(nullptr).claims.empty());
    CHECK_THROWS(ClaimSet::from_json(nlohmann::json{{"claims", 3}}));
  }

  TEST_CASE("claim ids")
  {
    CHECK_FALSE(claim_id_problem("pdf-job-42"));
    CHECK(claim_id_problem(""));
    CHECK(claim_id_problem("a b"));
    CHECK(claim_id_problem("a\nb"));
    CHECK(claim_id_problem("a\x1b[31m"));
    CHECK(claim_id_problem(std::string(129, 'x')));
  }
}
