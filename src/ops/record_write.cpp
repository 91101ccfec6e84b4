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
    if (submitted.empty() || e.code() == ExitCode::interrupted) {
      throw;
    }
    reporter.warn(fmt::format("{} was submitted to DigitalOcean for {}, but writing {} to the state store failed "
                              "({}); the record is missing; finishing the operation",
                              submitted.back(), subject, what, e.what()));
  }
}

}  // namespace scalectl::ops
