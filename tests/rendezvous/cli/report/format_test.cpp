// The report's number formatting and escaping.
#include <gtest/gtest.h>

#include <limits>

#include "rendezvous/cli/report/format.h"

namespace rdv::report {
namespace {

TEST(ReportFormat, Counts) {
  EXPECT_EQ(formatCount(0), "0");
  EXPECT_EQ(formatCount(999), "999");
  EXPECT_EQ(formatCount(1000), "1,000");
  EXPECT_EQ(formatCount(1234567), "1,234,567");
  EXPECT_EQ(formatCount(std::numeric_limits<uint64_t>::max()), "18,446,744,073,709,551,615");
}

TEST(ReportFormat, BytesInSiUnits) {
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(999), "999 B");
  EXPECT_EQ(formatBytes(1000), "1.00 kB");
  EXPECT_EQ(formatBytes(999999), "1.00 MB");
  EXPECT_EQ(formatBytes(2345678901), "2.35 GB");
  EXPECT_EQ(formatBytes(123456789012345), "123 TB");
  EXPECT_EQ(formatBytes(std::numeric_limits<uint64_t>::max()), "18.4 EB");
}

TEST(ReportFormat, Money) {
  EXPECT_EQ(formatMoney(0, "USD"), "USD 0.00");
  EXPECT_EQ(formatMoney(0.000207, "USD"), "USD 0.000207");
  EXPECT_EQ(formatMoney(0.09, "USD"), "USD 0.09");
  EXPECT_EQ(formatMoney(0.0135, "EUR"), "EUR 0.0135");
  EXPECT_EQ(formatMoney(0.00018, "USD"), "USD 0.00018");
  EXPECT_EQ(formatMoney(0.9999994, "USD"), "USD 0.999999");
  EXPECT_EQ(formatMoney(0.0000004, "USD"), "USD 0.00");
  EXPECT_EQ(formatMoney(1.005, "USD"), "USD 1.00");
  EXPECT_EQ(formatMoney(1234.567, "EUR"), "EUR 1,234.57");
  EXPECT_EQ(formatMoney(1e15, "USD"), "USD 1,000,000,000,000,000.00");
  EXPECT_EQ(formatMoney(12.5, ""), "12.50");
  EXPECT_EQ(formatMoney(std::numeric_limits<double>::quiet_NaN(), "USD"), "USD 0.00");
  EXPECT_EQ(formatDecimal(0.000207), "0.000207");
  EXPECT_EQ(formatDecimal(12.5), "12.500000");
}

TEST(ReportFormat, DurationsRatesShares) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(240), "4m 0s");
  EXPECT_EQ(formatDuration(3600 * 3 + 60 * 12 + 5), "3h 12m");
  EXPECT_EQ(formatDuration(86400 * 2 + 3600 * 4), "2d 4h");
  EXPECT_EQ(formatRate(0), "0 bit/s");
  EXPECT_EQ(formatRate(850), "850 bit/s");
  EXPECT_EQ(formatRate(1.2e6), "1.20 Mbit/s");
  EXPECT_EQ(formatRate(-1), "0 bit/s");
  EXPECT_EQ(formatShare(share(1, 4)), "25.0%");
  EXPECT_EQ(formatShare(share(1, 0)), "n/a");
  EXPECT_EQ(formatShare(share(0, 0)), "n/a");
  EXPECT_EQ(formatTimestamp(1763776800), "2025-11-22 02:00 UTC");
}

TEST(ReportFormat, Escaping) {
  EXPECT_EQ(csvField("alice"), "alice");
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csvField("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(csvField(""), "");
  EXPECT_EQ(csvField("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(csvField("+1+1"), "\"'+1+1\"");
  EXPECT_EQ(csvField("-2+3"), "\"'-2+3\"");
  EXPECT_EQ(csvField("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(csvField("\tx"), "\"'\tx\"");
  EXPECT_EQ(csvField("\rx"), "\"'\rx\"");
  EXPECT_EQ(csvField("a=b"), "a=b");
  EXPECT_EQ(htmlEscape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(htmlEscape(std::string("a\x01" "b\tc", 5)), "a\xEF\xBF\xBD" "b\tc");
  EXPECT_EQ(htmlEscape("\xC3\xBC"), "\xC3\xBC");
  EXPECT_EQ(printable("bell\x07"), "bell\\x07");
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(displayWidth("\xC3\xBC" "ber"), 4u);
}

}  // namespace
}  // namespace rdv::report
