#include "net/curl_transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>

#include <fmt/format.h>

#include <scalectl/interrupt.hpp>

#include "net/curl_loader.hpp"
#include "net/url.hpp"

namespace scalectl::net {

namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&::curl_easy_cleanup)>;
using CurlList = std::unique_ptr<curl_slist, decltype(&::curl_slist_free_all)>;

// What the libcurl callbacks fill in during one transfer.
struct TransferState {
  std::string body;
  std::vector<Header> headers;
  std::exception_ptr failure;
  bool body_too_large = false;
};

std::string_view trim(std::string_view text)
{
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept
{
  auto& state = *static_cast<TransferState*>(user);
  const std::size_t bytes = size * count;
  if (state.body.size() + bytes > k_max_response_body) {
    state.body_too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  try {
    state.body.append(data, bytes);
  } catch (...) {
    state.failure = std::current_exception();
    return 0;
  }
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept
{
  auto& state = *static_cast<TransferState*>(user);
  const std::size_t bytes = size * count;
  try {
    add_header_line(state.headers, std::string_view(data, bytes));
  } catch (...) {
    state.failure = std::current_exception();
    return 0;
  }
  return bytes;
}

int on_progress(void* /*user*/, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) noexcept
{
  return interrupted() ? 1 : 0;  // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

bool is_token(std::string_view text)
{
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    constexpr std::string_view k_token_symbols = "!#$%&'*+-.^_`|~";
    return std::isalnum(c) != 0 || k_token_symbols.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

const char* kind_name(TransportError::Kind kind)
{
  switch (kind) {
    case TransportError::Kind::connect:
      return "connect";
    case TransportError::Kind::timeout:
      return "timeout";
    case TransportError::Kind::dropped:
      return "dropped";
    case TransportError::Kind::tls:
      return "tls";
    case TransportError::Kind::other:
      break;
  }
  return "other";
}

bool has_line_break(std::string_view text)
{
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// One libcurl easy handle, reused across requests so that its connection cache keeps the
// connection to the API host alive. Not thread-safe: one transport per thread.
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TransportOptions options) : m_options(std::move(options))
  {
    if (m_options.user_agent.empty()) {
      m_options.user_agent = "scalectl/" SCALECTL_VERSION;
    }
  }

  Response send(const Request& request) override
  {
    const std::string target = redacted_target(request.url);
    if (interrupted()) {
      throw_if_interrupted(fmt::format("sending {} {}", request.method, target).c_str());
    }
    validate(request);
    const CurlApi& api = curl_api();
    if (!m_handle) {
      m_handle = CurlHandle(api.easy_init(), api.easy_cleanup);
      if (!m_handle) {
        throw Error(ExitCode::failure, "cannot create a libcurl handle (out of memory?); retry the command");
      }
    }
    CURL* const handle = m_handle.get();
    // Reset drops every option of the previous request but keeps the connection cache.
    api.easy_reset(handle);

    TransferState state;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    CurlList header_list = build_header_list(api, request);
    configure(api, request, state, header_list.get(), error_buffer.data());

    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = api.easy_perform(handle);
    const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

    if (state.failure) {
      std::rethrow_exception(state.failure);
    }
    if (code != CURLE_OK) {
      fail(api, request, target, code, state, error_buffer.data(), elapsed);
    }

    Response response;
    api.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    response.headers = std::move(state.headers);
    response.body = std::move(state.body);
    response.elapsed = elapsed;
    if (m_options.log) {
      m_options.log(verbose_line(request, response));
    }
    return response;
  }

 private:
  static void validate(const Request& request)
  {
    if (!is_token(request.method)) {
      throw Error(ExitCode::failure,
                  fmt::format("invalid HTTP method '{}'; this is a bug in scalectl", request.method));
    }
    for (const Header& header : request.headers) {
      if (!is_token(header.name) || has_line_break(header.value)) {
        // The value is never shown: it may be a token.
        throw Error(ExitCode::usage, fmt::format("HTTP header '{}' is malformed (line break or invalid name); "
                                                 "check the token and settings for stray newlines",
                                                 has_line_break(header.name) ? "?" : header.name));
      }
    }
  }

  static CurlList build_header_list(const CurlApi& api, const Request& request)
  {
    CurlList list(nullptr, api.slist_free_all);
    const auto append = [&](const std::string& line) {
      curl_slist* const grown = api.slist_append(list.get(), line.c_str());
      if (grown == nullptr) {
        throw Error(ExitCode::failure, "cannot build the HTTP header list (out of memory); retry the command");
      }
      list.release();
      list.reset(grown);
    };
    bool has_expect = false;
    for (const Header& header : request.headers) {
      // "Name;" is libcurl's spelling of a header with an empty value.
      append(header.value.empty() ? header.name + ";" : header.name + ": " + header.value);
      has_expect = has_expect || equals_ignoring_case(header.name, "expect");
    }
    if (!has_expect) {
      append("Expect:");  // no 100-continue round trip before request bodies
    }
    return list;
  }

  void set_long(const CurlApi& api, CURLoption option, long value) const
  {
    check_option(api, option, api.easy_setopt(m_handle.get(), option, value));
  }

  void set_string(const CurlApi& api, CURLoption option, const char* value) const
  {
    check_option(api, option, api.easy_setopt(m_handle.get(), option, value));
  }

  void set_pointer(const CurlApi& api, CURLoption option, void* value) const
  {
    check_option(api, option, api.easy_setopt(m_handle.get(), option, value));
  }

  void set_offset(const CurlApi& api, CURLoption option, curl_off_t value) const
  {
    check_option(api, option, api.easy_setopt(m_handle.get(), option, value));
  }

  template <typename Callback>
  void set_callback(const CurlApi& api, CURLoption option, Callback callback) const
  {
    check_option(api, option, api.easy_setopt(m_handle.get(), option, callback));
  }

  static void check_option(const CurlApi& api, CURLoption option, CURLcode code)
  {
    if (code == CURLE_OK) {
      return;
    }
    if (option == CURLOPT_PROTOCOLS_STR || option == CURLOPT_REDIR_PROTOCOLS_STR) {
      throw Error(ExitCode::failure, "the installed libcurl is older than 7.85 and cannot restrict protocols; "
                                     "upgrade the libcurl4 package");
    }
    throw Error(ExitCode::failure, fmt::format("libcurl rejected option {}: {}; upgrade the libcurl4 package",
                                               static_cast<int>(option), api.easy_strerror(code)));
  }

  void configure(const CurlApi& api, const Request& request, TransferState& state, curl_slist* headers,
                 char* error_buffer) const
  {
    set_string(api, CURLOPT_URL, request.url.c_str());
    set_string(api, CURLOPT_PROTOCOLS_STR, "http,https");
    set_string(api, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set_long(api, CURLOPT_FOLLOWLOCATION, 0L);
    set_long(api, CURLOPT_NOSIGNAL, 1L);
    // TLS verification is always on; no option or setting turns it off.
    set_long(api, CURLOPT_SSL_VERIFYPEER, 1L);
    set_long(api, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!m_options.ca_bundle.empty()) {
      set_string(api, CURLOPT_CAINFO, m_options.ca_bundle.c_str());
    }
    set_long(api, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count()));
    set_long(api, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.total_timeout.count()));
    set_string(api, CURLOPT_USERAGENT, m_options.user_agent.c_str());
    set_string(api, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this libcurl can decode
    set_pointer(api, CURLOPT_HTTPHEADER, headers);
    set_pointer(api, CURLOPT_ERRORBUFFER, error_buffer);

    if (request.method == "GET") {
      set_long(api, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      set_long(api, CURLOPT_NOBODY, 1L);
    } else {
      if (request.method != "POST") {
        set_string(api, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
      if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH" || !request.body.empty()) {
        set_offset(api, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        set_pointer(api, CURLOPT_POSTFIELDS, const_cast<char*>(request.body.data()));
      }
    }

    set_callback(api, CURLOPT_WRITEFUNCTION, static_cast<curl_write_callback>(on_body));
    set_pointer(api, CURLOPT_WRITEDATA, &state);
    set_callback(api, CURLOPT_HEADERFUNCTION, static_cast<curl_write_callback>(on_header));
    set_pointer(api, CURLOPT_HEADERDATA, &state);
    set_long(api, CURLOPT_NOPROGRESS, 0L);
    set_callback(api, CURLOPT_XFERINFOFUNCTION, static_cast<curl_xferinfo_callback>(on_progress));
    set_pointer(api, CURLOPT_XFERINFODATA, nullptr);
  }

  [[noreturn]] void fail(const CurlApi& api, const Request& request, const std::string& target, CURLcode code,
                         const TransferState& state, const char* error_buffer, std::chrono::milliseconds elapsed) const
  {
    if (code == CURLE_ABORTED_BY_CALLBACK && interrupted()) {
      log_failure(request, target, "interrupted", elapsed);
      throw_if_interrupted(fmt::format("sending {} {}", request.method, target).c_str());
    }
    curl_off_t pretransfer_us = 0;
    api.easy_getinfo(m_handle.get(), CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    const TransportError::Kind kind = classify_curl_error(code, pretransfer_us > 0);
    std::string reason = api.easy_strerror(code);
    if (state.body_too_large) {
      reason = fmt::format("response body exceeds {} MiB", k_max_response_body / (1024 * 1024));
    } else if (const std::string_view detail = trim(std::string_view(error_buffer));
               !detail.empty() && detail != reason) {
      reason += fmt::format(" ({})", detail);
    }
    log_failure(request, target, kind_name(kind), elapsed);
    throw TransportError(kind, fmt::format("{} {}: {}", request.method, redact_url(request.url), reason));
  }

  void log_failure(const Request& request, const std::string& target, const char* what,
                   std::chrono::milliseconds elapsed) const
  {
    if (m_options.log) {
      m_options.log(fmt::format("{} {} error={} {}ms", request.method, target, what, elapsed.count()));
    }
  }

  TransportOptions m_options;
  CurlHandle m_handle{nullptr, nullptr};
};

}  // namespace

TransportError::Kind classify_curl_error(int curl_code, bool request_sent)
{
  using Kind = TransportError::Kind;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return Kind::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return request_sent ? Kind::timeout : Kind::connect;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
      return request_sent ? Kind::dropped : Kind::connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return Kind::tls;
    default:
      return Kind::other;
  }
}

void add_header_line(std::vector<Header>& headers, std::string_view line)
{
  if (line.starts_with("HTTP/")) {
    headers.clear();  // a new response block: 1xx interim responses are dropped
    return;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    const std::string_view continuation = trim(line);
    if (!headers.empty() && !continuation.empty()) {
      headers.back().value += ' ';
      headers.back().value += continuation;
    }
    return;
  }
  line = trim(line);
  const std::size_t colon = line.find(':');
  if (line.empty() || colon == std::string_view::npos || colon == 0) {
    return;
  }
  headers.push_back(Header{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
}

std::string verbose_line(const Request& request, const Response& response)
{
  std::string line = fmt::format("{} {} {} {}ms", request.method, redacted_target(request.url), response.status,
                                 response.elapsed.count());
  if (const auto remaining = response.header("ratelimit-remaining"); remaining && !remaining->empty()) {
    line += fmt::format(" ratelimit-remaining={}", *remaining);
  }
  return line;
}

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options)
{
  return std::make_unique<CurlTransport>(options);
}

}  // namespace scalectl::net
