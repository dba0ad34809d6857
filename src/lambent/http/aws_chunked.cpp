#include "lambent/http/aws_chunked.h"

#include "lambent/base/crypto.h"

#include <openssl/evp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>

#include <fmt/format.h>

namespace lambent::http {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the slicing CRC loads eight bytes as a little-endian word");

// ---- CRC tables ----

// Reflected CRC tables for slicing by eight: tables[0] is the classic byte table, and
// tables[k][b] is the CRC of byte b followed by k zero bytes.
template <typename T>
using CrcTables = std::array<std::array<T, 256>, 8>;

template <typename T, T kPolynomial>
constexpr CrcTables<T> make_crc_tables() {
  CrcTables<T> tables{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    T crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
    tables[0][byte] = crc;
  }
  for (unsigned byte = 0; byte < 256; ++byte) {
    for (std::size_t k = 1; k < 8; ++k) {
      T previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr auto kCrc32Tables = make_crc_tables<std::uint32_t, 0xEDB88320u>();
constexpr auto kCrc32cTables = make_crc_tables<std::uint32_t, 0x82F63B78u>();
constexpr auto kCrc64NvmeTables = make_crc_tables<std::uint64_t, 0x9A6C9329AC4BC9B5ull>();

// Runs the CRC register over `data`; the caller applies the initial and final inversion.
template <typename T>
T crc_update(const CrcTables<T>& t, T crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    if constexpr (sizeof(T) == 4) {
      const std::uint32_t low = static_cast<std::uint32_t>(word) ^ crc;
      const auto high = static_cast<std::uint32_t>(word >> 32);
      crc = t[7][low & 0xff] ^ t[6][(low >> 8) & 0xff] ^ t[5][(low >> 16) & 0xff] ^
            t[4][low >> 24] ^ t[3][high & 0xff] ^ t[2][(high >> 8) & 0xff] ^
            t[1][(high >> 16) & 0xff] ^ t[0][high >> 24];
    } else {
      const std::uint64_t x = word ^ crc;
      crc = t[7][x & 0xff] ^ t[6][(x >> 8) & 0xff] ^ t[5][(x >> 16) & 0xff] ^
            t[4][(x >> 24) & 0xff] ^ t[3][(x >> 32) & 0xff] ^ t[2][(x >> 40) & 0xff] ^
            t[1][(x >> 48) & 0xff] ^ t[0][x >> 56];
    }
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc,
                                                             std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint64_t wide = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    wide = __builtin_ia32_crc32di(wide, word);
    p += 8;
    n -= 8;
  }
  auto narrow = static_cast<std::uint32_t>(wide);
  while (n-- > 0) narrow = __builtin_ia32_crc32qi(narrow, *p++);
  return narrow;
}

// Each check runs the CPU detection first, because a CRC may be computed from a static
// initializer that runs before the detection's own initializer.
bool have_sse42() {
  static const bool supported = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  return supported;
}

// CRC32 by carry-less multiplication: four 128-bit lanes are folded forward 512 bits at a time,
// then into one lane. The folded lane is congruent to the data it replaced, so the table loop
// finishes the CRC over its 16 bytes and the tail. The constants are x^(512+32), x^(512-32),
// x^(128+32) and x^(128-32) modulo the CRC32 polynomial, in bit-reflected form. The tests check
// the result against a bitwise CRC.
__attribute__((target("pclmul,sse2"))) __m128i fold(__m128i lane, __m128i data, __m128i constants) {
  const __m128i low = _mm_clmulepi64_si128(lane, constants, 0x00);
  const __m128i high = _mm_clmulepi64_si128(lane, constants, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), data);
}

__attribute__((target("pclmul,sse2"))) std::uint32_t crc32_pclmul(std::uint32_t crc,
                                                                  std::string_view data) {
  if (data.size() < 64) return crc_update(kCrc32Tables, crc, data);
  const char* p = data.data();
  std::size_t n = data.size();
  auto load = [](const char* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); };
  __m128i lane0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i lane1 = load(p + 16);
  __m128i lane2 = load(p + 32);
  __m128i lane3 = load(p + 48);
  p += 64;
  n -= 64;
  const __m128i by512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  while (n >= 64) {
    lane0 = fold(lane0, load(p), by512);
    lane1 = fold(lane1, load(p + 16), by512);
    lane2 = fold(lane2, load(p + 32), by512);
    lane3 = fold(lane3, load(p + 48), by512);
    p += 64;
    n -= 64;
  }
  const __m128i by128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  lane0 = fold(lane0, lane1, by128);
  lane0 = fold(lane0, lane2, by128);
  lane0 = fold(lane0, lane3, by128);
  while (n >= 16) {
    lane0 = fold(lane0, load(p), by128);
    p += 16;
    n -= 16;
  }
  alignas(16) char folded[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(folded), lane0);
  const std::uint32_t reduced = crc_update(kCrc32Tables, 0u, std::string_view(folded, 16));
  return crc_update(kCrc32Tables, reduced, std::string_view(p, n));
}

bool have_pclmul() {
  static const bool supported = (__builtin_cpu_init(), __builtin_cpu_supports("pclmul"));
  return supported;
}
#endif

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (have_pclmul()) return crc32_pclmul(crc, data);
#endif
  return crc_update(kCrc32Tables, crc, data);
}

std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (have_sse42()) return crc32c_sse42(crc, data);
#endif
  return crc_update(kCrc32cTables, crc, data);
}

// ---- Framing ----

constexpr std::size_t kBufferBytes = 16 * 1024;
// Maximum length of a chunk header or trailer line, CRLF included.
constexpr std::size_t kMaxLineBytes = 4096;
constexpr std::size_t kMaxTrailers = 32;
// S3 rejects a signed chunk under 8 KiB unless it is the last one that carries data.
constexpr std::uint64_t kMinChunkBytes = 8192;
constexpr std::string_view kChunkSignaturePrefix = ";chunk-signature=";
constexpr std::string_view kTrailerSignatureName = "x-amz-trailer-signature";
constexpr std::string_view kEmptySha256Hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method.";

Error invalid(std::string_view type, std::string message) {
  return Error{Errc::invalid_content, std::move(message), std::string(type)};
}

Error signature_mismatch(std::string_view context) {
  return Error{Errc::unauthorized,
               std::string(kSignatureMismatch) + " (" + std::string(context) + ")",
               "SignatureDoesNotMatch"};
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_lower_hex_signature(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string signature_of(const ChunkSigning& signing, std::string_view algorithm,
                         std::string_view previous, std::string_view hashes) {
  std::string string_to_sign;
  string_to_sign.reserve(256);
  string_to_sign += algorithm;
  string_to_sign += '\n';
  string_to_sign += signing.amz_date;
  string_to_sign += '\n';
  string_to_sign += signing.scope;
  string_to_sign += '\n';
  string_to_sign += previous;
  string_to_sign += '\n';
  string_to_sign += hashes;
  const std::string_view key(reinterpret_cast<const char*>(signing.signing_key.data()),
                             signing.signing_key.size());
  return to_hex(hmac_sha256(key, string_to_sign));
}

constexpr std::array<ChecksumAlgorithm, 5> kAllAlgorithms = {
    ChecksumAlgorithm::crc32, ChecksumAlgorithm::crc32c, ChecksumAlgorithm::crc64nvme,
    ChecksumAlgorithm::sha1, ChecksumAlgorithm::sha256};

}  // namespace

// ---- Checksums ----

std::optional<ChecksumAlgorithm> checksum_algorithm(std::string_view lowercase_name) {
  for (ChecksumAlgorithm algorithm : kAllAlgorithms) {
    if (checksum_header(algorithm) == lowercase_name) return algorithm;
  }
  return std::nullopt;
}

std::string_view checksum_header(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::crc32:
      return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::crc32c:
      return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::crc64nvme:
      return "x-amz-checksum-crc64nvme";
    case ChecksumAlgorithm::sha1:
      return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::sha256:
      return "x-amz-checksum-sha256";
  }
  return {};
}

std::uint32_t crc32(std::string_view data, std::uint32_t crc) { return ~crc32_update(~crc, data); }

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  return ~crc32c_update(~crc, data);
}

std::uint64_t crc64nvme(std::string_view data, std::uint64_t crc) {
  return ~crc_update(kCrc64NvmeTables, ~crc, data);
}

Checksum::Checksum(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {
  if (algorithm == ChecksumAlgorithm::sha1 || algorithm == ChecksumAlgorithm::sha256) {
    auto* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, algorithm == ChecksumAlgorithm::sha1 ? EVP_sha1() : EVP_sha256(),
                      nullptr);
    digest_ = ctx;
  }
}

Checksum::~Checksum() {
  if (digest_ != nullptr) EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(digest_));
}

Checksum::Checksum(Checksum&& other) noexcept
    : algorithm_(other.algorithm_),
      crc_(other.crc_),
      digest_(std::exchange(other.digest_, nullptr)) {}

void Checksum::update(std::string_view data) {
  switch (algorithm_) {
    case ChecksumAlgorithm::crc32:
      crc_ = crc32(data, static_cast<std::uint32_t>(crc_));
      break;
    case ChecksumAlgorithm::crc32c:
      crc_ = crc32c(data, static_cast<std::uint32_t>(crc_));
      break;
    case ChecksumAlgorithm::crc64nvme:
      crc_ = crc64nvme(data, crc_);
      break;
    case ChecksumAlgorithm::sha1:
    case ChecksumAlgorithm::sha256:
      EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(digest_), data.data(), data.size());
      break;
  }
}

std::string Checksum::finish() {
  std::string out;
  if (digest_ != nullptr) {
    auto* ctx = static_cast<EVP_MD_CTX*>(digest_);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx, digest, &length);
    out.assign(reinterpret_cast<const char*>(digest), length);
    EVP_DigestInit_ex(ctx, nullptr, nullptr);
    return out;
  }
  const std::size_t bytes = algorithm_ == ChecksumAlgorithm::crc64nvme ? 8 : 4;
  for (std::size_t i = bytes; i-- > 0;) out += static_cast<char>((crc_ >> (8 * i)) & 0xff);
  crc_ = 0;
  return out;
}

// ---- AwsChunkedReader ----

AwsChunkedReader::AwsChunkedReader(BodyReader& inner, std::optional<ChunkSigning> signing,
                                   std::uint64_t decoded_length,
                                   std::optional<std::string_view> declared_trailer)
    : inner_(inner),
      signing_(std::move(signing)),
      decoded_length_(decoded_length),
      buffer_(kBufferBytes) {
  if (signing_) {
    previous_signature_ = signing_->seed_signature;
    chunk_hash_ = std::make_unique<Checksum>(ChecksumAlgorithm::sha256);
  }
  if (!declared_trailer) {
    for (ChecksumAlgorithm algorithm : kAllAlgorithms) checksums_.emplace_back(algorithm);
    return;
  }
  declared_trailer_.assign(trim(*declared_trailer));
  for (auto& c : declared_trailer_) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (declared_trailer_.empty()) return;
  if (auto algorithm = checksum_algorithm(declared_trailer_)) {
    checksums_.emplace_back(*algorithm);
  } else {
    failure_ = invalid("InvalidRequest",
                       fmt::format("The x-amz-trailer header '{}' names no supported checksum; "
                                   "use x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1 or "
                                   "-sha256.",
                                   declared_trailer_));
  }
}

AwsChunkedReader::~AwsChunkedReader() = default;

Error AwsChunkedReader::fail(Error error) {
  failure_ = error;
  return error;
}

// g++ 12 reports a false -Wmismatched-new-delete on this coroutine's frame, because it pairs the
// ::operator new inside asio's frame allocator with the frame's class operator delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
Task<Result<std::size_t>> AwsChunkedReader::read(std::span<char> out) {
  if (failure_) co_return *failure_;
  if (out.empty()) co_return std::size_t{0};
  for (;;) {
    switch (state_) {
      case State::chunk_header: {
        auto line = co_await read_line();
        if (!line) co_return fail(std::move(line).error());
        auto error = start_chunk(*line);
        if (error) co_return fail(std::move(*error));
        break;
      }
      case State::chunk_data: {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), chunk_remaining_));
        std::size_t count = std::min(want, end_ - begin_);
        if (count > 0) {
          std::memcpy(out.data(), buffer_.data() + begin_, count);
          begin_ += count;
        } else {
          auto got = co_await inner_.read(out.first(want));
          if (!got) co_return fail(std::move(got).error());
          if (*got == 0) {
            co_return fail(invalid("IncompleteBody",
                                   fmt::format("The aws-chunked body ended inside a chunk, after "
                                               "{} payload bytes.",
                                               consumed_)));
          }
          count = *got;
        }
        auto taken = take_data(out, count);
        if (!taken) co_return fail(std::move(taken).error());
        co_return *taken;
      }
      case State::chunk_end: {
        auto line = co_await read_line();
        if (!line) co_return fail(std::move(line).error());
        if (!line->empty()) {
          co_return fail(
              invalid("InvalidRequest", "An aws-chunked chunk's data is not followed by CRLF."));
        }
        state_ = State::chunk_header;
        break;
      }
      case State::trailer: {
        auto line = co_await read_line();
        if (!line) co_return fail(std::move(line).error());
        if (line->empty()) {
          auto error = finish_trailers();
          if (error) co_return fail(std::move(*error));
          auto end = co_await expect_end_of_body();
          if (end) co_return fail(std::move(*end));
          state_ = State::done;
          co_return std::size_t{0};
        }
        auto error = add_trailer(*line);
        if (error) co_return fail(std::move(*error));
        break;
      }
      case State::done:
        co_return std::size_t{0};
    }
  }
}
#pragma GCC diagnostic pop

Result<std::size_t> AwsChunkedReader::take_data(std::span<char> out, std::size_t count) {
  const std::string_view data(out.data(), count);
  if (chunk_hash_) chunk_hash_->update(data);
  for (auto& checksum : checksums_) checksum.update(data);
  chunk_remaining_ -= count;
  consumed_ += count;
  if (chunk_remaining_ == 0) {
    if (auto error = finish_chunk()) return std::move(*error);
    state_ = State::chunk_end;
  }
  return count;
}

// Reads up to the next LF and returns the line without its line ending (CRLF, or LF alone).
// The view stays valid until the buffer is next filled.
Task<Result<std::string_view>> AwsChunkedReader::read_line() {
  std::size_t searched = begin_;
  for (;;) {
    const char* start = buffer_.data() + searched;
    const void* found = std::memchr(start, '\n', end_ - searched);
    if (found != nullptr) {
      const auto at = static_cast<std::size_t>(static_cast<const char*>(found) - buffer_.data());
      std::string_view line(buffer_.data() + begin_, at - begin_);
      begin_ = at + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      co_return line;
    }
    if (end_ - begin_ >= kMaxLineBytes) {
      co_return invalid("InvalidRequest",
                        fmt::format("An aws-chunked header or trailer line is longer than {} "
                                    "bytes.",
                                    kMaxLineBytes));
    }
    searched = end_;
    const std::size_t kept_from = begin_;
    auto got = co_await fill();
    if (!got) co_return std::move(got).error();
    if (*got == 0) {
      co_return invalid("IncompleteBody",
                        fmt::format("The aws-chunked body ended before its final chunk, after {} "
                                    "payload bytes.",
                                    consumed_));
    }
    searched -= kept_from - begin_;
  }
}

// Reads more of `inner` into the buffer, moving unread bytes to its start first.
Task<Result<std::size_t>> AwsChunkedReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  auto got = co_await inner_.read(std::span<char>(buffer_).subspan(end_));
  if (got) end_ += *got;
  co_return got;
}

std::optional<Error> AwsChunkedReader::start_chunk(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  std::string_view extension = line.substr(size_text.size());
  if (size_text.empty() || size_text.size() > 16) {
    return invalid("InvalidRequest", fmt::format("'{}' is not a valid aws-chunked chunk header.",
                                                 line.substr(0, 80)));
  }

  std::uint64_t size = 0;
  for (char c : size_text) {
    int digit = hex_digit(c);
    if (digit < 0) {
      return invalid("InvalidRequest",
                     fmt::format("'{}' is not a valid aws-chunked chunk size.", size_text));
    }
    size = size * 16 + static_cast<unsigned>(digit);
  }

  if (signing_) {
    if (!extension.starts_with(kChunkSignaturePrefix) ||
        !is_lower_hex_signature(extension.substr(kChunkSignaturePrefix.size()))) {
      return invalid("InvalidRequest",
                     fmt::format("The aws-chunked chunk header '{}' has no chunk-signature of 64 "
                                 "lowercase hex digits.",
                                 line.substr(0, 160)));
    }
    chunk_signature_.assign(extension.substr(kChunkSignaturePrefix.size()));
    if (size > 0 && previous_chunk_size_ && *previous_chunk_size_ < kMinChunkBytes) {
      return invalid("InvalidChunkSizeError",
                     "Only the last chunk is allowed to have a size less than 8192 bytes");
    }
  }
  if (size > decoded_length_ - consumed_) {
    return invalid("IncompleteBody",
                   fmt::format("The aws-chunked body carries more than the {} payload bytes "
                               "x-amz-decoded-content-length declares.",
                               decoded_length_));
  }

  chunk_remaining_ = size;
  if (size > 0) {
    previous_chunk_size_ = size;
    state_ = State::chunk_data;
    return std::nullopt;
  }

  // The empty final chunk carries a signature too, and ends the payload.
  if (signing_) {
    if (auto error = finish_chunk()) return error;
  }
  if (consumed_ != decoded_length_) {
    return invalid("IncompleteBody", fmt::format("The aws-chunked body carries {} payload bytes; "
                                                 "x-amz-decoded-content-length declares {}.",
                                                 consumed_, decoded_length_));
  }
  state_ = State::trailer;
  return std::nullopt;
}

std::optional<Error> AwsChunkedReader::finish_chunk() {
  if (!signing_) return std::nullopt;
  std::string hashes(kEmptySha256Hex);
  hashes += '\n';
  hashes += to_hex(chunk_hash_->finish());
  const std::string expected =
      signature_of(*signing_, "AWS4-HMAC-SHA256-PAYLOAD", previous_signature_, hashes);
  if (!constant_time_equals(expected, chunk_signature_)) {
    return signature_mismatch(fmt::format("chunk signature after {} payload bytes", consumed_));
  }
  previous_signature_ = chunk_signature_;
  return std::nullopt;
}

std::optional<Error> AwsChunkedReader::add_trailer(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalid("InvalidRequest", fmt::format("'{}' is not a valid aws-chunked trailer line.",
                                                 line.substr(0, 80)));
  }
  std::string name(trim(line.substr(0, colon)));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string_view value = trim(line.substr(colon + 1));
  if (name == kTrailerSignatureName) {
    trailer_signature_.assign(value);
    return std::nullopt;
  }
  if (trailers_.size() == kMaxTrailers) {
    return invalid("InvalidRequest",
                   fmt::format("An aws-chunked body has more than {} trailers.", kMaxTrailers));
  }
  canonical_trailers_ += name;
  canonical_trailers_ += ':';
  canonical_trailers_ += value;
  canonical_trailers_ += '\n';
  trailers_.emplace_back(std::move(name), std::string(value));
  return std::nullopt;
}

std::optional<Error> AwsChunkedReader::finish_trailers() {
  if (signing_ && (!trailers_.empty() || !trailer_signature_.empty())) {
    if (trailer_signature_.empty()) {
      return signature_mismatch("the trailer has no x-amz-trailer-signature");
    }
    const std::string expected =
        signature_of(*signing_, "AWS4-HMAC-SHA256-TRAILER", previous_signature_,
                     to_hex(sha256(canonical_trailers_)));
    if (!constant_time_equals(expected, trailer_signature_)) {
      return signature_mismatch("trailer signature");
    }
  }
  bool declared_seen = false;
  for (const auto& [name, value] : trailers_) {
    auto algorithm = checksum_algorithm(name);
    if (!algorithm) continue;
    auto checksum = std::find_if(checksums_.begin(), checksums_.end(),
                                 [&](const Checksum& c) { return c.algorithm() == *algorithm; });
    if (checksum == checksums_.end()) {
      return invalid("InvalidRequest",
                     declared_trailer_.empty()
                         ? fmt::format("The trailer carries {}, but the request has no "
                                       "x-amz-trailer header declaring it.",
                                       name)
                         : fmt::format("The trailer carries {}, but x-amz-trailer declared {}.",
                                       name, declared_trailer_));
    }
    const std::string computed = base64_encode(checksum->finish());
    if (computed != value) {
      return invalid("BadDigest",
                     fmt::format("The {} you specified, '{}', did not match the calculated "
                                 "checksum of the payload.",
                                 name, value));
    }
    declared_seen = declared_seen || name == declared_trailer_;
  }
  if (!declared_trailer_.empty() && !declared_seen) {
    return invalid("InvalidRequest",
                   fmt::format("x-amz-trailer declared {}, but the body's trailer does not carry "
                               "it.",
                               declared_trailer_));
  }
  return std::nullopt;
}

// The empty line that ends the trailers must end the body as well. Reading `inner` to its end
// also lets the HTTP server see the whole request, so it can keep the connection open.
Task<std::optional<Error>> AwsChunkedReader::expect_end_of_body() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    auto got = co_await inner_.read(buffer_);
    if (!got) co_return std::move(got).error();
    end_ = *got;
  }
  if (begin_ != end_) {
    co_return invalid("InvalidRequest", "The aws-chunked body continues after its trailer.");
  }
  co_return std::nullopt;
}

}  // namespace lambent::http
