#pragma once
// An in-memory state store for unit tests of the ops: records, logs and locks in maps, with
// switches that make a write fail or a held lock be lost.

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <scalectl/error.hpp>
#include <scalectl/state/store.hpp>

namespace scalectl::test {

class FakeStore final : public state::Store {
 public:
  // Every later update() and append() throws Error(failure) while true.
  bool fail_writes = false;
  // Every lock handed out reports still_held() == false while true.
  bool lose_locks = false;

  std::map<std::string, nlohmann::json> records;
  std::map<std::string, std::vector<nlohmann::json>> logs;

  std::string describe() const override { return "fake"; }
  std::unique_ptr<state::OperationLock> lock(std::string_view, const state::LockOwner&,
                                             std::chrono::milliseconds) override
  {
    return std::make_unique<Lock>(*this);
  }
  std::optional<state::LockOwner> lock_holder(std::string_view) override { return std::nullopt; }
  std::optional<nlohmann::json> get(std::string_view key) override
  {
    const auto it = records.find(std::string(key));
    return it == records.end() ? std::nullopt : std::optional<nlohmann::json>(it->second);
  }
  nlohmann::json update(std::string_view key,
                        const std::function<nlohmann::json(const std::optional<nlohmann::json>&)>& change) override
  {
    check_write();
    auto next = change(get(key));
    records[std::string(key)] = next;
    return next;
  }
  void append(std::string_view name, const nlohmann::json& entry) override
  {
    check_write();
    logs[std::string(name)].push_back(entry);
  }
  std::vector<nlohmann::json> read_log(std::string_view name, std::int64_t) override
  {
    return logs[std::string(name)];
  }
  state::AllocateResult allocate(const state::AllocateRequest&) override { throw std::logic_error("unused"); }
  state::RenewResult renew(std::string_view, std::string_view, std::chrono::milliseconds) override
  {
    throw std::logic_error("unused");
  }
  state::ReleaseResult release(std::string_view, std::string_view) override { throw std::logic_error("unused"); }
  std::vector<state::Lease> purge(std::string_view) override { throw std::logic_error("unused"); }
  state::PoolSnapshot snapshot(std::string_view) override { return {}; }

 private:
  class Lock final : public state::OperationLock {
   public:
    explicit Lock(FakeStore& store) : m_store(store) {}
    bool still_held() override { return !m_store.lose_locks; }

   private:
    FakeStore& m_store;
  };

  void check_write() const
  {
    if (fail_writes) {
      throw Error(ExitCode::failure, "the fake store refuses writes (disk full)");
    }
  }
};

}  // namespace scalectl::test
