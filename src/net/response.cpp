#include <scalectl/net/http.hpp>

#include <algorithm>
#include <cctype>

namespace scalectl::net {

namespace {

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const
{
  const auto found =
    std::find_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); });
  if (found == headers.end()) {
    return std::nullopt;
  }
  return found->value;
}

}  // namespace scalectl::net
