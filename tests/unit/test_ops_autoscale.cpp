#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <scalectl/config/config.hpp>
#include <scalectl/ops/autoscale.hpp>
#include <scalectl/state/store.hpp>

#include "config_fixture.hpp"
#include "scratch_dir.hpp"
#include "support/fake_processes.hpp"
#include "support/fake_transport.hpp"

using namespace scalectl;
using scalectl::test::error_of;
using scalectl::test::exited;
using scalectl::test::FakeProcesses;
using scalectl::test::FakeTransport;
using scalectl::test::ScratchDir;
using Strings = std::vector<std::string>;

namespace {

config::Config load_toml(const ScratchDir& dir, std::string_view toml, std::map<std::string, std::string> env = {},
                         std::optional<std::string> policy = std::nullopt)
{
  dir.write("etc/scalectl/config.toml", toml);
  auto options = scalectl::test::hermetic_options(dir, std::move(env));
  options.policy = std::move(policy);
  return config::load(options);
}

constexpr std::string_view k_seed_policy = R"(
[autoscale.policies.warmup]
metric = { value = 850 }
units_per_worker = 1000
min = 1
max = 100
)";

ops::TargetDeps target_deps(ProcessRunner& processes)
{
  return ops::TargetDeps{processes, {}, std::nullopt, std::nullopt, 1, "warmup", {}};
}

}  // namespace

TEST_SUITE("ops.autoscale")
{
  TEST_CASE("metric text must be a single number")
  {
    struct Row {
      const char* text;
      const char* pointer;
      std::optional<double> value;
      const char* error;  // substring
    };
    const Row rows[] = {
      {"42\n", "", 42, nullptr},
      {"  3.5 \n", "", 3.5, nullptr},
      {"0", "", 0, nullptr},
      {"1e3", "", 1000, nullptr},
      {"12 items", "", {}, "stdout must be a single number, got \"12 items\""},
      {"1\n2", "", {}, "must be a single number, got \"1 2\""},
      {"", "", {}, "stdout is empty"},
      {"-4", "", {}, "is negative (-4)"},
      {"0x10", "", {}, "single number"},
      {"inf", "", {}, "single number"},
      {"nan", "", {}, "single number"},
      {R"({"data": {"depth": 7}})", "/data/depth", 7, nullptr},
      {R"({"data": {"depth": "8"}})", "/data/depth", 8, nullptr},
      {R"({"queues": [{"n": 1}, {"n": 5}]})", "/queues/1/n", 5, nullptr},
      {R"({"data": {}})", "/data/depth", {}, "has nothing at /data/depth"},
      {R"({"data": true})", "/data", {}, "at /data is not a number: \"true\""},
      {"not json", "/data", {}, "is not JSON"},
      {R"({"n": -1})", "/n", {}, "negative"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.text);
      const auto parsed = ops::parse_metric_text(row.text, row.pointer, "stdout");
      if (row.value) {
        REQUIRE(parsed);
        CHECK(*parsed == doctest::Approx(*row.value));
      } else {
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().find(row.error) != std::string::npos);
      }
    }
  }

  TEST_CASE("reading the metric: command, http, redis, value; failures become sample errors")
  {
    FakeProcesses processes;
    std::vector<net::Request> sent;
    std::map<std::string, ops::RedisLength> redis = {{"queue", {17, "list", "LLEN"}}, {"gone", {0, "none", ""}}};
    std::string redis_url_seen = "unset";
    ops::MetricDeps deps{processes,
                         [&](std::chrono::milliseconds) -> std::unique_ptr<net::Transport> {
                           auto t = std::make_unique<FakeTransport>();
                           t->reply(200, R"({"queue": {"depth": 123}})");
                           t->reply(503, "busy");
                           struct Recording final : net::Transport {
                             std::unique_ptr<FakeTransport> inner;
                             std::vector<net::Request>* sent;
                             net::Response send(const net::Request& r) override
                             {
                               sent->push_back(r);
                               return inner->send(r);
                             }
                           };
                           auto rec = std::make_unique<Recording>();
                           rec->inner = std::move(t);
                           rec->sent = &sent;
                           return rec;
                         },
                         [&](const std::string& url, const std::string& key) {
                           redis_url_seen = url;
                           return redis.at(key);
                         }};

    SUBCASE("command")
    {
      processes.on({"/bin/sh", "-c", "count-mailboxes"}, exited(0, "850\n"));
      processes.on({"/bin/sh", "-c", "broken"}, exited(3, "", "line one\ndb: connection refused\n"));
      processes.on({"/bin/sh", "-c", "chatty"}, exited(0, "850 mailboxes\n"));
      ops::MetricSpec spec;
      spec.kind = ops::MetricSpec::Kind::command;
      spec.command = "count-mailboxes";
      auto r = ops::read_metric(spec, deps);
      CHECK(r.sample.value == 850);
      CHECK(r.source == "command `count-mailboxes`");
      CHECK(processes.requests().back().timeout == spec.timeout);
      spec.command = "broken";
      r = ops::read_metric(spec, deps);
      CHECK_FALSE(r.sample.value);
      CHECK(r.sample.error == "metric command exited 3: \"db: connection refused\"");
      spec.command = "chatty";
      r = ops::read_metric(spec, deps);
      CHECK(r.sample.error == "metric command stdout must be a single number, got \"850 mailboxes\"");
    }
    SUBCASE("http sends no credentials and reads the JSON pointer")
    {
      ops::MetricSpec spec;
      spec.kind = ops::MetricSpec::Kind::http;
      spec.http_url = "http://127.0.0.1:9/stats?token=abc";
      spec.json_pointer = "/queue/depth";
      const auto r = ops::read_metric(spec, deps);
      CHECK(r.sample.value == 123);
      REQUIRE(sent.size() == 1);
      for (const auto& h : sent[0].headers) {
        CHECK(h.name != "Authorization");
      }
      CHECK(r.source.find("abc") == std::string::npos);  // secret query values are redacted
      spec.http_url = "ftp://127.0.0.1/x";
      CHECK(ops::read_metric(spec, deps).sample.error.find("is not an http:// or https:// URL") != std::string::npos);
    }
    SUBCASE("redis")
    {
      ops::MetricSpec spec;
      spec.kind = ops::MetricSpec::Kind::redis;
      spec.redis_key = "queue";
      auto r = ops::read_metric(spec, deps);
      CHECK(r.sample.value == 17);
      CHECK(r.source == "redis LLEN queue (list)");
      CHECK(redis_url_seen.empty());
      spec.redis_key = "gone";
      spec.redis_url = "redis://127.0.0.1:6390/2";
      r = ops::read_metric(spec, deps);
      CHECK(r.sample.value == 0);
      CHECK(r.source == "redis key gone (missing: 0)");
      CHECK(redis_url_seen == "redis://127.0.0.1:6390/2");
    }
    SUBCASE("an adapter error is a metric error, not an exception")
    {
      ops::MetricDeps failing{processes, deps.http, [](const std::string&, const std::string&) -> ops::RedisLength {
                                throw Error("cannot connect to Redis at 127.0.0.1:1: Connection refused");
                              }};
      ops::MetricSpec spec;
      spec.kind = ops::MetricSpec::Kind::redis;
      spec.redis_key = "queue";
      const auto r = ops::read_metric(spec, failing);
      CHECK_FALSE(r.sample.value);
      CHECK(r.sample.error == "cannot connect to Redis at 127.0.0.1:1: Connection refused");
    }
    SUBCASE("value, and no metric at all")
    {
      ops::MetricSpec spec;
      spec.kind = ops::MetricSpec::Kind::value;
      spec.value = 48;
      CHECK(ops::read_metric(spec, deps).sample.value == 48);
      spec.kind = ops::MetricSpec::Kind::none;
      CHECK(error_of([&] { ops::read_metric(spec, deps); }).find("--metric N") != std::string::npos);
    }
  }

  TEST_CASE("docker-compose target: exact argv for ps and up")
  {
    FakeProcesses processes;
    ops::TargetSpec spec;
    spec.kind = "docker-compose";
    spec.compose_project = "warmup";
    spec.compose_service = "worker";
    processes.on({"docker", "compose"}, exited(0, "abc123\ndef456\n\n"));
    auto target = ops::make_target(spec, target_deps(processes));
    CHECK(target->current() == 2);
    target->apply(3);
    CHECK(processes.argvs() == std::vector<Strings>{
                                 {"docker", "compose", "-p", "warmup", "ps", "-q", "worker"},
                                 {"docker", "compose", "-p", "warmup", "up", "-d", "--no-recreate", "--scale",
                                  "worker=3", "worker"},
                               });
    spec.compose_file = "/srv/warmup/compose.yml";
    auto with_file = ops::make_target(spec, target_deps(processes));
    with_file->apply(0);
    CHECK(processes.argvs().back() == Strings{"docker", "compose", "-p", "warmup", "-f", "/srv/warmup/compose.yml",
                                              "up", "-d", "--no-recreate", "--scale", "worker=0", "worker"});
    processes.on({"docker", "compose"}, exited(1, "", "no configuration file provided: not found\n"));
    const auto message = error_of([&] { with_file->current(); }, ExitCode::failure);
    CHECK(message.find("exited 1: no configuration file provided: not found") != std::string::npos);
    CHECK(with_file->describe() == "docker compose project warmup, service worker, file /srv/warmup/compose.yml");
  }

  TEST_CASE("kubernetes target: exact argv, namespace and context")
  {
    FakeProcesses processes;
    ops::TargetSpec spec;
    spec.kind = "kubernetes";
    spec.k8s_deployment = "warmup-workers";
    spec.k8s_namespace = "mail";
    spec.k8s_context = "prod";
    processes.on({"kubectl", "get"}, exited(0, "4"));
    processes.on({"kubectl", "scale"}, exited(0, "deployment.apps/warmup-workers scaled\n"));
    auto target = ops::make_target(spec, target_deps(processes));
    CHECK(target->current() == 4);
    CHECK(target->apply(5) == "deployment.apps/warmup-workers scaled");
    CHECK(processes.argvs() ==
          std::vector<Strings>{
            {"kubectl", "get", "deployment", "warmup-workers", "-n", "mail", "--context", "prod", "-o",
             "jsonpath={.spec.replicas}"},
            {"kubectl", "scale", "deployment/warmup-workers", "--replicas=5", "-n", "mail", "--context", "prod"},
          });
    processes.on({"kubectl", "get"}, exited(0, ""));
    CHECK(error_of([&] { target->current(); }, ExitCode::failure).find("not a replica count") != std::string::npos);
    spec.k8s_namespace.clear();
    spec.k8s_context.clear();
    ops::make_target(spec, target_deps(processes))->apply(1);
    CHECK(processes.argvs().back() == Strings{"kubectl", "scale", "deployment/warmup-workers", "--replicas=1"});
  }

  TEST_CASE("manual and command targets keep the count in the state")
  {
    FakeProcesses processes;
    ops::TargetSpec spec;
    spec.kind = "manual";
    auto deps = target_deps(processes);
    CHECK(ops::make_target(spec, deps)->current() == 1);  // min: nothing applied yet
    deps.recorded = 4;
    CHECK(ops::make_target(spec, deps)->current() == 4);
    deps.override_current = 7;
    auto manual = ops::make_target(spec, deps);
    CHECK(manual->current() == 7);
    CHECK(manual->current_source() == "--current");
    manual->apply(9);
    CHECK(processes.requests().empty());

    spec.kind = "command";
    spec.command = "scale-workers --from {current} --to {replicas} --again {replicas}";
    deps.override_current.reset();
    processes.on({"/bin/sh"}, exited(0, "ok: 5 workers\n"));
    auto command = ops::make_target(spec, deps);
    CHECK(command->apply(5) == "ok: 5 workers");
    REQUIRE(processes.requests().size() == 1);
    const auto& request = processes.requests()[0];
    CHECK(request.argv == Strings{"/bin/sh", "-c", "scale-workers --from 4 --to 5 --again 5"});
    CHECK(request.extra_env.at("SCALECTL_REPLICAS") == "5");
    CHECK(request.extra_env.at("SCALECTL_CURRENT") == "4");
    CHECK(request.extra_env.at("SCALECTL_POLICY") == "warmup");
    processes.on({"/bin/sh"}, exited(2, "", "permission denied\n"));
    CHECK(error_of([&] { command->apply(6); }, ExitCode::failure).find("exited 2: permission denied") !=
          std::string::npos);

    spec.kind = "kubernetes";
    spec.k8s_deployment = "w";
    deps.override_current = 3;
    CHECK(error_of([&] { ops::make_target(spec, deps); }).find("--current applies to manual and command targets") !=
          std::string::npos);
  }

  TEST_CASE("policies: defaults, inline tables, errors that name the key and origin")
  {
    ScratchDir dir;
    SUBCASE("the seed's policy with defaults")
    {
      const auto cfg = load_toml(dir, k_seed_policy);
      const auto p = ops::load_policy(cfg, "warmup");
      CHECK(p.tuning.units_per_worker == 1000);
      CHECK(p.tuning.scale_up_threshold == doctest::Approx(0.8));
      CHECK(p.tuning.scale_down_threshold == doctest::Approx(0.3));
      CHECK(p.tuning.scale_up_cooldown == std::chrono::minutes(5));
      CHECK(p.tuning.scale_down_cooldown == std::chrono::minutes(10));
      CHECK(p.tuning.mode == core::ScaleMode::step);
      CHECK(p.tuning.on_metric_error.action == core::MetricErrorAction::fail);
      CHECK(p.metric.kind == ops::MetricSpec::Kind::value);
      CHECK(p.metric.value == 850);
      CHECK(p.target.kind == "manual");
      CHECK(p.plan_ttl == std::chrono::minutes(15));
      CHECK(p.digest.starts_with("sha1:"));
      CHECK(p.digest.size() == 45);
    }
    SUBCASE("on_metric_error = { replicas = N } and target keys")
    {
      const auto cfg = load_toml(dir, R"(
[autoscale.policies.queue]
metric = { redis = "jobs", redis_url = "redis://127.0.0.1:6390/1" }
units_per_worker = 50
min = 0
max = 8
mode = "target"
on_metric_error = { replicas = 3 }
target = "kubernetes"
k8s_deployment = "jobs"
)");
      const auto p = ops::load_policy(cfg, "queue");
      CHECK(p.tuning.on_metric_error.action == core::MetricErrorAction::replicas);
      CHECK(p.tuning.on_metric_error.replicas == 3);
      CHECK(p.metric.kind == ops::MetricSpec::Kind::redis);
      CHECK(p.metric.redis_key == "jobs");
      CHECK(p.metric.redis_url == "redis://127.0.0.1:6390/1");
      CHECK(p.tuning.mode == core::ScaleMode::target);
      CHECK(p.target.k8s_deployment == "jobs");
    }
    SUBCASE("AUTO_SCALER_* variables make a policy for --policy")
    {
      const auto cfg = load_toml(dir, "",
                                 {{"AUTO_SCALER_MAILBOXES_PER_WORKER", "1000"},
                                  {"AUTO_SCALER_MIN_WORKERS", "1"},
                                  {"AUTO_SCALER_MAX_WORKERS", "100"},
                                  {"AUTO_SCALER_SCALE_UP_COOLDOWN_MS", "2000"},
                                  {"AUTO_SCALER_ENABLED", "false"}},
                                 "warmup");
      const auto p = ops::load_policy(cfg, "warmup");
      CHECK(p.tuning.max == 100);
      CHECK(p.tuning.scale_up_cooldown == std::chrono::seconds(2));
      CHECK_FALSE(p.enabled);
    }
    SUBCASE("errors")
    {
      struct Row {
        const char* toml;
        const char* policy;
        const char* error;
      };
      const Row rows[] = {
        {"", "warmup", "no autoscale policy named \"warmup\" (none is configured)"},
        {"[autoscale.policies.a]\nmin = 1\nmax = 2\n", "a", "autoscale policy a has no units_per_worker; set "
                                                            "units_per_worker = 1000 under [autoscale.policies.a]"},
        {"[autoscale.policies.a]\nunits_per_worker = 10\nmin = 1\nmax = 2\nscale_down_threshold = 0.8\n", "a",
         "scale_down_threshold 0.8 from autoscale.policies.a.scale_down_threshold ("},
        {"[autoscale.policies.a]\nunits_per_worker = 10\nmin = 3\nmax = 2\n", "a", "max (2) must be at least 1 and at "
                                                                                   "least min (3)"},
        {"[autoscale.policies.a]\nunits_per_worker = 10\nmin = 1\nmax = 2\nmetric = { value = 1, command = \"x\" }\n",
         "a", "sets value and command; give exactly one"},
        {"[autoscale.policies.a]\nunits_per_worker = 10\nmin = 1\nmax = 2\ntarget = \"docker-compose\"\n", "a",
         "target \"docker-compose\" needs compose_project"},
        {"[autoscale.policies.a]\nunits_per_worker = 10\nmin = 1\nmax = 2\nmetric = { http = \"http://x\", "
         "json_pointer = \"data\" }\n",
         "a", "is not a JSON pointer"},
      };
      for (const auto& row : rows) {
        CAPTURE(row.toml);
        ScratchDir d;
        const auto cfg = load_toml(d, row.toml);
        const auto message = error_of([&] { ops::load_policy(cfg, row.policy); });
        CHECK(message.find(row.error) != std::string::npos);
      }
    }
    SUBCASE("issue 14: behaviour tables and metrics = [...]")
    {
      const auto cfg = load_toml(dir, R"(
[autoscale.policies.q]
units_per_worker = 100
min = 1
max = 50
mode = "target"
metrics = [{ redis = "jobs", name = "jobs" }, { command = "echo 5, 6", units_per_worker = 8, target_utilisation = 0.5 }]
[autoscale.policies.q.scale_up]
stabilization = "1m"
tolerance = 1.5
select = "min"
policies = [{ pods = 2, period = "30s" }, { percent = 50, period = "1m" }]
[autoscale.policies.q.scale_down]
select = "disabled"
)");
      const auto p = ops::load_policy(cfg, "q");
      CHECK(p.metric.kind == ops::MetricSpec::Kind::redis);
      CHECK(p.metric_own.name == "jobs");
      REQUIRE(p.more_metrics.size() == 1);
      CHECK(p.more_metrics[0].spec.command == "echo 5, 6");
      CHECK(p.more_metrics[0].units_per_worker == 8);
      CHECK(p.more_metrics[0].target_utilisation == doctest::Approx(0.5));
      CHECK(p.tuning.scale_up.stabilization == std::chrono::minutes(1));
      CHECK(p.tuning.scale_up.tolerance == doctest::Approx(1.5));
      CHECK(p.tuning.scale_up.select == core::SelectPolicy::min);
      CHECK(p.tuning.scale_up.policies ==
            std::vector<core::RatePolicy>{{core::RatePolicy::Kind::pods, 2, std::chrono::seconds(30)},
                                          {core::RatePolicy::Kind::percent, 50, std::chrono::minutes(1)}});
      CHECK(p.tuning.scale_down.select == core::SelectPolicy::disabled);
      CHECK(p.tuning.scale_down.policies == core::hpa_scale_down_defaults().policies);
      // The HPA's defaults when nothing is set.
      const auto seed = ops::load_policy(load_toml(dir, k_seed_policy), "warmup");
      CHECK(seed.tuning.scale_up.policies == core::hpa_scale_up_defaults().policies);
      CHECK(seed.tuning.scale_up.stabilization.value_or(std::chrono::hours(1)) == std::chrono::seconds(0));
    }
    SUBCASE("issue 14: bad behaviour values exit 2 naming the key")
    {
      const std::string head = "[autoscale.policies.a]\nunits_per_worker = 10\nmin = 1\nmax = 2\n";
      struct Row {
        std::string toml;
        const char* error;
      };
      const Row rows[] = {
        {head + "[autoscale.policies.a.scale_up]\nselect = \"most\"\n", "scale_up.select"},
        {head + "[autoscale.policies.a.scale_up]\npolicies = [{ pods = 4 }]\n", "needs period"},
        {head + "[autoscale.policies.a.scale_up]\npolicies = [{ pods = 1.5, period = \"15s\" }]\n",
         "must be a whole number"},
        {head + "[autoscale.policies.a.scale_up]\npolicies = [{ pods = 1e300, period = \"15s\" }]\n", "at most"},
        {head + "[autoscale.policies.a.scale_up]\npolicies = [{ pods = 2, percent = 5, period = \"15s\" }]\n",
         "exactly one of pods or percent"},
        {head + "[autoscale.policies.a.scale_down]\npolicies = [{ percent = 10, period = \"2h\" }]\n", "1s and 30m"},
        {head + "[autoscale.policies.a.scale_down]\ntolerance = 1.0\n", "scale_down.tolerance"},
        {head + "[autoscale.policies.a.scale_down]\nstabilization = \"3h\"\n", "between 0 and 1h"},
        {head + "metrics = [{ redis = \"a\", command = \"b\" }]\n", "exactly one of value"},
        {head + "metrics = [{ redis = \"a\", units_per_worker = -1 }]\n", "units_per_worker must be above 0"},
        {head + "metrics = [{ redis = \"a\", colour = \"b\" }]\n", "unknown key colour"},
      };
      for (const auto& row : rows) {
        CAPTURE(row.toml);
        ScratchDir d;
        const auto message = error_of([&] { ops::load_policy(load_toml(d, row.toml), "a"); });
        CHECK(message.find(row.error) != std::string::npos);
      }
    }
    SUBCASE("the digest follows every effective value")
    {
      const auto a = ops::load_policy(load_toml(dir, k_seed_policy), "warmup").digest;
      const auto b = ops::load_policy(load_toml(dir, k_seed_policy), "warmup").digest;
      CHECK(a == b);
      const auto c =
        ops::load_policy(load_toml(dir, std::string(k_seed_policy) + "scale_up_threshold = 0.85\n"), "warmup").digest;
      CHECK(c != a);
      const auto d = ops::load_policy(load_toml(dir, k_seed_policy, {{"AUTO_SCALER_MAX_WORKERS", "50"}}, "warmup"),
                                      "warmup")
                       .digest;
      CHECK(d != a);
    }
  }

  TEST_CASE("the state record survives a round trip and tolerates junk")
  {
    ops::AutoscaleRecord r;
    r.lineage = "0123456789abcdef";
    r.serial = 7;
    r.replicas = 3;
    const SystemTime t = SystemTime(std::chrono::milliseconds(1'767'225'600'000));
    r.history.recommendations = {{t, 3}, {t + std::chrono::seconds(5), 2}};
    r.history.last_scale_up = t;
    r.last_metric = 1200;
    r.last_metric_source = "redis LLEN q (list)";
    r.last_metric_time = t;
    r.last_run_time = t;
    r.last_desired = 3;
    r.last_reasons = {"ScaleDownThreshold utilisation 30% <= 30%", "ScaleDown 4 -> 3"};
    r.events = {{t, 4, 3, "down", "ok", {"ScaleDown 4 -> 3"}, ""}};
    const auto j = r.to_json();
    const auto back = ops::AutoscaleRecord::from_json(j);
    CHECK(back.to_json() == j);
    CHECK(back.history.recommendations == r.history.recommendations);
    CHECK(j["events"][0]["time"] == "2026-01-01T00:00:00Z");
    const auto junk = ops::AutoscaleRecord::from_json(nlohmann::json{{"serial", "x"}, {"events", 3}});
    CHECK(junk.serial == 0);
    CHECK(junk.events.empty());
  }

  TEST_CASE("plan files are written atomically and checked when read")
  {
    ScratchDir dir;
    ops::PlanReport report;
    report.policy.name = "warmup";
    report.policy.digest = "sha1:00aa";
    report.input.policy.units_per_worker = 1000;
    report.input.policy.max = 10;
    report.input.current = 2;
    report.input.metric.value = 1800;
    report.input.now = SystemTime(std::chrono::seconds(1'767'225'600));
    report.plan = core::plan_autoscale(report.input);
    REQUIRE(report.plan.desired == 3);
    report.lineage = "abc";
    report.serial = 4;
    report.created_at = report.input.now;
    report.expires_at = report.input.now + std::chrono::minutes(15);
    const auto path = dir.path() / "plan.json";
    ops::write_plan_file(path, ops::saved_plan_json(report, ops::PlanOptions{std::nullopt, 2}));
    CHECK(std::filesystem::status(path).permissions() == std::filesystem::perms(0644));
    const auto saved = ops::read_plan_file(path);
    CHECK(saved.policy == "warmup");
    CHECK(saved.policy_digest == "sha1:00aa");
    CHECK(saved.lineage == "abc");
    CHECK(saved.serial == 4);
    CHECK(saved.observed == 2);
    CHECK(saved.current_override == 2);
    CHECK(saved.desired == 3);
    CHECK(saved.recommendation == 3);
    CHECK(saved.reasons == Strings{"ScaleUpThreshold utilisation 90% >= 80%", "ScaleUp 2 -> 3"});
    CHECK(saved.expires_at - saved.created_at == std::chrono::minutes(15));
    // Nothing but the plan is left in the directory.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);

    dir.write("junk.json", "{\"format\": \"terraform\"}");
    CHECK(error_of([&] { ops::read_plan_file(dir.path() / "junk.json"); }).find("is not a usable scalectl plan file") !=
          std::string::npos);
    CHECK(error_of([&] { ops::read_plan_file(dir.path() / "missing.json"); }).find("cannot read the plan file") !=
          std::string::npos);
    CHECK(error_of([&] { ops::write_plan_file(dir.path() / "no" / "dir" / "p.json", nlohmann::json::object()); },
                   ExitCode::failure)
            .find("cannot create a temporary file") != std::string::npos);
  }

  TEST_CASE("the capacity limit counts the workers that fit next to the live leases")
  {
    ScratchDir dir;
    const auto cfg = load_toml(dir, R"(
[capacity]
max_cpu = 8
max_ram_gb = 16
[capacity.worker_types.registre]
cpu = 2
ram_gb = 4
[capacity.worker_types.tiny]
cpu = 0.5
ram_gb = 0.25
)");
    state::StoreOptions options;
    options.state_dir = dir.path() / "state";
    auto store = state::open_store(options);
    // Usable after the 20 % reserve: 6.4 vCPUs and 12.8 GB.
    auto limit = ops::capacity_limit(cfg, *store, "registre");
    CHECK(limit.additional_fit == 3);
    CHECK(limit.detail == "Insufficient CPU (need 8, available 6.4)");

    state::AllocateRequest request;
    request.lease.id = "worker-1";
    request.lease.type = "registre";
    request.lease.resources = core::resources_from(2, 4);
    request.usable = core::resources_from(6.4, 12.8);
    REQUIRE(store->allocate(request).outcome == state::AllocateResult::Outcome::allocated);
    limit = ops::capacity_limit(cfg, *store, "registre");
    CHECK(limit.worker_type == "registre");
    CHECK(limit.additional_fit == 2);
    CHECK(limit.detail == "Insufficient CPU (need 6, available 4.4)");
    // 4.4 vCPUs left / 0.5 is the tighter bound (8.8 GB / 0.25 GB would be 35).
    CHECK(ops::capacity_limit(cfg, *store, "tiny").additional_fit == 8);

    CHECK(error_of([&] { ops::capacity_limit(cfg, *store, "ocr"); }) ==
          "unknown worker type 'ocr'; known types: registre, tiny");
  }

  TEST_CASE("the capacity limit of a worker type on a shared pool counts that pool's budget too")
  {
    ScratchDir dir;
    const auto cfg = load_toml(dir, R"(
[capacity]
max_cpu = 8
max_ram_gb = 16
[capacity.shared_pools.gemini]
[capacity.shared_pools.gemini.resources.gemini_rpm]
limit = 20
[capacity.worker_types.acte-ocr]
cpu = 1
ram_gb = 0.5
gemini_rpm = 7.2
)");
    state::StoreOptions options;
    options.state_dir = dir.path() / "state";
    auto store = state::open_store(options);
    // 6.4 vCPUs would fit 6, the shared 20 RPM only 2.
    auto limit = ops::capacity_limit(cfg, *store, "acte-ocr");
    CHECK(limit.additional_fit == 2);
    CHECK(limit.detail == "Insufficient gemini_rpm (need 21.6, available 20)");
  }

  TEST_CASE("the capacity limit uses the capacity settings: host detection, reserve rounding, pool")
  {
    ScratchDir dir;
    state::StoreOptions options;
    options.state_dir = dir.path() / "state";
    auto store = state::open_store(options);
    dir.write("meminfo", "MemTotal:        8388608 kB\nMemFree:          123456 kB\n");
    ops::HostProbe probe;
    probe.meminfo = dir.path() / "meminfo";
    probe.cpus = 4;

    SUBCASE("limits not set are detected on this host")
    {
      const auto cfg = load_toml(dir, "[capacity.worker_types.registre]\ncpu = 2\nram_gb = 4\n");
      // 4 vCPUs, 8192 MiB less 20 %: 3200 millicores, 6554 MiB.
      const auto limit = ops::capacity_limit(cfg, *store, "registre", probe);
      CHECK(limit.additional_fit == 1);
      CHECK(limit.detail == "Insufficient CPU (need 4, available 3.2)");
      probe.meminfo = dir.path() / "missing";
      CHECK(error_of([&] { ops::capacity_limit(cfg, *store, "registre", probe); }, ExitCode::failure)
                .find("missing") != std::string::npos);
    }
    SUBCASE("the reserve is taken to 0.01 % and rounded in integers, as capacity check does")
    {
      const auto cfg = load_toml(dir, R"(
[capacity]
max_cpu = 10000
max_ram_gb = 1000
reserved_ram_percent = 0.006
[capacity.worker_types.small]
cpu = 0.001
ram_gb = 0.0009765625
)");
      // 0.006 % counts as 0.01 %: 1024000 MiB * 0.9999 = 1023897.6, usable 1023898 one-MiB workers
      // (a floating-point 0.006 % reserve would give 1023939).
      const auto limit = ops::capacity_limit(cfg, *store, "small", probe);
      CHECK(limit.additional_fit == 1023898);
      CHECK(limit.detail.starts_with("Insufficient RAM"));
    }
    SUBCASE("only the leases of capacity.pool count")
    {
      const auto cfg = load_toml(dir, R"(
[capacity]
pool = "ocr"
max_cpu = 4
max_ram_gb = 8
reserved_cpu_percent = 0
reserved_ram_percent = 0
[capacity.worker_types.unit]
cpu = 1
ram_gb = 1
)");
      state::AllocateRequest request;
      request.lease.type = "unit";
      request.lease.resources = core::resources_from(1, 1);
      request.usable = core::resources_from(4, 8);
      request.pool = "server";
      request.lease.id = "elsewhere";
      REQUIRE(store->allocate(request).outcome == state::AllocateResult::Outcome::allocated);
      CHECK(ops::capacity_limit(cfg, *store, "unit", probe).additional_fit == 4);
      request.pool = "ocr";
      request.lease.id = "here";
      REQUIRE(store->allocate(request).outcome == state::AllocateResult::Outcome::allocated);
      const auto limit = ops::capacity_limit(cfg, *store, "unit", probe);
      CHECK(limit.additional_fit == 3);
      CHECK(limit.detail == "Insufficient CPU (need 4, available 3)");
    }
  }
}
