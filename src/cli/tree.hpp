#pragma once
// The command tree, shared by run() and by the completion and man-page checks.

namespace CLI {
class App;
}

namespace scalectl::cli {

class Context;

// Builds the whole command tree (global options and every noun) on `app`.
void build_cli(CLI::App& app, Context& ctx);

}  // namespace scalectl::cli
