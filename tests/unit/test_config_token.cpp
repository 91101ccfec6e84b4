#include <doctest/doctest.h>

#include <sys/stat.h>

#include <scalectl/config/config.hpp>

#include "config_fixture.hpp"

using namespace scalectl;
using namespace scalectl::config;
using scalectl::test::error_of;
using scalectl::test::hermetic_options;
using scalectl::test::ScratchDir;

namespace {

constexpr std::filesystem::perms k_private{0600};

// Sets up every place a token can come from, each with its own value, so removing them one
// at a time shows the order.
struct AllSources {
  ScratchDir dir;
  std::map<std::string, std::string> env;

  AllSources()
  {
    env["DIGITALOCEAN_ACCESS_TOKEN"] = "tok-access";
    env["DIGITALOCEAN_TOKEN"] = "tok-plain";
    env["CREDENTIALS_DIRECTORY"] = (dir.path() / "creds").string();
    dir.write("creds/digitalocean-token", "tok-credential\n", std::filesystem::perms(0400));
    const auto token_file = dir.write("secrets/do-token", "  tok-file\n\n", k_private);
    dir.write("etc/scalectl/config.toml",
              "[digitalocean]\ntoken = \"tok-config\"\ntoken_file = \"" + token_file.string() + "\"\n", k_private);
    dir.write("home/.config/doctl/config.yaml",
              "auth-contexts:\n  work: tok-other-context\naccess-token: tok-doctl\ncontext: default\n");
  }

  Token resolve() const
  {
    const LoadOptions options = hermetic_options(dir, env);
    return resolve_token(load(options), options);
  }
};

}  // namespace

TEST_SUITE("config.token")
{
  TEST_CASE("resolution order: env, env, credential, config, token_file, doctl")
  {
    AllSources sources;
    Token token = sources.resolve();
    CHECK(token.value == "tok-access");
    CHECK(token.source == "env DIGITALOCEAN_ACCESS_TOKEN");

    sources.env.erase("DIGITALOCEAN_ACCESS_TOKEN");
    token = sources.resolve();
    CHECK(token.value == "tok-plain");
    CHECK(token.source == "env DIGITALOCEAN_TOKEN");

    sources.env.erase("DIGITALOCEAN_TOKEN");
    token = sources.resolve();
    CHECK(token.value == "tok-credential");
    CHECK(token.source == "credential " + (sources.dir.path() / "creds/digitalocean-token").string());

    sources.env.erase("CREDENTIALS_DIRECTORY");
    token = sources.resolve();
    CHECK(token.value == "tok-config");
    CHECK(token.source ==
          "digitalocean.token (" + (sources.dir.path() / "etc/scalectl/config.toml").string() + ":2)");

    const auto token_file = (sources.dir.path() / "secrets/do-token").string();
    sources.dir.write("etc/scalectl/config.toml", "digitalocean.token_file = \"" + token_file + "\"\n");
    token = sources.resolve();
    CHECK(token.value == "tok-file");
    CHECK(token.source == "token_file " + token_file);

    std::filesystem::remove(sources.dir.path() / "etc/scalectl/config.toml");
    token = sources.resolve();
    CHECK(token.value == "tok-doctl");
    CHECK(token.source == "doctl config " + (sources.dir.path() / "home/.config/doctl/config.yaml").string());

    std::filesystem::remove(sources.dir.path() / "home/.config/doctl/config.yaml");
    const std::string message = error_of([&] { sources.resolve(); });
    CHECK(message.starts_with("no DigitalOcean API token found (looked in: env DIGITALOCEAN_ACCESS_TOKEN, env "
                              "DIGITALOCEAN_TOKEN, $CREDENTIALS_DIRECTORY/digitalocean-token, digitalocean.token, "
                              "digitalocean.token_file, "));
    CHECK(message.find("home/.config/doctl/config.yaml") != std::string::npos);
  }

  TEST_CASE("an empty CREDENTIALS_DIRECTORY entry is skipped when the file is absent")
  {
    const ScratchDir dir;
    std::filesystem::create_directories(dir.path() / "creds");
    dir.write("home/.config/doctl/config.yaml", "access-token: tok-doctl\n");
    const LoadOptions options = hermetic_options(dir, {{"CREDENTIALS_DIRECTORY", (dir.path() / "creds").string()}});
    CHECK(resolve_token(load(options), options).value == "tok-doctl");
  }

  TEST_CASE("token_file must be private and a regular file")
  {
    const ScratchDir dir;
    const auto token_file = dir.write("do-token", "tok-file-secret\n", std::filesystem::perms(0644));
    dir.write("etc/scalectl/config.toml", "digitalocean.token_file = \"" + token_file.string() + "\"\n");
    const LoadOptions options = hermetic_options(dir);

    const std::string message = error_of([&] { resolve_token(load(options), options); });
    CHECK(message == "permissions 0644 for token file '" + token_file.string() +
                         "' are too open: group and others must have no access; run `chmod 600 " +
                         token_file.string() + "`");
    CHECK(message.find("tok-file-secret") == std::string::npos);

    std::filesystem::permissions(token_file, std::filesystem::perms(0640));
    CHECK(error_of([&] { resolve_token(load(options), options); }).find("permissions 0640") != std::string::npos);

    std::filesystem::permissions(token_file, std::filesystem::perms(0600));
    CHECK(resolve_token(load(options), options).value == "tok-file-secret");
    std::filesystem::permissions(token_file, std::filesystem::perms(0400));
    CHECK(resolve_token(load(options), options).value == "tok-file-secret");

    SUBCASE("a directory")
    {
      std::filesystem::create_directories(dir.path() / "token-dir");
      dir.write("etc/scalectl/config.toml",
                "digitalocean.token_file = \"" + (dir.path() / "token-dir").string() + "\"\n");
      CHECK(error_of([&] { resolve_token(load(options), options); }).find("is not a regular file") !=
            std::string::npos);
    }
    SUBCASE("a FIFO does not block")
    {
      const auto fifo = dir.path() / "token-fifo";
      REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
      dir.write("etc/scalectl/config.toml", "digitalocean.token_file = \"" + fifo.string() + "\"\n");
      CHECK(error_of([&] { resolve_token(load(options), options); }).find("is not a regular file") !=
            std::string::npos);
    }
    SUBCASE("missing")
    {
      dir.write("etc/scalectl/config.toml", "digitalocean.token_file = \"" + (dir.path() / "gone").string() + "\"\n");
      const std::string missing = error_of([&] { resolve_token(load(options), options); });
      CHECK(missing.find("does not exist") != std::string::npos);
      CHECK(missing.find("etc/scalectl/config.toml:1") != std::string::npos);
    }
    SUBCASE("empty")
    {
      std::filesystem::permissions(token_file, std::filesystem::perms(0600));
      dir.write("do-token", "\n \n", k_private);
      CHECK(error_of([&] { resolve_token(load(options), options); }).find("is empty") != std::string::npos);
    }
    SUBCASE("two lines")
    {
      std::filesystem::permissions(token_file, std::filesystem::perms(0600));
      dir.write("do-token", "tok-one\ntok-two\n", k_private);
      const std::string two = error_of([&] { resolve_token(load(options), options); });
      CHECK(two.find("spaces or control characters") != std::string::npos);
      CHECK(two.find("tok-one") == std::string::npos);
    }
  }

  TEST_CASE("doctl config: $XDG_CONFIG_HOME first, quoted values, no other keys")
  {
    const ScratchDir dir;
    dir.write("home/.config/doctl/config.yaml", "access-token: tok-home\n");
    dir.write("xdg/doctl/config.yaml", "context: default\r\naccess-token: \"tok-xdg\"\r\n");
    LoadOptions options = hermetic_options(dir, {{"XDG_CONFIG_HOME", (dir.path() / "xdg").string()}});
    Token token = resolve_token(load(options), options);
    CHECK(token.value == "tok-xdg");
    CHECK(token.source == "doctl config " + (dir.path() / "xdg/doctl/config.yaml").string());

    options = hermetic_options(dir);
    CHECK(resolve_token(load(options), options).value == "tok-home");

    dir.write("home/.config/doctl/config.yaml", "auth-contexts:\n  access-token: indented\naccess-token: ''\n");
    // The indented key is a context named "access-token", never the top-level token; with no
    // current context the error names the contexts and how to pick one.
    const std::string message = error_of([&] { resolve_token(load(options), options); });
    CHECK(message.find("has only named contexts (access-token)") != std::string::npos);
    CHECK(message.find("indented") == std::string::npos);
  }

  TEST_CASE("environment tokens are trimmed; whitespace-only counts as unset")
  {
    const ScratchDir dir;
    const LoadOptions options =
        hermetic_options(dir, {{"DIGITALOCEAN_ACCESS_TOKEN", " \n"}, {"DIGITALOCEAN_TOKEN", "tok-env\n"}});
    const Token token = resolve_token(load(options), options);
    CHECK(token.value == "tok-env");
    CHECK(token.source == "env DIGITALOCEAN_TOKEN");
  }
}

TEST_SUITE("config.token.doctl")
{
  // doctl's config.yaml as `doctl auth init --context work` leaves it: the top-level token belongs
  // to another account than the current context's.
  constexpr const char* k_two_accounts =
      "access-token: tok-top-level\n"
      "auth-contexts:\n"
      "  work: \"tok-work\"\n"
      "  personal: tok-personal # mine\n"
      "context: work\n"
      "output: text\n";

  TEST_CASE("the current context's auth-contexts token wins over the top-level access-token")
  {
    const ScratchDir dir;
    const auto path = dir.write("home/.config/doctl/config.yaml", k_two_accounts);
    const LoadOptions options = hermetic_options(dir);
    const Token token = resolve_token(load(options), options);
    CHECK(token.value == "tok-work");
    CHECK(token.source == "doctl config " + path.string() + " (context work)");
    CHECK(describe_token_source(load(options), options) == token.source);
  }

  TEST_CASE("a config with only named contexts")
  {
    const ScratchDir dir;
    SUBCASE("and a current one")
    {
      dir.write("home/.config/doctl/config.yaml", "auth-contexts: {work: tok-work, ci: tok-ci}\ncontext: ci\n");
      const LoadOptions options = hermetic_options(dir);
      CHECK(resolve_token(load(options), options).value == "tok-ci");
    }
    SUBCASE("and none current: the error names them and the way out")
    {
      dir.write("home/.config/doctl/config.yaml", "auth-contexts:\n  work: tok-work\n  ci: tok-ci\n");
      const LoadOptions options = hermetic_options(dir);
      const std::string message = error_of([&] { resolve_token(load(options), options); });
      CHECK(message.find("only named contexts (ci, work)") != std::string::npos);
      CHECK(message.find("--context NAME") != std::string::npos);
      CHECK(message.find("tok-") == std::string::npos);
      CHECK(describe_token_source(load(options), options).starts_with("none: doctl config "));
    }
    SUBCASE("context: default means access-token")
    {
      dir.write("home/.config/doctl/config.yaml",
                "access-token: tok-top\nauth-contexts:\n  work: tok-work\ncontext: default\n");
      const LoadOptions options = hermetic_options(dir);
      CHECK(resolve_token(load(options), options).value == "tok-top");
    }
  }

  TEST_CASE("--context and DIGITALOCEAN_CONTEXT pick a context, even over the token variables")
  {
    const ScratchDir dir;
    const auto path = dir.write("home/.config/doctl/config.yaml", k_two_accounts);
    LoadOptions options = hermetic_options(dir, {{"DIGITALOCEAN_CONTEXT", "personal"},
                                                 {"DIGITALOCEAN_TOKEN", "tok-env"}});
    CHECK(resolve_token(load(options), options).value == "tok-personal");
    CHECK(resolve_token(load(options), options).source == "doctl config " + path.string() + " (context personal)");

    options.doctl_context = "default";  // the flag beats the variable
    CHECK(resolve_token(load(options), options).value == "tok-top-level");

    options.doctl_context = "staging";
    const std::string message = error_of([&] { resolve_token(load(options), options); });
    CHECK(message.starts_with("doctl context 'staging' is not in " + path.string() +
                              " (it has: default, personal, work)"));

    std::filesystem::remove(path);
    options.doctl_context = "work";
    CHECK(error_of([&] { resolve_token(load(options), options); }).starts_with("doctl context 'work' has no token"));
  }
}
