#include "cli/completion_cache.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <scalectl/atomic_file.hpp>

namespace scalectl::cli {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_sizes = 1000;
constexpr std::size_t k_max_droplets = 200;
constexpr std::size_t k_max_word = 64;
constexpr std::uintmax_t k_max_file_bytes = 256 * 1024;
constexpr std::size_t k_max_body_bytes = 8 * 1024 * 1024;

// True for a word that is safe to offer on a command line: 1-64 of [A-Za-z0-9._-].
bool completable(const std::string& word)
{
  return !word.empty() && word.size() <= k_max_word && std::ranges::all_of(word, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// Returns the strings of `list` (a JSON array) that are completable, at most `limit`.
std::vector<std::string> words_of(const json& list, std::size_t limit)
{
  std::vector<std::string> out;
  if (!list.is_array()) {
    return out;
  }
  for (const auto& item : list) {
    if (item.is_string() && completable(item.get<std::string>()) && out.size() < limit) {
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

// Returns the path of `url` without the scheme, host and query: "/v2/sizes".
std::string path_of(const std::string& url)
{
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : url.find('/', start + 3);
  if (start == std::string::npos) {
    return "/";
  }
  return url.substr(start, url.find('?', start) - start);
}

void write_cache(const std::filesystem::path& path, const CompletionCache& cache)
{
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ::chmod(path.parent_path().c_str(), 0700);
  const json body = {{"sizes", cache.sizes}, {"droplets", cache.droplets}};
  replace_file(path, body.dump() + "\n", 0600);
}

class CompletionCacheTransport final : public net::Transport {
 public:
  CompletionCacheTransport(std::unique_ptr<net::Transport> inner, std::filesystem::path path)
      : m_inner(std::move(inner)), m_path(std::move(path))
  {
  }

  net::Response send(const net::Request& request) override
  {
    net::Response response = m_inner->send(request);
    if (request.method == "GET" && response.status == 200 && response.body.size() <= k_max_body_bytes) {
      try {
        remember(path_of(request.url), response.body);
      } catch (const std::exception&) {
        // A cache that cannot be written only makes TAB offer less.
      }
    }
    return response;
  }

 private:
  void remember(const std::string& path, const std::string& body)
  {
    const bool sizes = path == "/v2/sizes";
    const bool droplets = path.starts_with("/v2/droplets") && path.find("/actions") == std::string::npos;
    if (!sizes && !droplets) {
      return;
    }
    const json answer = json::parse(body, nullptr, false);
    if (!answer.is_object()) {
      return;
    }
    CompletionCache cache = read_completion_cache(m_path);
    const CompletionCache before = cache;
    if (sizes) {
      json slugs = json::array();
      for (const auto& size : answer.value("sizes", json::array())) {
        if (size.is_object()) {
          slugs.push_back(size.value("slug", ""));
        }
      }
      // Pages after the first add to what the first one wrote within this run.
      std::vector<std::string> found = words_of(slugs, k_max_sizes);
      if (m_sizes_seen) {
        found.insert(found.end(), cache.sizes.begin(), cache.sizes.end());
      }
      m_sizes_seen = true;
      std::ranges::sort(found);
      found.erase(std::unique(found.begin(), found.end()), found.end());
      found.resize(std::min(found.size(), k_max_sizes));
      cache.sizes = std::move(found);
    } else {
      json names = json::array();
      if (answer.contains("droplet") && answer["droplet"].is_object()) {
        names.push_back(answer["droplet"].value("name", ""));
      }
      for (const auto& droplet : answer.value("droplets", json::array())) {
        if (droplet.is_object()) {
          names.push_back(droplet.value("name", ""));
        }
      }
      for (const auto& name : words_of(names, k_max_droplets)) {
        std::erase(cache.droplets, name);
        cache.droplets.insert(cache.droplets.begin(), name);
      }
      cache.droplets.resize(std::min(cache.droplets.size(), k_max_droplets));
    }
    if (cache.sizes != before.sizes || cache.droplets != before.droplets) {
      write_cache(m_path, cache);
    }
  }

  std::unique_ptr<net::Transport> m_inner;
  std::filesystem::path m_path;
  bool m_sizes_seen = false;
};

}  // namespace

std::optional<std::filesystem::path> completion_cache_path()
{
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "scalectl" / "completion.json";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::filesystem::path(home) / ".cache" / "scalectl" / "completion.json";
  }
  return std::nullopt;
}

CompletionCache read_completion_cache(const std::filesystem::path& path)
{
  CompletionCache cache;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status) || std::filesystem::file_size(path, ec) > k_max_file_bytes ||
      ec) {
    return cache;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const json body = json::parse(text.str(), nullptr, false);
  if (!body.is_object()) {
    return cache;
  }
  cache.sizes = words_of(body.value("sizes", json::array()), k_max_sizes);
  cache.droplets = words_of(body.value("droplets", json::array()), k_max_droplets);
  return cache;
}

std::unique_ptr<net::Transport> make_completion_cache_transport(std::unique_ptr<net::Transport> inner,
                                                                std::filesystem::path path)
{
  return std::make_unique<CompletionCacheTransport>(std::move(inner), std::move(path));
}

}  // namespace scalectl::cli
