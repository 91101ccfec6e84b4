// `scalectl completion bash|zsh|fish`: completion scripts generated from the live command tree,
// so they cannot drift from the options that exist. Values come from fixed lists, file names, or
// the hidden `scalectl __complete KIND` (local config and the completion cache: never the network). `scalectl __tree` dumps the tree as JSON for
// the tests that check the man page and the committed completion files.

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <scalectl/config/config.hpp>

#include "cli/completion_cache.hpp"
#include "cli/context.hpp"
#include "cli/render.hpp"

namespace scalectl::cli {

using nlohmann::json;

namespace {

// What TAB offers for an option's value or a positional argument.
struct ValueKind {
  enum class Type { none, words, files, directories, dynamic };
  Type type = Type::none;
  std::vector<std::string> words;  // words: the fixed list; dynamic: {"sizes"}, {"droplets"}, ...
};

ValueKind words(std::vector<std::string> list)
{
  return {ValueKind::Type::words, std::move(list)};
}

ValueKind dynamic(std::string what)
{
  return {ValueKind::Type::dynamic, {std::move(what)}};
}

// The value completions, by option spelling: the same wherever the option appears, except
// those keyed "PATH OPTION" (e.g. --size means droplet sizes only under `droplet`).
const std::map<std::string, ValueKind>& option_values()
{
  static const std::map<std::string, ValueKind> values = {
    {"--output", words({"text", "json"})},
    {"-o", words({"text", "json"})},
    {"--config", {ValueKind::Type::files, {}}},
    {"--from-file", {ValueKind::Type::files, {}}},
    {"--out", {ValueKind::Type::files, {}}},
    {"--metrics-file", {ValueKind::Type::files, {}}},
    {"--state-dir", {ValueKind::Type::directories, {}}},
    {"--droplet", dynamic("droplets")},
    {"--policy", dynamic("policies")},
    {"--strategy", words({"balanced", "priority"})},
    {"droplet up --size", dynamic("sizes")},
    {"droplet down --size", dynamic("sizes")},
  };
  return values;
}

// The positional argument completions, by command path.
const std::map<std::string, ValueKind>& positional_values()
{
  static const std::map<std::string, ValueKind> values = {
    {"completion", words({"bash", "zsh", "fish"})},
    {"capacity check", dynamic("worker-types")},
    {"capacity allocate", dynamic("worker-types")},
  };
  return values;
}

struct CommandInfo {
  std::string path;  // "" for the root, "droplet up" for a leaf
  std::string description;
  std::vector<std::string> subcommands;
  std::vector<std::string> options;        // every spelling: --size, -o, --output
  std::vector<std::string> value_options;  // spellings that take a value
  std::map<std::string, std::string> option_help;  // spelling -> description
};

// Returns the value completion of `option` under `path` (type none when there is none).
ValueKind value_kind(const std::string& path, const std::string& option)
{
  const auto& values = option_values();
  if (const auto it = values.find(path + " " + option); it != values.end()) {
    return it->second;
  }
  if (const auto it = values.find(option); it != values.end()) {
    return it->second;
  }
  return {};
}

ValueKind positional_kind(const std::string& path)
{
  const auto it = positional_values().find(path);
  return it == positional_values().end() ? ValueKind{} : it->second;
}

// Collects `app` and its visible subcommands. Options of ancestors are listed on every
// descendant too: with fallthrough, `droplet up --droplet X` and `droplet --droplet X up` both parse.
void collect(const CLI::App& app, const std::string& path, std::vector<CommandInfo>& out,
             const CommandInfo* parent = nullptr)
{
  CommandInfo info;
  info.path = path;
  if (parent != nullptr) {
    info.options = parent->options;
    info.value_options = parent->value_options;
    info.option_help = parent->option_help;
  }
  info.description = app.get_description();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_lnames().empty() && opt->get_snames().empty()) {
      continue;  // positional
    }
    if (opt->get_group().empty()) {
      continue;  // hidden
    }
    std::vector<std::string> names;
    for (const auto& l : opt->get_lnames()) {
      names.push_back("--" + l);
    }
    for (const auto& s : opt->get_snames()) {
      names.push_back("-" + s);
    }
    for (const auto& n : names) {
      if (std::find(info.options.begin(), info.options.end(), n) != info.options.end()) {
        continue;
      }
      info.options.push_back(n);
      info.option_help[n] = opt->get_description();
      if (opt->get_expected_min() > 0 && opt->get_type_size_max() > 0) {
        info.value_options.push_back(n);
      }
    }
  }
  const auto subs = app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
  for (const CLI::App* sub : subs) {
    if (sub->get_group().empty()) {
      continue;  // hidden
    }
    info.subcommands.push_back(sub->get_name());
  }
  out.push_back(info);
  for (const CLI::App* sub : subs) {
    if (sub->get_group().empty()) {
      continue;
    }
    collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out, &info);
  }
}

std::string join(const std::vector<std::string>& list, const char* sep = " ")
{
  std::string out;
  for (const auto& w : list) {
    if (!out.empty()) {
      out += sep;
    }
    out += w;
  }
  return out;
}

// Returns the description of subcommand `sub` of `c`.
std::string sub_description(const std::vector<CommandInfo>& tree, const CommandInfo& c, const std::string& sub)
{
  const std::string sub_path = c.path.empty() ? sub : c.path + " " + sub;
  for (const auto& other : tree) {
    if (other.path == sub_path) {
      return other.description;
    }
  }
  return {};
}

// Returns the first sentence-ish part of a description, short enough for a completion menu.
std::string short_help(std::string text)
{
  if (const auto cut = text.find(" ("); cut != std::string::npos && cut > 20) {
    text.resize(cut);
  }
  if (text.size() > 70) {
    text.resize(67);
    text += "...";
  }
  return text;
}

// Returns the bash statement that fills COMPREPLY for `kind`.
std::string bash_values(const ValueKind& kind)
{
  switch (kind.type) {
  case ValueKind::Type::words:
    return "COMPREPLY=($(compgen -W \"" + join(kind.words) + "\" -- \"$cur\"))";
  case ValueKind::Type::files:
    return "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))";
  case ValueKind::Type::directories:
    return "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\"))";
  case ValueKind::Type::dynamic:
    return "COMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" __complete " + kind.words.front() +
           " 2>/dev/null)\" -- \"$cur\"))";
  case ValueKind::Type::none:
    break;
  }
  return "COMPREPLY=()";
}

std::string bash_script(const std::vector<CommandInfo>& tree)
{
  std::ostringstream s;
  s << "# bash completion for scalectl -- generated by `scalectl completion bash`; do not edit\n"
    << "# Values come from fixed lists, file names, or `scalectl __complete` (local config and cache only).\n"
    << "_scalectl() {\n"
    << "  local cur prev path word i\n"
    << "  COMPREPLY=()\n"
    << "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    << "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    << "  path=\"\"\n"
    << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    << "    word=\"${COMP_WORDS[i]}\"\n"
    << "    case \"$word\" in -*) continue ;; esac\n"
    << "    case \"${path:+$path }$word\" in\n";
  for (const auto& c : tree) {
    if (!c.path.empty()) {
      s << "      \"" << c.path << "\") path=\"" << c.path << "\" ;;\n";
    }
  }
  s << "    esac\n"
    << "  done\n"
    << "  case \"$path|$prev\" in\n";
  for (const auto& c : tree) {
    for (const auto& opt : c.value_options) {
      s << "    \"" << c.path << "|" << opt << "\") " << bash_values(value_kind(c.path, opt)) << "; return ;;\n";
    }
  }
  s << "  esac\n"
    << "  case \"$path\" in\n";
  for (const auto& c : tree) {
    s << "    \"" << c.path << "\")\n"
      << "      COMPREPLY=($(compgen -W \"" << join(c.subcommands) << (c.subcommands.empty() ? "" : " ")
      << join(c.options) << "\" -- \"$cur\"))\n";
    if (const ValueKind kind = positional_kind(c.path); kind.type != ValueKind::Type::none) {
      s << "      case \"$cur\" in -*) ;; *) " << bash_values(kind) << " ;; esac\n";
    }
    s << "      ;;\n";
  }
  s << "  esac\n"
    << "}\n"
    << "complete -F _scalectl scalectl\n";
  return s.str();
}

// Returns `text` for a zsh _describe entry: colons and backslashes escaped, in single quotes.
std::string zsh_entry(const std::string& word, const std::string& help)
{
  std::string out = "'";
  for (const char c : word) {
    if (c == ':') {
      out += '\\';
    }
    out += c;
  }
  out += ':';
  for (const char c : short_help(help)) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string zsh_values(const ValueKind& kind)
{
  switch (kind.type) {
  case ValueKind::Type::words:
    return "compadd -- " + join(kind.words);
  case ValueKind::Type::files:
    return "_files";
  case ValueKind::Type::directories:
    return "_files -/";
  case ValueKind::Type::dynamic:
    return "compadd -- ${(f)\"$(${words[1]} __complete " + kind.words.front() + " 2>/dev/null)\"}";
  case ValueKind::Type::none:
    break;
  }
  return "_message 'value'";
}

std::string zsh_script(const std::vector<CommandInfo>& tree)
{
  std::ostringstream s;
  s << "#compdef scalectl\n"
    << "# zsh completion for scalectl -- generated by `scalectl completion zsh`; do not edit\n"
    << "_scalectl() {\n"
    << "  local -a subs opts\n"
    << "  local path_ word i\n"
    << "  path_=\"\"\n"
    << "  for ((i = 2; i < CURRENT; i++)); do\n"
    << "    word=\"${words[i]}\"\n"
    << "    [[ \"$word\" == -* ]] && continue\n"
    << "    case \"${path_:+$path_ }$word\" in\n";
  for (const auto& c : tree) {
    if (!c.path.empty()) {
      s << "      \"" << c.path << "\") path_=\"" << c.path << "\" ;;\n";
    }
  }
  s << "    esac\n"
    << "  done\n"
    << "  case \"$path_|${words[CURRENT-1]}\" in\n";
  for (const auto& c : tree) {
    for (const auto& opt : c.value_options) {
      s << "    \"" << c.path << "|" << opt << "\") " << zsh_values(value_kind(c.path, opt)) << "; return ;;\n";
    }
  }
  s << "  esac\n"
    << "  case \"$path_\" in\n";
  for (const auto& c : tree) {
    s << "    \"" << c.path << "\")\n      subs=(";
    for (const auto& sub : c.subcommands) {
      s << " " << zsh_entry(sub, sub_description(tree, c, sub));
    }
    s << " )\n      opts=(";
    for (const auto& opt : c.options) {
      s << " " << zsh_entry(opt, c.option_help.at(opt));
    }
    s << " )\n";
    if (const ValueKind kind = positional_kind(c.path); kind.type != ValueKind::Type::none) {
      s << "      [[ \"${words[CURRENT]}\" != -* ]] && " << zsh_values(kind) << "\n";
    }
    s << "      ;;\n";
  }
  s << "  esac\n"
    << "  if [[ \"${words[CURRENT]}\" == -* ]]; then\n"
    << "    _describe -t options 'option' opts\n"
    << "  else\n"
    << "    _describe -t commands 'command' subs\n"
    << "  fi\n"
    << "}\n"
    << "_scalectl \"$@\"\n";
  return s.str();
}

std::string fish_escape(const std::string& text)
{
  std::string out;
  for (const char c : text) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Returns the fish `complete` arguments offering `kind`.
std::string fish_values(const ValueKind& kind)
{
  switch (kind.type) {
  case ValueKind::Type::words:
    return "-x -a '" + join(kind.words) + "'";
  case ValueKind::Type::files:
    return "-r -F";
  case ValueKind::Type::directories:
    return "-x -a '(__fish_complete_directories)'";
  case ValueKind::Type::dynamic:
    return "-x -a '(scalectl __complete " + kind.words.front() + " 2>/dev/null)'";
  case ValueKind::Type::none:
    break;
  }
  return "-x";
}

std::string fish_script(const std::vector<CommandInfo>& tree)
{
  std::ostringstream s;
  s << "# fish completion for scalectl -- generated by `scalectl completion fish`; do not edit\n"
    << "function __scalectl_path\n"
    << "    set -l path ''\n"
    << "    for word in (commandline -opc)[2..-1]\n"
    << "        string match -q -- '-*' $word; and continue\n"
    << "        set -l candidate (string trim -- \"$path $word\")\n"
    << "        switch $candidate\n";
  for (const auto& c : tree) {
    if (!c.path.empty()) {
      s << "            case '" << c.path << "'\n"
        << "                set path '" << c.path << "'\n";
    }
  }
  s << "        end\n"
    << "    end\n"
    << "    echo $path\n"
    << "end\n"
    << "function __scalectl_at\n"
    << "    set -l path (__scalectl_path)\n"
    << "    test \"$path\" = \"$argv[1]\"\n"
    << "end\n"
    << "complete -c scalectl -f\n";
  for (const auto& c : tree) {
    const std::string cond = fmt::format("-n '__scalectl_at \"{}\"'", c.path);
    for (const auto& sub : c.subcommands) {
      s << "complete -c scalectl " << cond << " -a '" << sub << "' -d '"
        << fish_escape(short_help(sub_description(tree, c, sub))) << "'\n";
    }
    if (const ValueKind kind = positional_kind(c.path); kind.type != ValueKind::Type::none) {
      s << "complete -c scalectl " << cond << " " << fish_values(kind) << "\n";
    }
    for (const auto& opt : c.options) {
      const bool takes_value =
        std::find(c.value_options.begin(), c.value_options.end(), opt) != c.value_options.end();
      std::string spec = opt.starts_with("--") ? "-l " + opt.substr(2) : "-s " + opt.substr(1);
      if (takes_value) {
        spec += " " + fish_values(value_kind(c.path, opt));
      }
      s << "complete -c scalectl " << cond << " " << spec << " -d '" << fish_escape(short_help(c.option_help.at(opt)))
        << "'\n";
    }
  }
  return s.str();
}

json tree_json(const std::vector<CommandInfo>& tree)
{
  json out = json::array();
  for (const auto& c : tree) {
    out.push_back({{"path", c.path},
                   {"description", c.description},
                   {"subcommands", c.subcommands},
                   {"options", c.options},
                   {"value_options", c.value_options}});
  }
  return out;
}

// Returns the names NAME of config keys PREFIX.NAME.*, sorted and unique.
std::vector<std::string> table_names(const config::Config& config, std::string_view prefix)
{
  std::vector<std::string> names;
  for (const auto& [key, entry] : config.entries()) {
    if (key.starts_with(prefix)) {
      const std::string rest = key.substr(prefix.size());
      names.push_back(rest.substr(0, rest.find('.')));
    }
  }
  std::ranges::sort(names);
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// Returns the candidates for `kind` (sizes, droplets, policies, worker-types); empty on any error.
std::vector<std::string> completion_candidates(Context& ctx, const std::string& kind)
{
  try {
    if (kind == "sizes" || kind == "droplets") {
      const auto path = completion_cache_path();
      if (!path) {
        return {};
      }
      const CompletionCache cache = read_completion_cache(*path);
      return kind == "sizes" ? cache.sizes : cache.droplets;
    }
    if (kind == "policies") {
      return table_names(ctx.config(), "autoscale.policies.");
    }
    if (kind == "worker-types") {
      return table_names(ctx.config(), "capacity.worker_types.");
    }
  } catch (const std::exception&) {
    // A broken config must not break TAB: offer nothing.
  }
  return {};
}

}  // namespace

void setup_completion_command(CLI::App& app, Context& ctx)
{
  auto shell = std::make_shared<std::string>();
  auto* completion = app.add_subcommand("completion", "Print the bash, zsh or fish completion script");
  completion->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  completion->callback([&app, &ctx, shell] {
    ctx.action = [&app, shell] {
      std::vector<CommandInfo> tree;
      collect(app, "", tree);
      if (*shell == "bash") {
        std::cout << bash_script(tree);
      } else if (*shell == "zsh") {
        std::cout << zsh_script(tree);
      } else {
        std::cout << fish_script(tree);
      }
    };
  });

  // `scalectl __complete KIND`: the words TAB offers for a value, one a line, from the local
  // config and the completion cache only (never the network); nothing, with exit 0, on any error.
  auto kind = std::make_shared<std::string>();
  auto* complete = app.add_subcommand("__complete", "Print completion candidates (for the shell scripts)");
  complete->group("");  // hidden
  complete->add_option("kind", *kind)->required();
  complete->callback([&ctx, kind] {
    ctx.action = [&ctx, kind] {
      for (const auto& word : completion_candidates(ctx, *kind)) {
        std::cout << word << '\n';
      }
    };
  });

  auto* dump = app.add_subcommand("__tree", "Dump the command tree as JSON (for tests)");
  dump->group("");  // hidden
  dump->callback([&app, &ctx] {
    ctx.action = [&app] {
      std::vector<CommandInfo> tree;
      collect(app, "", tree);
      print_json(tree_json(tree));
    };
  });
}

}  // namespace scalectl::cli
