// The droplet resize driver against an in-memory API and store: the failure paths the
// end-to-end tests cannot reach deterministically.

#include <doctest/doctest.h>

#include <csignal>
#include <deque>
#include <string>
#include <vector>

#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/droplet.hpp>
#include <scalectl/ops/droplet_claims.hpp>
#include <scalectl/report.hpp>

#include "ops/record_write.hpp"
#include "support/fake_api.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_processes.hpp"
#include "support/fake_store.hpp"
#include "support/recording_reporter.hpp"

using namespace scalectl;

namespace {

struct Rig {
  test::FakeApi api;
  test::FakeStore store;
  test::FakeClock clock;
  test::FakeProcesses processes;
  test::RecordingReporter reporter;

  ops::DropletDeps deps()
  {
    return ops::DropletDeps{api, [this]() -> state::Store& { return store; }, clock, reporter, processes,
                            state::LockOwner{42, "host", "user", "scalectl droplet up", 0}};
  }
};

ops::ResizeOptions up_options()
{
  ops::ResizeOptions options;
  options.direction = "up";
  options.target_size = "s-8vcpu-16gb";
  options.allow_self = true;
  return options;
}

std::string operation_result(test::FakeStore& store)
{
  const auto rec = ops::DropletRecord::from_json(store.records.at(ops::droplet_record_key(123)));
  REQUIRE(rec.operation);
  return rec.operation->result;
}

}  // namespace

TEST_SUITE("ops.droplet_resize")
{
  TEST_CASE("outcomes of a resize, one row per path")
  {
    struct Row {
      const char* name;
      std::function<void(Rig&)> arrange;
      std::string result;                  // the report's result ("" when it throws)
      ExitCode code;                       // the error's code when it throws
      std::string message_has;             // a phrase of the error
      std::vector<std::string> submitted;  // actions submitted, in order
      std::string recorded;                // the record's operation result ("" for no record)
    };
    const std::vector<Row> rows = {
      {"active at the other size: resized", [](Rig&) {}, "changed", ExitCode::ok, "",
       {"shutdown", "resize", "power_on"}, "ok"},
      {"already at the target: nothing submitted",
       [](Rig& r) {
         r.api.droplet.size_slug = "s-8vcpu-16gb";
       },
       "noop", ExitCode::ok, "", {}, ""},
      {"one 422 pending event on the resize: looks again and resizes",
       [](Rig& r) { r.api.answers["resize"] = {422}; }, "changed", ExitCode::ok, "",
       {"shutdown", "resize", "power_on"}, "ok"},
      {"two 422 answers to the resize from an off droplet: refused, power restored",
       [](Rig& r) { r.api.answers["resize"] = {422, 422}; }, "", ExitCode::failure, "refused the resize",
       {"shutdown", "power_on"}, "failed"},
      {"the resize action errors: power restored, failure reported",
       [](Rig& r) { r.api.failing_types = {"resize"}; }, "", ExitCode::failure, "errored",
       {"shutdown", "resize", "power_on"}, "failed"},
      {"the lock is lost: stops before submitting anything",
       [](Rig& r) { r.store.lose_locks = true; }, "", ExitCode::failure, "lost the operation lock", {}, "failed"},
      {"interrupted while waiting: interrupted with a resume hint",
       [](Rig& r) {
         r.api.on_poll = [](const digitalocean::Action& a) {
           if (a.type == "resize") {
             throw Interrupted("interrupted while waiting");
           }
         };
       },
       "", ExitCode::interrupted, "rerun `scalectl droplet up` to resume", {"shutdown", "resize"}, "interrupted"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      Rig rig;
      row.arrange(rig);
      auto deps = rig.deps();
      if (row.code == ExitCode::ok) {
        const auto report = ops::resize_droplet(deps, 123, up_options());
        CHECK(ops::to_string(report.result) == row.result);
        if (row.result == "changed") {
          CHECK(rig.api.droplet.size_slug == "s-8vcpu-16gb");
          CHECK(rig.api.droplet.status == "active");
          CHECK(rig.store.logs[ops::k_droplet_resizes_log].size() == 1);
        }
      } else {
        try {
          ops::resize_droplet(deps, 123, up_options());
          FAIL("expected an error");
        } catch (const std::exception& e) {
          CHECK(exit_code_of(e) == row.code);
          CHECK(std::string(e.what()).find(row.message_has) != std::string::npos);
        }
        CHECK(rig.api.droplet.status == (row.code == ExitCode::interrupted ? "off" : "active"));
      }
      CHECK(rig.api.submitted == row.submitted);
      if (row.recorded.empty()) {
        CHECK(rig.store.records.empty());
      } else {
        CHECK(operation_result(rig.store) == row.recorded);
      }
    }
  }

  TEST_CASE("a refused size is recognised by the answer's status and error id, never by its words")
  {
    const std::string words = "Size is too large to fit on your droplet's server.";
    struct Row {
      const char* name;
      std::deque<int> answers;  // the API's answers to the resize submissions
      std::string message;      // the API's message text
      bool refused;
      const char* last_action;  // the last action submitted, which the error names
    };
    const std::vector<Row> rows = {
      // Refused: the driver powers the droplet back on at its old size before it gives up.
      {"422 unprocessable_entity twice, the usual words", {422, 422}, words, true, "action 1001 (power_on)"},
      {"422 unprocessable_entity twice, other words", {422, 422}, "The request could not be processed.", true,
       "action 1001 (power_on)"},
      {"500 server_error with a refusal's words", {500}, words, false, "action 1000 (shutdown)"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      Rig rig;
      rig.api.answers["resize"] = row.answers;
      rig.api.answer_message = row.message;
      auto deps = rig.deps();
      try {
        ops::resize_droplet(deps, 123, up_options());
        FAIL("expected an error");
      } catch (const Error& e) {
        CHECK(ops::size_refused(e) == row.refused);
        if (const auto* refused = dynamic_cast<const ops::ResizeRefused*>(&e); refused != nullptr) {
          CHECK(refused->status() == 422);
          CHECK(refused->api_id() == "unprocessable_entity");
          CHECK(refused->size() == "s-8vcpu-16gb");
        }
        CHECK(std::string(e.what()).find(row.message) != std::string::npos);
        CHECK(std::string(e.what()).find(std::string(row.last_action) + " had been submitted") != std::string::npos);
      }
    }
    // Any other failure, whatever it says, is not a refusal.
    CHECK_FALSE(ops::size_refused(Error(words + " (size not available; unavailable; is not supported)")));
    CHECK_FALSE(ops::size_refused(ops::ResizeRefused(500, "server_error", "s-8vcpu-16gb", words)));
  }

  TEST_CASE("a record write failing after an action was submitted: finishes and names the action")
  {
    Rig rig;
    rig.api.on_poll = [&rig](const digitalocean::Action& a) {
      if (a.type == "shutdown") {
        rig.store.fail_writes = true;  // the disk fills up once the shutdown was accepted
      }
    };
    auto deps = rig.deps();
    const auto report = ops::resize_droplet(deps, 123, up_options());
    CHECK(ops::to_string(report.result) == "changed");
    CHECK(rig.api.droplet.size_slug == "s-8vcpu-16gb");
    CHECK(rig.api.droplet.status == "active");
    REQUIRE_FALSE(rig.reporter.warnings.empty());
    const auto& warning = rig.reporter.warnings.front();
    CHECK(warning.find("action 1001 (resize) was submitted") != std::string::npos);
    CHECK(warning.find("the record is missing") != std::string::npos);
  }

  TEST_CASE("the state store lost after an action was submitted: the error names it and says rerunning converges")
  {
    Rig rig;
    rig.api.on_poll = [&rig](const digitalocean::Action& a) {
      if (a.type == "shutdown") {
        rig.store.lose_locks = true;  // Redis went away: the lock can no longer be renewed
        rig.store.fail_writes = true;
      }
    };
    auto deps = rig.deps();
    try {
      ops::resize_droplet(deps, 123, up_options());
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string text = e.what();
      CHECK(e.code() == ExitCode::failure);
      CHECK(text.find("lost the operation lock") != std::string::npos);
      CHECK(text.find("action 1000 (shutdown) had been submitted to DigitalOcean") != std::string::npos);
      CHECK(text.find("rerunning `scalectl droplet up` converges") != std::string::npos);
    }
    CHECK(rig.api.submitted == std::vector<std::string>{"shutdown"});
  }

  TEST_CASE("name_submitted: names the last action once and says rerunning converges")
  {
    CHECK(ops::name_submitted("boom", {}, "rerunning x") == "boom");
    CHECK(ops::name_submitted("boom", {"action 1 (shutdown)", "action 2 (resize)"}, "rerunning x") ==
          "boom; action 2 (resize) had been submitted to DigitalOcean; rerunning x converges (it starts from what "
          "DigitalOcean reports)");
    CHECK(ops::name_submitted("waiting for action 2 (resize) timed out; rerunning x converges", {"action 2 (resize)"},
                              "rerunning x") == "waiting for action 2 (resize) timed out; rerunning x converges");
  }

  TEST_CASE("a record write failing before anything was submitted stops the command")
  {
    Rig rig;
    rig.store.fail_writes = true;
    rig.store.lose_locks = true;  // the first write is the failure record of the lost lock
    auto deps = rig.deps();
    CHECK_THROWS_AS(ops::resize_droplet(deps, 123, up_options()), Error);
    CHECK(rig.api.submitted.empty());
  }

  TEST_CASE("a dry run submits nothing and plans the three actions")
  {
    Rig rig;
    auto options = up_options();
    options.dry_run = true;
    auto deps = rig.deps();
    const auto report = ops::resize_droplet(deps, 123, options);
    CHECK(ops::to_string(report.result) == "dry_run");
    CHECK(report.planned.size() == 3);
    CHECK(rig.api.submitted.empty());
  }
}

TEST_SUITE("ops.droplet_reconcile")
{
  TEST_CASE("reconcile --every: API failures back off from twice `every` to a cap, a success resets it, a "
            "signal between cycles ends the loop")
  {
    using std::chrono::milliseconds;
    Rig rig;
    auto deps = rig.deps();
    ops::ReconcileOptions options;
    options.droplet = "123";
    options.up_size = "s-8vcpu-16gb";
    options.down_size = "s-2vcpu-4gb";  // the fake droplet's size: a good cycle is idle
    // GET /v2/droplets/123 answers 503 on calls 1-6 and 8; call 7 answers the droplet.
    std::vector<std::int64_t> starts;  // the monotonic ms of each cycle's GET
    rig.api.on_request_json = [&](std::string_view, const std::string& path) -> nlohmann::json {
      CHECK(path == "/v2/droplets/123");
      starts.push_back(std::chrono::duration_cast<milliseconds>(rig.clock.monotonic().time_since_epoch()).count());
      if (starts.size() != 7) {
        throw digitalocean::ApiError(503, "service_unavailable", "try later", "req-1",
                                     "DigitalOcean API GET /v2/droplets/123 answered 503 service_unavailable");
      }
      return {{"droplet",
               {{"id", 123}, {"name", "batch"}, {"status", "active"}, {"locked", false},
                {"size_slug", "s-2vcpu-4gb"}, {"memory", 4096}, {"disk", 80}}}};
    };
    std::vector<std::string> errors;
    std::vector<std::string> results;
    ops::reconcile_every(
      deps, options, std::chrono::seconds(10),
      [&](const ops::ReconcileCycle& cycle) {
        REQUIRE(cycle.droplets.size() == 1);
        results.push_back(cycle.droplets[0].result);
      },
      [&](const std::string& error) {
        errors.push_back(error);
        if (errors.size() == 7) {
          std::raise(SIGTERM);  // handled by the loop's handlers: it ends before the next cycle
        }
      });
    const bool was_interrupted = interrupted();
    reset_interrupted();
    CHECK(was_interrupted);
    CHECK(results == std::vector<std::string>{"idle"});
    REQUIRE(starts.size() == 8);
    REQUIRE(errors.size() == 7);
    // The pause after failure n is every * 2^n (at most 2^5) capped at max(every, 5 min), plus
    // up to a tenth of it as jitter; after the success it is `every` again.
    const std::vector<std::int64_t> pauses = {20'000, 40'000, 80'000, 160'000, 300'000, 300'000, 10'000};
    for (std::size_t i = 0; i < pauses.size(); ++i) {
      CAPTURE(i);
      const auto gap = starts[i + 1] - starts[i];
      CHECK(gap >= pauses[i]);
      CHECK(gap <= pauses[i] + pauses[i] / 10 + 200);  // + one 200 ms sleep step
    }
    CHECK(errors[0].find("answered 503 service_unavailable; retrying in 20s") != std::string::npos);
    CHECK(errors[4].find("retrying in 5m") != std::string::npos);
    CHECK(errors[6].find("retrying in 20s") != std::string::npos);  // the success reset the count
    CHECK(rig.api.submitted.empty());
  }
}
