#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <sys/stat.h>

#include <fmt/format.h>

#include <scalectl/digitalocean/client.hpp>
#include <scalectl/state/store.hpp>

#include "scratch_dir.hpp"
#include "sinks/metrics_textfile.hpp"
#include "support/fake_clock.hpp"

using namespace scalectl;
using namespace scalectl::sinks;
using core::PromSample;

namespace {

std::string slurp(const std::filesystem::path& path)
{
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<PromSample> one(const std::string& name, const std::string& label, const std::string& value, double v)
{
  return {{name, {{label, value}}, v}};
}

// Returns droplet `id` named pdf-worker at size `slug`.
digitalocean::Droplet pdf_worker(std::int64_t id, const std::string& slug, std::int64_t memory_mb, int vcpus,
                                 double price_monthly)
{
  digitalocean::Droplet d;
  d.id = id;
  d.name = "pdf-worker";
  d.size_slug = slug;
  d.memory_mb = memory_mb;
  d.vcpus = vcpus;
  d.price_monthly = price_monthly;
  return d;
}

}  // namespace

TEST_SUITE("sinks.metrics")
{
  TEST_CASE("droplet series carry the size as a label")
  {
    const auto samples = droplet_samples(pdf_worker(42, "s-8vcpu-16gb", 16384, 8, 96));
    const auto text = core::render_text_format(samples);
    CHECK(text.find("scalectl_droplet_info{droplet_id=\"42\",name=\"pdf-worker\",size=\"s-8vcpu-16gb\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("scalectl_droplet_memory_bytes{droplet_id=\"42\"} 17179869184\n") != std::string::npos);
    CHECK(text.find("scalectl_droplet_vcpus{droplet_id=\"42\"} 8\n") != std::string::npos);
    CHECK(text.find("scalectl_droplet_price_monthly_dollars{droplet_id=\"42\"} 96\n") != std::string::npos);
  }

  TEST_CASE("capacity series: per type allocated, leases and workers that still fit")
  {
    state::PoolSnapshot snapshot;
    state::Lease a;
    a.type = "registre";
    a.resources = {3000, 1024};
    state::Lease b = a;
    state::Lease expired = a;
    expired.expired = true;
    state::Lease c;
    c.type = "acte-ocr";
    c.resources = {1000, 512};
    snapshot.leases = {a, b, expired, c};
    const std::vector<core::WorkerType> types = {{"registre", {3000, 1024}}, {"acte-ocr", {1000, 512}},
                                                 {"index-ocr", {1500, 768}}};
    const auto text = core::render_text_format(capacity_samples("server", snapshot, {8000, 16384}, types));
    CHECK(text.find("scalectl_capacity_allocated_cpu_cores{pool=\"server\",type=\"registre\"} 6\n") !=
          std::string::npos);
    CHECK(text.find("scalectl_capacity_leases{pool=\"server\",type=\"registre\"} 2\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_leases{pool=\"server\",type=\"acte-ocr\"} 1\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_leases{pool=\"server\",type=\"index-ocr\"} 0\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_available_cpu_cores{pool=\"server\"} 1\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_available_memory_bytes{pool=\"server\"} 14495514624\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_available_workers{pool=\"server\",type=\"registre\"} 0\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_available_workers{pool=\"server\",type=\"acte-ocr\"} 1\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_usable_memory_bytes{pool=\"server\"} 17179869184\n") != std::string::npos);
  }

  TEST_CASE("autoscale and run series")
  {
    auto text = core::render_text_format(autoscale_samples("warmup", 3, 5, 4200));
    CHECK(text.find("scalectl_autoscale_current_replicas{policy=\"warmup\"} 3\n") != std::string::npos);
    CHECK(text.find("scalectl_autoscale_desired_replicas{policy=\"warmup\"} 5\n") != std::string::npos);
    CHECK(text.find("scalectl_autoscale_metric_value{policy=\"warmup\"} 4200\n") != std::string::npos);
    CHECK(core::render_text_format(autoscale_samples("p", 1, 1, std::nullopt)).find("metric_value") ==
          std::string::npos);
    text = core::render_text_format(run_samples("droplet up", 1700000000.5, 0, std::chrono::milliseconds(1500)));
    CHECK(text.find("scalectl_last_run_timestamp_seconds{command=\"droplet up\"} 1700000000.5\n") != std::string::npos);
    CHECK(text.find("scalectl_last_run_success{command=\"droplet up\"} 1\n") != std::string::npos);
    CHECK(text.find("scalectl_last_run_duration_seconds{command=\"droplet up\"} 1.5\n") != std::string::npos);
    CHECK(core::render_text_format(run_samples("x", 1, 4, {})).find("success{command=\"x\"} 1") != std::string::npos);
    CHECK(core::render_text_format(run_samples("x", 1, 3, {})).find("success{command=\"x\"} 0") != std::string::npos);
  }

  TEST_CASE("the textfile keeps earlier runs' groups and is world-readable")
  {
    test::ScratchDir dir;
    const auto file = dir.path() / "scalectl.prom";
    const auto old_umask = ::umask(077);
    auto warnings = update_textfile(file, {{"a", one("scalectl_last_run_success", "command", "a", 1)}}, 1,
                                    std::chrono::seconds(1));
    warnings = update_textfile(file, {{"b", one("scalectl_last_run_success", "command", "b", 0)}}, 2,
                               std::chrono::seconds(1));
    ::umask(old_umask);
    CHECK(warnings.empty());
    const auto text = slurp(file);
    CHECK(text.find("{command=\"a\"} 1") != std::string::npos);
    CHECK(text.find("{command=\"b\"} 0") != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      CHECK(entry.path().extension() != ".tmp");  // no temp file left behind
    }
  }

  TEST_CASE("a corrupt memory file is a warning and starts afresh")
  {
    test::ScratchDir dir;
    const auto file = dir.path() / "m.prom";
    dir.write("m.prom.json", "{not json");
    const auto warnings =
      update_textfile(file, {{"a", one("scalectl_droplet_vcpus", "droplet_id", "1", 2)}}, 1, std::chrono::seconds(1));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("not valid JSON") != std::string::npos);
    CHECK(slurp(file).find("scalectl_droplet_vcpus{droplet_id=\"1\"} 2") != std::string::npos);
  }

  TEST_CASE("concurrent writers lose no group")
  {
    test::ScratchDir dir;
    const auto file = dir.path() / "c.prom";
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&file, i] {
        for (int j = 0; j < 10; ++j) {
          const std::string command = "t" + std::to_string(i) + "-" + std::to_string(j);
          update_textfile(file, {{command, one("scalectl_last_run_success", "command", command, 1)}}, j,
                          std::chrono::seconds(30));
        }
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    const auto text = slurp(file);
    int lines = 0;
    for (std::size_t pos = 0; (pos = text.find("scalectl_last_run_success{", pos)) != std::string::npos; ++pos) {
      ++lines;
    }
    CHECK(lines == 80);
  }

  TEST_CASE("a missing directory is an error naming the path")
  {
    test::ScratchDir dir;
    CHECK_THROWS_WITH_AS(update_textfile(dir.path() / "nope" / "x.prom", {}, 1, std::chrono::seconds(1)),
                         doctest::Contains("nope"), Error);
  }

  TEST_CASE("a memory file over the size cap is refused, not read")
  {
    test::ScratchDir dir;
    const auto file = dir.path() / "big.prom";
    std::filesystem::resize_file(dir.write("big.prom.json", "{}"), k_max_metrics_memory_bytes + 1);
    CHECK_THROWS_WITH_AS(update_textfile(file, {}, 1, std::chrono::seconds(1)), doctest::Contains("larger than"),
                         Error);
    CHECK_FALSE(std::filesystem::exists(file));
  }

  TEST_CASE("a RAM-only worker type still fits with the CPU fully leased, as `capacity check` says")
  {
    const core::Resources usable{8000, 16384};
    state::Lease cpu_hog;
    cpu_hog.type = "cruncher";
    cpu_hog.resources = {8000, 2048};
    state::PoolSnapshot snapshot;
    snapshot.leases = {cpu_hog};
    snapshot.allocated = cpu_hog.resources;
    const core::WorkerType ram_only{"cache", {0, 2048}};
    const auto text = core::render_text_format(capacity_samples("server", snapshot, usable, {ram_only}));
    // What `capacity check` (core::check_fit over the pool's allocation) answers: 7 fit, 8 do not.
    CHECK(core::fit_count(usable - snapshot.allocated, ram_only.need) == 7);
    CHECK(core::check_fit(usable, snapshot.allocated, ram_only.need, 7).fits);
    CHECK_FALSE(core::check_fit(usable, snapshot.allocated, ram_only.need, 8).fits);
    CHECK(text.find("scalectl_capacity_available_cpu_cores{pool=\"server\"} 0\n") != std::string::npos);
    CHECK(text.find("scalectl_capacity_available_workers{pool=\"server\",type=\"cache\"} 7\n") != std::string::npos);
  }

  TEST_CASE("one sink, two runs from one process: the textfile is rewritten with both runs' series")
  {
    test::ScratchDir dir;
    test::FakeClock clock;
    TextfileOptions options;
    options.path = dir.path() / "loop.prom";
    MetricsTextfile sink(clock, options);

    sink.droplet(pdf_worker(7, "s-2vcpu-4gb", 4096, 2, 24));
    CHECK(sink.write_run("droplet up", 0, std::chrono::milliseconds(1500)).empty());
    CHECK(sink.pending().empty());
    const auto first = slurp(options.path);
    CHECK(first.find("scalectl_droplet_vcpus{droplet_id=\"7\"} 2\n") != std::string::npos);

    clock.advance(std::chrono::minutes(5));
    sink.autoscale("warmup", 2, 4, 900);
    CHECK(sink.write_run("autoscale apply", 3, std::chrono::milliseconds(250)).empty());
    const auto second = slurp(options.path);
    const double first_at = unix_seconds(clock.now() - std::chrono::minutes(5));
    CHECK(second.find("scalectl_droplet_vcpus{droplet_id=\"7\"} 2\n") != std::string::npos);
    CHECK(second.find("scalectl_autoscale_desired_replicas{policy=\"warmup\"} 4\n") != std::string::npos);
    CHECK(second.find("scalectl_last_run_success{command=\"droplet up\"} 1\n") != std::string::npos);
    CHECK(second.find("scalectl_last_run_success{command=\"autoscale apply\"} 0\n") != std::string::npos);
    CHECK(second.find(fmt::format("scalectl_last_run_timestamp_seconds{{command=\"droplet up\"}} {}\n", first_at)) !=
          std::string::npos);
    CHECK(second.find(fmt::format("scalectl_last_run_timestamp_seconds{{command=\"autoscale apply\"}} {}\n",
                                  first_at + 300)) != std::string::npos);
  }

  TEST_CASE("without a path the sink records but writes nothing")
  {
    test::FakeClock clock;
    MetricsTextfile sink(clock, {});
    sink.autoscale("p", 1, 1, std::nullopt);
    CHECK_FALSE(sink.enabled());
    CHECK(sink.write_run("autoscale apply", 0, {}).empty());
    CHECK(sink.pending().size() == 1);
  }
}
