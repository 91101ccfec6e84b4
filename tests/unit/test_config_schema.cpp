#include <doctest/doctest.h>

#include <set>

#include <scalectl/config/config.hpp>

#include "config/keys.hpp"
#include "config/suggest.hpp"
#include "config/values.hpp"
#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::error_of;

TEST_SUITE("config.schema")
{
  TEST_CASE("every row is well formed")
  {
    const std::set<std::string> types{"string", "int", "number", "bool", "duration", "strings", "slugs"};
    std::set<std::string> keys;
    std::set<std::string> env_names;
    for (const KeyInfo& info : schema()) {
      CAPTURE(info.key);
      CHECK(keys.insert(info.key).second);
      CHECK(types.contains(info.type));
      CHECK_FALSE(info.help.empty());
      for (const std::string& name : info.env) {
        CHECK(env_names.insert(name).second);
      }
      if (!info.default_text.empty()) {
        const auto value = detail::parse_text_value(info, info.default_text);
        REQUIRE(value.has_value());
        CHECK(detail::check_value(info, *value) == std::nullopt);
      }
      if (!info.choices.empty()) {
        CHECK(info.type == "string");
      }
      const bool wildcard = info.key.find('*') != std::string::npos;
      if (!wildcard && info.key != "digitalocean.token") {
        REQUIRE_FALSE(info.env.empty());
        CHECK(info.env.front() == detail::generic_env_name(info.key));
      }
    }
    CHECK(detail::generic_env_name("droplet.up_size") == "SCALECTL_DROPLET_UP_SIZE");
    CHECK(detail::generic_env_name("a.b-c") == "SCALECTL_A_B_C");
  }

  TEST_CASE("the keys the project relies on exist with their defaults")
  {
    const auto row = [](std::string_view key) {
      const KeyInfo* info = detail::find_key_info(key);
      REQUIRE(info != nullptr);
      return *info;
    };
    CHECK(row("digitalocean.token").secret);
    CHECK(row("state.redis_password").secret);
    CHECK(row("droplet.up_size").default_text == "s-8vcpu-16gb");
    CHECK(row("droplet.down_size").default_text == "s-2vcpu-4gb");
    CHECK(row("droplet.capacity_pool").default_text == "server");
    CHECK(row("state.lock_ttl").default_text == "30s");
    CHECK(row("capacity.worker_types.acte-ocr.ram_gb").type == "number");
    CHECK(row("autoscale.policies.web.on_metric_error.replicas").type == "int");
    CHECK(row("autoscale.policies.web.plan_ttl").default_text == "15m");
    CHECK(row("notify.format").choices == std::vector<std::string>{"json", "slack"});
    CHECK(detail::find_key_info("output") == nullptr);
    CHECK(detail::find_key_info("capacity.worker_types.cpu") == nullptr);
    CHECK(detail::is_table("capacity.worker_types"));
    CHECK(detail::is_table("autoscale.policies.web.metric"));
    CHECK_FALSE(detail::is_table("droplet.up_size"));
    CHECK(detail::wildcard_table_of("autoscale.policies.web.metric.command") == "autoscale.policies.web");
    CHECK(detail::wildcard_table_of("autoscale.policies") == std::nullopt);
    CHECK(detail::wildcard_table_of("droplet.id") == std::nullopt);
  }

  TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps")
  {
    CHECK(detail::edit_distance("", "") == 0);
    CHECK(detail::edit_distance("abc", "") == 3);
    CHECK(detail::edit_distance("up_size", "upsize") == 1);
    CHECK(detail::edit_distance("up_szie", "up_size") == 1);
    CHECK(detail::edit_distance("kitten", "sitting") == 3);
    CHECK(detail::suggest_key("droplet.down-size") == "droplet.down_size");
    CHECK(detail::suggest_key("capacity.max_ram") == "capacity.max_ram_gb");
    CHECK(detail::suggest_key("completely.unrelated") == std::nullopt);
  }

  TEST_CASE("getters convert and reject wrong types naming the key and origin")
  {
    Config config;
    config.set("a.int", std::int64_t{3}, Origin{Layer::environment, "A_INT"});
    config.set("a.text", std::string("90s"), Origin{Layer::flag, "--text"});
    config.set("a.bad", std::string("soon"), Origin{});
    CHECK(config.get_int("a.int") == 3);
    CHECK(config.get_number("a.int") == doctest::Approx(3.0));
    CHECK(config.get_duration("a.int") == std::chrono::seconds(3));
    CHECK(config.get_duration("a.text") == std::chrono::seconds(90));
    CHECK(config.get_int("a.missing") == std::nullopt);
    CHECK(error_of([&] { (void)config.get_string("a.int"); }) ==
          "a.int (env A_INT): expected string, found integer; fix the value there");
    CHECK(error_of([&] { (void)config.get_bool("a.text"); }).find("(flag --text)") != std::string::npos);
    CHECK(error_of([&] { (void)config.get_duration("a.bad"); }).find("expected duration") != std::string::npos);
  }

  TEST_CASE("table_names lists sub-tables in first-seen order, not values")
  {
    Config config;
    config.set("t.zeta.x", std::int64_t{1}, Origin{});
    config.set("t.alpha.x", std::int64_t{1}, Origin{});
    config.set("t.zeta.y", std::int64_t{1}, Origin{});
    config.set("t.value", std::int64_t{1}, Origin{});
    config.set("tt.other.x", std::int64_t{1}, Origin{});
    CHECK(config.table_names("t") == std::vector<std::string>{"zeta", "alpha"});
    config.set("t.zeta.x", std::int64_t{2}, Origin{Layer::flag, "--x"});
    CHECK(config.table_names("t") == std::vector<std::string>{"zeta", "alpha"});
    CHECK(config.get_int("t.zeta.x") == 2);
  }

  TEST_CASE("Origin::describe")
  {
    CHECK(Origin{}.describe() == "default");
    CHECK(Origin{Layer::system_file, "/etc/scalectl/config.toml:12:1"}.describe() == "/etc/scalectl/config.toml:12");
    CHECK(Origin{Layer::user_file, "/odd:dir/config.toml:3:7"}.describe() == "/odd:dir/config.toml:3");
    CHECK(Origin{Layer::environment, "DROPLET_ID"}.describe() == "env DROPLET_ID");
    CHECK(Origin{Layer::flag, "--droplet"}.describe() == "flag --droplet");
  }
}
