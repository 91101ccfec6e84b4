#pragma once
// The command-line front end. main() only calls run().

namespace scalectl::cli {

// Parses argv, runs the command and returns the process exit code (see exit_code.hpp).
int run(int argc, char** argv);

}  // namespace scalectl::cli
