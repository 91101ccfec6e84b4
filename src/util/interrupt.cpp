#include <scalectl/interrupt.hpp>

#include <atomic>
#include <csignal>
#include <string>

#include <scalectl/error.hpp>

namespace scalectl {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signo)
{
  g_signal = signo;
}

}  // namespace

void install_interrupt_handlers()
{
  struct sigaction action{};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and the flag is checked
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() noexcept
{
  return g_signal != 0;
}

void throw_if_interrupted(const char* doing)
{
  if (g_signal != 0) {
    std::string what = g_signal == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)";
    if (doing != nullptr) {
      what += std::string(" while ") + doing;
    }
    throw Interrupted(what);
  }
}

void reset_interrupted() noexcept
{
  g_signal = 0;
}

}  // namespace scalectl
