#pragma once
// `scalectl autoscale run` (src/cli/autoscale_run_cmd.cpp).

namespace CLI {
class App;
}

namespace scalectl::cli {

class Context;

// Adds `autoscale run` to the `autoscale` subcommand; call after setup_autoscale_command.
void setup_autoscale_run_command(CLI::App& app, Context& ctx);

}  // namespace scalectl::cli
