#pragma once
// A Reporter for unit tests that keeps the warnings and drops everything else.

#include <string>
#include <string_view>
#include <vector>

#include <scalectl/report.hpp>

namespace scalectl::test {

class RecordingReporter final : public Reporter {
 public:
  void step(std::string_view) override {}
  void progress(std::string_view, std::chrono::milliseconds) override {}
  void warn(std::string_view message) override { warnings.emplace_back(message); }
  void detail(std::string_view) override {}

  std::vector<std::string> warnings;  // every warn() message, in order
};

}  // namespace scalectl::test
