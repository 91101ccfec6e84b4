// load(): merges the configuration layers in the order config.hpp states, lowest first.

#include <scalectl/config/config.hpp>

#include <algorithm>

#include <unistd.h>

#include <fmt/format.h>

#include <scalectl/config/show.hpp>
#include <scalectl/duration.hpp>
#include <scalectl/error.hpp>

#include "environment.hpp"
#include "keys.hpp"
#include "read_file.hpp"
#include "suggest.hpp"
#include "toml_reader.hpp"
#include "values.hpp"

namespace scalectl::config {

namespace {

// Returns true when `value` is a string (or list of strings) holding a URL with a password, e.g.
// state.redis_url = "rediss://default:PASSWORD@host:25061": such a file is held to the same
// permission rule as one setting a secret key.
bool holds_url_password(const Value& value)
{
  if (const auto* text = std::get_if<std::string>(&value)) {
    return redact_url_passwords(*text) != *text;
  }
  if (const auto* items = std::get_if<std::vector<std::string>>(&value)) {
    return std::ranges::any_of(*items, [](const std::string& item) { return redact_url_passwords(item) != item; });
  }
  return false;
}

constexpr std::string_view k_system_file = "/etc/scalectl/config.toml";
constexpr std::string_view k_policies = "autoscale.policies";
constexpr std::string_view k_metric_error_replicas = "autoscale.policies.*.on_metric_error.replicas";

std::string unknown_key_message(std::string_view key, std::string_view what = "key")
{
  std::string message = fmt::format("unknown {} `{}`", what, key);
  if (const auto suggestion = detail::suggest_key(key)) {
    message += fmt::format("; did you mean `{}`?", *suggestion);
  } else {
    message += "; see `scalectl config show` for the known keys";
  }
  return message;
}

// Converts an AUTO_SCALER_* / SCALECTL_* / legacy environment value to the key's type.
Value environment_value(const KeyInfo& info, std::string_view name, std::string_view text)
{
  const auto fail = [&](std::string_view reason) {
    return usage_error(fmt::format("environment variable {}: {} (for {}); fix or unset it", name, reason, info.key));
  };
  Value value;
  if (detail::value_type(info) == detail::ValueType::duration && name.ends_with("_MS")) {
    // AUTO_SCALER_*_MS hold integer milliseconds.
    const auto ms = detail::parse_integer(text);
    if (!ms || *ms < 0) {
      throw fail(fmt::format("\"{}\" is not a non-negative integer of milliseconds", detail::trim(text)));
    }
    const std::chrono::milliseconds duration(*ms);
    value = duration.count() % 1000 == 0 ? format_duration(duration) : fmt::format("{}ms", duration.count());
  } else if (name == "AUTO_SCALER_PLATFORM" && detail::trim(text) == "docker") {
    value = std::string("docker-compose");  // the seed's name for a Compose service
  } else {
    auto parsed = detail::parse_text_value(info, text);
    if (!parsed) {
      throw fail(parsed.error());
    }
    value = std::move(*parsed);
  }
  if (const auto problem = detail::check_value(info, value)) {
    throw fail(*problem);
  }
  return value;
}

// Returns the default state directory when systemd gave none: /var/lib/scalectl for root,
// else $XDG_STATE_HOME/scalectl or ~/.local/state/scalectl.
std::optional<std::string> default_state_dir(const detail::Environment& env)
{
  if (::geteuid() == 0) {
    return std::string("/var/lib/scalectl");
  }
  if (auto xdg = env.get("XDG_STATE_HOME"); xdg && std::filesystem::path(*xdg).is_absolute()) {
    return (std::filesystem::path(*xdg) / "scalectl").string();
  }
  if (auto home = env.home()) {
    return (*home / ".local" / "state" / "scalectl").string();
  }
  return std::nullopt;
}

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : m_options(options), m_env(options) {}

  Config run()
  {
    // Layer 1: built-in defaults.
    apply_defaults();
    // Layer 2: the system file.
    apply_file(m_options.system_file.value_or(std::filesystem::path(k_system_file)), Layer::system_file, {});
    // Layer 3: the user file.
    if (const auto config_home = m_env.config_home()) {
      apply_file(*config_home / "scalectl" / "config.toml", Layer::user_file, {});
    }
    // Layer 4: the file named by --config or SCALECTL_CONFIG; it must exist.
    if (m_options.explicit_file) {
      apply_file(*m_options.explicit_file, Layer::explicit_file, "--config");
    } else if (const auto named = m_env.get("SCALECTL_CONFIG")) {
      apply_file(*named, Layer::explicit_file, "SCALECTL_CONFIG");
    }
    // Layer 5: the environment.
    apply_environment();
    // Layer 6: command-line flags.
    apply_flags();

    apply_table_defaults();
    derive_state_backend();
    check_metric_error_replicas();
    return std::move(m_config);
  }

 private:
  void apply_defaults()
  {
    for (const KeyInfo& info : schema()) {
      if (info.default_text.empty() || info.key.find('*') != std::string::npos) {
        continue;
      }
      m_config.set(info.key, schema_default(info), Origin{}, info.secret);
    }
    // systemd's StateDirectory= names the state directory; it is a default, so files override it.
    if (const auto state_directory = m_env.get("STATE_DIRECTORY")) {
      // StateDirectory= with several directories gives a colon-separated list; the first is ours.
      const std::string first = state_directory->substr(0, state_directory->find(':'));
      m_config.set("state.dir", first, Origin{Layer::environment, "STATE_DIRECTORY"});
    } else if (const auto dir = default_state_dir(m_env)) {
      m_config.set("state.dir", *dir, Origin{});
    }
  }

  static Value schema_default(const KeyInfo& info)
  {
    auto value = detail::parse_text_value(info, info.default_text);
    if (!value) {
      throw Error(ExitCode::failure, fmt::format("internal error: default of {}: {}", info.key, value.error()));
    }
    return std::move(*value);
  }

  // `required_by` names the option or variable that made the file mandatory; empty when a
  // missing file is fine.
  void apply_file(const std::filesystem::path& path, Layer layer, std::string_view required_by)
  {
    const auto file = detail::read_regular_file(path, "config file");
    if (!file) {
      if (!required_by.empty()) {
        throw usage_error(fmt::format("config file {} (from {}) does not exist; create it or fix the path",
                                      path.string(), required_by));
      }
      return;
    }
    const std::string name = path.string();
    for (detail::TomlNode node : detail::read_toml(file->text, name)) {
      const std::string where = fmt::format("{}:{}:{}", name, node.line, node.column);
      for (std::size_t i = 0; i < node.path.size(); ++i) {
        const std::string& segment = node.path[i];
        // A schedule window is a quoted key: "Mon-Fri 08:00-20:00 Europe/Paris" = "s-8vcpu-16gb".
        const bool schedule_window = i == 2 && node.path[0] == "droplet" && node.path[1] == "schedule";
        if (!schedule_window && !detail::is_bare_name(segment)) {
          throw usage_error(fmt::format("{}: \"{}\" is not a valid name; use letters, digits, '-' and '_'", where,
                                        segment));
        }
      }
      const std::string key = fmt::format("{}", fmt::join(node.path, "."));
      const KeyInfo* info = detail::find_key_info(key);
      if (node.kind == "table") {
        if (detail::is_table(key)) {
          note_table(key);  // an empty [capacity.worker_types.NAME] still exists
          continue;
        }
        if (info != nullptr) {
          throw usage_error(fmt::format("{}: wrong type for {}: expected {}, found table", where, key,
                                        detail::describe_type(detail::value_type(*info))));
        }
        throw usage_error(fmt::format("{}: {}", where, unknown_key_message(key, "table")));
      }
      if (info == nullptr) {
        if (detail::is_table(key)) {
          throw usage_error(fmt::format("{}: wrong type for {}: expected table, found {}", where, key, node.kind));
        }
        throw usage_error(fmt::format("{}: {}", where, unknown_key_message(key)));
      }
      if (node.value && detail::value_type(*info) == detail::ValueType::string) {
        // `id = 123456789` is as natural as `id = "web-1"` for keys that take an id or a name.
        if (const auto* number = std::get_if<std::int64_t>(&*node.value)) {
          node.value = Value(std::to_string(*number));
        }
      }
      const auto problem = node.value ? detail::check_value(*info, *node.value)
                                      : fmt::format("expected {}, found {}",
                                                    detail::describe_type(detail::value_type(*info)), node.kind);
      if (problem) {
        throw usage_error(fmt::format("{}: wrong value for {}: {}", where, key, *problem));
      }
      if ((info->secret || holds_url_password(*node.value)) && detail::group_or_other_access(file->mode)) {
        throw usage_error(fmt::format(
            "permissions {} for '{}' are too open: it sets the secret {}, so group and others must have no "
            "access; run `chmod 600 {}` or move the secret out of it",
            detail::mode_text(file->mode), name, info->secret ? key : key + " (a password inside the URL)", name));
      }
      store(*info, key, *node.value, Origin{layer, where});
    }
  }

  void apply_environment()
  {
    for (const KeyInfo& info : schema()) {
      if (info.key == "digitalocean.token") {
        continue;  // resolve_token() reads the token variables in its own order
      }
      std::string key = info.key;
      if (key.find('*') != std::string::npos) {
        // AUTO_SCALER_* (seed 004) configure the policy chosen with --policy, and nothing without it.
        if (!m_options.policy || !key.starts_with(k_policies)) {
          continue;
        }
        if (!detail::is_bare_name(*m_options.policy)) {
          throw usage_error(fmt::format("invalid policy name \"{}\"; use letters, digits, '-' and '_'",
                                        *m_options.policy));
        }
        key = *detail::instantiate(key, fmt::format("{}.{}", k_policies, *m_options.policy));
      }
      // The first variable set wins: SCALECTL_<KEY>, then the older names in schema order.
      for (const std::string& name : info.env) {
        if (const auto text = m_env.get(name)) {
          store(info, key, environment_value(info, name, *text), Origin{Layer::environment, name});
          break;
        }
      }
    }
  }

  void apply_flags()
  {
    for (const FlagValue& flag : m_options.flags) {
      const KeyInfo* info = detail::find_key_info(flag.key);
      if (info == nullptr) {
        throw usage_error(fmt::format("{}: {}", flag.flag, unknown_key_message(flag.key)));
      }
      if (info->secret) {
        throw usage_error(fmt::format("{} cannot be given on the command line, where `ps` shows it to every user; "
                                      "set it in the environment or a mode 0600 config file",
                                      info->key));
      }
      Value value = flag.value;
      if (const auto* text = std::get_if<std::string>(&value);
          text != nullptr && detail::value_type(*info) != detail::ValueType::string &&
          detail::value_type(*info) != detail::ValueType::slugs) {
        auto parsed = detail::parse_text_value(*info, *text);
        if (!parsed) {
          throw usage_error(fmt::format("{}: {}", flag.flag, parsed.error()));
        }
        value = std::move(*parsed);
      }
      if (const auto problem = detail::check_value(*info, value)) {
        throw usage_error(fmt::format("{}: {}", flag.flag, *problem));
      }
      store(*info, flag.key, std::move(value), Origin{Layer::flag, flag.flag});
    }
  }

  // Wildcard tables get the schema defaults of their keys once they exist (in any layer), so a
  // policy's scale_up_threshold reads 0.8 with origin "default" unless some layer set it.
  void apply_table_defaults()
  {
    for (const std::string& table : m_tables) {
      for (const KeyInfo& info : schema()) {
        if (info.default_text.empty()) {
          continue;
        }
        const auto key = detail::instantiate(info.key, table);
        if (key && m_config.find(*key) == nullptr) {
          m_config.set(*key, schema_default(info), Origin{}, info.secret);
        }
      }
    }
  }

  // state.backend defaults to redis when a Redis URL is configured.
  void derive_state_backend()
  {
    const Entry* backend = m_config.find("state.backend");
    if (backend != nullptr && backend->origin.layer == Layer::builtin && m_config.find("state.redis_url") != nullptr) {
      m_config.set("state.backend", std::string("redis"), Origin{Layer::builtin, "state.redis_url is set"});
    }
  }

  void check_metric_error_replicas()
  {
    for (const std::string& policy : m_config.table_names(k_policies)) {
      const std::string key = fmt::format("{}.{}.on_metric_error", k_policies, policy);
      const Entry* entry = m_config.find(key);
      if (entry != nullptr && std::get<std::string>(entry->value) == "replicas" &&
          m_config.find(key + ".replicas") == nullptr) {
        throw usage_error(fmt::format("{} ({}) is \"replicas\" without a count; write on_metric_error = "
                                      "{{ replicas = N }}",
                                      key, entry->origin.describe()));
      }
    }
  }

  void store(const KeyInfo& info, const std::string& key, Value value, const Origin& origin)
  {
    note_table(key);
    if (info.key == k_metric_error_replicas) {
      // on_metric_error = { replicas = N } also sets the mode, so a higher layer's "keep" wins.
      m_config.set(key.substr(0, key.rfind('.')), std::string("replicas"), origin);
    }
    m_config.set(key, std::move(value), origin, info.secret);
  }

  // Records the wildcard table `key` lies in or names, if any.
  void note_table(std::string_view key)
  {
    const auto table = detail::wildcard_table_of(key);
    if (table && std::ranges::find(m_tables, *table) == m_tables.end()) {
      m_tables.push_back(*table);
    }
  }

  const LoadOptions& m_options;
  detail::Environment m_env;
  Config m_config;
  std::vector<std::string> m_tables;  // wildcard tables seen, in first-seen order
};

}  // namespace

Config load(const LoadOptions& options)
{
  return Loader(options).run();
}

}  // namespace scalectl::config
