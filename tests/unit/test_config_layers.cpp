#include <doctest/doctest.h>

#include <unistd.h>

#include <scalectl/config/config.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::error_of;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;

TEST_SUITE("config.layers")
{
  TEST_CASE("each layer overrides the one below it and records its origin")
  {
    const ScratchDir dir;
    const auto system = dir.write("etc/scalectl/config.toml",
                                  "[droplet]\n"
                                  "up_size = \"s-sys\"\n"
                                  "down_size = \"s-sys\"\n"
                                  "timeout = \"1m\"\n"
                                  "action_timeout = \"1m\"\n"
                                  "shutdown_timeout = \"1m\"\n");
    const auto user = dir.write("home/.config/scalectl/config.toml",
                                "[droplet]\n"
                                "down_size = \"s-user\"\n"
                                "timeout = \"2m\"\n"
                                "action_timeout = \"2m\"\n"
                                "shutdown_timeout = \"2m\"\n");
    const auto explicit_file = dir.write("explicit.toml",
                                         "droplet.timeout = \"3m\"\n"
                                         "droplet.action_timeout = \"3m\"\n"
                                         "droplet.shutdown_timeout = \"3m\"\n");
    auto options = hermetic_options(dir, {{"SCALECTL_DROPLET_ACTION_TIMEOUT", "4m"},
                                          {"SCALECTL_DROPLET_SHUTDOWN_TIMEOUT", "4m"}});
    options.explicit_file = explicit_file;
    options.flags.push_back({"droplet.shutdown_timeout", std::string("5m"), "--shutdown-timeout"});

    const Config config = load(options);

    CHECK(config.get_bool("droplet.resize_disk") == false);
    CHECK(config.find("droplet.resize_disk")->origin.describe() == "default");
    CHECK(config.find("droplet.resize_disk")->origin.layer == Layer::builtin);

    CHECK(config.get_string("droplet.up_size") == "s-sys");
    CHECK(config.find("droplet.up_size")->origin.layer == Layer::system_file);
    CHECK(config.find("droplet.up_size")->origin.describe() == system.string() + ":2");
    CHECK(config.find("droplet.up_size")->origin.detail == system.string() + ":2:1");

    CHECK(config.get_string("droplet.down_size") == "s-user");
    CHECK(config.find("droplet.down_size")->origin.layer == Layer::user_file);
    CHECK(config.find("droplet.down_size")->origin.describe() == user.string() + ":2");

    CHECK(config.get_duration("droplet.timeout") == std::chrono::minutes(3));
    CHECK(config.find("droplet.timeout")->origin.layer == Layer::explicit_file);
    CHECK(config.find("droplet.timeout")->origin.describe() == explicit_file.string() + ":1");

    CHECK(config.get_duration("droplet.action_timeout") == std::chrono::minutes(4));
    CHECK(config.find("droplet.action_timeout")->origin.describe() == "env SCALECTL_DROPLET_ACTION_TIMEOUT");

    CHECK(config.get_duration("droplet.shutdown_timeout") == std::chrono::minutes(5));
    CHECK(config.find("droplet.shutdown_timeout")->origin.layer == Layer::flag);
    CHECK(config.find("droplet.shutdown_timeout")->origin.describe() == "flag --shutdown-timeout");
  }

  TEST_CASE("the user file is $XDG_CONFIG_HOME/scalectl/config.toml, else ~/.config/scalectl/config.toml")
  {
    const ScratchDir dir;
    dir.write("home/.config/scalectl/config.toml", "droplet.up_size = \"from-dot-config\"\n");
    const auto xdg = dir.write("xdg/scalectl/config.toml", "droplet.up_size = \"from-xdg\"\n");

    SUBCASE("XDG_CONFIG_HOME set")
    {
      const Config config = load(hermetic_options(dir, {{"XDG_CONFIG_HOME", (dir.path() / "xdg").string()}}));
      CHECK(config.get_string("droplet.up_size") == "from-xdg");
      CHECK(config.find("droplet.up_size")->origin.describe() == xdg.string() + ":1");
    }
    SUBCASE("XDG_CONFIG_HOME unset")
    {
      CHECK(load(hermetic_options(dir)).get_string("droplet.up_size") == "from-dot-config");
    }
    SUBCASE("a relative XDG_CONFIG_HOME is ignored, as the XDG spec says")
    {
      CHECK(load(hermetic_options(dir, {{"XDG_CONFIG_HOME", "xdg"}})).get_string("droplet.up_size") ==
            "from-dot-config");
    }
    SUBCASE("HOME from the environment when LoadOptions::home is not set")
    {
      auto options = hermetic_options(dir, {{"HOME", (dir.path() / "home").string()}});
      options.home.reset();
      CHECK(load(options).get_string("droplet.up_size") == "from-dot-config");
    }
  }

  TEST_CASE("missing system and user files are fine; a missing explicit file is an error")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir));
    CHECK(config.get_string("droplet.up_size") == "s-8vcpu-16gb");

    auto options = hermetic_options(dir);
    options.explicit_file = dir.path() / "nope.toml";
    const std::string message = error_of([&] { load(options); });
    CHECK(message.find("nope.toml") != std::string::npos);
    CHECK(message.find("--config") != std::string::npos);
    CHECK(message.find("does not exist") != std::string::npos);
  }

  TEST_CASE("SCALECTL_CONFIG names the explicit file; --config wins over it")
  {
    const ScratchDir dir;
    const auto from_env = dir.write("env.toml", "droplet.up_size = \"from-env-file\"\n");
    const auto from_flag = dir.write("flag.toml", "droplet.up_size = \"from-flag-file\"\n");
    auto options = hermetic_options(dir, {{"SCALECTL_CONFIG", from_env.string()}});
    const Config config = load(options);
    CHECK(config.get_string("droplet.up_size") == "from-env-file");
    CHECK(config.find("droplet.up_size")->origin.layer == Layer::explicit_file);

    options.explicit_file = from_flag;
    CHECK(load(options).get_string("droplet.up_size") == "from-flag-file");

    const std::string message =
        error_of([&] { load(hermetic_options(dir, {{"SCALECTL_CONFIG", (dir.path() / "gone.toml").string()}})); });
    CHECK(message.find("SCALECTL_CONFIG") != std::string::npos);
  }

  TEST_CASE("a config path that is a directory is refused")
  {
    const ScratchDir dir;
    std::filesystem::create_directories(dir.path() / "etc" / "scalectl" / "config.toml");
    const std::string message = error_of([&] { load(hermetic_options(dir)); });
    CHECK(message.find("is not a regular file") != std::string::npos);
  }

  TEST_CASE("defaults: every key with a default is set, keys without one are not")
  {
    const ScratchDir dir;
    const Config config = load(hermetic_options(dir));
    CHECK(config.get_string("digitalocean.api_url") == "https://api.digitalocean.com");
    CHECK(config.get_duration("digitalocean.connect_timeout") == std::chrono::seconds(10));
    CHECK(config.get_duration("digitalocean.request_timeout") == std::chrono::seconds(60));
    CHECK(config.get_int("digitalocean.max_retries") == 5);
    CHECK(config.get_string("droplet.down_size") == "s-2vcpu-4gb");
    CHECK(config.get_duration("droplet.timeout") == std::chrono::minutes(30));
    CHECK(config.get_string("droplet.metadata_url") == "http://169.254.169.254/metadata/v1/id");
    CHECK(config.get_number("capacity.reserved_cpu_percent") == doctest::Approx(20));
    CHECK(config.get_int("app.workers_rule_mb") == 512);
    CHECK(config.get_bool("audit.enabled") == true);
    CHECK(config.get_strings("notify.webhooks") == std::nullopt);
    CHECK(config.find("droplet.id") == nullptr);
    CHECK(config.find("capacity.default_ttl") == nullptr);
    CHECK(config.find("digitalocean.token") == nullptr);
    CHECK(config.table_names("autoscale.policies").empty());
  }

  TEST_CASE("state.backend is file by default and redis when state.redis_url is set")
  {
    const ScratchDir dir;
    CHECK(load(hermetic_options(dir)).get_string("state.backend") == "file");

    const Config with_url = load(hermetic_options(dir, {{"SCALECTL_REDIS_URL", "redis://127.0.0.1:6379/0"}}));
    CHECK(with_url.get_string("state.backend") == "redis");
    CHECK(with_url.find("state.backend")->origin.describe() == "default, state.redis_url is set");

    dir.write("home/.config/scalectl/config.toml", "state.backend = \"file\"\n");
    CHECK(load(hermetic_options(dir, {{"SCALECTL_REDIS_URL", "redis://127.0.0.1:6379/0"}})).get_string("state.backend") ==
          "file");
  }

  TEST_CASE("state.dir: STATE_DIRECTORY is a default that files override")
  {
    const ScratchDir dir;
    const Config from_systemd =
        load(hermetic_options(dir, {{"STATE_DIRECTORY", "/var/lib/scalectl:/var/lib/other"}}));
    CHECK(from_systemd.get_string("state.dir") == "/var/lib/scalectl");
    CHECK(from_systemd.find("state.dir")->origin.describe() == "env STATE_DIRECTORY");

    const Config plain = load(hermetic_options(dir, {{"XDG_STATE_HOME", "/xdg-state"}}));
    CHECK(plain.find("state.dir")->origin.describe() == "default");
    CHECK(plain.get_string("state.dir") == (::geteuid() == 0 ? "/var/lib/scalectl" : "/xdg-state/scalectl"));

    dir.write("etc/scalectl/config.toml", "[state]\ndir = \"/srv/state\"\n");
    CHECK(load(hermetic_options(dir, {{"STATE_DIRECTORY", "/var/lib/scalectl"}})).get_string("state.dir") ==
          "/srv/state");
  }

  TEST_CASE("flags: typed or text values are checked; secrets are refused")
  {
    const ScratchDir dir;
    auto options = hermetic_options(dir);
    options.flags.push_back({"droplet.id", std::string("123"), "--droplet"});
    options.flags.push_back({"droplet.resize_disk", true, "--resize-disk"});
    const Config config = load(options);
    CHECK(config.get_string("droplet.id") == "123");
    CHECK(config.find("droplet.id")->origin.describe() == "flag --droplet");
    CHECK(config.get_bool("droplet.resize_disk") == true);

    options.flags = {{"droplet.shutdown_timeout", std::string("soon"), "--shutdown-timeout"}};
    CHECK(error_of([&] { load(options); }).find("--shutdown-timeout") != std::string::npos);

    options.flags = {{"digitalocean.token", std::string("dop_v1_flag"), "--token"}};
    const std::string message = error_of([&] { load(options); });
    CHECK(message.find("command line") != std::string::npos);
    CHECK(message.find("dop_v1_flag") == std::string::npos);
  }
}
