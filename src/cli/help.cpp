#include "cli/help.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <scalectl/exit_code.hpp>
#include <scalectl/suggest.hpp>

namespace scalectl::cli {

namespace {

// Placeholders by option spelling: what to type, not the C++ type CLI11 would show.
const std::map<std::string, std::string>& placeholders()
{
  static const std::map<std::string, std::string> names = {
    {"--timeout", "DURATION"},      {"--shutdown-timeout", "DURATION"}, {"--wait-lock", "DURATION"},
    {"--ttl", "DURATION"},          {"--wait", "DURATION"},             {"--since", "DURATION|TIME"},
    {"--until", "DURATION|TIME"},   {"--count", "COUNT"},               {"--lines", "COUNT"},
    {"--current", "COUNT"},         {"--events", "COUNT"},              {"--workers", "COUNT"},
    {"--size", "SLUG"},             {"--droplet", "ID|NAME"},           {"app", "ID|NAME"},
    {"--config", "FILE"},           {"--from-file", "FILE"},            {"--out", "FILE"},
    {"--metrics-file", "FILE"},     {"plan_file", "FILE"},              {"--state-dir", "DIR"},
    {"--redis-url", "URL"},         {"--policy", "NAME"},               {"--pool", "NAME"},
    {"--component", "NAME"},        {"--id", "ID"},                     {"id", "ID"},
    {"type", "TYPE"},               {"--want", "TYPE=COUNT"},           {"--autoscale", "MIN:MAX"},
    {"--cpu-percent", "PERCENT"},   {"--cpu", "VCPUS"},                 {"--ram", "GB"},
    {"--metric", "NUMBER"},         {"--resource", "RESOURCE"},         {"--what", "KIND"},
    {"shell", "SHELL"},             {"--strategy", "balanced|priority"}, {"--every", "DURATION"}, {"--format", "COL,..."},     {"--tag", "TAG"},
    // autoscale run (issue 14)
    {"--listen", "ADDR:PORT"},      {"--token-file", "FILE"},           {"--log-format", "FORMAT"},
  };
  return names;
}

// Returns the help text of the exit codes in `codes`.
std::string exit_codes_text(const std::vector<int>& codes)
{
  std::string text = "Exit codes:\n";
  for (const auto& info : exit_code_table()) {
    if (std::ranges::find(codes, to_int(info.code)) != codes.end()) {
      text += fmt::format("  {:>3}  {}\n", to_int(info.code), info.meaning);
    }
  }
  return text + "The full table: scalectl --help, man scalectl.\n";
}

// Shows, after a subcommand's own options, the options of its ancestors that work there too.
class Formatter final : public CLI::Formatter {
 public:
  std::string make_footer(const CLI::App* app) const override
  {
    std::vector<const CLI::Option*> inherited;
    for (const CLI::App* parent = app->get_parent(); parent != nullptr; parent = parent->get_parent()) {
      for (const CLI::Option* opt : parent->get_options()) {
        if (opt->nonpositional() && !opt->get_group().empty() && opt != parent->get_help_ptr() &&
            opt != parent->get_help_all_ptr() && opt->get_name() != "--version") {
          inherited.push_back(opt);
        }
      }
    }
    std::string out;
    if (!inherited.empty()) {
      out = make_group("Global options (also accepted here)", false, inherited);
    }
    const std::string footer = CLI::Formatter::make_footer(app);
    return footer.empty() ? out : out + "\n" + footer;
  }
};

// Applies placeholders and the formatter to `app` and its subcommands, and the footers of `table`.
void apply(CLI::App& app, const std::string& path, const std::shared_ptr<Formatter>& formatter,
           const std::map<std::string, const VerbHelp*>& table)
{
  app.formatter(formatter);
  for (CLI::Option* opt : app.get_options()) {
    const auto& names = placeholders();
    const std::string key = opt->get_lnames().empty() ? opt->get_name() : "--" + opt->get_lnames().front();
    if (const auto it = names.find(key); it != names.end() && opt->get_expected_min() > 0) {
      opt->type_name(it->second);
    }
  }
  if (!path.empty()) {
    if (const auto it = table.find(path); it != table.end()) {
      std::string footer = "Examples:\n";
      for (const auto& example : it->second->examples) {
        footer += "  " + example + "\n";
      }
      app.footer(footer + "\n" + exit_codes_text(it->second->exit_codes));
    } else {
      app.footer(fmt::format("Run `scalectl {} VERB --help` for each verb's examples and exit codes.", path));
    }
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    apply(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), formatter, table);
  }
}

// Returns the option of `app` or an ancestor spelled `name` ("--size", "-o"), or nullptr.
const CLI::Option* find_option(const CLI::App* app, const std::string& name)
{
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* opt : app->get_options()) {
      if (opt->check_name(name)) {
        return opt;
      }
    }
  }
  return nullptr;
}

// Returns every option spelling valid at `app` (its own and its ancestors').
std::vector<std::string> option_spellings(const CLI::App* app)
{
  std::vector<std::string> out;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* opt : app->get_options()) {
      for (const auto& l : opt->get_lnames()) {
        out.push_back("--" + l);
      }
      for (const auto& s : opt->get_snames()) {
        out.push_back("-" + s);
      }
    }
  }
  return out;
}

std::string path_of(const CLI::App* app)
{
  std::string path;
  for (; app != nullptr && app->get_parent() != nullptr; app = app->get_parent()) {
    path = app->get_name() + (path.empty() ? "" : " " + path);
  }
  return path.empty() ? "scalectl" : "scalectl " + path;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates)
{
  const auto close = closest_matches(word, candidates, 1);
  if (close.empty() || edit_distance(word, close.front()) > std::max<std::size_t>(2, word.size() / 3)) {
    return "";
  }
  return fmt::format(" (did you mean '{}'?)", close.front());
}

}  // namespace

const std::vector<VerbHelp>& verb_help()
{
  static const std::vector<VerbHelp> table = {
    {"droplet status", {"scalectl droplet status --droplet pdf-worker", "scalectl droplet status -o json"}, {0, 1, 2}},
    {"droplet up",
     {"scalectl droplet up --droplet pdf-worker", "scalectl droplet up --size s-8vcpu-16gb --timeout 30m",
      "scalectl droplet up --dry-run"},
     {0, 1, 2, 3, 6, 75, 130}},
    {"droplet down",
     {"scalectl -q droplet down", "scalectl droplet down --droplet pdf-worker --wait-lock 5m",
      "scalectl droplet down --dry-run"},
     {0, 1, 2, 3, 6, 75, 130}},
    {"droplet cost", {"scalectl droplet cost --since 30d", "scalectl droplet cost --droplet pdf-worker -o json"},
     {0, 1, 2}},
    {"droplet claim",
     {"scalectl droplet claim up --id pdf-batch-7 --ttl 2h", "scalectl droplet claim s-8vcpu-16gb --id nightly --ttl 0"},
     {0, 1, 2, 6, 75}},
    {"droplet unclaim", {"scalectl droplet unclaim pdf-batch-7"}, {0, 1, 2}},
    {"droplet claims",
     {"scalectl droplet claims", "scalectl droplet claims --droplet pdf-worker -o json",
      "scalectl droplet claims --format ID,EXPIRES --no-header"},
     {0, 1, 2}},
    {"droplet reconcile",
     {"scalectl droplet reconcile --droplet pdf-worker", "scalectl droplet reconcile --tag pdf --every 1m",
      "scalectl droplet reconcile --droplet pdf-worker --dry-run"},
     {0, 1, 2, 3, 6, 75, 130}},
    {"droplet schedule", {"scalectl droplet schedule", "scalectl droplet schedule -o json"}, {0, 1, 2}},
    {"app status", {"scalectl app status shop", "scalectl app status shop --component worker -o json"}, {0, 1, 2}},
    {"app scale",
     {"scalectl app scale shop --component worker --count 3",
      "scalectl app scale shop --component backend --size apps-s-1vcpu-2gb --dry-run",
      "scalectl app scale shop --component backend --autoscale 1:3 --cpu-percent 70"},
     {0, 1, 2, 3, 6, 75, 130}},
    {"capacity check", {"scalectl capacity check ocr", "scalectl capacity check ocr --count 2"}, {0, 1, 2, 3}},
    {"capacity allocate",
     {"scalectl capacity allocate ocr --id job-42 --ttl 2h", "scalectl capacity allocate ocr --wait 10m"},
     {0, 1, 2, 3, 130}},
    {"capacity renew", {"scalectl capacity renew job-42 --ttl 2h"}, {0, 1, 2, 3}},
    {"capacity release", {"scalectl capacity release job-42", "scalectl capacity release --all --force"}, {0, 1, 2}},
    {"capacity status",
     {"scalectl capacity status", "scalectl capacity status --pool server -o json",
      "scalectl capacity status --format ID,HOST,PID --no-header"},
     {0, 1, 2}},
    {"capacity repair", {"scalectl capacity repair", "scalectl capacity repair --pool server --wait-lock 1m"},
     {0, 1, 2, 75}},
    {"capacity plan", {"scalectl capacity plan", "scalectl capacity plan --cpu 8 --ram 16 --want ocr=4"}, {0, 1, 2}},
    {"autoscale plan",
     {"scalectl autoscale plan --policy queue",
      "scalectl autoscale plan --policy queue --out plan.json --detailed-exitcode"},
     {0, 1, 2, 4}},
    {"autoscale apply",
     {"scalectl autoscale apply --policy queue", "scalectl autoscale apply plan.json",
      "scalectl autoscale apply --policy queue --dry-run"},
     {0, 1, 2, 3, 5, 6, 75, 130}},
    {"autoscale status", {"scalectl autoscale status", "scalectl autoscale status --policy queue --events 20"},
     {0, 1, 2}},
    {"autoscale run",
     {"scalectl autoscale run --policy queue --log-format json",
      "scalectl autoscale run --every 30s --listen 127.0.0.1:9464 --token-file /etc/scalectl/trigger-token"},
     {0, 1, 2}},
    {"config show", {"scalectl config show", "scalectl --context work config show -o json"}, {0, 2}},
    {"completion",
     {"scalectl completion bash > ~/.local/share/bash-completion/completions/scalectl",
      "scalectl completion fish > ~/.config/fish/completions/scalectl.fish"},
     {0, 2}},
    {"log",
     {"scalectl log -n 20", "scalectl log --since 7d --what droplet.resize -o json",
      "scalectl log --format time,what,result --no-header"},
     {0, 1, 2}},
  };
  return table;
}

void apply_help(CLI::App& root)
{
  std::map<std::string, const VerbHelp*> table;
  for (const auto& verb : verb_help()) {
    table[verb.path] = &verb;
  }
  apply(root, "", std::make_shared<Formatter>(), table);
}

std::optional<std::string> explain_bad_words(const CLI::App& root, int argc, const char* const* argv)
{
  const CLI::App* app = &root;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") {
      break;
    }
    const std::string name = word.substr(0, word.find('='));
    if (name == "--access-token" || name == "--token" || (name.starts_with("-t") && !name.starts_with("--"))) {
      return "scalectl takes no token on the command line (ps shows argv to every user); it reads "
             "DIGITALOCEAN_ACCESS_TOKEN, DIGITALOCEAN_TOKEN, $CREDENTIALS_DIRECTORY/digitalocean-token, "
             "digitalocean.token_file, then doctl's config (--context NAME picks a doctl context)";
    }
    if (word.starts_with("-") && word.size() > 1) {
      const CLI::Option* opt = find_option(app, name.starts_with("--") ? name : name.substr(0, 2));
      if (opt == nullptr) {
        return fmt::format("{} has no option '{}'{}; run `{} --help` for usage", path_of(app), name.substr(0, 64),
                           did_you_mean(name, option_spellings(app)), path_of(app));
      }
      if (opt->get_expected_min() > 0 && word.find('=') == std::string::npos &&
          (name.starts_with("--") || name.size() == 2)) {
        ++i;  // its value
      }
      continue;
    }
    const auto subs = app->get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
    const auto found = std::ranges::find_if(subs, [&](const CLI::App* sub) { return sub->check_name(word); });
    if (found != subs.end()) {
      app = *found;
      continue;
    }
    const bool takes_positionals =
      !app->get_options([](const CLI::Option* opt) { return opt->get_positional(); }).empty();
    if (!subs.empty() && !takes_positionals) {
      std::vector<std::string> names;
      for (const CLI::App* sub : subs) {
        names.push_back(sub->get_name());
      }
      return fmt::format("{} has no subcommand '{}'{}; run `{} --help` for usage", path_of(app), word.substr(0, 64),
                         did_you_mean(word, names), path_of(app));
    }
  }
  return std::nullopt;
}

}  // namespace scalectl::cli
