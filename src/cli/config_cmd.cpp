// `scalectl config show`: every effective value with the layer it came from.

#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <scalectl/config/show.hpp>

#include "cli/context.hpp"

namespace scalectl::cli {

void setup_config_command(CLI::App& app, Context& ctx)
{
  auto* config = app.add_subcommand("config", "Inspect the layered configuration");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "Print each effective value with its origin (secrets redacted)");
  show->callback([&ctx] {
    ctx.action = [&ctx] {
      const std::string token_source = config::describe_token_source(ctx.config(), ctx.load_options());
      if (ctx.output() == OutputFormat::json) {
        nlohmann::json out = config::show_json(ctx.config());
        out["digitalocean.token_source"] = {{"value", token_source}, {"origin", "resolved"}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      } else {
        std::cout << config::show_text(ctx.config()) << "(resolved) digitalocean.token_source = " << token_source
                  << "\n";
      }
    };
  });
}

}  // namespace scalectl::cli
