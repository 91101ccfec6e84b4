// Reading a policy's metric: a fixed value, a command's stdout, a Redis key's length or an HTTP
// answer. Failures become MetricSample::error so the pipeline applies on_metric_error.

#include <scalectl/ops/autoscale.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include <scalectl/error.hpp>
#include <scalectl/net/http.hpp>
#include <scalectl/process.hpp>

#include "net/url.hpp"

namespace scalectl::ops {

namespace {

constexpr std::size_t k_shown = 60;

std::string trimmed(std::string_view text)
{
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// Quotes a piece of untrusted output for an error message: one line, bounded.
std::string shown(std::string_view text)
{
  std::string out;
  for (const char c : text.substr(0, k_shown)) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (text.size() > k_shown) {
    out += "...";
  }
  return "\"" + out + "\"";
}

std::optional<double> parse_number(const std::string& text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
    return std::nullopt;
  }
  // strtod also takes hex floats, "inf" and "nan": insist on plain decimal notation.
  if (text.find_first_not_of("0123456789+-.eE") != std::string::npos) {
    return std::nullopt;
  }
  return value;
}

std::string last_line(const std::string& text)
{
  const std::string t = trimmed(text);
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

core::MetricSample from_text(const std::string& text, const std::string& pointer, const std::string& what)
{
  core::MetricSample sample;
  auto parsed = parse_metric_text(text, pointer, what);
  if (parsed) {
    sample.value = *parsed;
  } else {
    sample.error = parsed.error();
  }
  return sample;
}

MetricReading read_command(const MetricSpec& spec, MetricDeps& deps)
{
  MetricReading reading;
  reading.source = fmt::format("command `{}`", spec.command);
  ProcessRequest request;
  request.argv = shell_argv(spec.command);
  request.timeout = spec.timeout;
  const ProcessResult result = deps.processes.run(request);
  if (result.timed_out) {
    reading.sample.error = fmt::format("metric command timed out after {}s", spec.timeout.count() / 1000);
  } else if (result.exit_code != 0) {
    const std::string err = last_line(result.err);
    reading.sample.error = result.exit_code < 0
                             ? std::string("metric command was killed by a signal")
                             : fmt::format("metric command exited {}{}", result.exit_code,
                                           err.empty() ? std::string() : ": " + shown(err));
  } else {
    reading.sample = from_text(result.out, spec.json_pointer, "metric command stdout");
  }
  return reading;
}

MetricReading read_http(const MetricSpec& spec, MetricDeps& deps)
{
  MetricReading reading;
  const std::string url = net::redact_url(spec.http_url);
  reading.source = spec.json_pointer.empty() ? fmt::format("http {}", url)
                                             : fmt::format("http {} {}", url, spec.json_pointer);
  if (!spec.http_url.starts_with("http://") && !spec.http_url.starts_with("https://")) {
    reading.sample.error = fmt::format("metric.http {} is not an http:// or https:// URL", url);
    return reading;
  }
  // A transport of its own: no Authorization header, so the DO token never reaches a metric URL.
  const auto transport = deps.http(spec.timeout);
  net::Request request;
  request.url = spec.http_url;
  request.headers.push_back({"Accept", "application/json, text/plain"});
  const net::Response response = transport->send(request);
  if (response.status < 200 || response.status >= 300) {
    reading.sample.error = fmt::format("GET {} answered HTTP {}", url, response.status);
    return reading;
  }
  reading.sample = from_text(response.body, spec.json_pointer, fmt::format("the answer of {}", url));
  return reading;
}

MetricReading read_redis(const MetricSpec& spec, MetricDeps& deps)
{
  MetricReading reading;
  reading.source = fmt::format("redis key {}", spec.redis_key);
  const RedisLength length = deps.redis(spec.redis_url, spec.redis_key);
  reading.source = length.command.empty() ? fmt::format("redis key {} (missing: 0)", spec.redis_key)
                                          : fmt::format("redis {} {} ({})", length.command, spec.redis_key,
                                                        length.type);
  reading.sample.value = static_cast<double>(length.length);
  return reading;
}

}  // namespace

std::expected<double, std::string> parse_metric_text(const std::string& text, const std::string& json_pointer,
                                                     const std::string& what)
{
  if (json_pointer.empty()) {
    const std::string t = trimmed(text);
    if (t.empty()) {
      return std::unexpected(fmt::format("{} is empty; it must be a single number", what));
    }
    const auto value = parse_number(t);
    if (!value) {
      return std::unexpected(fmt::format("{} must be a single number, got {}", what, shown(t)));
    }
    if (*value < 0) {
      return std::unexpected(fmt::format("{} is negative ({}); a metric must be 0 or more", what, t));
    }
    return *value;
  }
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return std::unexpected(fmt::format("{} is not JSON (needed for json_pointer {}): {}", what, json_pointer,
                                       shown(trimmed(text))));
  }
  nlohmann::json::json_pointer pointer;
  try {
    pointer = nlohmann::json::json_pointer(json_pointer);
  } catch (const nlohmann::json::exception&) {
    return std::unexpected(fmt::format("json_pointer {} is not a valid JSON pointer", json_pointer));
  }
  if (!doc.contains(pointer)) {
    return std::unexpected(fmt::format("{} has nothing at {}", what, json_pointer));
  }
  const auto& node = doc.at(pointer);
  std::optional<double> value;
  if (node.is_number()) {
    value = node.get<double>();
  } else if (node.is_string()) {
    value = parse_number(trimmed(node.get<std::string>()));
  }
  if (!value) {
    return std::unexpected(fmt::format("{} at {} is not a number: {}", what, json_pointer, shown(node.dump())));
  }
  if (*value < 0) {
    return std::unexpected(fmt::format("{} at {} is negative ({}); a metric must be 0 or more", what, json_pointer,
                                       *value));
  }
  return *value;
}

MetricReading read_metric(const MetricSpec& spec, MetricDeps& deps)
{
  try {
    switch (spec.kind) {
    case MetricSpec::Kind::value:
      return MetricReading{core::MetricSample{spec.value, "", "", std::nullopt, std::nullopt}, std::string("config metric.value")};
    case MetricSpec::Kind::command:
      return read_command(spec, deps);
    case MetricSpec::Kind::redis:
      return read_redis(spec, deps);
    case MetricSpec::Kind::http:
      return read_http(spec, deps);
    case MetricSpec::Kind::none:
      break;
    }
  } catch (const Error& e) {
    MetricReading reading;
    reading.source = spec.kind == MetricSpec::Kind::redis ? fmt::format("redis key {}", spec.redis_key)
                     : spec.kind == MetricSpec::Kind::http ? fmt::format("http {}", net::redact_url(spec.http_url))
                                                           : fmt::format("command `{}`", spec.command);
    reading.sample.error = e.what();
    return reading;
  }
  throw usage_error("the policy has no metric; set metric = { value = N } (or command, redis, http) or pass --metric N");
}

}  // namespace scalectl::ops
