// `scalectl autoscale plan|apply|status`: metric-driven worker counts for cron and CI.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/core/numeric.hpp>
#include <scalectl/interrupt.hpp>
#include <scalectl/ops/lock_holder.hpp>
#include <scalectl/clock.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/net/transport_factory.hpp>
#include <scalectl/ops/autoscale.hpp>

#include "cli/context.hpp"
#include "cli/metrics.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

struct AutoscaleFlags {
  std::string policy;
  std::optional<double> metric;
  std::optional<std::int64_t> current;
  std::string out;
  std::string plan_file;
  bool detailed_exitcode = false;
  bool dry_run = false;
  std::size_t events = 10;
  std::string wait_lock;
};

// The adapters of one autoscale command, built from the context's wiring.
class AutoscaleEnv {
 public:
  explicit AutoscaleEnv(Context& ctx) : m_deps{ctx.autoscale_deps(ctx.reporter())} {}

  ops::AutoscaleDeps& deps() { return m_deps; }

 private:
  ops::AutoscaleDeps m_deps;
};

std::string number_text(const json& value)
{
  if (value.is_number_integer()) {
    return std::to_string(value.get<std::int64_t>());
  }
  if (value.is_number()) {
    return fmt::format("{:g}", value.get<double>());
  }
  return "none";
}

std::string percent_text(const json& value)
{
  if (!value.is_number()) {
    return "n/a";
  }
  std::string text = fmt::format("{:.1f}", value.get<double>() * 100.0);
  if (text.ends_with(".0")) {
    text.resize(text.size() - 2);
  }
  return text + "%";
}

void print_plan_text(const json& plan)
{
  const json& in = plan["inputs"];
  const json& settings = plan["settings"];
  std::cout << fmt::format("policy       {}: {} mode, {}\n", plan["policy"].get<std::string>(),
                           settings["mode"].get<std::string>(),
                           plan["target"]["description"].get<std::string>());
  const json& metric = in["metric"];
  if (metric["value"].is_number()) {
    std::cout << fmt::format("metric       {} ({})\n", number_text(metric["value"]),
                             metric["source"].get<std::string>());
  } else {
    std::cout << fmt::format("metric       unavailable ({}): {}\n", metric["source"].get<std::string>(),
                             metric["error"].get<std::string>());
  }
  std::cout << fmt::format("current      {} ({})\n", number_text(in["current"]["value"]),
                           in["current"]["source"].get<std::string>());
  std::cout << fmt::format("utilisation  {} of {} x {} units\n", percent_text(plan["utilisation"]),
                           number_text(in["current"]["value"]), number_text(settings["units_per_worker"]));
  if (!in["capacity"].is_null()) {
    std::cout << fmt::format("capacity     {} more {} worker(s) fit\n", number_text(in["capacity"]["additional_fit"]),
                             in["capacity"]["worker_type"].get<std::string>());
  }
  std::cout << "stages\n";
  for (const auto& stage : plan["stages"]) {
    const std::string head = fmt::format("  {:<15} {:>4} -> {}", stage["stage"].get<std::string>(),
                                         number_text(stage["from"]), number_text(stage["to"]));
    if (stage["reasons"].empty()) {
      std::cout << head << "\n";
      continue;
    }
    const std::string padded = fmt::format("{:<28}", head);
    bool first = true;
    for (const auto& reason : stage["reasons"]) {
      std::cout << (first ? padded : std::string(padded.size(), ' ')) << "  " << reason["text"].get<std::string>()
                << "\n";
      first = false;
    }
  }
  const auto change = plan["change"].get<std::int64_t>();
  std::cout << fmt::format("desired      {} ({})\n", number_text(plan["desired"]),
                           change > 0   ? fmt::format("scale up by {}", change)
                           : change < 0 ? fmt::format("scale down by {}", -change)
                                        : std::string("no change"));
  std::vector<std::string> reasons;
  for (const auto& reason : plan["reasons"]) {
    reasons.push_back(reason["text"].get<std::string>());
  }
  std::cout << fmt::format("reasons      {}\n", fmt::join(reasons, "; "));
}

ops::PlanOptions plan_options(const AutoscaleFlags& flags)
{
  return ops::PlanOptions{flags.metric, flags.current};
}

void run_plan(Context& ctx, const AutoscaleFlags& flags)
{
  AutoscaleEnv env(ctx);
  const auto policy = ops::load_policy(ctx.config(), flags.policy);
  const auto options = plan_options(flags);
  const ops::PlanReport report = ops::make_plan(env.deps(), policy, options);
  json out = report.to_json();
  if (!flags.out.empty()) {
    ops::write_plan_file(flags.out, ops::saved_plan_json(report, options));
    out["saved_to"] = flags.out;
    ctx.reporter().step(fmt::format("saved the plan to {} (expires {}); apply it with `scalectl autoscale apply {}`",
                                    flags.out, format_rfc3339(report.expires_at), flags.out));
  }
  if (ctx.output() == OutputFormat::json) {
    print_json(out);
  } else {
    print_plan_text(out);
  }
  if (flags.detailed_exitcode && report.plan.changes()) {
    ctx.exit_code = to_int(ExitCode::change_proposed);
  }
}

void emit_apply(Context& ctx, const std::string& policy, const ops::ApplyReport& report, const std::string& file)
{
  json details = {{"decision", report.decision}, {"serial", report.serial}, {"note", report.note}};
  if (!file.empty()) {
    details["plan_file"] = file;
  }
  ctx.emit(Event{"autoscale.apply", "policy-" + policy, std::to_string(report.from), std::to_string(report.to),
                 fmt::format("{}", fmt::join(report.reasons, "; ")), ops::event_result(report.result),
                 report.duration, details});
}

void print_apply_text(const ops::ApplyReport& report)
{
  print_plan_text(report.plan);
  if (report.result == ops::Result::dry_run) {
    std::cout << (report.from == report.to
                    ? fmt::format("dry run: no change at {}; nothing was changed\n", report.from)
                    : fmt::format("dry run: would scale {} -> {}; nothing was changed\n", report.from, report.to));
  } else if (report.result == ops::Result::changed) {
    std::cout << fmt::format("applied: {} -> {}{} (serial {})\n", report.from, report.to,
                             report.note.empty() ? std::string() : "; " + report.note, report.serial);
  } else {
    std::cout << fmt::format("no change: stays at {} (serial {})\n", report.to, report.serial);
  }
}

void run_apply(Context& ctx, const AutoscaleFlags& flags)
{
  std::optional<ops::SavedPlan> saved;
  std::string policy_name = flags.policy;
  if (!flags.plan_file.empty()) {
    if (flags.metric || flags.current) {
      throw usage_error("a saved plan already holds its metric and current count; drop --metric/--current, or run "
                        "`autoscale apply --policy NAME` to plan afresh");
    }
    saved = ops::read_plan_file(flags.plan_file);
    if (!policy_name.empty() && policy_name != saved->policy) {
      throw usage_error(fmt::format("the plan file {} is for policy {}, not {}", flags.plan_file, saved->policy,
                                    policy_name));
    }
    policy_name = saved->policy;
    ctx.set_policy(policy_name);  // before the config is loaded: AUTO_SCALER_* apply to this policy
  } else if (policy_name.empty()) {
    throw usage_error("give a saved plan file or --policy NAME; run `scalectl autoscale apply --help` for usage");
  }

  AutoscaleEnv env(ctx);
  if (!flags.wait_lock.empty()) {
    env.deps().wait_lock = duration_flag(flags.wait_lock, "--wait-lock");
  }
  const auto policy = ops::load_policy(ctx.config(), policy_name);
  const auto started = ctx.clock().monotonic();
  ops::ApplyReport report;
  try {
    report = saved ? ops::apply_saved_plan(env.deps(), policy, *saved, flags.dry_run)
                   : ops::apply_policy(env.deps(), policy, plan_options(flags), flags.dry_run);
  } catch (const std::exception& e) {  // failures and interruptions alike are audited
    const auto code = exit_code_of(e);
    if (!flags.dry_run && code != ExitCode::usage && code != ExitCode::lock_held) {
      ctx.emit(Event{"autoscale.apply", "policy-" + policy_name, "", "", e.what(),
                     code == ExitCode::stale_plan ? "refused" : result_word(code),
                     std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock().monotonic() - started),
                     json{{"plan_file", flags.plan_file}}});
    }
    throw;
  }
  if (report.result != ops::Result::dry_run) {
    emit_apply(ctx, policy_name, report, flags.plan_file);
    const json metric = report.plan.value("/inputs/metric/value"_json_pointer, json(nullptr));
    record_autoscale_metrics(ctx, policy_name, report.from, report.to,
                             metric.is_number() ? std::optional<double>(metric.get<double>()) : std::nullopt);
  }
  if (ctx.output() == OutputFormat::json) {
    print_json(report.to_json());
  } else if (!ctx.globals.quiet) {
    print_apply_text(report);
  }
}

std::string remaining_text(const json& until, const json& seconds)
{
  if (until.is_null()) {
    return "none";
  }
  const auto left = seconds.get<std::int64_t>();
  if (left <= 0) {
    return fmt::format("passed ({})", until.get<std::string>());
  }
  return fmt::format("{} left (until {})", format_duration(std::chrono::seconds(left)), until.get<std::string>());
}

void print_status_text(const json& s)
{
  std::cout << fmt::format("policy {}{}: {} (min {}, max {})\n", s["policy"].get<std::string>(),
                           s["enabled"].get<bool>() ? "" : " (disabled)", s["target"]["description"].get<std::string>(),
                           number_text(s["min"]), number_text(s["max"]));
  if (!s["current"].is_null()) {
    std::cout << fmt::format("  current      {}\n", number_text(s["current"]));
  } else {
    std::cout << fmt::format("  current      unknown: {}\n", s["current_error"].get<std::string>());
  }
  if (s["last_run"].is_null()) {
    std::cout << "  desired      no apply recorded yet\n";
  } else {
    std::cout << fmt::format("  desired      {} at the last apply ({})\n", number_text(s["desired"]),
                             s["last_run"].get<std::string>());
    if (!s["last_reasons"].empty()) {
      std::cout << fmt::format("  reasons      {}\n", fmt::join(s["last_reasons"].get<std::vector<std::string>>(), "; "));
    }
  }
  const json& metric = s["last_metric"];
  if (metric.is_null()) {
    std::cout << "  last metric  none\n";
  } else if (metric["value"].is_number()) {
    std::cout << fmt::format("  last metric  {} from {} at {}\n", number_text(metric["value"]),
                             metric["source"].get<std::string>(), metric["time"].get<std::string>());
  } else {
    std::cout << fmt::format("  last metric  unavailable at {}: {}\n", metric["time"].get<std::string>(),
                             metric["error"].get<std::string>());
  }
  const json& cd = s["cooldown"];
  std::cout << fmt::format("  cooldown     scale-up {}; scale-down {}\n",
                           remaining_text(cd["scale_up_until"], cd["scale_up_remaining_s"]),
                           remaining_text(cd["scale_down_until"], cd["scale_down_remaining_s"]));
  std::cout << fmt::format("  state        serial {}{}; lock {}\n", number_text(s["state"]["serial"]),
                           s["state"]["lineage"].get<std::string>().empty()
                             ? std::string()
                             : ", lineage " + s["state"]["lineage"].get<std::string>(),
                           ops::lock_holder_text(s["lock"]));
  if (s["events"].empty()) {
    std::cout << "  events       none\n";
    return;
  }
  std::cout << "  events\n";
  for (const auto& e : s["events"]) {
    std::cout << fmt::format("    {}  {} -> {}  {} {}  {}{}\n", e["time"].get<std::string>(), number_text(e["from"]),
                             number_text(e["to"]), e["direction"].get<std::string>(), e["result"].get<std::string>(),
                             fmt::join(e["reasons"].get<std::vector<std::string>>(), "; "),
                             e["note"].get<std::string>().empty() ? std::string()
                                                                  : " (" + e["note"].get<std::string>() + ")");
  }
}

void run_status(Context& ctx, const AutoscaleFlags& flags)
{
  std::vector<std::string> names;
  if (!flags.policy.empty()) {
    names.push_back(flags.policy);
  } else {
    names = ops::policy_names(ctx.config());
    if (names.empty()) {
      throw usage_error("no autoscale policy is configured; define [autoscale.policies.NAME] in the config");
    }
  }
  AutoscaleEnv env(ctx);
  json policies = json::array();
  for (const auto& name : names) {
    const auto policy = ops::load_policy(ctx.config(), name);
    const auto status = ops::policy_status(env.deps(), policy);
    if (!status.current_error.empty()) {
      ctx.reporter().warn(fmt::format("policy {}: cannot read the current count: {}", name, status.current_error));
    }
    policies.push_back(status.to_json(flags.events));
  }
  if (ctx.output() == OutputFormat::json) {
    print_json(json{{"policies", policies}});
    return;
  }
  bool first = true;
  for (const auto& s : policies) {
    if (!first) {
      std::cout << "\n";
    }
    first = false;
    print_status_text(s);
  }
}

void add_policy_option(CLI::App& cmd, Context& ctx, AutoscaleFlags& flags, bool required)
{
  auto* option = cmd.add_option("--policy", flags.policy,
                                "Policy name: [autoscale.policies.NAME]; AUTO_SCALER_* variables configure it");
  // Context::set_policy must run before the configuration is loaded.
  option->each([&ctx](const std::string& name) { ctx.set_policy(name); });
  if (required) {
    option->required();
  }
}

void add_input_options(CLI::App& cmd, AutoscaleFlags& flags)
{
  cmd.add_option("--metric", flags.metric, "Use this metric value instead of reading the policy's metric")
    ->check(CLI::Range(-1e15, 1e15));
  cmd.add_option("--current", flags.current,
                 "Current count of a manual or command target (default: the last applied count, else min)")
    ->check(CLI::Range(std::int64_t{0}, core::k_max_workers));
}

}  // namespace

void setup_autoscale_command(CLI::App& app, Context& ctx)
{
  auto* autoscale = app.add_subcommand(
    "autoscale", "Set worker counts from a metric (queue depth, mailboxes) with cooldowns and stabilization");
  autoscale->require_subcommand(1);

  auto plan_flags = std::make_shared<AutoscaleFlags>();
  auto* plan = autoscale->add_subcommand("plan", "Show what apply would do and why, stage by stage; change nothing");
  add_policy_option(*plan, ctx, *plan_flags, true);
  add_input_options(*plan, *plan_flags);
  plan->add_option("--out", plan_flags->out, "Save the plan to FILE for `autoscale apply FILE`");
  plan->add_flag("--detailed-exitcode", plan_flags->detailed_exitcode,
                 "Exit 0 when no change is proposed, 4 when one is, 1 on errors");
  plan->callback([&ctx, plan_flags] { ctx.action = [&ctx, plan_flags] { run_plan(ctx, *plan_flags); }; });

  auto apply_flags = std::make_shared<AutoscaleFlags>();
  auto* apply = autoscale->add_subcommand(
    "apply", "Plan and apply under the policy's lock, or apply exactly a saved plan FILE (exit 5 if stale)");
  apply->add_option("plan_file", apply_flags->plan_file, "A plan saved with `autoscale plan --out FILE`");
  add_policy_option(*apply, ctx, *apply_flags, false);
  add_input_options(*apply, *apply_flags);
  apply->add_flag("--dry-run", apply_flags->dry_run, "Do everything but the write: change nothing, record nothing");
  apply->add_option("--wait-lock", apply_flags->wait_lock,
                    "Wait up to DURATION for another run's lock on this policy (or its app) instead of exiting 75");
  apply->callback([&ctx, apply_flags] { ctx.action = [&ctx, apply_flags] { run_apply(ctx, *apply_flags); }; });

  auto status_flags = std::make_shared<AutoscaleFlags>();
  auto* status = autoscale->add_subcommand(
    "status", "Show each policy's current and desired count, last metric, cooldowns and recent events");
  add_policy_option(*status, ctx, *status_flags, false);
  status->add_option("--events", status_flags->events, "How many recent events to show")
    ->default_val(10)
    ->check(CLI::Range(std::size_t{0}, std::size_t{10'000}));
  status->callback([&ctx, status_flags] { ctx.action = [&ctx, status_flags] { run_status(ctx, *status_flags); }; });
}

}  // namespace scalectl::cli
