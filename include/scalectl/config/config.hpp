#pragma once
// Layered configuration. Every value remembers the layer (and file:line, env name or flag) it
// came from, so `scalectl config show` can print `(origin) key = value`.
//
// Layers, lowest precedence first (the order is applied in src/config/loader.cpp):
//   1. built-in defaults            (src/config/schema.cpp)
//   2. /etc/scalectl/config.toml
//   3. $XDG_CONFIG_HOME/scalectl/config.toml, else ~/.config/scalectl/config.toml
//   4. the file named by --config or SCALECTL_CONFIG
//   5. environment variables        (SCALECTL_*, and the names users already have)
//   6. command-line flags

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace scalectl::config {

enum class Layer { builtin, system_file, user_file, explicit_file, environment, flag };

struct Origin {
  Layer layer = Layer::builtin;
  std::string detail;  // "/etc/scalectl/config.toml:12:1", "DIGITALOCEAN_TOKEN", "--droplet"

  // Returns a short description, e.g. "default", "/etc/scalectl/config.toml:12", "env DROPLET_ID".
  std::string describe() const;
};

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

struct Entry {
  Value value;
  Origin origin;
  bool secret = false;
};

// The effective configuration: a flat map of dotted keys ("droplet.up_size",
// "capacity.worker_types.registre.cpu") to values with their origins.
class Config {
 public:
  // Returns the entry for `key`, or nullptr when it is not set in any layer.
  const Entry* find(std::string_view key) const;

  // Typed getters return nullopt when unset; they throw Error(usage) naming the key and its
  // origin when the value has the wrong type.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<std::int64_t> get_int(std::string_view key) const;
  std::optional<double> get_number(std::string_view key) const;  // accepts int or float
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::chrono::milliseconds> get_duration(std::string_view key) const;  // "30s" or seconds
  std::optional<std::vector<std::string>> get_strings(std::string_view key) const;
  // Returns a "slugs" key (a string or a non-empty array of strings) as a list, nullopt when unset.
  std::optional<std::vector<std::string>> get_slugs(std::string_view key) const;

  // Returns the names of the sub-tables under `prefix`, in first-seen order, e.g.
  // table_names("capacity.worker_types") -> {"registre", "index-ocr", "acte-ocr"}.
  std::vector<std::string> table_names(std::string_view prefix) const;

  // Sets `key`, replacing a value from any layer. Used by the loader and by tests.
  void set(const std::string& key, Value value, Origin origin, bool secret = false);

  // Returns every entry in key order.
  const std::map<std::string, Entry>& entries() const { return m_entries; }

 private:
  std::map<std::string, Entry> m_entries;
  std::vector<std::string> m_order;  // first-seen key order, for table_names()
};

// A value given on the command line, already mapped to its config key.
struct FlagValue {
  std::string key;
  Value value;
  std::string flag;  // e.g. "--droplet"
};

struct LoadOptions {
  std::optional<std::filesystem::path> explicit_file;  // --config
  std::vector<FlagValue> flags;
  std::optional<std::string> policy;  // --policy NAME: AUTO_SCALER_* env names map to this policy
  std::optional<std::string> doctl_context;  // --context NAME: the doctl auth context whose token to use
  // Injectable for tests; defaults read the real environment and files.
  std::optional<std::map<std::string, std::string>> environment;
  std::optional<std::filesystem::path> system_file;  // default /etc/scalectl/config.toml
  std::optional<std::filesystem::path> home;         // default $HOME
};

// Loads every layer and returns the merged configuration. Throws Error(usage) on a TOML parse
// error ("file:line:col: what is wrong"), an unknown key (with "did you mean"), or a wrong type.
//
// Details of the merge:
// - Environment: each key's KeyInfo::env names are tried in order and the first one set (and
//   non-empty) wins. AUTO_SCALER_* set keys of the policy named by LoadOptions::policy and are
//   ignored without one. The token variables are left to resolve_token().
// - Wildcard tables (capacity.worker_types.NAME, autoscale.policies.NAME): once any layer
//   mentions a table, every schema key of that table with a default is present with origin
//   "default", so getters need no fallback and `config show` lists the effective values.
// - state.backend is "redis" (origin "default, state.redis_url is set") when no layer set it and
//   state.redis_url is set. $STATE_DIRECTORY (systemd) is a default for state.dir: files override it.
// - A file that sets a secret key must not be accessible by group or others (like ssh).
// - Flags for secret keys are refused: argv is visible in ps.
Config load(const LoadOptions& options);

// The DigitalOcean API token and where it was read from (never the token itself in messages).
struct Token {
  std::string value;
  std::string source;  // "env DIGITALOCEAN_ACCESS_TOKEN", "token_file /path", "doctl config /path", ...
};

// Resolves the token: DIGITALOCEAN_ACCESS_TOKEN, DIGITALOCEAN_TOKEN, $CREDENTIALS_DIRECTORY
// (systemd LoadCredential=), digitalocean.token from a mode 0600 config file,
// digitalocean.token_file (refused if group/other can access it), and last doctl's
// token of doctl/config.yaml under $XDG_CONFIG_HOME, else ~/.config: its current `context:`'s
// `auth-contexts:` entry, or `access-token:` for the "default" context. An explicit doctl context
// (LoadOptions::doctl_context, else $DIGITALOCEAN_CONTEXT) skips the other places: that context's
// token is used or the error says the context is missing. Surrounding whitespace is stripped.
// Throws Error(usage) if none is found, listing the places looked.
Token resolve_token(const Config& config, const LoadOptions& options);

// Returns where resolve_token() would read the token ("env DIGITALOCEAN_TOKEN", "doctl config
// PATH (context work)", ...) or "none: <why>" when it would fail; never the token itself.
std::string describe_token_source(const Config& config, const LoadOptions& options);

// Describes one known key for `config show`, the man page and validation.
struct KeyInfo {
  std::string key;          // may contain "*" for a table name, e.g. "capacity.worker_types.*.cpu"
  std::string type;         // "string", "int", "number", "bool", "duration", "strings"
  std::string default_text; // "" when there is no default
  std::vector<std::string> env;  // environment variable names that set it, first match wins
  std::string help;
  bool secret = false;
  std::vector<std::string> choices;  // allowed values of a string key; empty when any value is allowed
  // Bounds of a numeric key, inclusive (a duration's in seconds); every int, number and duration
  // key has both, so a value from a file, the environment or a flag is bounded where it enters.
  std::optional<double> min;
  std::optional<double> max;
};

// Returns the schema of every known configuration key.
const std::vector<KeyInfo>& schema();

}  // namespace scalectl::config
