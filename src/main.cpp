#include <scalectl/cli.hpp>

int main(int argc, char** argv)
{
  return scalectl::cli::run(argc, argv);
}
