// DigitalOcean API responses: droplet, action, size and app objects. Every count a parser keeps
// is bounded (no float-to-int overflow), whatever the server sends.
#include <scalectl/core/numeric.hpp>
#include <scalectl/digitalocean/apps.hpp>
#include <scalectl/digitalocean/client.hpp>
#include <scalectl/error.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using scalectl::fuzz::require;
  using nlohmann::json;
  const auto text = scalectl::fuzz::as_text(data, size);
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return 0;
  }
  try {
    const auto droplet = scalectl::digitalocean::parse_droplet(doc);
    require(droplet.memory_mb >= 0 && droplet.memory_mb <= scalectl::core::k_max_amount, "droplet memory bounded");
    require(droplet.disk_gb >= 0 && droplet.disk_gb <= scalectl::core::k_max_amount, "droplet disk bounded");
    require(droplet.vcpus >= 0, "droplet vcpus bounded");
    require(droplet.price_monthly >= 0 && droplet.price_monthly <= 1e6 && droplet.price_hourly >= 0 &&
              droplet.price_hourly <= 1e6,
            "droplet prices bounded");
    for (const char c : droplet.name) {
      require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control character in a droplet name");
    }
  } catch (const json::exception&) {
  } catch (const std::exception&) {
  }
  try {
    const auto size_ = scalectl::digitalocean::parse_size(doc);
    require(size_.memory_mb >= 0 && size_.memory_mb <= scalectl::core::k_max_amount, "size memory bounded");
  } catch (const std::exception&) {
  }
  try {
    (void)scalectl::digitalocean::parse_action(doc);
  } catch (const std::exception&) {
  }
  try {
    (void)scalectl::digitalocean::parse_app(scalectl::core::parse_raw_json(text, "fuzz input"));
  } catch (const std::exception&) {
  }
  (void)scalectl::digitalocean::next_page_path(doc);
  return 0;
}
