#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <scalectl/digitalocean/apps.hpp>
#include <scalectl/digitalocean/client.hpp>

#include "support/fake_transport.hpp"

using namespace scalectl;
using scalectl::test::FakeTransport;

namespace {

digitalocean::ClientOptions options()
{
  digitalocean::ClientOptions o;
  o.base_url = "http://127.0.0.1:9";
  o.token = "secret-token-value";
  return o;
}

const char* k_app = R"({"app":{"id":"4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf","updated_at":"2026-01-02T03:04:05Z",)"
                    R"("spec":{"name":"shop","z":1.50,"services":[{"name":"web","instance_count":2}]},)"
                    R"("active_deployment":{"id":"d1","phase":"ACTIVE","progress":{"success_steps":9,)"
                    R"("total_steps":9}},"in_progress_deployment":{"id":"d2","phase":"BUILDING","cause":"x",)"
                    R"("progress":{"success_steps":2,"total_steps":9}}}})";

}  // namespace

TEST_SUITE("digitalocean.apps")
{
  TEST_CASE("get_app keeps the spec as sent and reads the deployments")
  {
    FakeTransport t;
    t.reply(200, k_app);
    digitalocean::Client client(t, options());
    const auto app = digitalocean::get_app(client, "4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf");
    CHECK(app.name == "shop");
    CHECK(core::dump_raw_json(app.spec) == R"({"name":"shop","z":1.50,"services":[{"name":"web","instance_count":2}]})");
    REQUIRE(app.active_deployment.has_value());
    CHECK(app.active_deployment->phase == "ACTIVE");
    REQUIRE(app.in_progress_deployment.has_value());
    CHECK(app.in_progress_deployment->id == "d2");
    CHECK(app.in_progress_deployment->success_steps == 2);
    CHECK_FALSE(app.pending_deployment.has_value());
    CHECK(t.requests()[0].url == "http://127.0.0.1:9/v2/apps/4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf");
  }

  TEST_CASE("a missing app says which and where to fix it")
  {
    FakeTransport t;
    t.reply(404, R"({"id":"not_found","message":"The resource you were accessing could not be found."})");
    digitalocean::Client client(t, options());
    try {
      digitalocean::get_app(client, "abc");
      FAIL("no error");
    } catch (const digitalocean::ApiError& e) {
      CHECK(e.status() == 404);
      CHECK(std::string(e.what()).starts_with("app abc does not exist or this token cannot see it (404 not_found)"));
    }
  }

  TEST_CASE("update_app_spec sends the spec as read and never pulls new source")
  {
    FakeTransport t;
    t.reply(200, k_app);
    digitalocean::Client client(t, options());
    const auto spec = core::parse_raw_json(R"({"name":"shop","b":1e3,"a":"EV[1:x]"})", "t");
    const auto app = digitalocean::update_app_spec(client, "id-1", spec);
    REQUIRE(t.requests().size() == 1);
    CHECK(t.requests()[0].method == "PUT");
    CHECK(t.requests()[0].url == "http://127.0.0.1:9/v2/apps/id-1");
    CHECK(t.requests()[0].body == R"({"spec":{"name":"shop","b":1e3,"a":"EV[1:x]"},"update_all_source_versions":false})");
    CHECK(app.in_progress_deployment->id == "d2");
  }

  TEST_CASE("instance sizes: numbers sent as JSON strings are parsed as numbers")
  {
    FakeTransport t;
    t.reply(200, R"({"instance_sizes":[{"slug":"apps-s-1vcpu-0.5gb","cpu_type":"SHARED","cpus":"1",)"
                 R"("memory_bytes":"536870912","usd_per_month":"5.00","usd_per_second":"0.000002066799",)"
                 R"("single_instance_only":true},{"slug":"apps-d-2vcpu-4gb","cpu_type":"DEDICATED","cpus":2,)"
                 R"("memory_bytes":4294967296,"usd_per_month":"78.00","usd_per_second":"0.000032242063"}]})");
    digitalocean::Client client(t, options());
    const auto sizes = digitalocean::list_instance_sizes(client);
    REQUIRE(sizes.size() == 2);
    CHECK(sizes[0].memory_bytes == 536870912);
    CHECK(sizes[0].cpus == doctest::Approx(1));
    CHECK(sizes[0].usd_per_month == doctest::Approx(5.0));
    CHECK(sizes[0].usd_per_second == doctest::Approx(0.000002066799));
    CHECK(sizes[0].single_instance_only);
    CHECK_FALSE(sizes[0].dedicated);
    CHECK(sizes[1].dedicated);
    CHECK(sizes[1].memory_bytes == 4294967296);
    CHECK(sizes[1].cpus == doctest::Approx(2));
  }

  TEST_CASE("a non-numeric instance size field is an error, not a zero")
  {
    const auto j = nlohmann::json::parse(R"({"slug":"x","memory_bytes":"lots"})");
    CHECK_THROWS_WITH_AS(digitalocean::parse_instance_size(j),
                         doctest::Contains("memory_bytes of size x is 'lots', not a number"), Error);
  }

  TEST_CASE("list_apps follows pagination through the configured base URL")
  {
    FakeTransport t;
    t.reply(200, R"({"apps":[{"id":"a1","spec":{"name":"one"}}],"links":{"pages":{"next":)"
                 R"("http://elsewhere.example/v2/apps?page=2&per_page=100"}}})");
    t.reply(200, R"({"apps":[{"id":"a2","spec":{"name":"two"}}],"links":{"pages":{}}})");
    digitalocean::Client client(t, options());
    const auto apps = digitalocean::list_apps(client);
    REQUIRE(apps.size() == 2);
    CHECK(apps[1].id == "a2");
    CHECK(apps[1].name == "two");
    CHECK(t.requests()[1].url == "http://127.0.0.1:9/v2/apps?page=2&per_page=100");
  }

  TEST_CASE("a failed deployment names the failing step and its reason")
  {
    struct Row {
      const char* name;
      const char* json;
      const char* step;
      const char* reason;
    };
    const std::vector<Row> rows{
      {"deploy error",
       R"({"id":"d","phase":"ERROR","progress":{"success_steps":5,"error_steps":1,"total_steps":7,"steps":[)"
       R"({"name":"build","status":"SUCCESS","steps":[{"name":"initialize","status":"SUCCESS"}]},)"
       R"({"name":"deploy","status":"ERROR","steps":[{"name":"components","status":"ERROR","steps":[{"name":"web",)"
       R"("status":"ERROR","steps":[{"name":"deploy","status":"SUCCESS"},{"name":"wait","status":"ERROR",)"
       R"("reason":{"code":"DeployHealthChecksFailed","message":"health checks failed"}}]}]}]}]}})",
       "deploy > web > wait", "DeployHealthChecksFailed: health checks failed"},
      {"canceled",
       R"({"id":"d","phase":"CANCELED","progress":{"steps":[{"name":"build","steps":[{"name":"web",)"
       R"("status":"UNKNOWN","reason":{"code":"Canceled","message":"The deployment was canceled."}}]}]}})",
       "build > web", "Canceled: The deployment was canceled."},
      {"active has none", R"({"id":"d","phase":"ACTIVE","progress":{"steps":[]}})", "", ""},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto d = digitalocean::parse_deployment(core::parse_raw_json(row.json, "t"));
      CHECK(d.failed_step == row.step);
      CHECK(d.failure_reason == row.reason);
    }
    CHECK(digitalocean::parse_deployment(core::parse_raw_json(R"({"phase":"SUPERSEDED"})", "t")).finished());
    CHECK_FALSE(digitalocean::parse_deployment(core::parse_raw_json(R"({"phase":"DEPLOYING"})", "t")).finished());
  }
}
