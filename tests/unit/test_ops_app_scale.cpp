// The app-scale driver against an in-memory App Platform and store: the failure paths the
// end-to-end tests cannot reach deterministically.

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/app.hpp>
#include <scalectl/report.hpp>

#include "support/fake_app_api.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_store.hpp"
#include "support/recording_reporter.hpp"

using namespace scalectl;

namespace {

struct AppRig {
  test::FakeAppApi api;
  test::FakeStore store;
  test::FakeClock clock;
  test::RecordingReporter reporter;

  ops::AppDeps deps()
  {
    return ops::AppDeps{api, [this]() -> state::Store& { return store; }, clock, reporter,
                        state::LockOwner{42, "host", "user", "scalectl app scale", 0}};
  }
};

ops::AppScaleOptions three_instances()
{
  ops::AppScaleOptions options;
  options.component = "web";
  options.request.count = 3;
  options.timeout = std::chrono::minutes(5);
  return options;
}

std::string recorded_result(test::FakeStore& store)
{
  const auto it = store.records.find(ops::app_record_key(test::FakeAppApi::k_app_id));
  if (it == store.records.end()) {
    return "";
  }
  return it->second.at("operation").value("result", "");
}

std::int64_t sent_count(const test::FakeAppApi& api)
{
  return api.puts.empty() ? 0 : api.puts.back().at("services").at(0).value("instance_count", std::int64_t{0});
}

}  // namespace

TEST_SUITE("ops.app_scale")
{
  TEST_CASE("outcomes of an app scale, one row per path")
  {
    struct Row {
      const char* name;
      std::function<void(AppRig&, ops::AppScaleOptions&)> arrange;
      std::string result;         // the report's result ("" when it throws)
      ExitCode code;              // the error's code when it throws
      std::string message_has;    // a phrase of the error
      std::size_t puts;           // specs sent
      std::string recorded;       // the record's operation result ("" for no record)
    };
    const std::vector<Row> rows = {
      {"a new count: one spec sent, deployment live", [](AppRig&, ops::AppScaleOptions&) {}, "changed", ExitCode::ok,
       "", 1, "ok"},
      {"already at the target: nothing sent, no record",
       [](AppRig& r, ops::AppScaleOptions&) { r.api.spec["services"][0]["instance_count"] = 3; },
       "noop", ExitCode::ok, "", 0, ""},
      {"already at the target with a deployment running: waits for it",
       [](AppRig& r, ops::AppScaleOptions&) {
         r.api.spec["services"][0]["instance_count"] = 3;
         r.api.start_deployment("dep-other");
       },
       "noop", ExitCode::ok, "", 0, ""},
      {"a dry run sends nothing", [](AppRig&, ops::AppScaleOptions& o) { o.dry_run = true; }, "dry_run",
       ExitCode::ok, "", 0, ""},
      {"--no-wait: submitted, record open",
       [](AppRig&, ops::AppScaleOptions& o) { o.no_wait = true; }, "submitted", ExitCode::ok, "", 1, "submitted"},
      {"one 422 (a deployment pending): waits for it, plans again and sends",
       [](AppRig& r, ops::AppScaleOptions&) {
         r.api.put_answers = {422};
         r.api.start_deployment("dep-other");
       },
       "changed", ExitCode::ok, "", 1, "ok"},
      {"two 422 answers: the second is the API's answer",
       [](AppRig& r, ops::AppScaleOptions&) {
         r.api.put_answers = {422, 422};
         r.api.start_deployment("dep-other");
       },
       "", ExitCode::failure, "422 unprocessable_entity", 0, "failed"},
      {"a 422 with no deployment to wait for: refused, nothing sent",
       [](AppRig& r, ops::AppScaleOptions&) { r.api.put_answers = {422}; }, "", ExitCode::failure,
       "App Platform refused the new spec", 0, "failed"},
      {"an unknown component: usage error before the lock's record",
       [](AppRig&, ops::AppScaleOptions& o) { o.component = "nope"; }, "", ExitCode::usage, "nope", 0, ""},
      {"the deployment ends ERROR: names the failed step",
       [](AppRig& r, ops::AppScaleOptions&) { r.api.end_phase = "ERROR"; }, "", ExitCode::failure,
       "ended ERROR at step deploy > web", 1, "failed"},
      {"the deployment never finishes: timeout with a resume hint",
       [](AppRig& r, ops::AppScaleOptions&) { r.api.end_phase = ""; }, "", ExitCode::timeout,
       "waits for it without sending the spec again", 1, "timeout"},
      {"no new deployment visible after the PUT: the error names the spec update",
       [](AppRig& r, ops::AppScaleOptions&) { r.api.show_new_deployment = false; }, "", ExitCode::failure,
       "shows no new deployment", 1, "failed"},
      {"the lock is lost mid-wait: stops naming the deployment",
       [](AppRig& r, ops::AppScaleOptions&) {
         r.api.end_phase = "";
         r.api.on_poll = [&r](const test::FakeAppApi::FakeDeployment&) { r.store.lose_locks = true; };
       },
       "", ExitCode::failure, "lost the operation lock of app", 1, "failed"},
      {"interrupted while waiting: says where the deployment was and how to resume",
       [](AppRig& r, ops::AppScaleOptions&) {
         r.api.on_poll = [](const test::FakeAppApi::FakeDeployment&) {
           throw Interrupted("interrupted (SIGINT) while waiting");
         };
       },
       "", ExitCode::interrupted, "deployment dep-1 was PENDING_BUILD", 1, "interrupted"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      AppRig rig;
      auto options = three_instances();
      row.arrange(rig, options);
      auto deps = rig.deps();
      if (row.code == ExitCode::ok) {
        const auto report = ops::scale_app(deps, test::FakeAppApi::k_app_id, options);
        CHECK(ops::to_string(report.result) == row.result);
        if (row.result == "changed") {
          CHECK(report.deployment->phase == "ACTIVE");
          CHECK(rig.api.active == report.deployment->id);
        }
      } else {
        try {
          ops::scale_app(deps, test::FakeAppApi::k_app_id, options);
          FAIL("expected an error");
        } catch (const std::exception& e) {
          CHECK(exit_code_of(e) == row.code);
          CHECK(std::string(e.what()).find(row.message_has) != std::string::npos);
        }
      }
      CHECK(rig.api.puts.size() == row.puts);
      if (row.puts > 0) {
        CHECK(sent_count(rig.api) == 3);
      }
      CHECK(recorded_result(rig.store) == row.recorded);
    }
  }

  TEST_CASE("the 422 is classified by status and id, not by its message")
  {
    AppRig rig;
    rig.api.put_answers = {422};
    rig.api.start_deployment("dep-other");
    auto deps = rig.deps();
    const auto report = ops::scale_app(deps, test::FakeAppApi::k_app_id, three_instances());
    CHECK(ops::to_string(report.result) == "changed");
    CHECK(rig.api.deployments.at("dep-other").phase == "ACTIVE");  // waited for before sending again
  }

  TEST_CASE("a record write failing after the spec was sent: finishes and names the deployment")
  {
    AppRig rig;
    rig.api.on_poll = [&rig](const test::FakeAppApi::FakeDeployment&) {
      rig.store.fail_writes = true;  // the disk fills up once the deployment was accepted
    };
    auto deps = rig.deps();
    const auto report = ops::scale_app(deps, test::FakeAppApi::k_app_id, three_instances());
    CHECK(ops::to_string(report.result) == "changed");
    CHECK(report.deployment->phase == "ACTIVE");
    REQUIRE_FALSE(rig.reporter.warnings.empty());
    const auto& warning = rig.reporter.warnings.front();
    CHECK(warning.find("deployment dep-1") != std::string::npos);
    CHECK(warning.find("was submitted to DigitalOcean") != std::string::npos);
    CHECK(warning.find("the record is missing") != std::string::npos);
    CHECK(recorded_result(rig.store) == "running");  // the last write that succeeded
  }

  TEST_CASE("a record write failing before anything was sent stops the command")
  {
    AppRig rig;
    rig.store.fail_writes = true;
    auto deps = rig.deps();
    CHECK_THROWS_AS(ops::scale_app(deps, test::FakeAppApi::k_app_id, three_instances()), Error);
    CHECK(rig.api.puts.empty());
  }

  TEST_CASE("the state store lost after the spec was sent: the error names the deployment")
  {
    AppRig rig;
    rig.api.show_new_deployment = true;
    rig.api.end_phase = "";
    rig.api.on_poll = [&rig](const test::FakeAppApi::FakeDeployment&) {
      rig.store.lose_locks = true;
      rig.store.fail_writes = true;
    };
    auto deps = rig.deps();
    try {
      ops::scale_app(deps, test::FakeAppApi::k_app_id, three_instances());
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string text = e.what();
      CHECK(e.code() == ExitCode::failure);
      CHECK(text.find("lost the operation lock") != std::string::npos);
      CHECK(text.find("dep-1") != std::string::npos);
    }
    CHECK(rig.api.puts.size() == 1);
  }
}
