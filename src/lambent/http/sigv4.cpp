#include "lambent/http/sigv4.h"

#include <algorithm>
#include <cassert>

namespace lambent::http {
namespace {

using std::chrono::sys_seconds;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";

constexpr std::string_view kMissingTokenType = "MissingAuthenticationTokenException";
constexpr std::string_view kIncompleteType = "IncompleteSignatureException";
constexpr std::string_view kInvalidSignatureType = "InvalidSignatureException";
constexpr std::string_view kUnrecognizedClientType = "UnrecognizedClientException";

constexpr std::string_view kSignatureMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

// ---- Characters and encoding ----

constexpr char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Separators between Authorization components and between Date fields.
bool is_separator(char c) { return c == ' ' || c == '\t' || c == ','; }

// Splits the next token off `text`: skips leading separators, returns the characters up to the
// next separator, and leaves the rest in `text`. Plain loops, because find_first_of with a set
// calls memchr once per input character.
std::string_view next_token(std::string_view& text) {
  std::size_t start = 0;
  while (start < text.size() && is_separator(text[start])) ++start;
  std::size_t end = start;
  while (end < text.size() && !is_separator(text[end])) ++end;
  std::string_view token = text.substr(start, end - start);
  text.remove_prefix(end);
  return token;
}

// RFC 3986 unreserved characters, the only ones SigV4 leaves unencoded.
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c)) || c == '-' ||
               c == '_' || c == '.' || c == '~';
  }
  return table;
}();

bool is_unreserved(char c) { return kUnreserved[static_cast<unsigned char>(c)]; }

// Characters that may appear raw in a request-target: unreserved, reserved and '%'.
bool is_uri_char(char c) {
  return is_unreserved(c) ||
         std::string_view(":/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_percent_encoded(std::string& out, unsigned char c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  out += '%';
  out += kDigits[c >> 4];
  out += kDigits[c & 0xf];
}

// Encodes every byte outside the unreserved set, '%' included.
void append_uri_encoded(std::string& out, std::string_view text) {
  for (char c : text) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      append_percent_encoded(out, static_cast<unsigned char>(c));
    }
  }
}

// Decodes %XX escapes and re-encodes the result with the unreserved set. A '%' that does not
// start a valid escape is taken as a literal '%'.
void append_reencoded(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        c = static_cast<char>(high * 16 + low);
        i += 2;
      }
    }
    if (is_unreserved(c)) {
      out += c;
    } else {
      append_percent_encoded(out, static_cast<unsigned char>(c));
    }
  }
}

// Appends a header value with leading and trailing whitespace removed and each inner run of
// whitespace replaced by one space, as botocore's `' '.join(value.split())` does.
void append_trimmed(std::string& out, std::string_view value) {
  bool seen_text = false;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = seen_text;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    seen_text = true;
    out += c;
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // The length of a hex signature is public, so only the contents need constant time.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::string_view digest_view(const Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

bool is_hex_digest(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return hex_value(c) >= 0; });
}

// ---- Request pieces ----

struct Target {
  std::string_view path;
  std::string_view query;
};

// Splits a request-target into path and query. An absolute-form target
// ("http://host:port/path?q") loses its scheme and authority.
Target split_target(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    if (auto scheme_end = target.find("://"); scheme_end != std::string_view::npos) {
      auto path_start = target.find_first_of("/?", scheme_end + 3);
      target =
          path_start == std::string_view::npos ? std::string_view() : target.substr(path_start);
    }
  }
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  auto question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

const Header* find_header(std::span<const Header> headers, std::string_view name) {
  for (const Header& header : headers) {
    if (iequals(header.name, name)) return &header;
  }
  return nullptr;
}

bool find_query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    if (piece.substr(0, piece.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

void canonical_query_into(std::string& out, std::string_view query, std::string& scratch,
                          std::vector<std::pair<std::string_view, std::string_view>>& params) {
  scratch.clear();
  params.clear();
  // Encoding turns each input byte into at most three, so this reservation keeps every view
  // into `scratch` valid while it grows.
  scratch.reserve(query.size() * 3);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;

    auto equals = piece.find('=');
    std::string_view name = piece.substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1);
    std::size_t name_start = scratch.size();
    append_reencoded(scratch, name);
    std::size_t value_start = scratch.size();
    append_reencoded(scratch, value);
    params.emplace_back(std::string_view(scratch).substr(name_start, value_start - name_start),
                        std::string_view(scratch).substr(value_start));
  }
  std::sort(params.begin(), params.end());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += '&';
    out += params[i].first;
    out += '=';
    out += params[i].second;
  }
}

void append_signing_scope(std::string& out, std::string_view date, std::string_view region,
                          std::string_view service) {
  out += date;
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += '/';
  out += kTerminator;
}

Sha256Digest derive_signing_key(std::string_view secret, std::string_view date,
                                std::string_view region, std::string_view service) {
  std::string first_key;
  first_key.reserve(4 + secret.size());
  first_key += "AWS4";
  first_key += secret;
  Sha256Digest key = hmac_sha256(first_key, date);
  key = hmac_sha256(digest_view(key), region);
  key = hmac_sha256(digest_view(key), service);
  return hmac_sha256(digest_view(key), kTerminator);
}

// Builds "AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex sha256 of canonical request>".
void build_string_to_sign(std::string& out, std::string_view amz_date, std::string_view scope,
                          std::string_view canonical_request) {
  out.clear();
  out += kAlgorithm;
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += to_hex(sha256(canonical_request));
}

// ---- Authorization header ----

struct AuthorizationFields {
  std::string_view algorithm;
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
};

Error auth_error(std::string_view type, std::string message) {
  return Error{Errc::unauthorized, std::move(message), std::string(type)};
}

// Splits "ALGORITHM Key=Value, Key=Value, ..." into its fields. Components may be separated by
// commas, whitespace or both, as AWS accepts.
Result<AuthorizationFields> parse_authorization(std::string_view value) {
  AuthorizationFields fields;
  std::size_t algorithm_end = 0;
  while (algorithm_end < value.size() && value[algorithm_end] != ' ' &&
         value[algorithm_end] != '\t') {
    ++algorithm_end;
  }
  fields.algorithm = value.substr(0, algorithm_end);
  std::string_view rest = value.substr(algorithm_end);

  while (true) {
    std::string_view component = next_token(rest);
    if (component.empty()) break;
    auto equals = component.find('=');
    if (equals == std::string_view::npos) {
      return auth_error(kIncompleteType,
                        "'" + std::string(component) +
                            "' not a valid key=value pair (missing equal-sign) in Authorization "
                            "header: '" +
                            std::string(value) + "'.");
    }
    std::string_view key = component.substr(0, equals);
    std::string_view field = component.substr(equals + 1);
    if (key == "Credential") {
      fields.credential = field;
    } else if (key == "SignedHeaders") {
      fields.signed_headers = field;
    } else if (key == "Signature") {
      fields.signature = field;
    }
  }
  return fields;
}

std::optional<Error> check_authorization_complete(const AuthorizationFields& fields, bool has_date,
                                                  std::string_view value) {
  std::string message;
  if (fields.credential.empty())
    message += "Authorization header requires 'Credential' parameter. ";
  if (fields.signature.empty()) message += "Authorization header requires 'Signature' parameter. ";
  if (fields.signed_headers.empty()) {
    message += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!has_date) {
    message +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (message.empty()) return std::nullopt;
  message += "Authorization=";
  message += value;
  return auth_error(kIncompleteType, std::move(message));
}

bool signs_host(std::string_view signed_headers) {
  while (true) {
    auto semicolon = signed_headers.find(';');
    if (iequals(signed_headers.substr(0, semicolon), "host")) return true;
    if (semicolon == std::string_view::npos) return false;
    signed_headers.remove_prefix(semicolon + 1);
  }
}

// Appends "name:value\n" for every name in SignedHeaders, in the order listed. Headers that
// occur more than once have their values joined with ',' in the order received.
void append_canonical_headers(std::string& out, std::string_view signed_headers,
                              std::span<const Header> headers) {
  while (true) {
    auto semicolon = signed_headers.find(';');
    std::string_view name = signed_headers.substr(0, semicolon);
    out += name;
    out += ':';
    bool first = true;
    for (const Header& header : headers) {
      if (!iequals(header.name, name)) continue;
      if (!first) out += ',';
      append_trimmed(out, header.value);
      first = false;
    }
    out += '\n';
    if (semicolon == std::string_view::npos) return;
    signed_headers.remove_prefix(semicolon + 1);
  }
}

Error time_skew_error(sys_seconds request_time, sys_seconds now) {
  std::string message;
  if (request_time < now) {
    message = "Signature expired: " + format_amz_date(request_time) + " is now earlier than " +
              format_amz_date(now - kMaxClockSkew) + " (" + format_amz_date(now) + " - 15 min.)";
  } else {
    message = "Signature not yet current: " + format_amz_date(request_time) +
              " is still later than " + format_amz_date(now + kMaxClockSkew) + " (" +
              format_amz_date(now) + " + 15 min.)";
  }
  return auth_error(kInvalidSignatureType, std::move(message));
}

// The five parts of a Credential: access key id, date, region, service and terminator.
using CredentialParts = std::array<std::string_view, 5>;

Result<CredentialParts> split_credential(std::string_view credential) {
  CredentialParts parts;
  std::size_t count = 0;
  for (std::string_view rest = credential; count <= parts.size();) {
    auto slash = rest.find('/');
    if (count < parts.size()) parts[count] = rest.substr(0, slash);
    ++count;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (count != parts.size()) {
    return auth_error(kIncompleteType,
                      "Credential must have exactly 5 slash-delimited elements, e.g. "
                      "keyid/date/region/service/term, got '" +
                          std::string(credential) + "'");
  }
  return parts;
}

// Checks the credential scope against the verifier's requirements and the request date. AWS
// lists every mismatch in one message.
std::optional<Error> check_scope(const CredentialParts& parts, const ScopeRequirements& required,
                                 std::string_view amz_date) {
  const auto [access_key_id, date, region, service, terminator] = parts;
  std::string message;
  auto add = [&message](std::string_view text) {
    if (!message.empty()) message += ' ';
    message += text;
  };
  if (!required.region.empty() && region != required.region) {
    add("Credential should be scoped to a valid region, not '" + std::string(region) + "'.");
  }
  if (!required.service.empty() && service != required.service) {
    add("Credential should be scoped to correct service: '" + required.service + "'.");
  }
  if (terminator != kTerminator) {
    add("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
        std::string(terminator) + "'.");
  }
  const std::string_view request_day = amz_date.substr(0, 8);
  if (date != request_day) {
    add("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '" +
        std::string(date) + "' != '" + std::string(request_day) + "', from '" +
        std::string(amz_date) + "'.");
  }
  if (message.empty()) return std::nullopt;
  return auth_error(kInvalidSignatureType, std::move(message));
}

// ---- Dates ----

std::optional<int> parse_number(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  int value = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<sys_seconds> make_time(int year, int month, int day, int hour, int minute,
                                     int second) {
  using namespace std::chrono;
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
}

// Month number for a three-letter English abbreviation, or 0.
int month_from_name(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int i = 0; i < 12; ++i) {
    if (iequals(name, kMonths[i])) return i + 1;
  }
  return 0;
}

bool is_weekday_name(std::string_view name) {
  static constexpr std::string_view kDays[] = {
      "mon",    "tue",     "wed",       "thu",      "fri",    "sat",      "sun",
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  return std::any_of(std::begin(kDays), std::end(kDays),
                     [&](std::string_view day) { return iequals(name, day); });
}

}  // namespace

// ---- Public helpers ----

void append_canonical_uri(std::string& out, std::string_view path, std::string_view service) {
  if (path.empty()) {
    out += '/';
    return;
  }
  if (service == "s3") {
    for (char c : path) {
      if (is_uri_char(c)) {
        out += c;
      } else {
        append_percent_encoded(out, static_cast<unsigned char>(c));
      }
    }
    return;
  }

  // RFC 3986 dot-segment removal that also drops empty segments, as botocore's
  // remove_dot_segments does. Segments contain no '/', so popping one cuts `out` back to the
  // last '/' written after `root`.
  if (path.front() == '/') out += '/';
  const std::size_t root = out.size();
  std::size_t segments = 0;
  std::string_view rest = path;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments > 0) {
        --segments;
        out.resize(segments == 0 ? root : out.rfind('/'));
      }
      continue;
    }
    if (segments > 0) out += '/';
    append_uri_encoded(out, segment);
    ++segments;
  }
  if (path.back() == '/' && segments > 0) out += '/';
}

void append_canonical_query(std::string& out, std::string_view query) {
  std::string scratch;
  std::vector<std::pair<std::string_view, std::string_view>> params;
  canonical_query_into(out, query, scratch, params);
}

std::optional<sys_seconds> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto year = parse_number(text.substr(0, 4));
  auto month = parse_number(text.substr(4, 2));
  auto day = parse_number(text.substr(6, 2));
  auto hour = parse_number(text.substr(9, 2));
  auto minute = parse_number(text.substr(11, 2));
  auto second = parse_number(text.substr(13, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  return make_time(*year, *month, *day, *hour, *minute, *second);
}

std::optional<sys_seconds> parse_http_date(std::string_view text) {
  // Reads the fields by their shape rather than their position, which covers
  // "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT" and
  // "Sun Nov  6 08:49:37 1994".
  int day = 0;
  int month = 0;
  int year = -1;
  int hour = -1;
  int minute = 0;
  int second = 0;
  int offset_minutes = 0;

  auto take_day_or_year = [&](std::string_view token) {
    auto number = parse_number(token);
    if (!number) return false;
    if (token.size() == 4 && year < 0) {
      year = *number;
    } else if (token.size() <= 2 && day == 0) {
      day = *number;
    } else if (token.size() == 2 && year < 0) {
      // RFC 850 two-digit year. NOTE: pivots at 70 instead of RFC 7231's "50 years from now".
      year = *number < 70 ? 2000 + *number : 1900 + *number;
    } else {
      return false;
    }
    return true;
  };

  while (true) {
    std::string_view token = next_token(text);
    if (token.empty()) break;
    if (token.find(':') != std::string_view::npos) {
      if (token.size() != 8 || token[2] != ':' || token[5] != ':') return std::nullopt;
      auto h = parse_number(token.substr(0, 2));
      auto m = parse_number(token.substr(3, 2));
      auto s = parse_number(token.substr(6, 2));
      if (!h || !m || !s || hour >= 0) return std::nullopt;
      hour = *h;
      minute = *m;
      second = *s;
    } else if ((token.front() == '+' || token.front() == '-') && token.size() == 5) {
      auto hhmm = parse_number(token.substr(1));
      if (!hhmm || *hhmm % 100 > 59) return std::nullopt;
      offset_minutes = (*hhmm / 100 * 60 + *hhmm % 100) * (token.front() == '-' ? -1 : 1);
    } else if (auto dash = token.find('-'); dash != std::string_view::npos) {
      // RFC 850 date: "06-Nov-94".
      auto second_dash = token.find('-', dash + 1);
      if (second_dash == std::string_view::npos) return std::nullopt;
      month = month_from_name(token.substr(dash + 1, second_dash - dash - 1));
      if (month == 0 || !take_day_or_year(token.substr(0, dash)) ||
          !take_day_or_year(token.substr(second_dash + 1))) {
        return std::nullopt;
      }
    } else if (is_alpha(token.front())) {
      if (int m = month_from_name(token); m != 0) {
        month = m;
      } else if (!is_weekday_name(token) && !iequals(token, "GMT") && !iequals(token, "UTC") &&
                 !iequals(token, "UT") && !iequals(token, "Z")) {
        return std::nullopt;
      }
    } else if (!take_day_or_year(token)) {
      return std::nullopt;
    }
  }
  if (day == 0 || month == 0 || year < 0 || hour < 0) return std::nullopt;
  auto local = make_time(year, month, day, hour, minute, second);
  if (!local) return std::nullopt;
  return *local - std::chrono::minutes(offset_minutes);
}

std::string format_amz_date(sys_seconds time) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(time);
  year_month_day date{days};
  hh_mm_ss<seconds> clock{time - days};
  std::string out(16, '0');
  // Writes the last `width` digits of a value that is not negative.
  auto put = [&out](std::size_t at, std::size_t width, long long value) {
    for (std::size_t i = at + width; i > at; value /= 10) {
      out[--i] = static_cast<char>('0' + value % 10);
    }
  };
  // The basic format has four-digit years, so a year after 9999 loses its leading digits.
  put(0, 4, static_cast<int>(date.year()));
  put(4, 2, static_cast<unsigned>(date.month()));
  put(6, 2, static_cast<unsigned>(date.day()));
  out[8] = 'T';
  put(9, 2, clock.hours().count());
  put(11, 2, clock.minutes().count());
  put(13, 2, clock.seconds().count());
  out[15] = 'Z';
  return out;
}

// ---- Verifier ----

SigV4Verifier::SigV4Verifier(SecretLookup lookup, ScopeRequirements scope)
    : lookup_(std::move(lookup)), scope_(std::move(scope)) {
  assert(lookup_);
}

const Sha256Digest& SigV4Verifier::signing_key(const std::string& secret, std::string_view date,
                                               std::string_view region, std::string_view service) {
  for (std::size_t i = 0; i < cache_used_; ++i) {
    CachedKey& entry = cache_[i];
    if (entry.date == date && entry.region == region && entry.service == service &&
        entry.secret == secret) {
      return entry.key;
    }
  }
  std::size_t slot = cache_used_ < kCacheSize ? cache_used_++ : cache_next_++ % kCacheSize;
  CachedKey& entry = cache_[slot];
  entry.secret = secret;
  entry.date = date;
  entry.region = region;
  entry.service = service;
  entry.key = derive_signing_key(secret, date, region, service);
  return entry.key;
}

Result<Identity> SigV4Verifier::verify(const SignedRequestView& request,
                                       std::chrono::system_clock::time_point now) {
  const Target target = split_target(request.target);

  const Header* authorization = find_header(request.headers, "authorization");
  if (authorization == nullptr) {
    if (find_query_parameter(target.query, "X-Amz-Algorithm")) {
      // NOTE: presigned URLs (X-Amz-Algorithm, X-Amz-Signature in the query) are not verified.
      return auth_error(kIncompleteType,
                        "Query-string authentication (X-Amz-Algorithm) is not supported. Sign "
                        "the request with an Authorization header.");
    }
    return auth_error(kMissingTokenType, "Missing Authentication Token");
  }
  const std::string_view auth_value = trim(authorization->value);

  auto parsed = parse_authorization(auth_value);
  if (!parsed) return std::move(parsed).error();
  const AuthorizationFields& fields = parsed.value();

  // X-Amz-Date takes precedence over Date when a request carries both.
  const Header* date_header = find_header(request.headers, "x-amz-date");
  const bool amz_date_form = date_header != nullptr;
  if (!amz_date_form) date_header = find_header(request.headers, "date");

  if (auto error = check_authorization_complete(fields, date_header != nullptr, auth_value)) {
    return std::move(*error);
  }
  if (fields.algorithm != kAlgorithm) {
    return auth_error(kIncompleteType,
                      "Unsupported AWS 'algorithm': '" + std::string(fields.algorithm) + "'.");
  }
  if (!signs_host(fields.signed_headers)) {
    return auth_error(kInvalidSignatureType,
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const std::string_view date_text = trim(date_header->value);
  const auto request_time = amz_date_form ? parse_amz_date(date_text) : parse_http_date(date_text);
  if (!request_time) {
    return auth_error(kIncompleteType, "Date must be in ISO-8601 'basic format'. Got '" +
                                           std::string(date_text) +
                                           "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
  const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now);
  if (*request_time < now_seconds - kMaxClockSkew || *request_time > now_seconds + kMaxClockSkew) {
    return time_skew_error(*request_time, now_seconds);
  }
  const std::string amz_date = format_amz_date(*request_time);

  auto scope_parts = split_credential(fields.credential);
  if (!scope_parts) return std::move(scope_parts).error();
  const auto [access_key_id, scope_date, region, service, terminator] = scope_parts.value();
  if (auto error = check_scope(scope_parts.value(), scope_, amz_date)) return std::move(*error);

  std::optional<std::string> secret = lookup_(access_key_id);
  if (!secret) {
    return auth_error(kUnrecognizedClientType,
                      "The security token included in the request is invalid.");
  }

  const Header* content_hash_header = find_header(request.headers, "x-amz-content-sha256");
  const std::string_view payload_hash =
      content_hash_header ? trim(content_hash_header->value) : request.payload_sha256_hex;
  if (service == "s3" && content_hash_header != nullptr && !is_hex_digest(payload_hash) &&
      payload_hash != kUnsignedPayload && payload_hash != kStreamingSignedPayload &&
      payload_hash != kStreamingSignedPayloadTrailer &&
      payload_hash != kStreamingUnsignedPayloadTrailer) {
    return Error{Errc::invalid_parameter,
                 "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                 "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                 "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value, not '" +
                     std::string(payload_hash) + "'.",
                 "InvalidArgument"};
  }

  canonical_request_.clear();
  canonical_request_ += request.method;
  canonical_request_ += '\n';
  append_canonical_uri(canonical_request_, target.path, service);
  canonical_request_ += '\n';
  canonical_query_into(canonical_request_, target.query, query_scratch_, query_params_);
  canonical_request_ += '\n';
  append_canonical_headers(canonical_request_, fields.signed_headers, request.headers);
  canonical_request_ += '\n';
  canonical_request_ += fields.signed_headers;
  canonical_request_ += '\n';
  canonical_request_ += payload_hash;

  // The credential minus its access key id is the scope, "20150830/us-east-1/service/aws4_request".
  const std::string_view scope = fields.credential.substr(access_key_id.size() + 1);
  build_string_to_sign(string_to_sign_, amz_date, scope, canonical_request_);
  const Sha256Digest& key = signing_key(*secret, scope_date, region, service);
  const Sha256Digest expected = hmac_sha256(digest_view(key), string_to_sign_);
  if (!constant_time_equals(to_hex(expected), fields.signature)) {
    return auth_error(kInvalidSignatureType, std::string(kSignatureMismatchMessage));
  }

  // A signed x-amz-content-sha256 digest only protects the body if the body matches it.
  if (content_hash_header != nullptr && is_hex_digest(payload_hash) &&
      !request.payload_sha256_hex.empty() && !iequals(payload_hash, request.payload_sha256_hex)) {
    if (service == "s3") {
      return Error{Errc::invalid_content,
                   "The provided 'x-amz-content-sha256' header does not match what was computed.",
                   "XAmzContentSHA256Mismatch"};
    }
    return auth_error(kInvalidSignatureType, std::string(kSignatureMismatchMessage));
  }

  Identity identity{std::string(access_key_id), std::string(region), std::string(service), {}};
  if (content_hash_header != nullptr &&
      (payload_hash == kStreamingSignedPayload || payload_hash == kStreamingSignedPayloadTrailer)) {
    identity.chunk_signing =
        ChunkSigning{key, amz_date, std::string(scope), std::string(fields.signature)};
  }
  return identity;
}

Result<Identity> verify_sigv4(const SignedRequestView& request, const SecretLookup& lookup,
                              std::chrono::system_clock::time_point now) {
  SigV4Verifier verifier(lookup);
  return verifier.verify(request, now);
}

// ---- Signer ----

std::vector<std::pair<std::string, std::string>> sign_sigv4(const SigningInput& input) {
  const std::string amz_date =
      format_amz_date(std::chrono::floor<std::chrono::seconds>(input.time));
  const std::string_view date = std::string_view(amz_date).substr(0, 8);

  struct Entry {
    std::string name;  // lowercase
    std::string_view value;
  };
  std::vector<Entry> entries;
  entries.reserve(input.headers.size() + 2);
  std::optional<std::string_view> given_payload_hash;
  for (const Header& header : input.headers) {
    std::string name(header.name);
    std::transform(name.begin(), name.end(), name.begin(), to_lower);
    if (name == "expect" || name == "user-agent" || name == "x-amzn-trace-id" ||
        name == "x-amz-date" || name == "authorization") {
      continue;
    }
    if (name == "x-amz-content-sha256" && !given_payload_hash) given_payload_hash = header.value;
    entries.push_back({std::move(name), header.value});
  }
  assert(std::any_of(entries.begin(), entries.end(),
                     [](const Entry& entry) { return entry.name == "host"; }));

  const std::string payload_hash =
      given_payload_hash ? std::string(trim(*given_payload_hash)) : to_hex(sha256(input.payload));
  entries.push_back({"x-amz-date", amz_date});
  if (!given_payload_hash) entries.push_back({"x-amz-content-sha256", payload_hash});
  // Stable, so repeated headers keep the order in which they will be sent.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.name < b.name; });

  std::string signed_headers;
  std::string canonical;
  const Target target = split_target(input.target);
  canonical += input.method;
  canonical += '\n';
  append_canonical_uri(canonical, target.path, input.service);
  canonical += '\n';
  append_canonical_query(canonical, target.query);
  canonical += '\n';
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const bool same_as_previous = i > 0 && entries[i].name == entries[i - 1].name;
    if (same_as_previous) {
      canonical += ',';
    } else {
      if (i > 0) canonical += '\n';
      canonical += entries[i].name;
      canonical += ':';
      if (!signed_headers.empty()) signed_headers += ';';
      signed_headers += entries[i].name;
    }
    append_trimmed(canonical, entries[i].value);
  }
  canonical += "\n\n";
  canonical += signed_headers;
  canonical += '\n';
  canonical += payload_hash;

  std::string scope;
  append_signing_scope(scope, date, input.region, input.service);
  std::string string_to_sign;
  build_string_to_sign(string_to_sign, amz_date, scope, canonical);
  const Sha256Digest key = derive_signing_key(input.secret, date, input.region, input.service);
  const std::string signature = to_hex(hmac_sha256(digest_view(key), string_to_sign));

  std::string authorization;
  authorization += kAlgorithm;
  authorization += " Credential=";
  authorization += input.access_key_id;
  authorization += '/';
  authorization += scope;
  authorization += ", SignedHeaders=";
  authorization += signed_headers;
  authorization += ", Signature=";
  authorization += signature;

  std::vector<std::pair<std::string, std::string>> result;
  result.emplace_back("X-Amz-Date", amz_date);
  if (!given_payload_hash) result.emplace_back("X-Amz-Content-SHA256", payload_hash);
  result.emplace_back("Authorization", std::move(authorization));
  return result;
}

std::string_view scope_service(std::string_view authorization) {
  if (!authorization.starts_with("AWS4-HMAC-SHA256")) return {};
  auto start = authorization.find("Credential=");
  if (start == std::string_view::npos) return {};
  std::string_view credential = authorization.substr(start + 11);
  credential = credential.substr(0, credential.find_first_of(", "));
  // AKID/date/region/service/aws4_request
  std::string_view parts[5];
  std::size_t count = 0;
  while (count < 5) {
    auto slash = credential.find('/');
    parts[count++] = credential.substr(0, slash);
    if (slash == std::string_view::npos) break;
    credential.remove_prefix(slash + 1);
  }
  if (count != 5 || parts[4] != "aws4_request" || credential != parts[4]) return {};
  return parts[3];
}

}  // namespace lambent::http
