#include "lambent/http/aws_chunked.h"

#include "lambent/base/crypto.h"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <exception>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace lambent::http {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// ---- AWS's published chunked upload ----
// The S3 API reference, "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks": 66560 bytes of 'a' in a 64 KiB chunk, a 1 KiB chunk and the
// empty final chunk.
constexpr std::string_view kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kExampleKeyId = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kExampleSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr std::string_view kExampleChunk1 =
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr std::string_view kExampleChunk2 =
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr std::string_view kExampleFinal =
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
constexpr std::uint64_t kExamplePayload = 66560;
const sys_seconds kExampleTime = sys_days{2013y / May / 24d};

std::string signed_chunk(std::string_view data, std::string_view signature) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + ";chunk-signature=" + std::string(signature) + "\r\n" +
         std::string(data) + "\r\n";
}

std::string example_body() {
  return signed_chunk(std::string(65536, 'a'), kExampleChunk1) +
         signed_chunk(std::string(1024, 'a'), kExampleChunk2) + signed_chunk("", kExampleFinal);
}

// Verifies the example's request head and returns what chunk verification needs.
ChunkSigning example_signing() {
  const std::string authorization =
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class,Signature=" +
      std::string(kExampleSeed);
  const std::vector<Header> headers = {
      {"Host", "s3.amazonaws.com"},
      {"x-amz-date", "20130524T000000Z"},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
      {"Authorization", authorization},
      {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", "66560"},
      {"Content-Length", "66824"},
  };
  SigV4Verifier verifier([](std::string_view id) -> std::optional<std::string> {
    if (id == kExampleKeyId) return std::string(kExampleSecret);
    return std::nullopt;
  });
  SignedRequestView view{"PUT", "/examplebucket/chunkObject.txt", headers, {}};
  auto identity = verifier.verify(view, kExampleTime);
  EXPECT_TRUE(identity.ok()) << identity.error().message;
  if (!identity || !identity->chunk_signing) return {};
  return *identity->chunk_signing;
}

// Signs chunks the way a client does, so tests can build other bodies; checked against the
// published example below.
class ChunkSigner {
 public:
  explicit ChunkSigner(ChunkSigning signing)
      : signing_(std::move(signing)), previous_(signing_.seed_signature) {}

  std::string sign(std::string_view algorithm, std::string_view hashes) {
    std::string string_to_sign = std::string(algorithm) + "\n" + signing_.amz_date + "\n" +
                                 signing_.scope + "\n" + previous_ + "\n" + std::string(hashes);
    std::string_view key(reinterpret_cast<const char*>(signing_.signing_key.data()),
                         signing_.signing_key.size());
    previous_ = to_hex(hmac_sha256(key, string_to_sign));
    return previous_;
  }
  std::string chunk(std::string_view data) {
    return signed_chunk(
        data, sign("AWS4-HMAC-SHA256-PAYLOAD", to_hex(sha256("")) + "\n" + to_hex(sha256(data))));
  }
  // The trailer lines and their signature, then the empty line that ends the body.
  std::string trailer(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string canonical;
    std::string wire;
    for (const auto& [name, value] : fields) {
      canonical += name + ":" + value + "\n";
      wire += name + ":" + value + "\r\n";
    }
    return wire + "x-amz-trailer-signature:" +
           sign("AWS4-HMAC-SHA256-TRAILER", to_hex(sha256(canonical))) + "\r\n\r\n";
  }

 private:
  ChunkSigning signing_;
  std::string previous_;
};

// Signs `chunks` in order (the signatures chain), ending with the empty final chunk and, when
// `trailer` is given, the trailer in place of the final CRLF.
std::string signed_body(
    ChunkSigner& signer, const std::vector<std::string>& chunks,
    std::optional<std::vector<std::pair<std::string, std::string>>> trailer = std::nullopt) {
  std::string body;
  for (const auto& chunk : chunks) body += signer.chunk(chunk);
  std::string last = signer.chunk("");
  if (!trailer) return body + last;
  body += last.substr(0, last.size() - 2);
  return body + signer.trailer(*trailer);
}

// A body reader that hands out at most `piece` bytes per read, as a slow network does, and can
// fail with `error` once its data is spent.
class PieceReader final : public BodyReader {
 public:
  PieceReader(std::string body, std::size_t piece, std::optional<Error> error = std::nullopt)
      : body_(std::move(body)), piece_(piece), error_(std::move(error)) {}
  Task<Result<std::size_t>> read(std::span<char> buffer) override {
    if (offset_ == body_.size() && error_) co_return *error_;
    std::size_t count = std::min({buffer.size(), piece_, body_.size() - offset_});
    std::copy_n(body_.data() + offset_, count, buffer.data());
    offset_ += count;
    co_return count;
  }
  std::uint64_t consumed() const override { return offset_; }

 private:
  std::string body_;
  std::size_t piece_;
  std::optional<Error> error_;
  std::size_t offset_ = 0;
};

struct Drained {
  std::string payload;
  std::optional<Error> error;
  bool error_repeats = false;  // a read after the failure returned the same error
};

// Reads `reader` to its end (or first error) with a buffer of `piece` bytes.
Drained drain(AwsChunkedReader& reader, std::size_t piece) {
  asio::io_context io;
  Drained out;
  auto run = [&]() -> Task<void> {
    std::vector<char> buffer(piece);
    for (;;) {
      auto count = co_await reader.read(buffer);
      if (!count) {
        out.error = count.error();
        auto again = co_await reader.read(buffer);
        out.error_repeats = !again && again.error().type == out.error->type &&
                            again.error().message == out.error->message;
        co_return;
      }
      if (*count == 0) co_return;
      out.payload.append(buffer.data(), *count);
    }
  };
  std::exception_ptr failure;
  asio::co_spawn(io, run(), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

Drained decode(std::string body, std::optional<ChunkSigning> signing, std::uint64_t length,
               std::optional<std::string_view> declared_trailer = std::nullopt,
               std::size_t piece = 65536, std::size_t inner_piece = 1 << 20) {
  PieceReader inner(std::move(body), inner_piece);
  AwsChunkedReader reader(inner, std::move(signing), length, declared_trailer);
  auto out = drain(reader, piece);
  if (!out.error) {
    EXPECT_EQ(reader.consumed(), out.payload.size());
  }
  return out;
}

void expect_failure(const Drained& out, Errc code, std::string_view type) {
  ASSERT_TRUE(out.error.has_value()) << "decoded " << out.payload.size() << " bytes";
  EXPECT_EQ(out.error->code, code) << out.error->message;
  EXPECT_EQ(out.error->type, type) << out.error->message;
  EXPECT_TRUE(out.error_repeats);
}

TEST(AwsChunked, VerifierReturnsTheExampleSeed) {
  ChunkSigning signing = example_signing();
  EXPECT_EQ(signing.seed_signature, kExampleSeed);
  EXPECT_EQ(signing.amz_date, "20130524T000000Z");
  EXPECT_EQ(signing.scope, "20130524/us-east-1/s3/aws4_request");
}

TEST(AwsChunked, TestSignerReproducesTheExampleSignatures) {
  ChunkSigner signer(example_signing());
  EXPECT_EQ(signer.chunk(std::string(65536, 'a')),
            signed_chunk(std::string(65536, 'a'), kExampleChunk1));
  EXPECT_EQ(signer.chunk(std::string(1024, 'a')),
            signed_chunk(std::string(1024, 'a'), kExampleChunk2));
  EXPECT_EQ(signer.chunk(""), signed_chunk("", kExampleFinal));
}

TEST(AwsChunked, DecodesTheAwsExample) {
  std::string body = example_body();
  ASSERT_EQ(body.size(), 66824u);  // the example's Content-Length
  PieceReader inner(body, 1 << 20);
  AwsChunkedReader reader(inner, example_signing(), kExamplePayload);
  auto out = drain(reader, 65536);
  ASSERT_FALSE(out.error.has_value()) << out.error->message;
  EXPECT_EQ(out.payload, std::string(kExamplePayload, 'a'));
  EXPECT_EQ(reader.consumed(), kExamplePayload);
  EXPECT_TRUE(reader.trailers().empty());
  EXPECT_EQ(inner.consumed(), body.size());
}

TEST(AwsChunked, OneByteReadsGiveTheSamePayload) {
  const std::string expected(kExamplePayload, 'a');
  for (auto [piece, inner_piece] :
       {std::pair<std::size_t, std::size_t>{1, 1 << 20}, {1 << 20, 1}, {1, 1}, {7, 13}}) {
    auto out = decode(example_body(), example_signing(), kExamplePayload, std::string_view(), piece,
                      inner_piece);
    ASSERT_FALSE(out.error.has_value())
        << piece << "/" << inner_piece << ": " << out.error->message;
    EXPECT_EQ(out.payload, expected) << piece << "/" << inner_piece;
  }
}

TEST(AwsChunked, TamperedChunkFailsItsSignature) {
  std::string body = example_body();
  body[body.find("\r\n") + 2 + 65536 + 2 + 88] = 'b';  // a byte of the 1 KiB chunk
  auto out = decode(body, example_signing(), kExamplePayload);
  expect_failure(out, Errc::unauthorized, "SignatureDoesNotMatch");
  // The first chunk was whole and correct; the failure came before the body's end.
  EXPECT_GE(out.payload.size(), 65536u);
  EXPECT_LT(out.payload.size(), kExamplePayload);
}

TEST(AwsChunked, WrongChunkSignatureFails) {
  std::string body = example_body();
  auto at = body.find(kExampleChunk2);
  body[at] = body[at] == '0' ? '1' : '0';
  expect_failure(decode(body, example_signing(), kExamplePayload), Errc::unauthorized,
                 "SignatureDoesNotMatch");
  // The final chunk's signature is verified as well.
  body = example_body();
  at = body.find(kExampleFinal);
  body[at] = body[at] == 'b' ? 'c' : 'b';
  expect_failure(decode(body, example_signing(), kExamplePayload), Errc::unauthorized,
                 "SignatureDoesNotMatch");
}

TEST(AwsChunked, SignedBodyWithoutChunkSignaturesFails) {
  expect_failure(decode("5\r\nhello\r\n0\r\n\r\n", example_signing(), 5), Errc::invalid_content,
                 "InvalidRequest");
}

TEST(AwsChunked, PayloadLengthMustMatchDecodedLength) {
  auto shorter = decode(example_body(), example_signing(), kExamplePayload - 1);
  expect_failure(shorter, Errc::invalid_content, "IncompleteBody");
  EXPECT_EQ(shorter.error->message,
            "The aws-chunked body carries more than the 66559 payload bytes "
            "x-amz-decoded-content-length declares.");
  auto longer = decode(example_body(), example_signing(), kExamplePayload + 1);
  expect_failure(longer, Errc::invalid_content, "IncompleteBody");
  EXPECT_EQ(longer.error->message,
            "The aws-chunked body carries 66560 payload bytes; x-amz-decoded-content-length "
            "declares 66561.");
}

TEST(AwsChunked, TruncatedBodyIsIncomplete) {
  const std::string body = example_body();
  for (std::size_t cut : {std::size_t{2}, std::size_t{40}, body.size() / 2, std::size_t{90}}) {
    auto out = decode(body.substr(0, body.size() - cut), example_signing(), kExamplePayload);
    expect_failure(out, Errc::invalid_content, "IncompleteBody");
  }
}

TEST(AwsChunked, SmallSignedChunkBeforeAnotherFails) {
  ChunkSigner signer(example_signing());
  std::string body = signed_body(signer, {std::string(8191, 'x'), "y"});
  auto out = decode(body, example_signing(), 8192);
  expect_failure(out, Errc::invalid_content, "InvalidChunkSizeError");

  // 8 KiB chunks are fine, and so is a small last data chunk.
  ChunkSigner fine(example_signing());
  body = signed_body(fine, {std::string(8192, 'x'), "y"});
  auto ok = decode(body, example_signing(), 8193);
  ASSERT_FALSE(ok.error.has_value()) << ok.error->message;
  EXPECT_EQ(ok.payload, std::string(8192, 'x') + "y");
}

TEST(AwsChunked, SignedTrailerWithChecksum) {
  const std::string payload = "hello world";
  ChunkSigner signer(example_signing());
  std::string body = signed_body(signer, {payload}, {{{"x-amz-checksum-crc32", "DUoRhQ=="}}});
  PieceReader inner(body, 1 << 20);
  AwsChunkedReader reader(inner, example_signing(), payload.size(), "x-amz-checksum-crc32");
  auto out = drain(reader, 4);
  ASSERT_FALSE(out.error.has_value()) << out.error->message;
  EXPECT_EQ(out.payload, payload);
  ASSERT_EQ(reader.trailers().size(), 1u);
  EXPECT_EQ(reader.trailers()[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(reader.trailers()[0].second, "DUoRhQ==");
}

TEST(AwsChunked, SignedTrailerWithWrongChecksumIsBadDigest) {
  ChunkSigner signer(example_signing());
  std::string body = signed_body(signer, {"hello world"}, {{{"x-amz-checksum-crc32", "AAAAAA=="}}});
  auto out = decode(body, example_signing(), 11, "x-amz-checksum-crc32");
  expect_failure(out, Errc::invalid_content, "BadDigest");
  EXPECT_EQ(out.error->message,
            "The x-amz-checksum-crc32 you specified, 'AAAAAA==', did not match the calculated "
            "checksum of the payload.");
}

TEST(AwsChunked, TrailerSignatureIsVerified) {
  ChunkSigner signer(example_signing());
  std::string body = signed_body(signer, {"hello world"}, {{{"x-amz-checksum-crc32", "DUoRhQ=="}}});
  std::string altered = body;
  altered.replace(altered.find("DUoRhQ=="), 8, "DUoRhA==");
  expect_failure(decode(altered, example_signing(), 11), Errc::unauthorized,
                 "SignatureDoesNotMatch");
  std::string unsigned_trailer = body.substr(0, body.find("x-amz-trailer-signature")) + "\r\n";
  expect_failure(decode(unsigned_trailer, example_signing(), 11), Errc::unauthorized,
                 "SignatureDoesNotMatch");
}

std::string unsigned_body(std::string_view payload, std::string_view trailer) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", payload.size());
  return std::string(size) + "\r\n" + std::string(payload) + "\r\n0\r\n" + std::string(trailer) +
         "\r\n";
}

TEST(AwsChunked, UnsignedTrailerChecksumsRightAndWrong) {
  // Values from Python's zlib and hashlib, and the published CRC32C and CRC-64/NVME check
  // values of "123456789".
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x-amz-checksum-crc32", "y/Q5Jg=="},
      {"x-amz-checksum-crc32c", "4waSgw=="},
      {"x-amz-checksum-crc64nvme", "rosUhgp5mIg="},
      {"x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE="},
      {"x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
  };
  for (const auto& [name, value] : cases) {
    for (std::optional<std::string_view> declared :
         {std::optional<std::string_view>(name), std::optional<std::string_view>()}) {
      auto right = decode(unsigned_body("123456789", name + ":" + value + "\r\n"), std::nullopt, 9,
                          declared, 3, 5);
      ASSERT_FALSE(right.error.has_value()) << name << ": " << right.error->message;
      EXPECT_EQ(right.payload, "123456789");
      std::string wrong_value = value;
      wrong_value[1] = wrong_value[1] == 'A' ? 'B' : 'A';
      auto wrong = decode(unsigned_body("123456789", name + ":" + wrong_value + "\r\n"),
                          std::nullopt, 9, declared);
      expect_failure(wrong, Errc::invalid_content, "BadDigest");
    }
  }
}

TEST(AwsChunked, UnsignedBodyAsBotocoreSendsIt) {
  auto out = decode("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", std::nullopt,
                    11, "x-amz-checksum-crc32");
  ASSERT_FALSE(out.error.has_value()) << out.error->message;
  EXPECT_EQ(out.payload, "hello world");
  auto empty =
      decode("0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", std::nullopt, 0, "x-amz-checksum-crc32");
  ASSERT_FALSE(empty.error.has_value()) << empty.error->message;
  EXPECT_EQ(empty.payload, "");
}

TEST(AwsChunked, DeclaredTrailerMustArriveAndBeSupported) {
  expect_failure(decode(unsigned_body("abc", ""), std::nullopt, 3, "x-amz-checksum-crc32"),
                 Errc::invalid_content, "InvalidRequest");
  expect_failure(
      decode(unsigned_body("abc", "x-amz-checksum-sha1:qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\r\n"),
             std::nullopt, 3, "x-amz-checksum-crc32"),
      Errc::invalid_content, "InvalidRequest");
  auto unsupported = decode(unsigned_body("abc", ""), std::nullopt, 3, "x-amz-meta-color");
  expect_failure(unsupported, Errc::invalid_content, "InvalidRequest");
  EXPECT_TRUE(unsupported.payload.empty());
}

TEST(AwsChunked, UndeclaredChecksumTrailerFails) {
  // An empty declared_trailer is a request without x-amz-trailer: no checksum may follow.
  auto undeclared = decode(unsigned_body("123456789", "x-amz-checksum-crc32:y/Q5Jg==\r\n"),
                           std::nullopt, 9, std::string_view());
  expect_failure(undeclared, Errc::invalid_content, "InvalidRequest");
  EXPECT_EQ(undeclared.error->message,
            "The trailer carries x-amz-checksum-crc32, but the request has no x-amz-trailer "
            "header declaring it.");
  auto plain = decode(unsigned_body("123456789", ""), std::nullopt, 9, std::string_view());
  ASSERT_FALSE(plain.error.has_value()) << plain.error->message;
  EXPECT_EQ(plain.payload, "123456789");
}

TEST(AwsChunked, MalformedFramingFails) {
  for (const char* body :
       {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\nextra",
        "5\r\nhello\r\n0\r\nnot a trailer\r\n\r\n", "\r\nhello\r\n0\r\n\r\n",
        "10000000000000000\r\n"}) {
    auto out = decode(body, std::nullopt, 5);
    expect_failure(out, Errc::invalid_content, "InvalidRequest");
  }
  std::string long_line(5000, '1');
  expect_failure(decode(long_line, std::nullopt, 5), Errc::invalid_content, "InvalidRequest");
}

TEST(AwsChunked, InnerErrorsPassThrough) {
  PieceReader inner("5\r\nhel", 1 << 20, make_error(Errc::too_large, "over the limit"));
  AwsChunkedReader reader(inner, std::nullopt, 5);
  auto out = drain(reader, 64);
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->code, Errc::too_large);
  EXPECT_EQ(out.error->message, "over the limit");
  EXPECT_EQ(out.payload, "hel");
}

// ---- CRCs ----

// Bit-at-a-time reflected CRC, the textbook form, to check the sliced and hardware versions.
template <typename T>
T reference_crc(std::string_view data, T polynomial) {
  T crc = ~T{0};
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ polynomial : crc >> 1;
  }
  return ~crc;
}

TEST(Crc, CheckValues) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc64nvme("123456789"), 0xAE8B14860A799888ull);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("hello world"), 0x0d4a1185u);  // Python's zlib.crc32
}

TEST(Crc, SlicedAndSplitMatchTheBitwiseForm) {
  std::mt19937_64 random(42);
  std::string data(5000, '\0');
  for (auto& c : data) c = static_cast<char>(random());
  for (std::size_t length :
       {1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 79, 80, 127, 128, 129, 191, 1000, 4096, 4999}) {
    for (std::size_t offset : {0, 1, 3}) {
      std::string_view slice = std::string_view(data).substr(offset, length);
      const std::size_t split = length / 3;
      EXPECT_EQ(crc32(slice), reference_crc<std::uint32_t>(slice, 0xEDB88320u)) << length;
      EXPECT_EQ(crc32c(slice), reference_crc<std::uint32_t>(slice, 0x82F63B78u)) << length;
      EXPECT_EQ(crc64nvme(slice), reference_crc<std::uint64_t>(slice, 0x9A6C9329AC4BC9B5ull))
          << length;
      EXPECT_EQ(crc32(slice.substr(split), crc32(slice.substr(0, split))), crc32(slice));
      EXPECT_EQ(crc32c(slice.substr(split), crc32c(slice.substr(0, split))), crc32c(slice));
      EXPECT_EQ(crc64nvme(slice.substr(split), crc64nvme(slice.substr(0, split))),
                crc64nvme(slice));
    }
  }
}

TEST(Crc, ChecksumFinishGivesBigEndianBytesAndStartsOver) {
  Checksum checksum(ChecksumAlgorithm::crc32);
  checksum.update("hello ");
  checksum.update("world");
  EXPECT_EQ(base64_encode(checksum.finish()), "DUoRhQ==");
  checksum.update("hello world");
  EXPECT_EQ(base64_encode(checksum.finish()), "DUoRhQ==");
  Checksum sha(ChecksumAlgorithm::sha256);
  EXPECT_EQ(base64_encode(sha.finish()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  sha.update("hello world");
  EXPECT_EQ(base64_encode(sha.finish()), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
  EXPECT_EQ(checksum_algorithm("x-amz-checksum-crc64nvme"), ChecksumAlgorithm::crc64nvme);
  EXPECT_EQ(checksum_algorithm("x-amz-checksum-md5"), std::nullopt);
  EXPECT_EQ(checksum_header(ChecksumAlgorithm::sha1), "x-amz-checksum-sha1");
}

}  // namespace
}  // namespace lambent::http
