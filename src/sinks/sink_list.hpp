#pragma once
// Several event sinks behind one: each is tried in turn, and one that throws is one warning.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <scalectl/events.hpp>

namespace scalectl {
class Reporter;
}

namespace scalectl::sinks {

class SinkList final : public EventSink {
 public:
  // A list that reports a failing sink to `reporter` as a warning.
  explicit SinkList(Reporter& reporter) : m_reporter(reporter) {}

  // Adds `sink`, named `name` in warnings ("audit log", "webhooks").
  void add(std::string name, std::unique_ptr<EventSink> sink);

  // Delivers `event` to every sink in the order added; never throws.
  void emit(const Event& event) override;

 private:
  Reporter& m_reporter;
  std::vector<std::pair<std::string, std::unique_ptr<EventSink>>> m_sinks;
};

// A sink that could not be built (e.g. the state store is down): each emit throws Error(`reason`).
class UnavailableSink final : public EventSink {
 public:
  explicit UnavailableSink(std::string reason) : m_reason(std::move(reason)) {}
  // Throws Error with the reason the sink could not be built.
  void emit(const Event& event) override;

 private:
  std::string m_reason;
};

}  // namespace scalectl::sinks
