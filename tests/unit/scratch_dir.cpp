#include "scratch_dir.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

namespace scalectl::test {

namespace {

std::atomic<long> g_failed_asserts{0};

// Counts failed assertions so a ScratchDir can tell whether its test failed.
struct FailureCounter : doctest::IReporter {
  explicit FailureCounter(const doctest::ContextOptions& /*options*/) {}
  void report_query(const doctest::QueryData& /*data*/) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& /*stats*/) override {}
  void test_case_start(const doctest::TestCaseData& /*data*/) override {}
  void test_case_reenter(const doctest::TestCaseData& /*data*/) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& /*stats*/) override {}
  void test_case_exception(const doctest::TestCaseException& /*data*/) override { ++g_failed_asserts; }
  void subcase_start(const doctest::SubcaseSignature& /*signature*/) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& data) override
  {
    if (data.m_failed) {
      ++g_failed_asserts;
    }
  }
  void log_message(const doctest::MessageData& /*data*/) override {}
  void test_case_skipped(const doctest::TestCaseData& /*data*/) override {}
};

REGISTER_LISTENER("scratch_dir_failures", 1, FailureCounter);

}  // namespace

ScratchDir::ScratchDir() : m_failures_at_start(g_failed_asserts.load())
{
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = (tmpdir != nullptr && *tmpdir != '\0' ? std::string(tmpdir) : std::string("/tmp")) +
                        "/scalectl-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + pattern);
  }
  m_path = pattern;
}

ScratchDir::~ScratchDir()
{
  // A test that threw (REQUIRE) has not been counted yet: keep its directory too.
  if (g_failed_asserts.load() != m_failures_at_start || std::uncaught_exceptions() > 0) {
    std::cerr << "scratch directory kept for inspection: " << m_path.string() << "\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

std::filesystem::path ScratchDir::write(const std::filesystem::path& relative, std::string_view text,
                                        std::filesystem::perms mode) const
{
  const std::filesystem::path full = m_path / relative;
  std::filesystem::create_directories(full.parent_path());
  {
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) {
      throw std::runtime_error("cannot write " + full.string());
    }
  }
  std::filesystem::permissions(full, mode);
  return full;
}

}  // namespace scalectl::test
