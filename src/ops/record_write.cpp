#include "ops/record_write.hpp"

#include <fmt/format.h>

#include <scalectl/error.hpp>
#include <scalectl/report.hpp>

namespace scalectl::ops {

void write_after_submit(Reporter& reporter, const std::string& subject, const std::string& what,
                        const std::vector<std::string>& submitted, const std::function<void()>& write)
{
  try {
    write();
  } catch (const Error& e) {
    if (submitted.empty()) {
      throw;
    }
    reporter.warn(fmt::format("{} was submitted to DigitalOcean for {}, but writing {} to the state store failed "
                              "({}); the record is missing; finishing the operation (once the state store is "
                              "back, rerunning the same command converges)",
                              submitted.back(), subject, what, e.what()));
  }
}

std::string name_submitted(const std::string& error, const std::vector<std::string>& submitted,
                           const std::string& rerun)
{
  if (submitted.empty()) {
    return error;
  }
  std::string text = error;
  if (text.find(submitted.back()) == std::string::npos) {
    text += fmt::format("; {} had been submitted to DigitalOcean", submitted.back());
  }
  if (text.find("converges") == std::string::npos) {
    text += fmt::format("; {} converges (it starts from what DigitalOcean reports)", rerun);
  }
  return text;
}

}  // namespace scalectl::ops
