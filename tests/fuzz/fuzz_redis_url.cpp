// The Redis URL parser and the redaction of secrets. Input: PASSWORD '\0' HOST. For the URL
// redis://:PASSWORD@HOST the redaction must leave no trace of the password, and the parser must
// read the same password; the raw input is parsed too (no crash, sane bounds).
#include <scalectl/config/show.hpp>

#include "state/redis_url.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  const std::string_view input = scalectl::fuzz::as_text(data, size);
  if (const auto raw = scalectl::state::parse_redis_url(input)) {
    require(raw->db >= 0, "database number is not negative");
  }
  const auto split = input.find('\0');
  if (split == std::string_view::npos) {
    return 0;
  }
  const std::string_view password = input.substr(0, split);
  const std::string_view host = input.substr(split + 1);
  // Words end at whitespace (argv is redacted word by word); a HOST holding '@' moves the split.
  if (password.empty() || password.find_first_of(" \t\r\n") != std::string_view::npos ||
      host.find_first_of(" \t\r\n@") != std::string_view::npos || host.find('\0') != std::string_view::npos) {
    return 0;
  }
  const std::string url = "redis://:" + std::string(password) + "@" + std::string(host);
  const std::string redacted = scalectl::config::redact_url_passwords(url);
  require(redacted == "redis://:<redacted>@" + std::string(host), "the whole password is redacted, up to the last @");
  // A password that also spells part of the public text ("redis:/", a piece of the host) is
  // bound to appear; any other copy would be a leak.
  const std::string public_text = "redis://:<redacted>@" + std::string(host);
  if (password.size() >= 3 && public_text.find(password) == std::string::npos) {
    require(redacted.find(password) == std::string::npos, "no copy of the password survives redaction");
  }
  return 0;
}
