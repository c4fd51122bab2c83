#include "rendezvous/cli/report/format.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace rdv::report {

namespace {

std::string printfString(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Inserts thousands separators into the integer part of a plain decimal string.
std::string groupThousands(const std::string& plain) {
  const size_t dot = plain.find('.');
  const std::string intPart = plain.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : plain.substr(dot);
  std::string out;
  for (size_t i = 0; i < intPart.size(); ++i) {
    if (i > 0 && (intPart.size() - i) % 3 == 0) out += ',';
    out += intPart[i];
  }
  return out + rest;
}

// Three significant-ish digits: 1.23, 12.3, 123.
std::string threeDigits(double v) {
  if (v < 10) return printfString("%.2f", v);
  if (v < 100) return printfString("%.1f", v);
  return printfString("%.0f", v);
}

std::string scaled(double v, const char* const* units, size_t count, const char* space) {
  size_t u = 0;
  while (v >= 999.5 && u + 1 < count) {
    v /= 1000;
    ++u;
  }
  return (u == 0 ? printfString("%.0f", v) : threeDigits(v)) + space + units[u];
}

}  // namespace

std::string formatCount(uint64_t n) { return groupThousands(std::to_string(n)); }

std::string formatBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  return scaled(static_cast<double>(bytes), kUnits, 7, " ");
}


std::string formatMoney(double amount, std::string_view currency) {
  if (!std::isfinite(amount)) amount = 0;
  const double magnitude = std::fabs(amount);
  std::string number = printfString(magnitude < 1 ? "%.6f" : "%.2f", magnitude);
  // Under 1: the document's 6 decimals, trailing zeros dropped down to 2 ("0.0135", "0.09", "0.00").
  while (magnitude < 1 && number.size() > number.find('.') + 3 && number.back() == '0') number.pop_back();
  std::string out = currency.empty() ? "" : std::string(currency) + " ";
  if (amount < 0) out += "-";
  return out + groupThousands(number);
}

std::string formatDecimal(double amount) {
  if (!std::isfinite(amount)) amount = 0;
  return printfString("%.6f", amount);
}

std::string formatDuration(uint64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return formatCount(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

std::string formatRate(double bps) {
  static const char* const kUnits[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
  if (!std::isfinite(bps) || bps < 0) bps = 0;
  return scaled(bps, kUnits, 5, " ");
}

std::optional<double> share(double part, double whole) {
  if (!(whole > 0) || !std::isfinite(whole) || !std::isfinite(part)) return std::nullopt;
  return part / whole;
}

std::string formatShare(std::optional<double> fraction) {
  if (!fraction) return "n/a";
  return printfString("%.1f%%", *fraction * 100);
}

std::string formatTimestamp(int64_t unixSeconds) {
  const time_t t = static_cast<time_t>(unixSeconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "?";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

size_t displayWidth(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xc0) != 0x80;
  return n;
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
          out += "\xEF\xBF\xBD";  // U+FFFD
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string csvField(std::string_view text) {
  // A spreadsheet reads a cell starting with one of these as a formula (CSV injection): such a text cell
  // gets a leading single quote and is always quoted, so it opens as the literal text.
  const bool formula = !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
  if (!formula && text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = formula ? "\"'" : "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace rdv::report
