// `app scale --from-file`: YAML and JSON app specs from a regular file. Alias cycles and
// billion-laughs documents are refused (bounded work), and what is accepted dumps to JSON that
// reads back unchanged.
#include <scalectl/core/raw_json.hpp>
#include <scalectl/error.hpp>
#include <scalectl/ops/app.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  const scalectl::fuzz::MemFile file(scalectl::fuzz::as_text(data, size));
  scalectl::core::RawJson spec;
  try {
    spec = scalectl::ops::read_spec_file(file.path());
  } catch (const scalectl::Error& e) {
    require(e.code() == scalectl::ExitCode::usage, "a bad spec file is a usage error");
    return 0;
  }
  const std::string text = scalectl::core::dump_raw_json(spec);
  require(text.size() < (64U << 20U), "the expansion is bounded");
  require(scalectl::core::dump_raw_json(scalectl::core::parse_raw_json(text, "dump")) == text,
          "the converted spec round-trips as JSON");
  return 0;
}
