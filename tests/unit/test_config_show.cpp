#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <scalectl/config/config.hpp>
#include <scalectl/config/show.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;

TEST_SUITE("config.show")
{
  TEST_CASE("URL passwords are redacted, everything else is kept")
  {
    CHECK(redact_url_passwords("redis://:pw@host") == "redis://:<redacted>@host");
    CHECK(redact_url_passwords("redis://user:p%40ss@127.0.0.1:6379/0") ==
          "redis://user:<redacted>@127.0.0.1:6379/0");
    CHECK(redact_url_passwords("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0");
    CHECK(redact_url_passwords("redis://user@host/0") == "redis://user@host/0");
    CHECK(redact_url_passwords("https://host/path?u=a:b@c") == "https://host/path?u=a:b@c");
    CHECK(redact_url_passwords("check a://:x@h and b://u:y@h/z") == "check a://:<redacted>@h and b://u:<redacted>@h/z");
    CHECK(redact_url_passwords("no url here") == "no url here");
  }

  TEST_CASE("text and JSON show every value with its origin and never a secret")
  {
    const ScratchDir dir;
    const auto file = dir.write("etc/scalectl/config.toml",
                                "[digitalocean]\n"
                                "token = \"dop_v1_file_secret\"\n"
                                "[droplet]\n"
                                "id = \"42\"\n"
                                "[notify]\n"
                                "webhooks = [\"https://u:hook_secret@127.0.0.1/a\", \"http://127.0.0.1/b\"]\n",
                                std::filesystem::perms(0600));
    const Config config = load(hermetic_options(dir, {{"REDISCLI_AUTH", "redis_env_secret"},
                                                      {"SCALECTL_REDIS_URL", "redis://:url_secret@127.0.0.1:6379/0"}}));

    const std::string text = show_text(config);
    for (const char* secret : {"dop_v1_file_secret", "redis_env_secret", "url_secret", "hook_secret"}) {
      CHECK(text.find(secret) == std::string::npos);
    }
    CHECK(text.find("(" + file.string() + ":2) digitalocean.token = \"<redacted>\"\n") != std::string::npos);
    CHECK(text.find("(env REDISCLI_AUTH) state.redis_password = \"<redacted>\"\n") != std::string::npos);
    CHECK(text.find("(env SCALECTL_REDIS_URL) state.redis_url = \"redis://:<redacted>@127.0.0.1:6379/0\"\n") !=
          std::string::npos);
    CHECK(text.find("(" + file.string() + ":4) droplet.id = \"42\"\n") != std::string::npos);
    CHECK(text.find("(default) droplet.resize_disk = false\n") != std::string::npos);
    CHECK(text.find("(default) droplet.up_size = \"s-8vcpu-16gb\"\n") != std::string::npos);
    CHECK(text.find("notify.webhooks = [\"https://u:<redacted>@127.0.0.1/a\", \"http://127.0.0.1/b\"]\n") !=
          std::string::npos);
    CHECK(text.find("(default, state.redis_url is set) state.backend = \"redis\"\n") != std::string::npos);
    // One line per entry, in key order.
    CHECK(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) == config.entries().size());
    CHECK(text.find("digitalocean.api_url") < text.find("droplet.id"));

    const nlohmann::json json = show_json(config);
    const std::string dumped = json.dump();
    for (const char* secret : {"dop_v1_file_secret", "redis_env_secret", "url_secret", "hook_secret"}) {
      CHECK(dumped.find(secret) == std::string::npos);
    }
    CHECK(json.size() == config.entries().size());
    CHECK(json["digitalocean.token"]["value"] == "<redacted>");
    CHECK(json["digitalocean.token"]["origin"] == file.string() + ":2");
    CHECK(json["droplet.id"]["value"] == "42");
    CHECK(json["droplet.resize_disk"]["value"] == false);
    CHECK(json["capacity.reserved_cpu_percent"]["value"] == 20);
    CHECK(json["notify.webhooks"]["value"][1] == "http://127.0.0.1/b");
    CHECK(json["state.redis_password"]["origin"] == "env REDISCLI_AUTH");
  }

  TEST_CASE("an entry set as secret by code is redacted too")
  {
    Config config;
    config.set("droplet.busy_check", std::string("check --password hunter2"), Origin{Layer::flag, "--busy-check"},
               true);
    CHECK(show_text(config) == "(flag --busy-check) droplet.busy_check = \"<redacted>\"\n");
  }
}
