#pragma once
// The completion cache: size slugs and droplet names seen in ordinary API answers, kept in
// $XDG_CACHE_HOME/scalectl/completion.json (mode 0600, bounded) so that TAB never waits on the network.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <scalectl/net/http.hpp>

namespace scalectl::cli {

struct CompletionCache {
  std::vector<std::string> sizes;     // size slugs from GET /v2/sizes, sorted
  std::vector<std::string> droplets;  // droplet names seen, most recent first
};

// Returns $XDG_CACHE_HOME/scalectl/completion.json (absolute XDG_CACHE_HOME), else
// ~/.cache/scalectl/completion.json; nullopt without a home.
std::optional<std::filesystem::path> completion_cache_path();

// Returns the cache at `path`; empty when it is missing, not a regular file, too big or not valid.
CompletionCache read_completion_cache(const std::filesystem::path& path);

// Returns a transport that forwards to `inner` and, after each successful GET of /v2/sizes or
// /v2/droplets, records the slugs and names in the cache at `path`. Cache failures are ignored.
std::unique_ptr<net::Transport> make_completion_cache_transport(std::unique_ptr<net::Transport> inner,
                                                                std::filesystem::path path);

}  // namespace scalectl::cli
