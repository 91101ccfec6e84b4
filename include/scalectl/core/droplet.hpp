#pragma once
// Value types describing droplets, their sizes and their actions, as the DigitalOcean API reports
// them. Values only: no I/O, and nothing here knows how they were fetched.

#include <cstdint>
#include <string>

namespace scalectl::core {

// One droplet size (GET /v2/sizes): slug, resources and price.
struct Size {
  std::string slug;
  std::int64_t memory_mb = 0;
  int vcpus = 0;
  std::int64_t disk_gb = 0;
  double price_monthly = 0;
  double price_hourly = 0;
  bool available = true;
  std::string description;
};

// One droplet as last observed.
struct Droplet {
  std::int64_t id = 0;
  std::string name;
  std::string status;  // new, active, off, archive
  bool locked = false;
  std::string size_slug;
  std::int64_t memory_mb = 0;
  int vcpus = 0;
  std::int64_t disk_gb = 0;
  double price_monthly = 0;
  double price_hourly = 0;
  std::string region;
};

// One droplet action (shutdown, power_off, resize, power_on...).
struct Action {
  std::int64_t id = 0;
  std::string status;  // in-progress, completed, errored
  std::string type;
  std::string started_at;
  std::string completed_at;  // "" while running
  std::int64_t resource_id = 0;
};

}  // namespace scalectl::core
