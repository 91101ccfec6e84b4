// Interruption is one mechanism: a signal becomes Interrupted, which no Error handler swallows and
// which maps to exit 130.

#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>

using namespace scalectl;

TEST_SUITE("util.interrupt")
{
  TEST_CASE("a received signal throws Interrupted naming the step, and nothing before it")
  {
    install_interrupt_handlers();
    CHECK_NOTHROW(throw_if_interrupted("waiting"));
    std::raise(SIGTERM);
    CHECK(interrupted());
    try {
      throw_if_interrupted("waiting for a lock");
      FAIL("expected Interrupted");
    } catch (const Interrupted& e) {
      CHECK(std::string(e.what()) == "terminated (SIGTERM) while waiting for a lock");
    }
    reset_interrupted();
    CHECK_FALSE(interrupted());
  }

  TEST_CASE("an Error handler does not catch it; the outer handler does")
  {
    bool error_handler_ran = false;
    bool interrupted_handler_ran = false;
    try {
      try {
        throw Interrupted("interrupted (SIGINT) while waiting");
      } catch (const Error&) {
        error_handler_ran = true;  // a retry loop or a soft failure would swallow it here
      }
    } catch (const Interrupted&) {
      interrupted_handler_ran = true;
    }
    CHECK_FALSE(error_handler_ran);
    CHECK(interrupted_handler_ran);
  }

  TEST_CASE("exit codes: Error keeps its code, Interrupted is 130, anything else is a failure")
  {
    CHECK(exit_code_of(Error(ExitCode::timeout, "t")) == ExitCode::timeout);
    CHECK(exit_code_of(Interrupted("i")) == ExitCode::interrupted);
    CHECK(to_int(exit_code_of(Interrupted("i"))) == 130);
    CHECK(exit_code_of(std::runtime_error("r")) == ExitCode::failure);
  }

  TEST_CASE("with_context keeps the interruption and appends where it stopped")
  {
    const Interrupted e("interrupted (SIGINT) while waiting");
    const auto more = e.with_context("droplet 1 is off at s-1vcpu-1gb; rerun `scalectl droplet up` to resume");
    CHECK(std::string(more.what()) ==
          "interrupted (SIGINT) while waiting; droplet 1 is off at s-1vcpu-1gb; rerun `scalectl droplet up` to resume");
  }
}
