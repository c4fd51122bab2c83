// Number, text and escaping helpers shared by the report renderers. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rdv::report {

// 1234567 -> "1,234,567".
std::string formatCount(uint64_t n);
// SI (decimal) units, as prices per GB use: "0 B", "999 B", "1.50 kB", "2.35 GB", "12.0 TB".
std::string formatBytes(uint64_t bytes);
// Money with the currency label: "USD 1,234.57"; amounts under 1 keep up to the document's 6
// decimals, at least 2 ("USD 0.000207", "USD 0.0135", "USD 0.09").
std::string formatMoney(double amount, std::string_view currency);
// Plain decimal for machine formats: 6 decimals, no grouping ("0.000207", "12.500000").
std::string formatDecimal(double amount);
// Seconds as "45s", "4m 0s", "3h 12m", "2d 4h".
std::string formatDuration(uint64_t seconds);
// Bits per second: "0 bit/s", "850 bit/s", "1.20 Mbit/s".
std::string formatRate(double bitsPerSecond);
// part/whole as "25.0%"; nullopt when whole is zero (nothing to share).
std::optional<double> share(double part, double whole);
std::string formatShare(std::optional<double> fraction);
// Unix seconds as "2026-11-22 02:00 UTC".
std::string formatTimestamp(int64_t unixSeconds);

// Text for a terminal: control characters and DEL become \xNN; UTF-8 is left alone.
std::string printable(std::string_view text);
// Display width of UTF-8 text in columns (code points; good enough for alignment).
size_t displayWidth(std::string_view text);
// &, <, >, " and ' escaped; control characters other than tab/LF/CR (not allowed in XML) become U+FFFD.
std::string htmlEscape(std::string_view text);
// One RFC 4180 text field: quoted (with quotes doubled) when it holds a comma, quote, CR or LF. A field
// starting with = + - @ TAB or CR is neutralised against formula injection: a single quote is prefixed and
// the field is quoted. Numbers are not passed through here.
std::string csvField(std::string_view text);

}  // namespace rdv::report
