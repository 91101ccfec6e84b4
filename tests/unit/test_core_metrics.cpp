#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <scalectl/core/metrics.hpp>

using namespace scalectl::core;
using nlohmann::json;

TEST_SUITE("core.metrics")
{
  TEST_CASE("families are grouped under one HELP and TYPE, in table order, series sorted")
  {
    const std::vector<PromSample> samples = {
      {"scalectl_last_run_success", {{"command", "droplet up"}}, 1},
      {"scalectl_droplet_vcpus", {{"droplet_id", "7"}}, 8},
      {"scalectl_last_run_success", {{"command", "droplet down"}}, 0},
    };
    CHECK(render_text_format(samples) ==
          "# HELP scalectl_droplet_vcpus vCPUs of the droplet's current size\n"
          "# TYPE scalectl_droplet_vcpus gauge\n"
          "scalectl_droplet_vcpus{droplet_id=\"7\"} 8\n"
          "# HELP scalectl_last_run_success 1 if the command's last run exited 0 (or 4, change proposed), else 0\n"
          "# TYPE scalectl_last_run_success gauge\n"
          "scalectl_last_run_success{command=\"droplet down\"} 0\n"
          "scalectl_last_run_success{command=\"droplet up\"} 1\n");
  }

  TEST_CASE("label values are escaped and values use Prometheus float spelling")
  {
    const auto text = render_text_format({
      {"scalectl_droplet_info", {{"droplet_id", "1"}, {"name", "a\"b\\c\nd"}, {"size", "s"}}, 1},
      {"scalectl_autoscale_metric_value", {{"policy", "p1"}}, 0.25},
      {"scalectl_autoscale_metric_value", {{"policy", "p2"}}, std::numeric_limits<double>::quiet_NaN()},
      {"scalectl_autoscale_metric_value", {{"policy", "p3"}}, -std::numeric_limits<double>::infinity()},
      {"scalectl_droplet_memory_bytes", {{"droplet_id", "1"}}, 17179869184.0},
    });
    CHECK(text.find("scalectl_droplet_info{droplet_id=\"1\",name=\"a\\\"b\\\\c\\nd\",size=\"s\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("{policy=\"p1\"} 0.25\n") != std::string::npos);
    CHECK(text.find("{policy=\"p2\"} NaN\n") != std::string::npos);
    CHECK(text.find("{policy=\"p3\"} -Inf\n") != std::string::npos);
    CHECK(text.find("scalectl_droplet_memory_bytes{droplet_id=\"1\"} 17179869184\n") != std::string::npos);
  }

  TEST_CASE("unknown families, bad label names and duplicate series never reach the file")
  {
    const auto text = render_text_format({
      {"not_ours_total", {}, 1},
      {"scalectl_droplet_vcpus", {{"__reserved", "x"}}, 1},
      {"scalectl_droplet_vcpus", {{"bad-name", "x"}}, 1},
      {"scalectl_droplet_vcpus", {{"droplet_id", "1"}}, 2},
      {"scalectl_droplet_vcpus", {{"droplet_id", "1"}}, 4},
    });
    CHECK(text.find("not_ours") == std::string::npos);
    CHECK(text.find("reserved") == std::string::npos);
    CHECK(text.find("bad-name") == std::string::npos);
    CHECK(text.find("{droplet_id=\"1\"} 2") == std::string::npos);
    CHECK(text.find("{droplet_id=\"1\"} 4") != std::string::npos);
    CHECK(render_text_format({}).empty());
  }

  TEST_CASE("names")
  {
    CHECK(valid_metric_name("scalectl_x_1"));
    CHECK_FALSE(valid_metric_name("1x"));
    CHECK_FALSE(valid_metric_name(""));
    CHECK(valid_label_name("pool"));
    CHECK_FALSE(valid_label_name("__name__"));
    for (const auto& family : metric_families()) {
      CHECK(valid_metric_name(family.name));
      CHECK(family.name.starts_with("scalectl_"));
      CHECK(find_metric_family(family.name) == &family);
    }
  }

  TEST_CASE("remembered groups are replaced whole, others kept")
  {
    json state = merge_metric_groups(json(nullptr),
                                     {{"droplet:1", {{"scalectl_droplet_info", {{"droplet_id", "1"}, {"size", "small"}}, 1}}},
                                      {"run:droplet up", {{"scalectl_last_run_success", {{"command", "droplet up"}}, 1}}}},
                                     1000);
    state = merge_metric_groups(state,
                                {{"droplet:1", {{"scalectl_droplet_info", {{"droplet_id", "1"}, {"size", "big"}}, 1}}}},
                                2000);
    CHECK(state["groups"]["droplet:1"]["updated_ms"] == 2000);
    CHECK(state["groups"]["run:droplet up"]["updated_ms"] == 1000);
    const auto text = render_text_format(remembered_samples(state));
    CHECK(text.find("size=\"big\"") != std::string::npos);
    CHECK(text.find("size=\"small\"") == std::string::npos);  // the old size label is gone
    CHECK(text.find("scalectl_last_run_success{command=\"droplet up\"} 1") != std::string::npos);
  }

  TEST_CASE("malformed remembered entries are skipped")
  {
    const json state = json::parse(R"({"groups": {
      "a": {"samples": [{"name": "scalectl_droplet_vcpus", "labels": [["droplet_id", "1"]], "value": 2},
                        {"name": 5, "value": 1},
                        {"name": "scalectl_droplet_vcpus", "labels": [["droplet_id"]], "value": 3},
                        {"name": "scalectl_droplet_vcpus", "value": "x"}]},
      "b": "junk"}})");
    const auto samples = remembered_samples(state);
    REQUIRE(samples.size() == 1);
    CHECK(samples[0].value == 2);
    CHECK(remembered_samples(json::array()).empty());
  }
}
