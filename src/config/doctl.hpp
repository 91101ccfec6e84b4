#pragma once
// Private: the parts of doctl's config.yaml that choose an API token (access-token, context,
// auth-contexts), read without a YAML library: doctl writes them as flat keys and one flat map.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace scalectl::config::detail {

struct DoctlConfig {
  std::string access_token;                          // top-level `access-token:` (the "default" context)
  std::string context;                               // `context:`, the current context ("" when unset)
  std::map<std::string, std::string> auth_contexts;  // `auth-contexts:` name -> token
};

// Returns the fields of doctl's config.yaml text; unknown keys and nested maps are ignored.
DoctlConfig parse_doctl_config(std::string_view yaml);

// The token a doctl context selects and the context's name ("default" for access-token).
struct DoctlChoice {
  std::string token;
  std::string context;
};

// Returns the token of `wanted` (else the file's current context, else "default"): "default"
// means access-token, any other name its auth-contexts entry. Returns nullopt when that context
// has no token; throws Error(usage) when `wanted` names a context the file does not have, or when
// the file has only named contexts and none is current.
std::optional<DoctlChoice> choose_doctl_token(const DoctlConfig& doctl, const std::optional<std::string>& wanted,
                                              std::string_view path);

}  // namespace scalectl::config::detail
