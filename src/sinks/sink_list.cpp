#include "sinks/sink_list.hpp"

#include <fmt/format.h>

#include <scalectl/error.hpp>
#include <scalectl/report.hpp>

namespace scalectl::sinks {

void SinkList::add(std::string name, std::unique_ptr<EventSink> sink)
{
  m_sinks.emplace_back(std::move(name), std::move(sink));
}

void SinkList::emit(const Event& event)
{
  for (const auto& [name, sink] : m_sinks) {
    try {
      sink->emit(event);
    } catch (const std::exception& e) {
      m_reporter.warn(fmt::format("could not write the {} event to the {}: {}", event.what, name, e.what()));
    }
  }
}

void UnavailableSink::emit(const Event&)
{
  throw Error(m_reason);
}

}  // namespace scalectl::sinks
