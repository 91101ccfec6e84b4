#include <doctest/doctest.h>

#include <scalectl/core/sizes.hpp>

using namespace scalectl;
using namespace scalectl::core;

namespace {

core::Size size(const char* slug, std::int64_t disk, bool available = true)
{
  core::Size s;
  s.slug = slug;
  s.disk_gb = disk;
  s.available = available;
  return s;
}

const std::vector<core::Size> k_sizes = {size("s-1vcpu-1gb", 25), size("s-2vcpu-4gb", 80),
                                                 size("s-4vcpu-8gb", 160), size("s-8vcpu-16gb", 320),
                                                 size("s-8vcpu-16gb-intel", 320, false)};

}  // namespace

TEST_SUITE("core.sizes")
{
  TEST_CASE("table of target checks")
  {
    struct Row {
      const char* name;
      const char* target;
      const char* current;
      std::int64_t disk;
      ExitCode code;
      const char* message_has;
    };
    const Row rows[] = {
      {"up without a disk resize", "s-8vcpu-16gb", "s-2vcpu-4gb", 80, ExitCode::ok, ""},
      {"down to the original disk", "s-2vcpu-4gb", "s-8vcpu-16gb", 80, ExitCode::ok, ""},
      {"down below a resized disk", "s-2vcpu-4gb", "s-8vcpu-16gb", 320, ExitCode::refused, "cannot shrink a disk"},
      {"same size is fine whatever the disk", "s-8vcpu-16gb", "s-8vcpu-16gb", 320, ExitCode::ok, ""},
      {"typo suggests the real slug", "s-8vcpu-16g", "s-2vcpu-4gb", 80, ExitCode::usage, "s-8vcpu-16gb"},
      {"unavailable size", "s-8vcpu-16gb-intel", "s-2vcpu-4gb", 80, ExitCode::refused, "not available"},
    };
    for (const auto& row : rows) {
      CAPTURE(row.name);
      const auto check = check_target_size(k_sizes, row.target, row.current, row.disk);
      CHECK(check.code == row.code);
      CHECK(check.size.has_value() == (row.code == ExitCode::ok));
      CHECK(check.message.find(row.message_has) != std::string::npos);
    }
  }

  TEST_CASE("closest slugs come first")
  {
    const auto check = check_target_size(k_sizes, "s-4vcpu-8g", "s-2vcpu-4gb", 80);
    CHECK(check.message.find("did you mean s-4vcpu-8gb,") != std::string::npos);
  }
}
