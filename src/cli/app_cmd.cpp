// `scalectl app status|scale`: App Platform components, with WEB_CONCURRENCY kept in step.

#include <charconv>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/ops/lock_holder.hpp>
#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/app.hpp>

#include "cli/audited.hpp"
#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

struct ScaleFlags {
  std::string size;
  std::string count;
  std::string autoscale;
  std::string cpu_percent;
  std::string workers;
  std::string from_file;
  std::string wait_lock;
  bool no_autoscale = false;
  bool dry_run = false;
  bool no_wait = false;
};

std::int64_t integer_flag(const std::string& text, const char* flag)
{
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw usage_error(fmt::format("{} takes an integer, not '{}'", flag, text));
  }
  return value;
}

std::string money(const core::CostRange& cost)
{
  if (!cost.known) {
    return "unknown";
  }
  if (cost.min == cost.max) {
    return fmt::format("${:.2f}", cost.min);
  }
  return fmt::format("${:.2f}-${:.2f}", cost.min, cost.max);
}

std::string selected_component(Context& ctx, bool required)
{
  auto name = ctx.config().get_string("app.component").value_or("");
  if (name.empty() && required) {
    throw usage_error("no component given; pass --component NAME, set SCALECTL_APP_COMPONENT, or set [app] "
                      "component in the config");
  }
  return name;
}

core::ScaleRequest request_from_flags(const ScaleFlags& flags)
{
  core::ScaleRequest r;
  if (!flags.size.empty()) {
    r.size = flags.size;
  }
  if (!flags.count.empty()) {
    r.count = integer_flag(flags.count, "--count");
  }
  if (!flags.autoscale.empty()) {
    r.autoscale = core::parse_autoscale_range(flags.autoscale);
    if (!r.autoscale) {
      throw usage_error(fmt::format("--autoscale takes MIN:MAX instance counts, e.g. 2:5, not '{}'", flags.autoscale));
    }
  }
  if (!flags.cpu_percent.empty()) {
    r.cpu_percent = integer_flag(flags.cpu_percent, "--cpu-percent");
  }
  r.no_autoscale = flags.no_autoscale;
  if (!flags.workers.empty()) {
    r.workers = core::parse_workers(flags.workers);
    if (!r.workers) {
      throw usage_error(fmt::format("--workers takes a number of worker processes or 'auto', not '{}'", flags.workers));
    }
  }
  return r;
}

std::string workers_text(const core::ComponentScale& c)
{
  if (!c.web_concurrency) {
    return "unset";
  }
  return c.web_concurrency_secret ? "(secret)" : *c.web_concurrency;
}

void print_scale(Context& ctx, const ops::AppScaleReport& r)
{
  if (ctx.output() == OutputFormat::json) {
    print_json(r.to_json());
    return;
  }
  const auto what = fmt::format("app {} component {}", r.app_name, r.component);
  if (r.result == ops::Result::noop) {
    std::cout << fmt::format("{} is already at {}, WEB_CONCURRENCY {}; nothing to do{}\n", what,
                             core::describe_scale(r.after), workers_text(r.after),
                             r.deployment ? fmt::format(" (deployment {} is {})", r.deployment->id, r.deployment->phase)
                                          : std::string());
    return;
  }
  if (r.result == ops::Result::dry_run) {
    std::cout << fmt::format("dry run: {} ({})\n", what, r.after.kind);
    for (const auto& c : r.changes) {
      std::cout << fmt::format("  {}: {} -> {}\n", c.path, c.before.empty() ? "(absent)" : c.before,
                               c.after.empty() ? "(absent)" : c.after);
    }
    std::cout << fmt::format("monthly cost: {} -> {}\n", money(r.cost_before), money(r.cost_after));
    std::cout << fmt::format("would send: PUT /v2/apps/{} with update_all_source_versions=false; nothing was sent\n",
                             r.app_id);
    return;
  }
  if (r.result == ops::Result::submitted) {
    std::cout << fmt::format("{}: {} -> {}; deployment {} started ({}); follow it with `scalectl app status {}`\n",
                             what, core::describe_scale(r.before), core::describe_scale(r.after), r.deployment->id,
                             r.deployment->phase, r.app_name);
    return;
  }
  std::cout << fmt::format("{}: {} -> {}, WEB_CONCURRENCY {} -> {}; deployment {} {} after {}; monthly cost {} -> {}; "
                           "{} API requests\n",
                           what, core::describe_scale(r.before), core::describe_scale(r.after), workers_text(r.before),
                           workers_text(r.after), r.deployment->id, r.deployment->phase, format_duration(r.duration),
                           money(r.cost_before), money(r.cost_after), r.api_requests);
}

void run_scale(Context& ctx, const ScaleFlags& flags)
{
  const auto& cfg = ctx.config();
  ops::AppScaleOptions options;
  options.component = selected_component(ctx, true);
  const bool scaling_flags = !flags.size.empty() || !flags.count.empty() || !flags.autoscale.empty() ||
                             !flags.cpu_percent.empty() || !flags.workers.empty() || flags.no_autoscale;
  if (!flags.from_file.empty()) {
    if (scaling_flags) {
      throw usage_error("--from-file takes every scaling field from the file; drop --size, --count, --autoscale, "
                        "--cpu-percent, --no-autoscale and --workers, or drop --from-file");
    }
    options.request = core::request_from_spec_file(ops::read_spec_file(flags.from_file), options.component,
                                                   flags.from_file);
    options.source = flags.from_file;
  } else {
    options.request = request_from_flags(flags);
  }
  options.workers_rule_mb = cfg.get_int("app.workers_rule_mb").value_or(512);
  if (options.workers_rule_mb < 1) {
    throw usage_error(fmt::format("[app] workers_rule_mb must be a positive number of MB, not {}",
                                  options.workers_rule_mb));
  }
  options.dry_run = flags.dry_run;
  options.no_wait = flags.no_wait;
  options.timeout = cfg.get_duration("app.deployment_timeout").value_or(options.timeout);
  if (!flags.wait_lock.empty()) {
    options.wait_lock = duration_flag(flags.wait_lock, "--wait-lock");
  }

  auto deps = ctx.app_deps();
  const auto id = ops::resolve_app(deps.api, ctx.config().get_string("app.id").value_or(""));
  const auto resource = fmt::format("{}/{}", ops::app_record_key(id), options.component);
  const FailureAudit audit{Event{"app.scale", resource, "", "", "", "", {}, json::object()}, options.source + ": ",
                           !options.dry_run, true};
  const auto report =
    run_audited(ctx, audit, ctx.clock().monotonic(), [&] { return ops::scale_app(deps, id, options); });
  if (!options.dry_run) {
    const auto scale_text = [](const core::ComponentScale& c) {
      return fmt::format("{}, WEB_CONCURRENCY {}", core::describe_scale(c), workers_text(c));
    };
    json changes = json::array();
    for (const auto& c : report.changes) {
      changes.push_back({{"path", c.path}, {"before", c.before}, {"after", c.after}});
    }
    ctx.emit(Event{"app.scale", resource, scale_text(report.before), scale_text(report.after), options.source,
                   ops::event_result(report.result),
                   report.duration,
                   {{"app_name", report.app_name},
                    {"changes", changes},
                    {"deployment", ops::deployment_json(report.deployment)},
                    {"monthly_cost_usd_before", ops::cost_json(report.cost_before)},
                    {"monthly_cost_usd_after", ops::cost_json(report.cost_after)},
                    {"api_requests", report.api_requests}}});
  }
  print_scale(ctx, report);
}

std::string instances_text(const core::ComponentScale& c)
{
  if (c.autoscaling()) {
    return fmt::format("auto {}-{} @{}%", c.autoscale_min.value_or(0), c.autoscale_max.value_or(0),
                       c.cpu_percent ? std::to_string(*c.cpu_percent) : std::string("?"));
  }
  return std::to_string(c.instance_count);
}

std::string deployment_text(const digitalocean::Deployment& d)
{
  auto text = fmt::format("{} {} ({}/{} steps, {}), updated {}", d.id, d.phase, d.success_steps, d.total_steps,
                          d.cause.empty() ? "no cause given" : d.cause, d.updated_at);
  if (!d.failed_step.empty()) {
    text += fmt::format("; failed at {}: {}", d.failed_step, d.failure_reason);
  }
  return text;
}

void run_status(Context& ctx)
{
  auto deps = ctx.app_deps();
  const auto id = ops::resolve_app(deps.api, ctx.config().get_string("app.id").value_or(""));
  const auto report = ops::app_status(deps, id, selected_component(ctx, false),
                                      ctx.config().get_int("app.workers_rule_mb").value_or(512));
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
  } else {
    std::cout << fmt::format("app          {} ({}), updated {}\n", report.app_name, report.app_id, report.updated_at);
    std::cout << fmt::format("{:<20} {:<8} {:<20} {:<16} {:<26} {}\n", "COMPONENT", "KIND", "SIZE", "INSTANCES",
                             "WEB_CONCURRENCY", "MONTHLY");
    for (const auto& c : report.components) {
      std::string workers = workers_text(c.scale);
      if (c.scale.web_concurrency_app_level) {
        workers += " (app)";
      }
      if (c.rule_workers) {
        const char* verdict = !c.workers_match ? "" : (*c.workers_match ? ": ok" : ": MISMATCH");
        workers += fmt::format(" [rule {}{}]", *c.rule_workers, verdict);
      }
      std::cout << fmt::format("{:<20} {:<8} {:<20} {:<16} {:<26} {}\n", c.scale.name, c.scale.kind,
                               c.scale.size_slug + (c.scale.size_defaulted ? "*" : ""), instances_text(c.scale),
                               workers, money(c.cost));
    }
    std::cout << fmt::format("{:<94} {}\n", "total", money(report.total_cost));
    std::cout << fmt::format("active       {}\n", report.active_deployment
                                                     ? deployment_text(*report.active_deployment)
                                                     : std::string("none"));
    std::cout << fmt::format("in progress  {}\n", report.in_progress_deployment
                                                     ? deployment_text(*report.in_progress_deployment)
                                                     : std::string("none"));
    if (report.last_scale.is_object()) {
      const auto& op = report.last_scale;
      std::cout << fmt::format("last scale   {}: {} -> {}: {} (deployment {}, started {})\n",
                               op.value("component", ""), op.value("from", ""), op.value("to", ""),
                               op.value("result", ""), op.value("deployment_id", json("none")).is_string()
                                                         ? op.value("deployment_id", "")
                                                         : std::string("none"),
                               op.value("started_at", ""));
    } else if (report.state_error.empty()) {
      std::cout << "last scale   none recorded\n";
    }
    if (report.lock.is_object() || report.state_error.empty()) {
      std::cout << fmt::format("lock         {}\n", ops::lock_holder_text(report.lock));
    }
  }
  if (!report.state_error.empty()) {
    ctx.reporter().warn(fmt::format("cannot read scalectl's state: {}", report.state_error));
  }
  for (const auto& c : report.components) {
    if (c.workers_match && !*c.workers_match) {
      ctx.reporter().warn(fmt::format("component {} has WEB_CONCURRENCY {} but its size {} calls for {} (one worker "
                                      "per {} MB); `scalectl app scale {} --component {} --workers auto` fixes it",
                                      c.scale.name, workers_text(c.scale), c.scale.size_slug, *c.rule_workers,
                                      report.workers_rule_mb, report.app_name, c.scale.name));
    }
  }
}

}  // namespace

void setup_app_command(CLI::App& app, Context& ctx)
{
  auto* noun = app.add_subcommand("app", "Scale App Platform components (size, count, autoscaling, WEB_CONCURRENCY)");
  noun->require_subcommand(1);

  auto* status = noun->add_subcommand("status", "Show each service, worker and job: size, instances, "
                                                "WEB_CONCURRENCY, monthly cost, deployments and scalectl's last scale");
  ctx.bind_flag(*status, "app", "app.id", "App id or name (default: SCALECTL_APP_ID, [app] id)");
  ctx.bind_flag(*status, "--component", "app.component", "Show only this component");
  status->callback([&ctx] { ctx.action = [&ctx] { run_status(ctx); }; });

  auto flags = std::make_shared<ScaleFlags>();
  auto* scale = noun->add_subcommand("scale", "Change one component's size, instance count, autoscaling or "
                                              "WEB_CONCURRENCY and wait for the deployment");
  ctx.bind_flag(*scale, "app", "app.id", "App id or name (default: SCALECTL_APP_ID, [app] id)");
  ctx.bind_flag(*scale, "--component", "app.component", "Service, worker or job to scale (default: [app] component)");
  scale->add_option("--size", flags->size, "Instance size slug (GET /v2/apps/tiers/instance_sizes)");
  scale->add_option("--count", flags->count, "Fixed instance count, 1-250 (removes autoscaling)");
  scale->add_option("--autoscale", flags->autoscale,
                    "Autoscale between MIN:MAX instances (dedicated apps-d-* sizes only; removes instance_count)");
  scale->add_option("--cpu-percent", flags->cpu_percent, "CPU target of autoscaling, 1-100 (default 80)");
  scale->add_flag("--no-autoscale", flags->no_autoscale,
                  "Stop autoscaling; the count becomes --count or the autoscaling minimum");
  scale->add_option("--workers", flags->workers,
                    "Set WEB_CONCURRENCY: a number, or 'auto' for one worker per [app] workers_rule_mb MB of the size");
  scale->add_option("--from-file", flags->from_file,
                    "Apply the scaling fields of --component from a local app spec (YAML or JSON), e.g. .do/app.yaml");
  scale->add_flag("--dry-run", flags->dry_run, "Print the spec diff and the monthly cost before and after; send nothing");
  scale->add_flag("--no-wait", flags->no_wait, "Return once the deployment has started, printing its id");
  ctx.bind_flag(*scale, "--timeout", "app.deployment_timeout", "Wait this long for the deployment (exit 6), e.g. 20m");
  scale->add_option("--wait-lock", flags->wait_lock,
                    "Wait up to DURATION for another scalectl's lock on this app instead of exiting 75");
  scale->callback([&ctx, flags] { ctx.action = [&ctx, flags] { run_scale(ctx, *flags); }; });
}

}  // namespace scalectl::cli
