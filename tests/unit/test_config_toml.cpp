#include <doctest/doctest.h>

#include <scalectl/config/config.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::error_of;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;

namespace {

// Loads `toml` as the system file of a fresh scratch directory.
Config load_text(const ScratchDir& dir, std::string_view toml, std::filesystem::perms mode = std::filesystem::perms(0644))
{
  dir.write("etc/scalectl/config.toml", toml, mode);
  return load(hermetic_options(dir));
}

// Returns the error loading `toml` gives, and the file's path.
std::pair<std::string, std::string> error_loading(std::string_view toml)
{
  const ScratchDir dir;
  const auto path = dir.write("etc/scalectl/config.toml", toml);
  return {error_of([&] { load(hermetic_options(dir)); }), path.string()};
}

}  // namespace

TEST_SUITE("config.toml")
{
  TEST_CASE("a syntax error reads file:line:col: what is wrong")
  {
    const auto [message, path] = error_loading("[droplet]\nup_size = \"s-8vcpu-16gb\"\ndown_size = \n");
    CHECK(message.starts_with(path + ":3:"));
    CHECK(message.find("invalid TOML") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);

    const auto [duplicate, duplicate_path] = error_loading("droplet.up_size = \"a\"\ndroplet.up_size = \"b\"\n");
    CHECK(duplicate.starts_with(duplicate_path + ":2:"));
  }

  TEST_CASE("text TOML forbids is refused before toml++ sees it, naming file:line:col")
  {
    // The fuzz target fuzz_toml_config found toml++ 3.3 asserting on a control character and
    // reaching __builtin_unreachable on most non-ASCII characters; toml++ now sees them shifted.
    struct Row {
      std::string_view toml;
      std::string_view where;
      std::string_view what;
    };
    const Row rows[] = {
        {"[\froot]\n", ":1:2:", "control character 0x0c"},
        {"[droplet]\nup_size = \"a\x7f\"\n", ":2:13:", "control character 0x7f"},
        {"[droplet]\nup_size = \"s-8vcpu-16gb\" \xc2\xa1\n", ":2:26:", "saw '\xc2\xa1'"},
        {"[droplet]\n\xe3\x80\x80up_size = \"x\"\n", ":2:1:", "invalid TOML"},
        {"[droplet]\nup_size = \"caf\xc3\n", ":2:15:", "not UTF-8 (byte 0xc3)"},
        {"a =  1\"\xc2\xa1\n", ":1:7:", "invalid TOML"},             // toml++ scans the bad token
        {"c=[+[\"\"\"toale.\xef\xbb\xafici\"\n", ":1:", "invalid TOML"},  // U+FEEF in it
        {"a = \"\xf3\xb0\x83\xa9\"\n", ":1:", "plane 15"},      // the shift's own range is refused
    };
    for (const auto& row : rows) {
      const auto [message, path] = error_loading(row.toml);
      CAPTURE(message);
      CHECK(message.starts_with(path + std::string(row.where)));
      CHECK(message.find(row.what) != std::string::npos);
    }
    // Non-ASCII inside strings (one-line, multi-line, literal) and comments is fine.
    const ScratchDir dir;
    const auto config = load_text(dir, "# r\xc3\xa9sum\xc3\xa9\n[droplet]\nup_size = \"s-8vcpu-16gb\" # \xe2\x82\xac\n"
                                       "busy_check = \"\"\"echo \\\"\xc3\xa9\\\"\"\"\"\n"
                                       "after_up = \'\'\'echo \xc3\xa9\'\'\'\n"
                                       "after_down = \"\"\"echo \\\n  \xc3\xa9\xd0\x96\xef\xbb\xaf\"\"\"\n");
    CHECK(config.get_string("droplet.up_size") == "s-8vcpu-16gb");
    CHECK(config.get_string("droplet.after_up") == "echo \xc3\xa9");
    // A line-ending backslash makes toml++ look for whitespace at the next character (U+00E9):
    // the case that reached __builtin_unreachable in a valid document.
    CHECK(config.get_string("droplet.after_down") == "echo \xc3\xa9\xd0\x96\xef\xbb\xaf");
  }

  TEST_CASE("an unknown key is an error with a did-you-mean suggestion")
  {
    SUBCASE("typo")
    {
      const auto [message, path] = error_loading("[droplet]\nid = 1\nupsize = \"s-4vcpu-8gb\"\n");
      CHECK(message == path + ":3:1: unknown key `droplet.upsize`; did you mean `droplet.up_size`?");
    }
    SUBCASE("dash instead of underscore")
    {
      const auto [message, path] = error_loading("droplet.up-size = \"x\"\n");
      CHECK(message.find("did you mean `droplet.up_size`?") != std::string::npos);
    }
    SUBCASE("misspelt table")
    {
      const auto [message, path] = error_loading("[dropplet]\nup_size = \"x\"\n");
      CHECK(message == path + ":1:2: unknown table `dropplet`; did you mean `droplet`?");
    }
    SUBCASE("inside a wildcard table the user's table name is kept")
    {
      const auto [message, path] =
          error_loading("[autoscale.policies.mailboxes]\nscale_up_treshold = 0.9\n");
      CHECK(message.find("unknown key `autoscale.policies.mailboxes.scale_up_treshold`") != std::string::npos);
      CHECK(message.find("did you mean `autoscale.policies.mailboxes.scale_up_threshold`?") != std::string::npos);
    }
    SUBCASE("a known name in the wrong table")
    {
      const auto [message, path] = error_loading("[droplet]\nmax_cpu = 8\n");
      CHECK(message.find("did you mean `capacity.max_cpu`?") != std::string::npos);
    }
    SUBCASE("nothing close")
    {
      const auto [message, path] = error_loading("[droplet]\nbanana = 1\n");
      CHECK(message.find("unknown key `droplet.banana`") != std::string::npos);
      CHECK(message.find("did you mean") == std::string::npos);
    }
    SUBCASE("an unknown top-level table")
    {
      const auto [message, path] = error_loading("[nonsense]\n");
      CHECK(message == path + ":1:2: unknown table `nonsense`; see `scalectl config show` for the known keys");
    }
  }

  TEST_CASE("a wrong type names the key, file:line, expected and found types")
  {
    SUBCASE("string for an integer")
    {
      const auto [message, path] = error_loading("[capacity.worker_types.w]\npriority = \"abc\"\n");
      CHECK(message == path + ":2:1: wrong value for capacity.worker_types.w.priority: expected integer, found string");
    }
    SUBCASE("float for an integer")
    {
      const auto [message, path] = error_loading("digitalocean.max_retries = 2.5\n");
      CHECK(message.find("expected integer, found float") != std::string::npos);
    }
    SUBCASE("integer for a boolean")
    {
      const auto [message, path] = error_loading("droplet.resize_disk = 1\n");
      CHECK(message.find("droplet.resize_disk: expected boolean, found integer") != std::string::npos);
    }
    SUBCASE("array of integers for strings")
    {
      const auto [message, path] = error_loading("notify.webhooks = [1, 2]\n");
      CHECK(message.find("expected array of strings, found array") != std::string::npos);
    }
    SUBCASE("a date for a string")
    {
      const auto [message, path] = error_loading("droplet.down_size = 2024-01-01\n");
      CHECK(message.find("expected string, found date") != std::string::npos);
    }
    SUBCASE("a table for a value")
    {
      const auto [message, path] = error_loading("[droplet.down_size]\nx = 1\n");
      CHECK(message.find("wrong type for droplet.down_size: expected string, found table") != std::string::npos);
    }
    SUBCASE("up_size takes a string or a non-empty list of strings")
    {
      auto [message, path] = error_loading("droplet.up_size = []\n");
      CHECK(message.find("expected at least one size slug") != std::string::npos);
      std::tie(message, path) = error_loading("droplet.up_size = [1]\n");
      CHECK(message.find("expected string or non-empty array of strings") != std::string::npos);
    }
    SUBCASE("a value for a table")
    {
      const auto [message, path] = error_loading("capacity.worker_types = 3\n");
      CHECK(message.find("capacity.worker_types: expected table, found integer") != std::string::npos);
    }
    SUBCASE("a value outside its choices")
    {
      const auto [message, path] = error_loading("state.backend = \"etcd\"\n");
      CHECK(message == path + ":1:7: wrong value for state.backend: \"etcd\" is not one of: file, redis");
    }
  }

  TEST_CASE("durations: strings parsed by parse_duration, or integer seconds")
  {
    const ScratchDir dir;
    const Config config = load_text(dir,
                                    "[droplet]\n"
                                    "timeout = \"1h30m\"\n"
                                    "action_timeout = 90\n"
                                    "shutdown_timeout = \"500ms\"\n");
    CHECK(config.get_duration("droplet.timeout") == std::chrono::minutes(90));
    CHECK(config.get_duration("droplet.action_timeout") == std::chrono::seconds(90));
    CHECK(config.get_duration("droplet.shutdown_timeout") == std::chrono::milliseconds(500));

    const auto [bad, path] = error_loading("droplet.timeout = \"30 minutes\"\n");
    CHECK(bad.starts_with(path + ":1:9: wrong value for droplet.timeout: invalid duration \"30 minutes\""));
    const auto [negative, negative_path] = error_loading("droplet.timeout = -5\n");
    CHECK(negative.find("invalid duration -5") != std::string::npos);
    const auto [fraction, fraction_path] = error_loading("droplet.timeout = 1.5\n");
    CHECK(fraction.find("found float") != std::string::npos);
  }

  TEST_CASE("wildcard tables: free-form names, validated keys, first-seen order, defaults")
  {
    const ScratchDir dir;
    const Config config = load_text(dir,
                                    "[capacity.worker_types.registre]\n"
                                    "cpu = 3\n"
                                    "ram_gb = 1\n"
                                    "priority = 10\n"
                                    "[capacity.worker_types.index-ocr]\n"
                                    "cpu = 1.5\n"
                                    "ram_gb = 0.75\n"
                                    "[capacity.worker_types.acte-ocr]\n"
                                    "cpu = 1\n"
                                    "ram_gb = 0.5\n"
                                    "[capacity.worker_types.empty]\n"
                                    "[autoscale.policies.mailboxes]\n"
                                    "units_per_worker = 1000\n"
                                    "max = 100\n"
                                    "metric = { command = \"psql -tAc 'select count(*) from mailboxes'\" }\n");
    CHECK(config.table_names("capacity.worker_types") ==
          std::vector<std::string>{"registre", "index-ocr", "acte-ocr", "empty"});
    CHECK(config.get_number("capacity.worker_types.index-ocr.cpu") == doctest::Approx(1.5));
    CHECK(config.get_number("capacity.worker_types.acte-ocr.cpu") == doctest::Approx(1.0));
    CHECK(config.get_int("capacity.worker_types.registre.priority") == 10);
    // Defaults of wildcard keys appear once the table exists, with origin "default".
    CHECK(config.get_int("capacity.worker_types.index-ocr.priority") == 5);
    CHECK(config.find("capacity.worker_types.index-ocr.priority")->origin.describe() == "default");
    CHECK(config.get_int("capacity.worker_types.empty.priority") == 5);
    CHECK(config.find("capacity.worker_types.empty.cpu") == nullptr);

    CHECK(config.table_names("autoscale.policies") == std::vector<std::string>{"mailboxes"});
    CHECK(config.get_number("autoscale.policies.mailboxes.scale_up_threshold") == doctest::Approx(0.8));
    CHECK(config.get_number("autoscale.policies.mailboxes.scale_down_threshold") == doctest::Approx(0.3));
    CHECK(config.get_duration("autoscale.policies.mailboxes.scale_up_cooldown") == std::chrono::minutes(5));
    CHECK(config.get_duration("autoscale.policies.mailboxes.scale_down_cooldown") == std::chrono::minutes(10));
    CHECK(config.get_duration("autoscale.policies.mailboxes.plan_ttl") == std::chrono::minutes(15));
    CHECK(config.get_string("autoscale.policies.mailboxes.mode") == "step");
    CHECK(config.get_string("autoscale.policies.mailboxes.target") == "manual");
    CHECK(config.get_string("autoscale.policies.mailboxes.on_metric_error") == "fail");
    CHECK(config.get_string("autoscale.policies.mailboxes.metric.command") ==
          "psql -tAc 'select count(*) from mailboxes'");
    CHECK(config.find("autoscale.policies.mailboxes.min") == nullptr);
    CHECK(config.get_int("autoscale.policies.mailboxes.max") == 100);
    // Defaults never create tables that no layer mentions.
    CHECK(config.table_names("capacity").size() == 1);
  }

  TEST_CASE("table names must be bare TOML names")
  {
    const auto [message, path] = error_loading("[capacity.worker_types.\"a.b\"]\ncpu = 1\n");
    CHECK(message.find("\"a.b\" is not a valid name") != std::string::npos);
  }

  TEST_CASE("on_metric_error: a string or a { replicas = N } table")
  {
    const ScratchDir dir;
    const Config config = load_text(dir,
                                    "[autoscale.policies.keep]\n"
                                    "on_metric_error = \"keep\"\n"
                                    "[autoscale.policies.pinned]\n"
                                    "on_metric_error = { replicas = 2 }\n");
    CHECK(config.get_string("autoscale.policies.keep.on_metric_error") == "keep");
    CHECK(config.find("autoscale.policies.keep.on_metric_error.replicas") == nullptr);
    CHECK(config.get_string("autoscale.policies.pinned.on_metric_error") == "replicas");
    CHECK(config.get_int("autoscale.policies.pinned.on_metric_error.replicas") == 2);

    // A higher layer's string replaces the table form.
    dir.write("home/.config/scalectl/config.toml", "autoscale.policies.pinned.on_metric_error = \"fail\"\n");
    CHECK(load(hermetic_options(dir)).get_string("autoscale.policies.pinned.on_metric_error") == "fail");

    const auto [bad, path] = error_loading("autoscale.policies.x.on_metric_error = \"retry\"\n");
    CHECK(bad.find("\"retry\" is not one of: fail, keep, replicas") != std::string::npos);
    const auto [no_count, no_count_path] = error_loading("autoscale.policies.x.on_metric_error = \"replicas\"\n");
    CHECK(no_count.find("{ replicas = N }") != std::string::npos);
    const auto [bad_key, bad_key_path] = error_loading("autoscale.policies.x.on_metric_error = { replica = 2 }\n");
    CHECK(bad_key.find("did you mean `autoscale.policies.x.on_metric_error.replicas`?") != std::string::npos);
  }

  TEST_CASE("a file that sets a secret must not be readable by group or others")
  {
    const ScratchDir dir;
    const std::string toml = "[digitalocean]\ntoken = \"dop_v1_secret_in_file\"\n";
    dir.write("etc/scalectl/config.toml", toml, std::filesystem::perms(0644));
    const std::string message = error_of([&] { load(hermetic_options(dir)); });
    CHECK(message.find("permissions 0644 for '" + (dir.path() / "etc/scalectl/config.toml").string() +
                       "' are too open") != std::string::npos);
    CHECK(message.find("chmod 600") != std::string::npos);
    CHECK(message.find("dop_v1_secret_in_file") == std::string::npos);

    const Config config = load_text(dir, toml, std::filesystem::perms(0600));
    CHECK(config.get_string("digitalocean.token") == "dop_v1_secret_in_file");
    CHECK(config.find("digitalocean.token")->secret);

    dir.write("etc/scalectl/config.toml", "state.redis_password = \"pw\"\n", std::filesystem::perms(0640));
    CHECK(error_of([&] { load(hermetic_options(dir)); }).find("permissions 0640") != std::string::npos);

    // Non-secret keys may live in a world-readable file.
    CHECK(load_text(dir, "droplet.id = 7\n", std::filesystem::perms(0644)).get_string("droplet.id") == "7");
  }

  TEST_CASE("packaging/config.example.toml loads without errors")
  {
    const auto example =
        std::filesystem::path(SCALECTL_SOURCE_DIR) / "packaging" / "config.example.toml";
    REQUIRE(std::filesystem::exists(example));
    const ScratchDir dir;
    auto options = hermetic_options(dir);
    options.explicit_file = example;
    const Config config = load(options);
    CHECK(config.table_names("capacity.worker_types") ==
          std::vector<std::string>{"registre", "index-ocr", "acte-ocr"});
    CHECK(config.table_names("autoscale.policies") == std::vector<std::string>{"warmup"});
    CHECK(config.get_string("autoscale.policies.warmup.target") == "docker-compose");
  }
}

TEST_CASE("an integer is accepted where a string id or name is expected")
{
  const ScratchDir dir;
  dir.write("home/.config/scalectl/config.toml", "[droplet]\nid = 362514921\n");
  const auto config = scalectl::config::load(hermetic_options(dir));
  CHECK(config.get_string("droplet.id") == "362514921");
}
