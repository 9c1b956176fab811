// Methods of Go's time.Time and time.Duration in templates (.StartsAt.Format, .EndsAt.IsZero, ...).
// Every expected string below is what Alertmanager 0.25's own Go runtime printed for the same
// template and data: `amtool template render --template.data=d.json --template.text=...` with
// d.json holding the two alerts built in data() (checked by hand against the time package's
// documented rules, noted per case).
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include "ruleeval/parser/template.hpp"

using namespace ruleeval;
using namespace ruleeval::tmpl;

namespace {

// Alert 0: firing, startsAt 2024-02-29T13:04:05.123456789Z (a leap day, a Thursday), EndsAt Go's
// zero time (Alertmanager blanks EndsAt of firing alerts). Alert 1: resolved, startsAt
// 1969-07-20T20:17:40.5Z (before the Unix epoch), endsAt 2024-03-01T00:00:00Z.
Value data() {
  NotificationData d;
  d.receiver = "r";
  d.status = "firing";
  d.alerts.push_back({"firing", Labels{{"alertname", "A"}}, Labels{},
                      Time{1'709'211'845'123'456'789}, Time{}, "", "x"});
  d.alerts.push_back({"resolved", Labels{{"alertname", "B"}}, Labels{},
                      Time{-14'182'939'500'000'000}, Time{1'709'251'200'000'000'000}, "", "y"});
  return notification_template_data(d);
}

std::string am(int alert, std::string_view body) {
  ParseOptions po;
  po.name = "t";
  po.dialect = Dialect::kAlertmanager;
  const std::string text =
      "{{ with index .Alerts " + std::to_string(alert) + " }}" + std::string(body) + "{{ end }}";
  auto t = parse(text, po);
  if (!t) return "PARSE: " + t.error().message;
  RenderOptions ro;
  ro.missing_key = MissingKey::kDefault;
  static const Value d = data();
  auto r = render(*t, d, alertmanager_functions(), ro);
  if (!r) return "ERR: " + r.error().message;
  return *r;
}

// NOLINTBEGIN(concurrency-mt-unsafe): the tests run on one thread; nothing else reads TZ meanwhile
struct TzGuard {  // sets TZ for a test and restores it
  std::optional<std::string> old;
  explicit TzGuard(const char* tz) {
    if (const char* o = std::getenv("TZ")) old = o;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TzGuard() {
    if (old) {
      setenv("TZ", old->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
};
// NOLINTEND(concurrency-mt-unsafe)

}  // namespace

TEST_CASE("Time.Format follows Go's reference layout") {
  // The layouts real alertmanager.yml files use.
  CHECK(am(0, R"({{ .StartsAt.Format "2006-01-02 15:04:05" }})") == "2024-02-29 13:04:05");
  // +8h (28800e9 ns: an integer constant to Go's template parser) for Beijing time.
  CHECK(am(0, R"({{ (.StartsAt.Add 28800e9).Format "2006-01-02 15:04:05" }})") ==
        "2024-02-29 21:04:05");
  CHECK(am(1, R"({{ (.StartsAt.Add 28800e9).Format "2006-01-02 15:04:05" }})") ==
        "1969-07-21 04:17:40");
  // Z07:00 prints Z for UTC; -07:00 prints +00:00.
  CHECK(am(0, R"({{ .StartsAt.Format "2006-01-02T15:04:05Z07:00" }})") == "2024-02-29T13:04:05Z");
  CHECK(am(0, R"({{ .StartsAt.Format "2006-01-02T15:04:05.000Z07:00" }})") ==
        "2024-02-29T13:04:05.123Z");
  CHECK(am(0, R"({{ .StartsAt.Format "2006-01-02T15:04:05.999999999-07:00" }})") ==
        "2024-02-29T13:04:05.123456789+00:00");
  // .999 trims trailing zeros, .000 keeps them.
  CHECK(am(1, R"({{ .StartsAt.Format "2006-01-02T15:04:05.999999999-07:00" }})") ==
        "1969-07-20T20:17:40.5+00:00");
  CHECK(am(1, R"({{ .StartsAt.Format "2006-01-02T15:04:05.000Z07:00" }})") ==
        "1969-07-20T20:17:40.500Z");
  // time.UnixDate; MST prints the zone's abbreviation; _2 pads the day with a space.
  CHECK(am(0, R"({{ .StartsAt.Format "Mon Jan _2 15:04:05 MST 2006" }})") ==
        "Thu Feb 29 13:04:05 UTC 2024");
  CHECK(am(1, R"({{ .StartsAt.Format "Mon Jan _2 15:04:05 MST 2006" }})") ==
        "Sun Jul 20 20:17:40 UTC 1969");
  CHECK(am(0, R"({{ .StartsAt.Format "Monday, January 2, 2006 3:04:05 PM -0700" }})") ==
        "Thursday, February 29, 2024 1:04:05 PM +0000");
  // Short forms: 06 two-digit year, 1 and 2 unpadded, 03 padded 12-hour, 4 and 5 unpadded; the
  // numeric zones print +00 / +000000 / +00:00:00 and the Z forms print Z in UTC.
  CHECK(am(0, R"({{ .StartsAt.Format "06/1/2 03:4:5 pm -07 Z07 Z0700 -070000 -07:00:00 Z070000 Z07:00:00" }})") ==
        "24/2/29 01:4:5 pm +00 Z Z +000000 +00:00:00 Z Z");
  CHECK(am(1, R"({{ .StartsAt.Format "06/1/2 03:4:5 pm" }})") == "69/7/20 08:17:40 pm");
  // 002 is the zero-padded day of the year, __2 the space-padded one; .9 .99 ,000 ... are
  // fractional seconds of that many digits, with , or . kept as the separator.
  CHECK(am(0, R"({{ .StartsAt.Format "002 __2 .9 .99 ,000 .000000 .999999999 ,999" }})") ==
        "060  60 .1 .12 ,123 .123456 .123456789 ,123");
  CHECK(am(1, R"({{ .StartsAt.Format "002 __2 .9 .99 ,000 .000000 .999999999 ,999" }})") ==
        "201 201 .5 .5 ,500 .500000 .5 ,5");
  // Jan/Mon followed by a lower-case letter are text ("Janet", "Monster"); _2006 is a literal _
  // then the year; a fraction directly after 05 is fractional seconds.
  CHECK(am(0, R"({{ .StartsAt.Format "Janet Monster _2006 05.000 15h04m" }})") ==
        "Janet Monster _2024 05.123 13h04m");
  // A run of zeros followed by another digit is not a fraction: ".0000000001" is text up to
  // "01" (the month); ".0x" is a one-digit fraction then text.
  CHECK(am(0, R"({{ .StartsAt.Format "2006-01-02 15:04:05.0000000001 .0x" }})") ==
        "2024-02-29 13:04:05.0000000002 .1x");
  CHECK(am(0, R"({{ .StartsAt.Format "" }}|{{ .StartsAt.Format "no layout" }}|{{ .StartsAt.Format "PM pm Pm" }})") ==
        "|no layout|PM pm Pm");
  // Go's zero time is 0001-01-01, a Monday.
  CHECK(am(0, R"({{ .EndsAt }} | {{ .EndsAt.Format "2006-01-02T15:04:05Z07:00 Mon" }})") ==
        "0001-01-01 00:00:00 +0000 UTC | 0001-01-01T00:00:00Z Mon");
  CHECK(am(1, R"({{ .EndsAt.Format "2006-01-02T15:04:05Z07:00 Mon" }})") ==
        "2024-03-01T00:00:00Z Fri");
  CHECK(am(0, R"({{ .StartsAt.Format 1 }})").starts_with("ERR:"));
  CHECK(am(0, R"({{ .StartsAt.Format }})").starts_with("ERR:"));
}

TEST_CASE("Time methods: Unix, IsZero, Sub, comparisons, fields, Truncate, Round") {
  CHECK(am(0, "{{ .StartsAt.Unix }} {{ .StartsAt.UnixMilli }} {{ .StartsAt.UnixNano }}") ==
        "1709211845 1709211845123 1709211845123456789");
  // Before the epoch, Unix is the floor (-14182940 s, then +0.5 s of nanoseconds).
  CHECK(am(1, "{{ .StartsAt.Unix }} {{ .StartsAt.UnixMilli }} {{ .StartsAt.UnixNano }}") ==
        "-14182940 -14182939500 -14182939500000000");
  // The zero time is year 1: Unix -62135596800; UnixNano overflows int64 and wraps, as in Go.
  CHECK(am(0, "{{ .EndsAt.Unix }} | {{ .EndsAt.UnixMilli }} | {{ .EndsAt.UnixNano }}") ==
        "-62135596800 | -62135596800000 | -6795364578871345152");
  CHECK(am(0, "{{ .EndsAt.IsZero }} {{ .StartsAt.IsZero }} {{ if .EndsAt.IsZero }}firing{{ end }}") ==
        "true false firing");
  CHECK(am(1, "{{ .EndsAt.IsZero }} {{ .StartsAt.IsZero }} {{ if .EndsAt.IsZero }}firing{{ end }}") ==
        "false false ");
  CHECK(am(0, "{{ .StartsAt.UTC }} | {{ .StartsAt.String }}") ==
        "2024-02-29 13:04:05.123456789 +0000 UTC | 2024-02-29 13:04:05.123456789 +0000 UTC");
  // Sub saturates at the Duration limits when the difference overflows (zero time - 2024).
  CHECK(am(0, "{{ .EndsAt.Sub .StartsAt }} | {{ .StartsAt.Sub .EndsAt }}") ==
        "-2562047h47m16.854775808s | 2562047h47m16.854775807s");
  CHECK(am(1, "{{ .EndsAt.Sub .StartsAt }} | {{ .StartsAt.Sub .EndsAt }}") ==
        "478731h42m19.5s | -478731h42m19.5s");
  CHECK(am(0, "{{ .StartsAt.Before .EndsAt }} {{ .StartsAt.After .EndsAt }} {{ .StartsAt.Equal .StartsAt }} {{ .EndsAt.Equal .EndsAt }}") ==
        "false true true true");
  CHECK(am(1, "{{ .StartsAt.Before .EndsAt }} {{ .StartsAt.After .EndsAt }}") == "true false");
  // Month and Weekday print their names but compare as integers (time.Month is an int).
  CHECK(am(0, "{{ .StartsAt.Year }} {{ .StartsAt.Month }} {{ .StartsAt.Day }} {{ .StartsAt.Hour }} {{ .StartsAt.Minute }} {{ .StartsAt.Second }} {{ .StartsAt.Nanosecond }} {{ .StartsAt.Weekday }} {{ .StartsAt.YearDay }}") ==
        "2024 February 29 13 4 5 123456789 Thursday 60");
  CHECK(am(1, "{{ .StartsAt.Year }} {{ .StartsAt.Month }} {{ .StartsAt.Day }} {{ .StartsAt.Hour }} {{ .StartsAt.Minute }} {{ .StartsAt.Second }} {{ .StartsAt.Nanosecond }} {{ .StartsAt.Weekday }} {{ .StartsAt.YearDay }}") ==
        "1969 July 20 20 17 40 500000000 Sunday 201");
  CHECK(am(0, R"({{ if eq .StartsAt.Month 2 }}feb{{ end }} {{ .StartsAt.Month.String }} {{ .StartsAt.Weekday.String }} {{ printf "%d" .StartsAt.Month }})") ==
        "feb February Thursday 2");
  // Truncate/Round count from Go's zero time (a Monday), so a 7-day truncation lands on a Monday.
  CHECK(am(0, "{{ .StartsAt.Truncate 3600e9 }} | {{ .StartsAt.Round 1e9 }} | {{ .StartsAt.Truncate 604800e9 }} | {{ .StartsAt.Round 0 }}") ==
        "2024-02-29 13:00:00 +0000 UTC | 2024-02-29 13:04:05 +0000 UTC | 2024-02-26 00:00:00 +0000 UTC | 2024-02-29 13:04:05.123456789 +0000 UTC");
  CHECK(am(1, "{{ .StartsAt.Truncate 3600e9 }} | {{ .StartsAt.Round 1e9 }} | {{ .StartsAt.Truncate 604800e9 }}") ==
        "1969-07-20 20:00:00 +0000 UTC | 1969-07-20 20:17:41 +0000 UTC | 1969-07-14 00:00:00 +0000 UTC");
  CHECK(am(0, R"({{ (.StartsAt.Add -90e9).Format "15:04:05.000" }} {{ .StartsAt.Add 1 }})") ==
        "13:02:35.123 2024-02-29 13:04:05.12345679 +0000 UTC");
  CHECK(am(0, "{{ .StartsAt.Add 1.5 }}").starts_with("ERR:"));
  CHECK(am(0, R"({{ .StartsAt.Add "1h" }})").starts_with("ERR:"));
  CHECK(am(0, "{{ .StartsAt.Sub 5 }}").starts_with("ERR:"));
  CHECK(am(0, "{{ .StartsAt.Nope }}").starts_with("ERR:"));
}

TEST_CASE("Duration methods") {
  // 1h30m0.5s: Seconds/Minutes/Hours are float64 (whole units plus the remainder's fraction).
  CHECK(am(0, "{{ $d := .StartsAt.Sub (.StartsAt.Add -5400500e6) }}{{ $d }} {{ $d.Seconds }} {{ $d.Minutes }} {{ $d.Hours }} {{ $d.Milliseconds }} {{ $d.String }} {{ $d.Round 60e9 }} {{ $d.Truncate 3600e9 }}") ==
        "1h30m0.5s 5400.5 90.00833333333334 1.500138888888889 5400500 1h30m0.5s 1h30m0s 1h0m0s");
  // Round halves away from zero; Round/Truncate by <= 0 return the duration unchanged.
  CHECK(am(1, "{{ $d := .EndsAt.Sub .StartsAt }}{{ $d.Round 3600e9 }} {{ ($d.Round 0) }} {{ $d.Truncate -1 }}") ==
        "478732h0m0s 478731h42m19.5s 478731h42m19.5s");
  CHECK(am(1, "{{ $d := .StartsAt.Sub .EndsAt }}{{ $d.Round 1e9 }} {{ $d.Abs }}") ==
        "-478731h42m20s 478731h42m19.5s");
}

TEST_CASE("Time.Local uses the process's TZ and the tz database, as Go's Local does") {
  TzGuard tz("Asia/Shanghai");
  CHECK(am(0, R"({{ .StartsAt.Local.Format "Jan 2, 15:04 MST -07:00 Z07:00" }}|{{ .StartsAt.Local }}|{{ .StartsAt.Local.Hour }}|{{ .StartsAt.Local.UTC.Hour }})") ==
        "Feb 29, 21:04 CST +08:00 +08:00|2024-02-29 21:04:05.123456789 +0800 CST|21|13");
  CHECK(am(1, R"({{ .StartsAt.Local.Format "Jan 2, 15:04 MST -07:00 Z07:00" }}|{{ .StartsAt.Local }})") ==
        "Jul 21, 04:17 CST +08:00 +08:00|1969-07-21 04:17:40.5 +0800 CST");
  TzGuard nst("America/St_Johns");  // a half-hour offset
  CHECK(am(0, R"({{ .StartsAt.Local.Format "2006-01-02 15:04 MST -0700 Z07:00 -07" }})") ==
        "2024-02-29 09:34 NST -0330 -03:30 -03");
}

TEST_CASE("Times at the ends of the int64 range") {
  // Go: time.Unix(0, math.MaxInt64) is 2262-04-11 23:47:16.854775807 UTC and time.Unix(0,
  // math.MinInt64) is 1677-09-21 00:12:43.145224192 UTC (one nanosecond earlier than below).
  auto one = [](Time t, std::string_view body) {
    Map m;
    m.emplace("T", Value(t));
    ParseOptions po;
    po.dialect = Dialect::kAlertmanager;
    auto p = parse(body, po);
    if (!p) return "PARSE: " + p.error().message;
    auto r = render(*p, Value(std::move(m)), alertmanager_functions(), RenderOptions{});
    return r ? *r : "ERR: " + r.error().message;
  };
  const Time max{std::numeric_limits<int64_t>::max()};
  const Time min{std::numeric_limits<int64_t>::min() + 1};
  CHECK(one(max, "{{ .T }} {{ .T.Weekday }} {{ .T.YearDay }}") ==
        "2262-04-11 23:47:16.854775807 +0000 UTC Friday 101");
  CHECK(one(min, "{{ .T }} {{ .T.Unix }}") == "1677-09-21 00:12:43.145224193 +0000 UTC -9223372037");
  // Beyond the representable range ruleeval refuses instead of wrapping around.
  CHECK(one(max, "{{ .T.Add 1 }}").starts_with("ERR:"));
  CHECK(one(min, "{{ .T.Add -2 }}").starts_with("ERR:"));
  CHECK(one(max, "{{ .T.Sub .T }} {{ (.T.Add -1).Nanosecond }}") == "0s 854775806");
  // The zero time plus a duration (the +8h shift applied to a firing alert's EndsAt): Go prints
  // 0001-01-01 08:00:00 +0000 UTC (amtool 0.25); back by the same amount it is zero again.
  CHECK(one(Time{}, "{{ .T.Add 28800e9 }}") == "0001-01-01 08:00:00 +0000 UTC");
  CHECK(one(Time{}, R"({{ (.T.Add 28800e9).Format "2006-01-02 15:04:05 Mon" }})") ==
        "0001-01-01 08:00:00 Mon");
  CHECK(one(Time{}, "{{ ((.T.Add 28800e9).Add -28800e9).IsZero }} {{ (.T.Add 1).IsZero }}") ==
        "true false");
  CHECK(one(Time{}, "{{ (.T.Add 0).IsZero }}") == "true");
  // Go would print 0000-12-31 23:59:59.999999999; ruleeval does not hold years before 1.
  CHECK(one(Time{}, "{{ .T.Add -1 }}").starts_with("ERR:"));
}

TEST_CASE("Errors from methods and fields name the place Go names (amtool 0.25's messages)") {
  auto whole = [](std::string_view text) {
    ParseOptions po;
    po.name = "";
    po.dialect = Dialect::kAlertmanager;
    po.prefix = "{{ define \"x\" }}\nline\n{{ end }}";
    po.go_positions_in_text = true;
    auto t = parse(text, po);
    if (!t) return "PARSE: " + t.error().message;
    RenderOptions ro;
    ro.missing_key = MissingKey::kZero;
    static const Value d = data();
    auto r = render(*t, d, alertmanager_functions(), ro);
    return r ? *r : r.error().message;
  };
  CHECK(whole(R"({{ range .Alerts }}{{ .StartsAt.Formatt "x" }}{{ end }})") ==
        R"(template: :1:31: executing "" at <.StartsAt.Formatt>: can't evaluate field Formatt in type time.Time)");
  CHECK(whole("<p>{{ .CommonLabels.Foo.Bar }}") ==
        R"(template: :1:19: executing "" at <.CommonLabels.Foo.Bar>: can't evaluate field Bar in type string)");
  CHECK(whole("{{ .StartsAt.Formatt }}") ==
        R"(template: :1:12: executing "" at <.StartsAt.Formatt>: can't evaluate field StartsAt in type template.Data)");
  CHECK(whole("{{ .Nope }}") ==
        R"(template: :1:3: executing "" at <.Nope>: can't evaluate field Nope in type template.Data)");
  CHECK(whole("{{ .Receiver.X }}") ==
        R"(template: :1:12: executing "" at <.Receiver.X>: can't evaluate field X in type string)");
}
