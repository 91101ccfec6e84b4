#include <doctest/doctest.h>

#include <scalectl/error.hpp>
#include <scalectl/ops/app.hpp>

#include "scratch_dir.hpp"

using namespace scalectl;

TEST_SUITE("ops.app_spec_file")
{
  TEST_CASE("YAML scalars get JSON types: plain ones resolved, quoted ones strings")
  {
    test::ScratchDir dir;
    const auto path = dir.write("app.yaml", R"(# .do/app.yaml
name: shop
services:
  - name: backend
    instance_count: 2
    instance_size_slug: apps-s-1vcpu-1gb  # 1GB
    ratio: 1.50
    enabled: true
    nothing: ~
    envs:
      - key: WEB_CONCURRENCY
        value: "2"
    autoscaling:
      min_instance_count: 1
      max_instance_count: 3
      metrics:
        cpu:
          percent: 80
)");
    const auto spec = ops::read_spec_file(path.string());
    CHECK(core::dump_raw_json(spec) ==
          R"({"name":"shop","services":[{"name":"backend","instance_count":2,"instance_size_slug":"apps-s-1vcpu-1gb",)"
          R"("ratio":1.50,"enabled":true,"nothing":null,"envs":[{"key":"WEB_CONCURRENCY","value":"2"}],)"
          R"("autoscaling":{"min_instance_count":1,"max_instance_count":3,"metrics":{"cpu":{"percent":80}}}}]})");
  }

  TEST_CASE("JSON files keep number spelling")
  {
    test::ScratchDir dir;
    const auto path = dir.write("spec.json", R"({"name":"x","workers":[{"name":"w","instance_count":3,"f":2.50}]})");
    CHECK(core::dump_raw_json(ops::read_spec_file(path.string())) ==
          R"({"name":"x","workers":[{"name":"w","instance_count":3,"f":2.50}]})");
  }

  TEST_CASE("unreadable or malformed files are usage errors with a location")
  {
    test::ScratchDir dir;
    const auto bad_yaml = dir.write("bad.yaml", "services:\n  - name: [unclosed\n");
    try {
      ops::read_spec_file(bad_yaml.string());
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(std::string(e.what()).starts_with(bad_yaml.string() + ":"));
    }
    const auto bad_json = dir.write("bad.json", "{\"services\":");
    CHECK_THROWS_AS(ops::read_spec_file(bad_json.string()), Error);
    try {
      ops::read_spec_file((dir.path() / "missing.yaml").string());
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(std::string(e.what()).find("No such file") != std::string::npos);
    }
  }
}
