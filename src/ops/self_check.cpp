#include <scalectl/ops/droplet.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <scalectl/net/http.hpp>

namespace scalectl::ops {

namespace {

std::string trim(std::string text)
{
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])) != 0) {
    ++start;
  }
  return text.substr(start);
}

}  // namespace

std::optional<std::int64_t> detect_own_droplet(const SelfCheckOptions& options)
{
  std::ifstream dmi(options.dmi_path);
  if (!dmi) {
    return std::nullopt;  // no DMI data: not a DigitalOcean droplet as far as we can tell
  }
  std::stringstream vendor;
  vendor << dmi.rdbuf();
  if (trim(vendor.str()) != "DigitalOcean") {
    return std::nullopt;
  }

  net::TransportOptions transport_options;
  transport_options.connect_timeout = options.metadata_timeout;
  transport_options.total_timeout = options.metadata_timeout;
  const auto transport = net::make_curl_transport(transport_options);
  const auto refuse = [&](const std::string& why) {
    return Error(ExitCode::refused,
                 fmt::format("this machine is a DigitalOcean droplet ({} says so) but {} gave no droplet id ({}); "
                             "scalectl cannot rule out powering itself off; pass --allow-self if the target is "
                             "another droplet",
                             options.dmi_path, options.metadata_url, why));
  };
  net::Response response;
  try {
    response = transport->send({"GET", options.metadata_url, {}, {}});
  } catch (const net::TransportError& e) {
    throw refuse(e.what());
  }
  if (response.status != 200) {
    throw refuse(fmt::format("HTTP {}", response.status));
  }
  const std::string body = trim(response.body);
  std::int64_t id = 0;
  if (body.empty() || body.size() > 18) {
    throw refuse("unexpected answer");
  }
  for (const char c : body) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      throw refuse("unexpected answer");
    }
    id = id * 10 + (c - '0');
  }
  return id;
}

}  // namespace scalectl::ops
