#include <doctest/doctest.h>

#include <random>

#include <scalectl/core/capacity.hpp>

using namespace scalectl::core;

namespace {

std::vector<WorkerType> seed_types()
{
  return {{"registre", resources_from(3, 1), 10}, {"index-ocr", resources_from(1.5, 0.75), 5},
          {"acte-ocr", resources_from(1, 0.5), 5}};
}

std::int64_t count_of(const WorkerPlan& plan, const std::string& name)
{
  for (const auto& row : plan.rows) {
    if (row.type.name == name) {
      return row.count;
    }
  }
  FAIL("no row for " << name);
  return -1;
}

// Checks the plan adds up, fits, respects wants, and no type below its want can take one more.
void check_plan_invariants(const WorkerPlan& plan)
{
  Resources sum;
  std::int64_t workers = 0;
  for (const auto& row : plan.rows) {
    CHECK(row.total == row.type.need * row.count);
    CHECK(row.count >= 0);
    sum = sum + row.total;
    workers += row.count;
    if (row.want) {
      CHECK(row.count <= *row.want);
    }
  }
  CHECK(plan.used == sum);
  CHECK(plan.workers == workers);
  CHECK(plan.used.millicores <= plan.usable.millicores);
  CHECK(plan.used.mib <= plan.usable.mib);
  const Resources left = plan.usable - plan.used;
  for (const auto& row : plan.rows) {
    if (!row.want || row.count < *row.want) {
      CHECK_MESSAGE(!check_fit(plan.usable, plan.used, row.type.need).fits,
                    row.type.name << " could take one more; left " << format_vcpus(left.millicores) << " vCPUs, "
                                  << format_gb(left.mib) << " GB");
    }
  }
}

}  // namespace

TEST_SUITE("core.capacity")
{
  TEST_CASE("conversions are exact integers")
  {
    CHECK(resources_from(1.5, 0.75) == Resources{1500, 768});
    CHECK(resources_from(0.1, 0.5) == Resources{100, 512});
    CHECK(format_vcpus(1400) == "1.4");
    CHECK(format_vcpus(3000) == "3");
    CHECK(format_gb(768) == "0.75");
  }

  TEST_CASE("fit uses the seed's wording")
  {
    const auto usable = resources_from(6.4, 12.8);
    auto fit = check_fit(usable, resources_from(5, 1), resources_from(3, 1));
    CHECK_FALSE(fit.fits);
    CHECK(fit.reason == "Insufficient CPU (need 3, available 1.4)");
    fit = check_fit(usable, resources_from(3, 1), resources_from(3, 1));
    CHECK(fit.fits);
    CHECK(fit.reason.empty());
    fit = check_fit(resources_from(100, 2), resources_from(0, 1.5), resources_from(1, 0.75));
    CHECK(fit.reason == "Insufficient RAM (need 0.75GB, available 0.5GB)");
    fit = check_fit(usable, Resources{}, resources_from(3, 1), 3);
    CHECK(fit.reason == "Insufficient CPU (need 9, available 6.4)");
  }

  TEST_CASE("usable resources are rounded to the nearest millicore and MiB")
  {
    ServerLimits limits{resources_from(8, 16), 20, 20};
    const auto usable = usable_resources(limits);
    CHECK(usable.millicores == 6400);
    CHECK(usable.mib == 13107);  // 16384 * 0.8 = 13107.2
    CHECK(format_vcpus(usable.millicores) == "6.4");
    CHECK(format_gb(usable.mib) == "12.8");

    SUBCASE("the seed's four servers")
    {
      CHECK(format_vcpus(usable_resources({resources_from(4, 8), 20, 20}).millicores) == "3.2");
      CHECK(format_gb(usable_resources({resources_from(4, 8), 20, 20}).mib) == "6.4");
      CHECK(format_vcpus(usable_resources({resources_from(16, 32), 20, 20}).millicores) == "12.8");
      CHECK(format_gb(usable_resources({resources_from(16, 32), 20, 20}).mib) == "25.6");
      CHECK(format_vcpus(usable_resources({resources_from(32, 64), 20, 20}).millicores) == "25.6");
      CHECK(format_gb(usable_resources({resources_from(32, 64), 20, 20}).mib) == "51.2");
    }
    SUBCASE("no reserve and fractional percents")
    {
      CHECK(usable_resources({Resources{3000, 1000}, 0, 0}) == Resources{3000, 1000});
      CHECK(usable_resources({Resources{1000, 1000}, 12.5, 33.33}) == Resources{875, 667});  // 666.7
      CHECK(usable_resources({Resources{1, 1}, 99.99, 50}) == Resources{0, 1});                // 0.0001, 0.5
      CHECK(usable_resources({resources_from(4, 8), 20, 20}).mib == 6554);                     // 6553.6
    }
    SUBCASE("huge totals do not overflow")
    {
      const std::int64_t big = std::int64_t{1} << 60;
      CHECK(usable_resources({Resources{big, big}, 50, 0}) == Resources{big / 2, big});
    }
  }

  TEST_CASE("limits are validated")
  {
    CHECK(validate_limits({resources_from(8, 16), 20, 20}).empty());
    CHECK(validate_limits({resources_from(0, 16), 20, 20}) == "max_cpu must be more than 0 vCPUs");
    CHECK(validate_limits({resources_from(8, 0), 20, 20}) == "max_ram_gb must be more than 0 GB");
    CHECK(validate_limits({resources_from(8, 16), 100, 20}).starts_with("reserved_cpu_percent must be"));
    CHECK(validate_limits({resources_from(8, 16), 20, -1}).starts_with("reserved_ram_percent must be"));
  }

  TEST_CASE("MemTotal is read from /proc/meminfo text")
  {
    CHECK(meminfo_total_mib("MemTotal:       16380720 kB\nMemFree:  1 kB\n") == 15996);
    CHECK(meminfo_total_mib("MemFree:  1 kB\nMemTotal: 2048 kB") == 2);
    CHECK_FALSE(meminfo_total_mib("MemFree:  1 kB\n"));
    CHECK_FALSE(meminfo_total_mib("MemTotal: lots\n"));
    CHECK_FALSE(meminfo_total_mib("MemTotal: 2048 MB\n"));
    CHECK_FALSE(meminfo_total_mib(""));
  }

  TEST_CASE("percent rounds half up")
  {
    CHECK(percent_of(12000, 12800) == 94);  // 93.75
    CHECK(percent_of(3000, 3200) == 94);
    CHECK(percent_of(5120, 26214) == 20);   // 19.53
    CHECK(percent_of(1, 200) == 1);          // 0.5
    CHECK(percent_of(0, 100) == 0);
    CHECK(percent_of(7, 0) == 0);
    CHECK(percent_of(6500, 6400) == 102);
  }

  TEST_CASE("worker types are validated and found by name")
  {
    const auto types = seed_types();
    for (const auto& t : types) {
      CHECK(validate_worker_type(t).empty());
    }
    CHECK(find_worker_type(types, "index-ocr") == &types[1]);
    CHECK(find_worker_type(types, "nope") == nullptr);
    CHECK(validate_worker_type({"z", Resources{0, 0}, 5}).find("needs no CPU and no RAM") != std::string::npos);
    CHECK(validate_worker_type({"n", Resources{-1, 5}, 5}).find("negative") != std::string::npos);
    CHECK(validate_worker_type({"p", Resources{1, 0}, 11}).find("priority 11") != std::string::npos);
    CHECK(validate_worker_type({"ram-only", Resources{0, 512}, 1}).empty());
  }

  TEST_CASE("fit_count")
  {
    CHECK(fit_count(resources_from(6.4, 12.8), resources_from(3, 1)) == 2);
    CHECK(fit_count(resources_from(6.4, 1.5), resources_from(1, 0.5)) == 3);
    CHECK(fit_count(Resources{-5, 100}, Resources{1, 1}) == 0);
    CHECK(fit_count(Resources{1000, 0}, Resources{0, 1}) == 0);
    CHECK(fit_count(Resources{1000, 10}, Resources{0, 1}) == 10);
  }

  TEST_CASE("plan for the seed's four servers")
  {
    const auto types = seed_types();
    const auto plan_for = [&](double cpu, double ram, WorkerPlanStrategy strategy) {
      return plan_workers(usable_resources({resources_from(cpu, ram), 20, 20}), types, {}, strategy);
    };

    SUBCASE("balanced gives the seed's small and medium mixes, and full ones for the larger")
    {
      auto plan = plan_for(4, 8, WorkerPlanStrategy::balanced);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 1);
      CHECK(count_of(plan, "index-ocr") == 0);
      CHECK(count_of(plan, "acte-ocr") == 0);

      plan = plan_for(8, 16, WorkerPlanStrategy::balanced);  // the seed's "Adjusted Configuration"
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 1);
      CHECK(count_of(plan, "index-ocr") == 1);
      CHECK(count_of(plan, "acte-ocr") == 1);
      CHECK(format_vcpus(plan.used.millicores) == "5.5");
      CHECK(format_gb(plan.used.mib) == "2.25");

      plan = plan_for(16, 32, WorkerPlanStrategy::balanced);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 2);
      CHECK(count_of(plan, "index-ocr") == 3);
      CHECK(count_of(plan, "acte-ocr") == 2);
      CHECK(format_vcpus(plan.used.millicores) == "12.5");

      plan = plan_for(32, 64, WorkerPlanStrategy::balanced);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 5);
      CHECK(count_of(plan, "index-ocr") == 4);
      CHECK(count_of(plan, "acte-ocr") == 4);
      CHECK(format_vcpus(plan.used.millicores) == "25");
      CHECK(format_gb(plan.used.mib) == "10");
    }

    SUBCASE("priority fills the most important type first")
    {
      auto plan = plan_for(8, 16, WorkerPlanStrategy::priority);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 2);
      CHECK(count_of(plan, "index-ocr") == 0);
      CHECK(count_of(plan, "acte-ocr") == 0);
      plan = plan_for(32, 64, WorkerPlanStrategy::priority);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 8);
      CHECK(count_of(plan, "index-ocr") == 1);  // 1.6 vCPUs were left after 8 registre
      CHECK(count_of(plan, "acte-ocr") == 0);
    }

    SUBCASE("rows are in priority order, ties in config order")
    {
      const auto plan = plan_for(16, 32, WorkerPlanStrategy::balanced);
      REQUIRE(plan.rows.size() == 3);
      CHECK(plan.rows[0].type.name == "registre");
      CHECK(plan.rows[1].type.name == "index-ocr");
      CHECK(plan.rows[2].type.name == "acte-ocr");
      auto reordered = types;
      std::swap(reordered[1], reordered[2]);
      const auto other = plan_workers(plan.usable, reordered, {}, WorkerPlanStrategy::balanced);
      CHECK(other.rows[1].type.name == "acte-ocr");
      CHECK(other.rows[1].count == 3);  // the tie now goes to acte-ocr first
      check_plan_invariants(other);
    }
  }

  TEST_CASE("wants cap types and free room for the others")
  {
    const auto types = seed_types();
    const auto usable = usable_resources({resources_from(32, 64), 20, 20});
    for (const auto strategy : {WorkerPlanStrategy::balanced, WorkerPlanStrategy::priority}) {
      auto plan = plan_workers(usable, types, {{"registre", 4}, {"index-ocr", 5}}, strategy);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 4);
      CHECK(count_of(plan, "index-ocr") == 5);
      CHECK(count_of(plan, "acte-ocr") == 6);  // 25.6 - 12 - 7.5 = 6.1 vCPUs left
      plan = plan_workers(usable, types, {{"registre", 0}}, strategy);
      check_plan_invariants(plan);
      CHECK(count_of(plan, "registre") == 0);
      plan = plan_workers(usable, types, {{"registre", 0}, {"index-ocr", 0}, {"acte-ocr", 0}}, strategy);
      check_plan_invariants(plan);
      CHECK(plan.workers == 0);
      CHECK(plan.used == Resources{});
    }
  }

  TEST_CASE("every plan fits and is maximal over many random servers, types and wants")
  {
    std::mt19937_64 rng(20240611);
    std::uniform_int_distribution<std::int64_t> cpu(0, 200'000);
    std::uniform_int_distribution<std::int64_t> ram(0, 400'000);
    std::uniform_int_distribution<std::int64_t> need_cpu(0, 8'000);
    std::uniform_int_distribution<std::int64_t> need_ram(0, 16'384);
    std::uniform_int_distribution<int> type_count(1, 6);
    std::uniform_int_distribution<std::int64_t> priority(1, 10);
    std::uniform_int_distribution<int> percent(0, 60);
    std::uniform_int_distribution<std::int64_t> want(0, 12);
    std::bernoulli_distribution coin(0.3);
    for (int i = 0; i < 3'000; ++i) {
      std::vector<WorkerType> types;
      const int n = i < 1'000 ? 3 : type_count(rng);
      for (int t = 0; t < n; ++t) {
        WorkerType type;
        type.name = "t" + std::to_string(t);
        type.need = i < 1'000 ? seed_types()[static_cast<std::size_t>(t)].need : Resources{need_cpu(rng), need_ram(rng)};
        if (type.need == Resources{}) {
          type.need.millicores = 1;
        }
        type.priority = i < 1'000 ? seed_types()[static_cast<std::size_t>(t)].priority : priority(rng);
        types.push_back(type);
      }
      std::map<std::string, std::int64_t> wants;
      for (const auto& type : types) {
        if (coin(rng)) {
          wants[type.name] = want(rng);
        }
      }
      const auto usable =
        usable_resources({Resources{cpu(rng), ram(rng)}, static_cast<double>(percent(rng)), static_cast<double>(percent(rng))});
      for (const auto strategy : {WorkerPlanStrategy::balanced, WorkerPlanStrategy::priority}) {
        const auto plan = plan_workers(usable, types, wants, strategy);
        check_plan_invariants(plan);
        for (std::size_t r = 1; r < plan.rows.size(); ++r) {
          CHECK(plan.rows[r - 1].type.priority >= plan.rows[r].type.priority);
        }
      }
    }
  }

  TEST_CASE("balanced plans with tiny workers on a huge server stay fast and exact")
  {
    const std::vector<WorkerType> types{{"tiny", Resources{1, 0}, 5}, {"small", Resources{3, 1}, 5}};
    const auto plan = plan_workers(Resources{10'000'000, 10'000'000}, types, {}, WorkerPlanStrategy::balanced);
    check_plan_invariants(plan);
    CHECK(plan.rows[0].count == 2'500'000);
    CHECK(plan.rows[1].count == 2'500'000);
  }
}
