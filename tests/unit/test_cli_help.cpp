#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/help.hpp"
#include "cli/tree.hpp"

using namespace scalectl::cli;

TEST_SUITE("cli.help")
{
  TEST_CASE("every help example parses against the real command tree")
  {
    for (const auto& verb : verb_help()) {
      REQUIRE(!verb.examples.empty());
      CHECK(verb.examples.size() <= 3);
      for (std::string example : verb.examples) {
        CAPTURE(example);
        if (const auto redirect = example.find(" > "); redirect != std::string::npos) {
          example.resize(redirect);
        }
        char arg0[] = "scalectl";
        char* argv[] = {arg0, nullptr};
        Context ctx(1, argv);
        CLI::App app;
        build_cli(app, ctx);
        CHECK_NOTHROW(app.parse(example, true));
        std::string path;
        for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
          sub = sub->get_subcommands().front();
          path += (path.empty() ? "" : " ") + sub->get_name();
        }
        CHECK(path == verb.path);
      }
    }
  }

  TEST_CASE("mistyped words get one line with did-you-mean")
  {
    char arg0[] = "scalectl";
    char* argv0[] = {arg0, nullptr};
    Context ctx(1, argv0);
    CLI::App app;
    build_cli(app, ctx);
    const char* typo[] = {"scalectl", "dropelt", "status"};
    CHECK(explain_bad_words(app, 3, typo).value_or("") ==
          "scalectl has no subcommand 'dropelt' (did you mean 'droplet'?); run `scalectl --help` for usage");
    const char* fine[] = {"scalectl", "droplet", "--droplet", "status", "status"};
    CHECK(!explain_bad_words(app, 5, fine).has_value());
    const char* token[] = {"scalectl", "-t", "abc"};
    CHECK(explain_bad_words(app, 3, token).value_or("").starts_with("scalectl takes no token"));
  }
}
