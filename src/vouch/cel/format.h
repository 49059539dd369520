// Text forms CEL defines for its values (string(double), string(timestamp), duration text) and
// the calendar arithmetic behind timestamps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/cel/cel.h"
#include "vouch/cel/value.h"

namespace vouch::cel {

// Shortest text that reads back as the same double, in Go's FormatFloat(d, 'g', -1, 64) form.
std::string format_double(double d);
// A CEL string literal for `s`, with quotes and escapes.
std::string quote_string(std::string_view s);

// Timestamps are valid from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z; durations
// fit int64 nanoseconds (about ±292 years), as in Go and so in Kubernetes.
bool timestamp_in_range(const Timestamp& t);
bool duration_in_range(const Duration& d);
// RFC 3339 in UTC, fractional seconds without trailing zeros.
std::string format_timestamp(const Timestamp& t);
// Go's duration syntax: "1h2m3.5s", "-1.5s", "100ms", "2us", "3ns".
Result<Duration> parse_duration(std::string_view text);
// Seconds with a fractional part, as "1.5s".
std::string format_duration(const Duration& d);

// Days since 1970-01-01 from a civil date and back (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// The UTC offset in seconds of `zone` at Unix time `t`: "UTC", "+08:00", "-02:30" or an IANA
// name read from the system's zoneinfo. nullopt for an unknown zone.
std::optional<int64_t> zone_offset(std::string_view zone, int64_t t);

// -1, 0, 1, or 2 when unordered (NaN), comparing int, uint and double values exactly.
int compare_numeric(const Value& a, const Value& b);

}  // namespace vouch::cel
