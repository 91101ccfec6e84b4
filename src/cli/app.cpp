#include <scalectl/cli.hpp>

#include <cstdio>

#include <scalectl/exit_code.hpp>

namespace scalectl::cli {

int run(int /*argc*/, char** /*argv*/)
{
  std::puts("scalectl " SCALECTL_VERSION);
  return to_int(ExitCode::ok);
}

}  // namespace scalectl::cli
