#include "cli/render.hpp"

#include <iostream>

namespace scalectl::cli {

void print_json(const nlohmann::json& value, int indent)
{
  std::cout << value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace scalectl::cli
