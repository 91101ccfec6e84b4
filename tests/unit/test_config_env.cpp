#include <doctest/doctest.h>

#include <scalectl/config/config.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::error_of;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;

namespace {

std::string origin_of(const Config& config, std::string_view key)
{
  const Entry* entry = config.find(key);
  REQUIRE(entry != nullptr);
  return entry->origin.describe();
}

}  // namespace

TEST_SUITE("config.env")
{
  TEST_CASE("every key outside wildcard tables has a SCALECTL_ name")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir, {{"SCALECTL_DROPLET_UP_SIZE", "s-16vcpu-32gb"},
                                                      {"SCALECTL_NOTIFY_WEBHOOKS", " http://127.0.0.1:1/a , http://127.0.0.1:1/b,"},
                                                      {"SCALECTL_AUDIT_ENABLED", "no"},
                                                      {"SCALECTL_CAPACITY_MAX_CPU", "7.5"}}));
    CHECK(config.get_string("droplet.up_size") == "s-16vcpu-32gb");
    CHECK(origin_of(config, "droplet.up_size") == "env SCALECTL_DROPLET_UP_SIZE");
    CHECK(config.get_strings("notify.webhooks") ==
          std::vector<std::string>{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"});
    CHECK(config.get_bool("audit.enabled") == false);
    CHECK(config.get_number("capacity.max_cpu") == doctest::Approx(7.5));
  }

  TEST_CASE("the names users already have")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir, {
                                                         {"DIGITALOCEAN_API_URL", "http://127.0.0.1:8080"},
                                                         {"DROPLET_ID", "362514921"},
                                                         {"SERVER_MAX_CPU", "8"},
                                                         {"SERVER_MAX_RAM", "16"},
                                                         {"SERVER_RESERVED_CPU_PERCENT", "25"},
                                                         {"SERVER_RESERVED_RAM_PERCENT", "12.5"},
                                                         {"REDISCLI_AUTH", "redis-secret"},
                                                         {"SCALECTL_REDIS_URL", "redis://127.0.0.1:6379/2"},
                                                         {"REDIS_URL", "redis://127.0.0.1:9/9"},
                                                     }));
    CHECK(config.get_string("digitalocean.api_url") == "http://127.0.0.1:8080");
    CHECK(origin_of(config, "digitalocean.api_url") == "env DIGITALOCEAN_API_URL");
    CHECK(config.get_string("droplet.id") == "362514921");
    CHECK(origin_of(config, "droplet.id") == "env DROPLET_ID");
    CHECK(config.get_number("capacity.max_cpu") == doctest::Approx(8));
    CHECK(origin_of(config, "capacity.max_cpu") == "env SERVER_MAX_CPU");
    CHECK(config.get_number("capacity.max_ram_gb") == doctest::Approx(16));
    CHECK(origin_of(config, "capacity.max_ram_gb") == "env SERVER_MAX_RAM");
    CHECK(config.get_number("capacity.reserved_cpu_percent") == doctest::Approx(25));
    CHECK(origin_of(config, "capacity.reserved_cpu_percent") == "env SERVER_RESERVED_CPU_PERCENT");
    CHECK(config.get_number("capacity.reserved_ram_percent") == doctest::Approx(12.5));
    CHECK(origin_of(config, "capacity.reserved_ram_percent") == "env SERVER_RESERVED_RAM_PERCENT");
    CHECK(config.get_string("state.redis_password") == "redis-secret");
    CHECK(config.find("state.redis_password")->secret);
    CHECK(origin_of(config, "state.redis_password") == "env REDISCLI_AUTH");
    CHECK(config.get_string("state.redis_url") == "redis://127.0.0.1:6379/2");
    CHECK(origin_of(config, "state.redis_url") == "env SCALECTL_REDIS_URL");  // REDIS_URL belongs to apps
  }

  TEST_CASE("the first variable set wins: SCALECTL_<KEY>, then older names in order")
  {
    const ScratchDir dir;
    const Config all = load(hermetic_options(dir, {{"SCALECTL_STATE_REDIS_URL", "redis://127.0.0.1:1/0"},
                                                   {"SCALECTL_REDIS_URL", "redis://127.0.0.1:2/0"},
                                                   {"REDIS_URL", "redis://127.0.0.1:3/0"}}));
    CHECK(all.get_string("state.redis_url") == "redis://127.0.0.1:1/0");
    const Config two = load(hermetic_options(dir, {{"SCALECTL_REDIS_URL", "redis://127.0.0.1:2/0"},
                                                   {"REDIS_URL", "redis://127.0.0.1:3/0"}}));
    CHECK(two.get_string("state.redis_url") == "redis://127.0.0.1:2/0");
    CHECK(origin_of(two, "state.redis_url") == "env SCALECTL_REDIS_URL");
    const Config generic = load(hermetic_options(dir, {{"SCALECTL_DROPLET_ID", "1"}, {"DROPLET_ID", "2"}}));
    CHECK(generic.get_string("droplet.id") == "1");
  }

  TEST_CASE("empty variables count as unset")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir, {{"DROPLET_ID", ""}, {"SCALECTL_DROPLET_UP_SIZE", ""}}));
    CHECK(config.find("droplet.id") == nullptr);
    CHECK(config.get_string("droplet.up_size") == "s-8vcpu-16gb");
  }

  TEST_CASE("the token variables are left to resolve_token")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir, {{"DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_env"},
                                                      {"DIGITALOCEAN_TOKEN", "dop_v1_env2"}}));
    CHECK(config.find("digitalocean.token") == nullptr);
  }

  TEST_CASE("AUTO_SCALER_* configure the policy named by --policy")
  {
    const ScratchDir dir;
    const std::map<std::string, std::string> seed{
        {"AUTO_SCALER_ENABLED", "true"},
        {"AUTO_SCALER_CHECK_INTERVAL_MS", "300000"},
        {"AUTO_SCALER_MAILBOXES_PER_WORKER", "1000"},
        {"AUTO_SCALER_MIN_WORKERS", "1"},
        {"AUTO_SCALER_MAX_WORKERS", "100"},
        {"AUTO_SCALER_SCALE_UP_THRESHOLD", "0.9"},
        {"AUTO_SCALER_SCALE_DOWN_THRESHOLD", "0.2"},
        {"AUTO_SCALER_SCALE_UP_COOLDOWN_MS", "600000"},
        {"AUTO_SCALER_SCALE_DOWN_COOLDOWN_MS", "1800500"},
        {"AUTO_SCALER_PLATFORM", "docker"},
    };

    SUBCASE("with --policy")
    {
      auto options = hermetic_options(dir, seed);
      options.policy = "warmup";
      const Config config = load(options);
      CHECK(config.table_names("autoscale.policies") == std::vector<std::string>{"warmup"});
      CHECK(config.get_number("autoscale.policies.warmup.units_per_worker") == doctest::Approx(1000));
      CHECK(origin_of(config, "autoscale.policies.warmup.units_per_worker") == "env AUTO_SCALER_MAILBOXES_PER_WORKER");
      CHECK(config.get_int("autoscale.policies.warmup.min") == 1);
      CHECK(config.get_int("autoscale.policies.warmup.max") == 100);
      CHECK(config.get_number("autoscale.policies.warmup.scale_up_threshold") == doctest::Approx(0.9));
      CHECK(config.get_number("autoscale.policies.warmup.scale_down_threshold") == doctest::Approx(0.2));
      CHECK(config.get_duration("autoscale.policies.warmup.scale_up_cooldown") == std::chrono::minutes(10));
      CHECK(config.get_string("autoscale.policies.warmup.scale_up_cooldown") == "10m");
      CHECK(config.get_duration("autoscale.policies.warmup.scale_down_cooldown") == std::chrono::milliseconds(1'800'500));
      CHECK(config.get_string("autoscale.policies.warmup.target") == "docker-compose");
      CHECK(origin_of(config, "autoscale.policies.warmup.target") == "env AUTO_SCALER_PLATFORM");
      // Keys no variable set take the schema default once the policy exists.
      CHECK(config.get_string("autoscale.policies.warmup.mode") == "step");
      CHECK(origin_of(config, "autoscale.policies.warmup.mode") == "default");
    }
    SUBCASE("environment overrides the policy's file values")
    {
      dir.write("etc/scalectl/config.toml", "[autoscale.policies.warmup]\nmax = 5\nmin = 2\n");
      auto options = hermetic_options(dir, {{"AUTO_SCALER_MAX_WORKERS", "50"}});
      options.policy = "warmup";
      const Config config = load(options);
      CHECK(config.get_int("autoscale.policies.warmup.max") == 50);
      CHECK(config.get_int("autoscale.policies.warmup.min") == 2);
    }
    SUBCASE("other platforms")
    {
      for (const auto& [platform, target] : std::vector<std::pair<std::string, std::string>>{
               {"kubernetes", "kubernetes"}, {"manual", "manual"}, {"do-app", "do-app"}}) {
        auto options = hermetic_options(dir, {{"AUTO_SCALER_PLATFORM", platform}});
        options.policy = "p";
        CHECK(load(options).get_string("autoscale.policies.p.target") == target);
      }
      auto options = hermetic_options(dir, {{"AUTO_SCALER_PLATFORM", "swarm"}});
      options.policy = "p";
      const std::string message = error_of([&] { load(options); });
      CHECK(message.find("AUTO_SCALER_PLATFORM") != std::string::npos);
      CHECK(message.find("\"swarm\" is not one of") != std::string::npos);
    }
    SUBCASE("without --policy they are not applied")
    {
      const Config config = load(hermetic_options(dir, seed));
      CHECK(config.table_names("autoscale.policies").empty());
    }
  }

  TEST_CASE("bad values name the variable and exit 2")
  {
    const ScratchDir dir;
    const auto message_for = [&](std::map<std::string, std::string> env, std::optional<std::string> policy = {}) {
      auto options = hermetic_options(dir, std::move(env));
      options.policy = std::move(policy);
      return error_of([&] { load(options); });
    };
    CHECK(message_for({{"SCALECTL_DROPLET_SHUTDOWN_TIMEOUT", "soon"}}).find("SCALECTL_DROPLET_SHUTDOWN_TIMEOUT") !=
          std::string::npos);
    CHECK(message_for({{"SERVER_MAX_RAM", "16GB"}}).find("SERVER_MAX_RAM: \"16GB\" is not a valid number") !=
          std::string::npos);
    CHECK(message_for({{"SCALECTL_AUDIT_ENABLED", "maybe"}}).find("is not a boolean") != std::string::npos);
    CHECK(message_for({{"SCALECTL_DROPLET_TIMEOUT", "soon"}}).find("SCALECTL_DROPLET_TIMEOUT") != std::string::npos);
    CHECK(message_for({{"SCALECTL_STATE_BACKEND", "etcd"}}).find("is not one of: file, redis") != std::string::npos);
    CHECK(message_for({{"AUTO_SCALER_SCALE_UP_COOLDOWN_MS", "5m"}}, "p")
              .find("AUTO_SCALER_SCALE_UP_COOLDOWN_MS: \"5m\" is not a non-negative integer of milliseconds") !=
          std::string::npos);
    CHECK(message_for({{"AUTO_SCALER_MIN_WORKERS", "1"}}, "bad.name").find("invalid policy name") !=
          std::string::npos);
  }

  TEST_CASE("unknown SCALECTL_ variables are not configuration and are ignored")
  {
    const ScratchDir dir;
    CHECK_NOTHROW(load(hermetic_options(dir, {{"SCALECTL_BIN", "/usr/bin/scalectl"}})));
  }
}
