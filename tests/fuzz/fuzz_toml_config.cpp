// TOML config layers: any text is parsed into nodes or refused with a usage error naming the file;
// every node has a non-empty key path and a 1-based position.
#include <scalectl/error.hpp>

#include "config/toml_reader.hpp"

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  try {
    const auto nodes = scalectl::config::detail::read_toml(scalectl::fuzz::as_text(data, size), "fuzz.toml");
    for (const auto& node : nodes) {
      require(!node.path.empty(), "every node has a key");
      require(node.line >= 1, "positions are 1-based");
    }
  } catch (const scalectl::Error& e) {
    require(e.code() == scalectl::ExitCode::usage, "a bad config is a usage error");
    require(std::string_view(e.what()).starts_with("fuzz.toml"), "the error names the file");
  }
  return 0;
}
