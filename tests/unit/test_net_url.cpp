#include <doctest/doctest.h>

#include <optional>

#include <scalectl/net/http.hpp>

#include "net/url.hpp"

using scalectl::net::redact_url;
using scalectl::net::redacted_target;

TEST_SUITE("net.url")
{
  TEST_CASE("redact_url drops credentials and fragments and masks secret query values")
  {
    CHECK(redact_url("https://api.digitalocean.com/v2/droplets") == "https://api.digitalocean.com/v2/droplets");
    CHECK(redact_url("https://api.digitalocean.com/v2/droplets?page=2&per_page=200") ==
          "https://api.digitalocean.com/v2/droplets?page=2&per_page=200");
    CHECK(redact_url("https://user:hunter2@api.example.test:8443/v2/x") == "https://api.example.test:8443/v2/x");
    CHECK(redact_url("http://127.0.0.1:8080/v2/x?access_token=abc&page=1#frag") ==
          "http://127.0.0.1:8080/v2/x?access_token=REDACTED&page=1");
    CHECK(redact_url("https://h/p?API_KEY=1&Signature=2&x=3&password=4&secret=5") ==
          "https://h/p?API_KEY=REDACTED&Signature=REDACTED&x=3&password=REDACTED&secret=REDACTED");
    CHECK(redact_url("https://h") == "https://h");
    CHECK(redact_url("https://h?token=t") == "https://h?token=REDACTED");
    CHECK(redact_url("https://h/p?flag&&token=") == "https://h/p?flag&&token=REDACTED");
  }

  TEST_CASE("redacted_target is the path and query only")
  {
    CHECK(redacted_target("https://api.digitalocean.com/v2/droplets/1/actions") == "/v2/droplets/1/actions");
    CHECK(redacted_target("https://api.digitalocean.com/v2/droplets?tag_name=web&page=3") ==
          "/v2/droplets?tag_name=web&page=3");
    CHECK(redacted_target("https://u:p@h:1/x?auth=zzz") == "/x?auth=REDACTED");
    CHECK(redacted_target("https://h") == "/");
    CHECK(redacted_target("https://h?page=1") == "/?page=1");
    CHECK(redacted_target("/v2/account") == "/v2/account");
  }

  TEST_CASE("Response::header is case-insensitive and returns the first match")
  {
    scalectl::net::Response response;
    response.headers = {{"Content-Type", "application/json"}, {"RateLimit-Remaining", "42"}, {"X-Dup", "one"},
                        {"x-dup", "two"}};
    CHECK(response.header("content-type") == "application/json");
    CHECK(response.header("RATELIMIT-REMAINING") == "42");
    CHECK(response.header("ratelimit-remaining") == "42");
    CHECK(response.header("x-dup") == "one");
    CHECK(response.header("ratelimit-remainin") == std::nullopt);
    CHECK(response.header("") == std::nullopt);
  }
}
