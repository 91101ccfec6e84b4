#include "state/file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include <scalectl/error.hpp>

#include "state/fd_io.hpp"
#include "state/file_lock.hpp"
#include "state/file_pool.hpp"
#include "state/file_queue.hpp"
#include "state/state_dir.hpp"
#include "state/store_common.hpp"

namespace scalectl::state {

namespace {

using nlohmann::json;

constexpr const char* k_state_file = "state.json";
constexpr const char* k_state_lock = "state.lock";
constexpr std::string_view k_temp_prefix = "state.json.tmp-";
constexpr int k_format_version = 1;
constexpr std::chrono::milliseconds k_state_lock_timeout{30'000};
constexpr auto k_json_error = json::error_handler_t::replace;

void close_dir(DIR* dir)
{
  ::closedir(dir);
}

json empty_state()
{
  return json{{"version", k_format_version}, {"records", json::object()}, {"pools", json::object()}};
}

// Returns "" if `doc` has the expected shape, else what is wrong with it.
std::string shape_problem(const json& doc)
{
  if (!doc.is_object()) {
    return "the top level is not a JSON object";
  }
  for (const char* section : {"records", "pools"}) {
    if (const auto it = doc.find(section); it != doc.end() && !it->is_object()) {
      return fmt::format("\"{}\" is not an object", section);
    }
  }
  if (const auto pools = doc.find("pools"); pools != doc.end()) {
    for (const auto& [name, pool] : pools->items()) {
      if (!pool.is_object() || (pool.contains("workers") && !pool["workers"].is_object())) {
        return fmt::format("pool \"{}\" is not an object with a \"workers\" object", name);
      }
    }
  }
  return {};
}

// Returns the pool object `name` of `doc`, creating it.
json& pool_of(json& doc, std::string_view name)
{
  auto& pools = doc["pools"];
  if (!pools.is_object()) {
    pools = json::object();
  }
  return pools[std::string(name)];
}

// Drops pool `name` from `doc` when it has no leases left, so empty pools leave no trace.
void drop_if_empty(json& doc, std::string_view name)
{
  auto& pools = doc["pools"];
  const auto it = pools.find(std::string(name));
  if (it != pools.end() && (!it->contains("workers") || (*it)["workers"].empty()) && !it->contains("waiters")) {
    pools.erase(it);
  }
}

}  // namespace

FileStore::FileStore(const std::filesystem::path& dir, Clock& clock)
    : m_dir(dir),
      m_clock(clock),
      m_dir_fd(open_state_dir(dir)),
      m_locks_fd(open_subdir(m_dir_fd.get(), "locks", dir / "locks")),
      m_logs_fd(open_subdir(m_dir_fd.get(), "logs", dir / "logs"))
{
}

std::string FileStore::describe() const
{
  return "file " + state_path();
}

std::string FileStore::state_path() const
{
  return (m_dir / k_state_file).string();
}

std::int64_t FileStore::now_ms() const
{
  return unix_ms(m_clock.now());
}

json parse_state_document(std::string_view text, const std::string& path)
{
  const auto corrupt = [&](const std::string& why) {
    return Error(fmt::format("the state file {} is corrupt ({}); inspect it with `jq . {}` and repair it, or move it "
                             "aside to start empty (its records and leases are then lost)",
                             path, why, path));
  };
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    std::string why = e.what();
    if (const auto pos = why.find("] "); pos != std::string::npos) {
      why.erase(0, pos + 2);
    }
    throw corrupt(why);
  }
  if (const auto problem = shape_problem(doc); !problem.empty()) {
    throw corrupt(problem);
  }
  const auto version = doc.find("version");
  if (version != doc.end() && !version->is_number_integer()) {
    throw corrupt(fmt::format("\"version\" is {}, not an integer", version->dump().substr(0, 40)));
  }
  const bool newer = version != doc.end() &&
                     (version->is_number_unsigned()
                        ? version->get<std::uint64_t>() > static_cast<std::uint64_t>(k_format_version)
                        : version->get<std::int64_t>() > k_format_version);
  if (newer) {
    throw Error(fmt::format("the state file {} has format version {}, newer than this scalectl understands ({}); "
                            "upgrade scalectl",
                            path, version->dump(), k_format_version));
  }
  return doc;
}

json FileStore::read_state() const
{
  const std::string path = state_path();
  // O_NONBLOCK: opening a FIFO planted as state.json must not block; read_all then refuses it.
  UniqueFd fd(::openat(m_dir_fd.get(), k_state_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) {
      return empty_state();
    }
    throw Error(fmt::format("cannot open the state file {}: {}; it must be a regular file you own", path,
                            errno_text()));
  }
  return parse_state_document(read_all(fd.get(), path), path);
}

void FileStore::remove_stale_temps()
{
  UniqueFd dup_fd(::fcntl(m_dir_fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup_fd) {
    return;
  }
  std::unique_ptr<DIR, decltype(&close_dir)> dir(::fdopendir(dup_fd.get()), &close_dir);
  if (!dir) {
    return;
  }
  dup_fd.release();  // owned by `dir` now
  ::rewinddir(dir.get());
  while (const dirent* entry = ::readdir(dir.get())) {
    if (std::string_view(entry->d_name).starts_with(k_temp_prefix)) {
      ::unlinkat(m_dir_fd.get(), entry->d_name, 0);
    }
  }
}

void FileStore::write_state(const json& doc)
{
  remove_stale_temps();
  const std::string text = doc.dump(2, ' ', false, k_json_error) + "\n";
  const std::string temp = fmt::format("{}{}", k_temp_prefix, ::getpid());
  const std::string temp_path = (m_dir / temp).string();
  UniqueFd fd(::openat(m_dir_fd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    throw Error(fmt::format("cannot create {}: {}; check free space and the permissions of {}", temp_path,
                            errno_text(), m_dir.string()));
  }
  try {
    write_all(fd.get(), text, temp_path);
    sync_fd(fd.get(), temp_path);
    fd.reset();
    if (::renameat(m_dir_fd.get(), temp.c_str(), m_dir_fd.get(), k_state_file) != 0) {
      throw Error(fmt::format("cannot replace {}: {}; check the permissions of {}", state_path(), errno_text(),
                              m_dir.string()));
    }
  } catch (...) {
    ::unlinkat(m_dir_fd.get(), temp.c_str(), 0);
    throw;
  }
  sync_fd(m_dir_fd.get(), m_dir.string());
}

template <class Fn>
auto FileStore::modify(Fn&& fn)
{
  const auto guard = lock_file_exclusive(m_dir_fd.get(), k_state_lock, (m_dir / k_state_lock).string(),
                                         k_state_lock_timeout);
  json doc = read_state();
  const json before = doc;
  auto result = fn(doc);
  if (doc != before) {
    doc["version"] = k_format_version;
    write_state(doc);
  }
  return result;
}

std::unique_ptr<OperationLock> FileStore::lock(std::string_view resource, const LockOwner& me,
                                               std::chrono::milliseconds wait)
{
  check_name("lock resource", resource);
  const std::string file = file_component(resource) + ".lock";
  const std::string display = (m_dir / "locks" / file).string();
  LockOwner owner = complete_owner(me);
  return wait_for_lock(
      resource, wait, m_clock,
      [&]() {
        owner.since_ms = now_ms();
        return try_lock_operation(m_locks_fd.get(), file, owner, display);
      },
      [&]() { return probe_operation_lock(m_locks_fd.get(), file, display); });
}

std::optional<LockOwner> FileStore::lock_holder(std::string_view resource)
{
  check_name("lock resource", resource);
  const std::string file = file_component(resource) + ".lock";
  return probe_operation_lock(m_locks_fd.get(), file, (m_dir / "locks" / file).string());
}

std::optional<json> FileStore::get(std::string_view key)
{
  check_name("record key", key);
  const json doc = read_state();
  if (const auto records = doc.find("records"); records != doc.end()) {
    if (const auto it = records->find(std::string(key)); it != records->end()) {
      return *it;
    }
  }
  return std::nullopt;
}

json FileStore::update(std::string_view key, const std::function<json(const std::optional<json>&)>& fn)
{
  check_name("record key", key);
  return modify([&](json& doc) {
    auto& records = doc["records"];
    if (!records.is_object()) {
      records = json::object();
    }
    std::optional<json> old;
    if (const auto it = records.find(std::string(key)); it != records.end()) {
      old = *it;
    }
    json value = fn(old);
    records[std::string(key)] = value;
    return value;
  });
}

void FileStore::append(std::string_view name, const json& entry)
{
  check_name("log name", name);
  const std::string file = file_component(name) + ".jsonl";
  const std::string display = (m_dir / "logs" / file).string();
  UniqueFd fd(::openat(m_logs_fd.get(), file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    throw Error(fmt::format("cannot open the log {}: {}; check the permissions of the state directory", display,
                            errno_text()));
  }
  const std::string line = entry.dump(-1, ' ', false, k_json_error) + "\n";
  flock_blocking(fd.get(), LOCK_EX, display);
  // A failed write (full disk, EFBIG) is rolled back to the old size, so no partial line is left
  // for the next append to be glued onto. A partial line left by a crash is closed first (O_RDWR
  // above: the last byte is read with pread).
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0) {
    throw Error(fmt::format("cannot read the size of the log {}: {}", display, errno_text()));
  }
  std::string text = line;
  if (before.st_size > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, before.st_size - 1) == 1 && last != '\n') {
      text.insert(text.begin(), '\n');
    }
  }
  try {
    write_all(fd.get(), text, display);
    if (::fdatasync(fd.get()) != 0) {
      throw Error(fmt::format("cannot flush the log {}: {}; check the filesystem", display, errno_text()));
    }
  } catch (...) {
    if (::ftruncate(fd.get(), before.st_size) == 0) {
      ::fdatasync(fd.get());
    }
    throw;
  }
}

std::vector<json> FileStore::read_log(std::string_view name, std::int64_t since_ms)
{
  check_name("log name", name);
  const std::string file = file_component(name) + ".jsonl";
  const std::string display = (m_dir / "logs" / file).string();
  UniqueFd fd(::openat(m_logs_fd.get(), file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) {
      return {};
    }
    throw Error(fmt::format("cannot open the log {}: {}; check its permissions", display, errno_text()));
  }
  flock_blocking(fd.get(), LOCK_SH, display);
  const std::string text = read_all(fd.get(), display);
  std::vector<json> entries;
  std::size_t start = 0;
  std::size_t line_number = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      break;  // an unterminated last line is an append cut short by a crash; it was never complete
    }
    ++line_number;
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) {
      continue;
    }
    json entry = json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) {
      // One torn or edited line must not hide the rest of the history: skip it, say where it is.
      const std::string warning = fmt::format("scalectl: warning: skipping line {} of the log {}: not a JSON record; "
                                              "inspect it with `sed -n {}p {}`\n",
                                              line_number, display, line_number, display);
      [[maybe_unused]] const auto n = ::write(STDERR_FILENO, warning.data(), warning.size());
      continue;
    }
    if (log_entry_time(entry) >= since_ms) {
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

AllocateResult FileStore::allocate(const AllocateRequest& request)
{
  check_allocate_request(request);
  const std::string where = fmt::format("pool {} of {}", request.pool, state_path());
  return modify([&](json& doc) {
    auto result = pool_allocate(pool_of(doc, request.pool), request, now_ms(), where);
    drop_if_empty(doc, request.pool);
    return result;
  });
}

RenewResult FileStore::renew(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  check_ttl(ttl);
  return renew_lease(pool, id, ttl);
}

RenewResult FileStore::persist(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  // A zero TTL is how pool_renew removes the expiry (renew itself refuses one).
  return renew_lease(pool, id, std::chrono::milliseconds::zero());
}

RenewResult FileStore::renew_lease(std::string_view pool, std::string_view id, std::chrono::milliseconds ttl)
{
  const std::string where = fmt::format("pool {} of {}", pool, state_path());
  return modify([&](json& doc) {
    auto result = pool_renew(pool_of(doc, pool), id, ttl, now_ms(), where);
    drop_if_empty(doc, pool);
    return result;
  });
}

ReleaseResult FileStore::release(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  const std::string where = fmt::format("pool {} of {}", pool, state_path());
  return modify([&](json& doc) {
    auto result = pool_release(pool_of(doc, pool), id, now_ms(), where);
    drop_if_empty(doc, pool);
    return result;
  });
}

std::vector<Lease> FileStore::purge(std::string_view pool)
{
  check_name("pool name", pool);
  return modify([&](json& doc) {
    auto removed = pool_purge(pool_of(doc, pool), now_ms());
    drop_if_empty(doc, pool);
    return removed;
  });
}

bool FileStore::leave_queue(std::string_view pool, std::string_view id)
{
  check_name("pool name", pool);
  check_name("lease id", id);
  return modify([&](json& doc) {
    const bool removed = queue_leave(pool_of(doc, pool), id);
    drop_if_empty(doc, pool);
    return removed;
  });
}

PoolSnapshot FileStore::snapshot(std::string_view pool)
{
  check_name("pool name", pool);
  const json doc = read_state();
  json pool_json = json::object();
  if (const auto pools = doc.find("pools"); pools != doc.end()) {
    if (const auto it = pools->find(std::string(pool)); it != pools->end()) {
      pool_json = *it;
    }
  }
  return pool_snapshot(pool_json, now_ms(), fmt::format("pool {} of {}", pool, state_path()));
}

}  // namespace scalectl::state
