// Renders a parsed /v1/usage document as text an operator reads, a spreadsheet imports or a mail
// carries. Pure: no I/O, no clock (times come from the document's "generated").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rendezvous/cli/report/usage_document.h"

namespace rdv::report {

enum class Format { Table, Json, Csv, Html };
std::optional<Format> parseFormat(std::string_view text);

// json: the document as received, pretty-printed.
std::string renderJson(const UsageDocument& doc);
// table: headline (relayed bytes, allocations, cost, projected monthly cost, relayed vs direct
// sessions, end reasons), top identities, then one line per row.
std::string renderTable(const UsageDocument& doc);
// csv: RFC 4180 (CRLF line ends, quoted fields where needed), a header line, then one line per row.
std::string renderCsv(const UsageDocument& doc);
// html: one self-contained page (inline CSS and SVG, no scripts, no external references).
std::string renderHtml(const UsageDocument& doc);

std::string render(const UsageDocument& doc, Format format);

// Shared by the renderers.
// The share of a row: of the total cost, or of the total bytes when nothing costs anything.
std::optional<double> rowShare(const UsageDocument& doc, const Usage& row);
bool sharesByCost(const UsageDocument& doc);
// Every price of the cost model is zero (charts then show bytes instead of money).
bool pricesAreZero(const UsageDocument& doc);
// The projection's basis: "24 h".
std::string describeBasis(const UsageDocument& doc);
// Days in the window, since..until inclusive.
int64_t windowDays(const UsageDocument& doc);

}  // namespace rdv::report
