#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/client.hpp>

#include "support/fake_transport.hpp"

using namespace scalectl;
using scalectl::test::FakeTransport;

namespace {

digitalocean::ClientOptions options()
{
  digitalocean::ClientOptions o;
  o.base_url = "http://127.0.0.1:9/";
  o.token = "secret-token-value";
  o.token_source = "env DIGITALOCEAN_TOKEN";
  return o;
}

const char* k_droplet = R"({"droplet":{"id":123,"name":"pdf","memory":4096,"vcpus":2,"disk":80,"locked":false,
  "status":"active","size_slug":"s-2vcpu-4gb","size":{"slug":"s-2vcpu-4gb","price_monthly":24,
  "price_hourly":0.03571},"region":{"slug":"fra1"}}})";

}  // namespace

TEST_SUITE("digitalocean.client")
{
  TEST_CASE("get_droplet parses the fields scalectl uses and sends the bearer token")
  {
    FakeTransport t;
    t.reply(200, k_droplet);
    digitalocean::Client client(t, options());
    const auto d = client.get_droplet(123);
    CHECK(d.id == 123);
    CHECK(d.name == "pdf");
    CHECK(d.memory_mb == 4096);
    CHECK(d.vcpus == 2);
    CHECK(d.disk_gb == 80);
    CHECK(d.size_slug == "s-2vcpu-4gb");
    CHECK(d.price_monthly == doctest::Approx(24));
    CHECK(d.region == "fra1");
    REQUIRE(t.requests().size() == 1);
    CHECK(t.requests()[0].url == "http://127.0.0.1:9/v2/droplets/123");
    bool has_auth = false;
    for (const auto& h : t.requests()[0].headers) {
      has_auth = has_auth || (h.name == "Authorization" && h.value == "Bearer secret-token-value");
    }
    CHECK(has_auth);
    CHECK(client.request_count() == 1);
  }

  TEST_CASE("a 404 names the droplet id and where to fix it")
  {
    FakeTransport t;
    t.reply(404, R"({"id":"not_found","message":"The resource you were accessing could not be found.","request_id":"r1"})");
    digitalocean::Client client(t, options());
    try {
      client.get_droplet(999);
      FAIL("expected ApiError");
    } catch (const digitalocean::ApiError& e) {
      CHECK(e.status() == 404);
      CHECK(std::string(e.what()).find("droplet 999") != std::string::npos);
      CHECK(std::string(e.what()).find("DROPLET_ID") != std::string::npos);
    }
  }

  TEST_CASE("a 401 says where the token came from, never the token")
  {
    FakeTransport t;
    t.reply(401, R"({"id":"unauthorized","message":"Unable to authenticate you","request_id":"r2"})");
    digitalocean::Client client(t, options());
    try {
      client.get_droplet(1);
      FAIL("expected ApiError");
    } catch (const digitalocean::ApiError& e) {
      const std::string what = e.what();
      CHECK(what.find("env DIGITALOCEAN_TOKEN") != std::string::npos);
      CHECK(what.find("secret-token-value") == std::string::npos);
      CHECK(e.code() == ExitCode::failure);
    }
  }

  TEST_CASE("list_sizes follows links.pages.next but only ever to the configured host")
  {
    FakeTransport t;
    t.reply(200, R"({"sizes":[{"slug":"s-1vcpu-1gb","memory":1024,"vcpus":1,"disk":25,"price_monthly":6,
      "price_hourly":0.00893,"available":true}],"links":{"pages":{"next":"https://evil.example/v2/sizes?page=2&per_page=1"}},
      "meta":{"total":2}})");
    t.reply(200, R"({"sizes":[{"slug":"s-2vcpu-4gb","memory":4096,"vcpus":2,"disk":80,"price_monthly":24,
      "price_hourly":0.03571,"available":true}],"links":{"pages":{"prev":"x"}},"meta":{"total":2}})");
    digitalocean::Client client(t, options());
    const auto sizes = client.list_sizes();
    REQUIRE(sizes.size() == 2);
    CHECK(sizes[1].slug == "s-2vcpu-4gb");
    CHECK(sizes[1].memory_mb == 4096);
    REQUIRE(t.requests().size() == 2);
    CHECK(t.requests()[1].url == "http://127.0.0.1:9/v2/sizes?page=2&per_page=1");
  }

  TEST_CASE("resize sends type, size and disk")
  {
    FakeTransport t;
    t.reply(201, R"({"action":{"id":77,"status":"in-progress","type":"resize","started_at":"2026-11-24T00:00:00Z",
      "completed_at":null,"resource_id":123,"resource_type":"droplet"}})");
    digitalocean::Client client(t, options());
    const auto a = client.resize(123, "s-8vcpu-16gb", false);
    CHECK(a.id == 77);
    CHECK(a.status == "in-progress");
    CHECK(a.completed_at.empty());
    const auto body = nlohmann::json::parse(t.requests()[0].body);
    CHECK(body["type"] == "resize");
    CHECK(body["size"] == "s-8vcpu-16gb");
    CHECK(body["disk"] == false);
    CHECK(t.requests()[0].method == "POST");
  }

  TEST_CASE("a body that is not JSON is a clear error")
  {
    FakeTransport t;
    t.reply(200, "<html>proxy</html>");
    digitalocean::Client client(t, options());
    CHECK_THROWS_WITH_AS(client.get_action(5), doctest::Contains("not JSON"), Error);
  }
}
