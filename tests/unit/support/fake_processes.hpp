#pragma once
// An in-memory ProcessRunner for unit tests: canned results matched by argv prefix, requests
// recorded in order.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <scalectl/process.hpp>

namespace scalectl::test {

class FakeProcesses final : public ProcessRunner {
 public:
  // Answers every later request whose argv starts with `prefix` with `result` (latest wins).
  void on(std::vector<std::string> prefix, ProcessResult result) { m_rules.emplace_back(std::move(prefix), result); }

  ProcessResult run(const ProcessRequest& request) override
  {
    m_requests.push_back(request);
    for (auto it = m_rules.rbegin(); it != m_rules.rend(); ++it) {
      const auto& prefix = it->first;
      if (prefix.size() <= request.argv.size() && std::equal(prefix.begin(), prefix.end(), request.argv.begin())) {
        return it->second;
      }
    }
    return ProcessResult{0, false, "", ""};
  }

  const std::vector<ProcessRequest>& requests() const { return m_requests; }

  // Returns the argv of every request, in order.
  std::vector<std::vector<std::string>> argvs() const
  {
    std::vector<std::vector<std::string>> out;
    for (const auto& r : m_requests) {
      out.push_back(r.argv);
    }
    return out;
  }

 private:
  std::vector<std::pair<std::vector<std::string>, ProcessResult>> m_rules;
  std::vector<ProcessRequest> m_requests;
};

inline ProcessResult exited(int code, std::string out = {}, std::string err = {})
{
  return ProcessResult{code, false, std::move(out), std::move(err)};
}

}  // namespace scalectl::test
