#include <scalectl/clock.hpp>

#include <cctype>

namespace scalectl {

namespace {

// Reads exactly `width` digits at `pos` into `out`; false if they are not all digits.
bool digits(std::string_view text, std::size_t pos, std::size_t width, int& out)
{
  if (pos + width > text.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<SystemTime> parse_rfc3339(std::string_view text)
{
  using namespace std::chrono;
  int y = 0;
  int mo = 0;
  int d = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) || text[7] != '-' ||
      !digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  // SystemTime counts nanoseconds in 64 bits: it spans the years 1678 to 2262.
  if (!ymd.ok() || y < 1678 || y > 2261) {
    return std::nullopt;
  }
  const sys_days date(ymd);
  if (text.size() == 10) {
    return SystemTime(duration_cast<SystemTime::duration>(date.time_since_epoch()));
  }
  int h = 0;
  int mi = 0;
  int s = 0;
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, h) || text.size() < 19 ||
      text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s) || h > 23 ||
      mi > 59 || s > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  milliseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      fraction += milliseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0;
    int om = 0;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = minutes(oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const auto t = date + hours(h) + minutes(mi) + seconds(s) + fraction - offset;
  return SystemTime(duration_cast<SystemTime::duration>(t.time_since_epoch()));
}

}  // namespace scalectl
