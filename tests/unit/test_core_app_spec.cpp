#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <scalectl/core/app_spec.hpp>
#include <scalectl/error.hpp>

using namespace scalectl;
using namespace scalectl::core;

namespace {

constexpr std::int64_t k_mb = 1024 * 1024;

std::vector<AppSize> sizes()
{
  return {
    {"apps-s-1vcpu-0.5gb", 512 * k_mb, 1, 5.00, 0.0000020668, false, true},
    {"apps-s-1vcpu-1gb", 1024 * k_mb, 1, 12.00, 0.0000049603, false, false},
    {"apps-s-1vcpu-2gb", 2048 * k_mb, 1, 25.00, 0.0000103340, false, false},
    {"apps-d-1vcpu-1gb", 1024 * k_mb, 1, 34.00, 0.0000140542, true, false},
    {"apps-d-1vcpu-2gb", 2048 * k_mb, 1, 39.00, 0.0000161210, true, false},
    {"apps-d-2vcpu-4gb", 4096 * k_mb, 2, 78.00, 0.0000322421, true, false},
  };
}

// A spec in the shape App Platform returns, with fields scalectl does not know.
const char* k_spec = R"({"name":"shop","region":"nyc","x_future":{"ratio":1.50,"big":123456789012345678901234567890},)"
                     R"("envs":[{"key":"DATABASE_URL","value":"EV[1:aa:bb]","type":"SECRET","scope":"RUN_TIME"}],)"
                     R"("services":[{"name":"web","instance_size_slug":"apps-s-1vcpu-0.5gb","instance_count":1,)"
                     R"("http_port":8080,"envs":[{"key":"API_KEY","value":"EV[1:cc:dd]","type":"SECRET"},)"
                     R"({"key":"WEB_CONCURRENCY","value":"1","scope":"RUN_TIME","type":"GENERAL"}],"x_unknown":[1,"two"]},)"
                     R"({"name":"api","instance_size_slug":"apps-d-1vcpu-1gb","autoscaling":{"min_instance_count":2,)"
                     R"("max_instance_count":5,"metrics":{"cpu":{"percent":75}}}}],)"
                     R"("workers":[{"name":"jobs","instance_size_slug":"apps-s-1vcpu-1gb","instance_count":1}],)"
                     R"("jobs":[{"name":"migrate","kind":"PRE_DEPLOY"}],)"
                     R"("static_sites":[{"name":"docs"}]})";

RawJson spec()
{
  return parse_raw_json(k_spec, "spec");
}

ScalePlan plan(const ScaleRequest& r, const std::string& component = "web")
{
  return plan_scale(spec(), component, r, sizes(), 512);
}

std::string joined_errors(const ScalePlan& p)
{
  std::string out;
  for (const auto& e : p.errors) {
    out += e + "\n";
  }
  return out;
}

const RawJson& component(const RawJson& s, const std::string& list, std::size_t i)
{
  return s.at(list).at(i);
}

}  // namespace

TEST_SUITE("core.app_spec")
{
  TEST_CASE("parse_autoscale_range and parse_workers")
  {
    struct Row {
      const char* text;
      bool ok;
      std::int64_t min;
      std::int64_t max;
    };
    for (const auto& row : std::vector<Row>{{"2:5", true, 2, 5}, {"1:1", true, 1, 1}, {"5:2", true, 5, 2},
                                            {"0:251", true, 0, 251}, {"2-5", false, 0, 0}, {"2:", false, 0, 0},
                                            {":5", false, 0, 0}, {"a:b", false, 0, 0}, {"-1:3", false, 0, 0},
                                            {"", false, 0, 0}}) {
      CAPTURE(row.text);
      const auto r = parse_autoscale_range(row.text);
      REQUIRE(r.has_value() == row.ok);
      if (row.ok) {
        CHECK(r->min == row.min);
        CHECK(r->max == row.max);
      }
    }
    CHECK(parse_workers("auto")->automatic);
    CHECK(parse_workers("4")->count == 4);
    CHECK_FALSE(parse_workers("4x").has_value());
    CHECK_FALSE(parse_workers("-1").has_value());
    CHECK_FALSE(parse_workers("").has_value());
  }

  TEST_CASE("workers rule: one per 512 MB, at least one (the seed's table)")
  {
    struct Row {
      std::int64_t memory_mb;
      std::int64_t rule;
      std::int64_t workers;
    };
    for (const auto& row : std::vector<Row>{{512, 512, 1}, {1024, 512, 2}, {2048, 512, 4}, {4096, 512, 8},
                                            {256, 512, 1}, {2048, 1024, 2}, {1536, 512, 3}, {2048, 0, 1}}) {
      CAPTURE(row.memory_mb);
      CAPTURE(row.rule);
      CHECK(workers_for_memory(row.memory_mb * k_mb, row.rule) == row.workers);
    }
  }

  TEST_CASE("list_components reads services, workers and jobs with their defaults")
  {
    const auto all = list_components(spec());
    REQUIRE(all.size() == 4);
    CHECK(all[0].name == "web");
    CHECK(all[0].kind == "service");
    CHECK(all[0].instance_count == 1);
    CHECK(all[0].web_concurrency == "1");
    CHECK_FALSE(all[0].web_concurrency_app_level);
    CHECK(all[1].name == "api");
    CHECK(all[1].autoscaling());
    CHECK(all[1].autoscale_min == 2);
    CHECK(all[1].autoscale_max == 5);
    CHECK(all[1].cpu_percent == 75);
    CHECK(all[2].kind == "worker");
    CHECK_FALSE(all[2].web_concurrency.has_value());
    CHECK(all[3].kind == "job");
    CHECK(all[3].size_slug == "apps-s-1vcpu-0.5gb");
    CHECK(all[3].size_defaulted);
  }

  TEST_CASE("monthly cost: count x price, autoscaling as a range, unknown sizes unknown")
  {
    const auto all = list_components(spec());
    auto cost = monthly_cost(all[0], sizes());
    CHECK(cost.known);
    CHECK(cost.min == doctest::Approx(5.0));
    CHECK(cost.max == doctest::Approx(5.0));
    cost = monthly_cost(all[1], sizes());
    CHECK(cost.min == doctest::Approx(68.0));
    CHECK(cost.max == doctest::Approx(170.0));
    auto legacy = all[0];
    legacy.size_slug = "basic-xxs";
    CHECK_FALSE(monthly_cost(legacy, sizes()).known);
  }

  TEST_CASE("size change with --workers auto edits exactly two fields")
  {
    ScaleRequest r;
    r.size = "apps-s-1vcpu-2gb";
    r.workers = WorkersSetting{true, 0};
    const auto p = plan(r);
    REQUIRE(p.errors.empty());
    REQUIRE(p.changes.size() == 2);
    CHECK(p.changes[0].path == "services[web].instance_size_slug");
    CHECK(p.changes[0].before == "\"apps-s-1vcpu-0.5gb\"");
    CHECK(p.changes[0].after == "\"apps-s-1vcpu-2gb\"");
    CHECK(p.changes[1].path == "services[web].envs[WEB_CONCURRENCY].value");
    CHECK(p.changes[1].before == "\"1\"");
    CHECK(p.changes[1].after == "\"4\"");
    CHECK(p.after.web_concurrency == "4");
    // Everything else, including unknown fields, secrets and key order, is as it was.
    auto expected = std::string(k_spec);
    expected.replace(expected.find("\"instance_size_slug\":\"apps-s-1vcpu-0.5gb\""),
                     std::string("\"instance_size_slug\":\"apps-s-1vcpu-0.5gb\"").size(),
                     "\"instance_size_slug\":\"apps-s-1vcpu-2gb\"");
    expected.replace(expected.find("\"key\":\"WEB_CONCURRENCY\",\"value\":\"1\""),
                     std::string("\"key\":\"WEB_CONCURRENCY\",\"value\":\"1\"").size(),
                     "\"key\":\"WEB_CONCURRENCY\",\"value\":\"4\"");
    CHECK(dump_raw_json(p.spec) == expected);
  }

  TEST_CASE("each request edits only its fields")
  {
    struct Row {
      const char* name;
      std::string component;
      ScaleRequest request;
      std::vector<std::string> paths;  // changed paths, in diff order
    };
    ScaleRequest count3;
    count3.count = 3;
    count3.size = "apps-s-1vcpu-1gb";
    ScaleRequest autoscale;
    autoscale.size = "apps-d-1vcpu-1gb";
    autoscale.autoscale = AutoscaleRange{1, 3};
    ScaleRequest back;
    back.no_autoscale = true;
    ScaleRequest back_count;
    back_count.count = 4;
    ScaleRequest range;
    range.autoscale = AutoscaleRange{3, 8};
    ScaleRequest percent;
    percent.cpu_percent = 60;
    ScaleRequest workers_new;
    workers_new.workers = WorkersSetting{false, 3};
    ScaleRequest job_count;
    job_count.count = 2;
    job_count.size = "apps-s-1vcpu-1gb";
    const std::vector<Row> rows{
      {"count and size", "web", count3, {"services[web].instance_size_slug", "services[web].instance_count"}},
      {"to autoscaling", "web", autoscale,
       {"services[web].instance_size_slug", "services[web].instance_count", "services[web].autoscaling"}},
      {"--no-autoscale keeps the minimum", "api", back, {"services[api].autoscaling", "services[api].instance_count"}},
      {"--count ends autoscaling", "api", back_count, {"services[api].autoscaling", "services[api].instance_count"}},
      {"new range keeps metrics", "api", range,
       {"services[api].autoscaling.min_instance_count", "services[api].autoscaling.max_instance_count"}},
      {"cpu percent alone", "api", percent, {"services[api].autoscaling.metrics.cpu.percent"}},
      {"WEB_CONCURRENCY added", "jobs", workers_new, {"workers[jobs].envs"}},
      {"job count", "migrate", job_count, {"jobs[migrate].instance_size_slug", "jobs[migrate].instance_count"}},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto p = plan(row.request, row.component);
      REQUIRE_MESSAGE(p.errors.empty(), joined_errors(p));
      std::vector<std::string> paths;
      for (const auto& c : p.changes) {
        paths.push_back(c.path);
      }
      CHECK(paths == row.paths);
    }
  }

  TEST_CASE("instance_count and autoscaling replace each other")
  {
    ScaleRequest to_auto;
    to_auto.size = "apps-d-1vcpu-1gb";
    to_auto.autoscale = AutoscaleRange{2, 4};
    auto p = plan(to_auto);
    REQUIRE(p.errors.empty());
    const auto& web = component(p.spec, "services", 0);
    CHECK_FALSE(web.contains("instance_count"));
    CHECK(dump_raw_json(web.at("autoscaling")) ==
          R"({"min_instance_count":2,"max_instance_count":4,"metrics":{"cpu":{"percent":80}}})");
    CHECK(p.after.autoscaling());

    ScaleRequest to_count;
    to_count.no_autoscale = true;
    p = plan(to_count, "api");
    REQUIRE(p.errors.empty());
    const auto& api = component(p.spec, "services", 1);
    CHECK_FALSE(api.contains("autoscaling"));
    CHECK(api.at("instance_count") == 2);
    CHECK(p.after.instance_count == 2);
  }

  TEST_CASE("WEB_CONCURRENCY: existing entry updated, never duplicated; new entry is RUN_TIME")
  {
    ScaleRequest r;
    r.workers = WorkersSetting{false, 3};
    auto p = plan(r);
    REQUIRE(p.errors.empty());
    int entries = 0;
    for (const auto& env : component(p.spec, "services", 0).at("envs")) {
      entries += env.at("key") == "WEB_CONCURRENCY" ? 1 : 0;
    }
    CHECK(entries == 1);
    p = plan(r, "jobs");
    REQUIRE(p.errors.empty());
    const auto& envs = component(p.spec, "workers", 0).at("envs");
    REQUIRE(envs.size() == 1);
    CHECK(dump_raw_json(envs[0]) == R"({"key":"WEB_CONCURRENCY","value":"3","scope":"RUN_TIME","type":"GENERAL"})");

    // A BUILD_TIME-only entry would never reach the processes: its scope becomes RUN_TIME.
    auto s = parse_raw_json(R"({"name":"a","workers":[{"name":"w","envs":[{"key":"WEB_CONCURRENCY","value":"1",)"
                            R"("scope":"BUILD_TIME"}]}]})",
                            "t");
    p = plan_scale(s, "w", r, sizes(), 512);
    REQUIRE(p.errors.empty());
    CHECK(dump_raw_json(component(p.spec, "workers", 0).at("envs")) ==
          R"([{"key":"WEB_CONCURRENCY","value":"3","scope":"RUN_TIME"}])");
  }

  TEST_CASE("app-level WEB_CONCURRENCY is reported and a component entry overrides it")
  {
    auto s = parse_raw_json(R"({"name":"a","envs":[{"key":"WEB_CONCURRENCY","value":"2"}],)"
                            R"("services":[{"name":"web","instance_size_slug":"apps-s-1vcpu-1gb"}]})",
                            "t");
    const auto before = list_components(s);
    CHECK(before[0].web_concurrency == "2");
    CHECK(before[0].web_concurrency_app_level);
    ScaleRequest r;
    r.workers = WorkersSetting{true, 0};
    const auto p = plan_scale(s, "web", r, sizes(), 512);
    // Auto gives 2 for 1 GB, but the app-level value is not the component's: the component gets its own.
    REQUIRE(p.errors.empty());
    CHECK(p.changes.size() == 1);
    CHECK(p.changes[0].path == "services[web].envs");
    CHECK(dump_raw_json(s.at("envs")) == dump_raw_json(p.spec.at("envs")));
  }

  TEST_CASE("already at target: no changes")
  {
    ScaleRequest r;
    r.count = 1;
    r.size = "apps-s-1vcpu-0.5gb";
    r.workers = WorkersSetting{true, 0};
    auto p = plan(r);
    CHECK(p.errors.empty());
    CHECK_FALSE(p.changed());
    CHECK(p.spec == spec());

    ScaleRequest same_range;
    same_range.autoscale = AutoscaleRange{2, 5};
    same_range.cpu_percent = 75;
    p = plan(same_range, "api");
    CHECK(p.errors.empty());
    CHECK_FALSE(p.changed());

    // A number spelt 80.0 equals the requested 80: it is left as it is.
    auto s = parse_raw_json(R"({"name":"a","services":[{"name":"w","instance_size_slug":"apps-d-1vcpu-1gb",)"
                            R"("autoscaling":{"min_instance_count":1,"max_instance_count":2.0,)"
                            R"("metrics":{"cpu":{"percent":80.0}}}}]})",
                            "t");
    ScaleRequest r2;
    r2.autoscale = AutoscaleRange{1, 2};
    r2.cpu_percent = 80;
    p = plan_scale(s, "w", r2, sizes(), 512);
    CHECK(p.errors.empty());
    CHECK_FALSE(p.changed());
  }

  TEST_CASE("validation errors (exit 2)")
  {
    struct Row {
      const char* name;
      std::string component;
      ScaleRequest request;
      std::string message;  // a part of the one error
    };
    const auto req = [](auto&& edit) {
      ScaleRequest r;
      edit(r);
      return r;
    };
    const std::vector<Row> rows{
      {"count 0", "web", req([](auto& r) { r.count = 0; }), "--count must be between 1 and 250"},
      {"count 251", "web", req([](auto& r) { r.count = 251; }), "--count must be between 1 and 250"},
      {"min > max", "api", req([](auto& r) { r.autoscale = AutoscaleRange{5, 2}; }), "minimum is greater"},
      {"max 251", "api", req([](auto& r) { r.autoscale = AutoscaleRange{1, 251}; }), "between 1 and 250"},
      {"min 0", "api", req([](auto& r) { r.autoscale = AutoscaleRange{0, 2}; }), "between 1 and 250"},
      {"shared size", "web", req([](auto& r) { r.autoscale = AutoscaleRange{1, 3}; }),
       "autoscaling needs a dedicated instance size: App Platform autoscales only components on dedicated CPU sizes "
       "(apps-d-*), and component 'web' would be on the shared size apps-s-1vcpu-0.5gb; add --size "
       "apps-d-1vcpu-1gb"},
      {"shared size while autoscaling", "api", req([](auto& r) { r.size = "apps-s-1vcpu-1gb"; }),
       "autoscaling needs a dedicated instance size"},
      {"count with autoscale", "web",
       req([](auto& r) {
         r.count = 2;
         r.autoscale = AutoscaleRange{1, 2};
       }),
       "--count and --autoscale cannot be combined"},
      {"autoscale with no-autoscale", "api",
       req([](auto& r) {
         r.autoscale = AutoscaleRange{1, 2};
         r.no_autoscale = true;
       }),
       "contradict"},
      {"unknown slug", "web", req([](auto& r) { r.size = "apps-s-1vcpu-3gb"; }),
       "unknown instance size 'apps-s-1vcpu-3gb' (not in GET /v2/apps/tiers/instance_sizes); did you mean one of: "
       "apps-s-1vcpu-0.5gb"},
      {"single instance size", "web", req([](auto& r) { r.count = 2; }), "runs a single instance only"},
      {"cpu percent without autoscaling", "web", req([](auto& r) { r.cpu_percent = 70; }), "needs --autoscale"},
      {"cpu percent 0", "api", req([](auto& r) { r.cpu_percent = 0; }), "between 1 and 100"},
      {"job autoscale", "migrate",
       req([](auto& r) {
         r.autoscale = AutoscaleRange{1, 2};
         r.size = "apps-d-1vcpu-1gb";
       }),
       "is a job"},
      {"static site", "docs", req([](auto& r) { r.count = 2; }), "is a static site"},
      {"unknown component", "nope", req([](auto& r) { r.count = 2; }),
       "no component named 'nope'; its components are: web (service), api (service), jobs (worker), migrate (job), "
       "docs (static site)"},
      {"nothing asked", "web", ScaleRequest{}, "nothing to change"},
      {"workers 0", "web", req([](auto& r) { r.workers = WorkersSetting{false, 0}; }), "--workers must be"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto p = plan(row.request, row.component);
      REQUIRE_FALSE(p.errors.empty());
      CHECK_MESSAGE(joined_errors(p).find(row.message) != std::string::npos, joined_errors(p));
    }
  }

  TEST_CASE("--workers auto on a size missing from the list asks for a number")
  {
    auto s = parse_raw_json(R"({"name":"a","services":[{"name":"w","instance_size_slug":"basic-xxs"}]})", "t");
    ScaleRequest r;
    r.workers = WorkersSetting{true, 0};
    const auto p = plan_scale(s, "w", r, sizes(), 512);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].find("pass --workers N") != std::string::npos);
  }

  TEST_CASE("diff_spec matches array elements by name or key")
  {
    const auto a = parse_raw_json(R"({"s":[{"name":"a","v":1},{"name":"b","v":2}],"e":[{"key":"K","value":"1"}],)"
                                  R"("l":[1,2]})",
                                  "t");
    const auto b = parse_raw_json(R"({"s":[{"name":"b","v":3},{"name":"c"}],"e":[{"key":"K","value":"1"}],)"
                                  R"("l":[1,3],"n":true})",
                                  "t");
    const auto d = diff_spec(a, b);
    REQUIRE(d.size() == 5);
    CHECK(d[0].path == "s[b].v");
    CHECK((d[0].before == "2" && d[0].after == "3"));
    CHECK(d[1].path == "s[c]");
    CHECK(d[1].before.empty());
    CHECK(d[2].path == "s[a]");
    CHECK(d[2].after.empty());
    CHECK(d[3].path == "l[1]");
    CHECK(d[4].path == "n");
  }

  TEST_CASE("request_from_spec_file takes the scaling fields of one component")
  {
    const auto file = parse_raw_json(
      R"({"name":"shop","services":[{"name":"backend","instance_size_slug":"apps-s-1vcpu-1gb",)"
      R"("envs":[{"key":"WEB_CONCURRENCY","value":"2"}],"autoscaling":{"min_instance_count":2,)"
      R"("max_instance_count":5,"metrics":{"cpu":{"percent":75}}}}],)"
      R"("workers":[{"name":"worker","instance_count":"2","instance_size_slug":"apps-s-1vcpu-1gb"}]})",
      "f");
    auto r = request_from_spec_file(file, "backend", "app.yaml");
    CHECK(r.size == "apps-s-1vcpu-1gb");
    REQUIRE(r.autoscale.has_value());
    CHECK(r.autoscale->min == 2);
    CHECK(r.autoscale->max == 5);
    CHECK(r.cpu_percent == 75);
    CHECK_FALSE(r.count.has_value());
    REQUIRE(r.workers.has_value());
    CHECK(r.workers->count == 2);
    r = request_from_spec_file(file, "worker", "app.yaml");
    CHECK(r.count == 2);
    CHECK_FALSE(r.workers.has_value());
    CHECK_FALSE(r.autoscale.has_value());

    const auto wrapped = parse_raw_json(R"({"app":{"spec":{"name":"x","workers":[{"name":"w","instance_count":3}]}}})",
                                        "f");
    CHECK(request_from_spec_file(wrapped, "w", "f.json").count == 3);

    CHECK_THROWS_AS(request_from_spec_file(file, "nope", "app.yaml"), Error);
    const auto bad = parse_raw_json(R"({"services":[{"name":"w","instance_count":"two"}]})", "f");
    try {
      request_from_spec_file(bad, "w", "app.yaml");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(std::string(e.what()) == "app.yaml: instance_count must be an integer, not \"two\"");
    }
    const auto none = parse_raw_json(R"({"services":[{"name":"w","http_port":8080}]})", "f");
    CHECK_THROWS_AS(request_from_spec_file(none, "w", "app.yaml"), Error);
  }
}
