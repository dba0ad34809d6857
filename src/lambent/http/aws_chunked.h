#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/http/sigv4.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The aws-chunked content coding that S3 clients use for streamed uploads
// (Content-Encoding: aws-chunked with x-amz-decoded-content-length), and the checksums S3
// accepts in x-amz-checksum-* headers and trailers.
namespace lambent::http {

// CRC32 (the zlib and Ethernet CRC), CRC32C and CRC-64/NVME are computed here, slicing by
// eight bytes over tables built at compile time. Where the CPU has them, CRC32 uses PCLMULQDQ
// folding and CRC32C the SSE4.2 crc32 instruction. The http layer links no zlib, and OpenSSL has
// no CRC. SHA-1 and SHA-256 come from OpenSSL.
enum class ChecksumAlgorithm { crc32, crc32c, crc64nvme, sha1, sha256 };

// Returns the algorithm of a lowercase header or trailer name, "x-amz-checksum-crc32c" for
// instance, or nullopt for any other name.
std::optional<ChecksumAlgorithm> checksum_algorithm(std::string_view lowercase_name);
// Returns the header name of an algorithm, "x-amz-checksum-crc32c" for instance.
std::string_view checksum_header(ChecksumAlgorithm algorithm);

// Continues a CRC over more data; `crc` is the value returned for the data before (0 to
// start), as zlib's crc32() takes it.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);
std::uint64_t crc64nvme(std::string_view data, std::uint64_t crc = 0);

// An incremental checksum. Not thread-safe.
class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm algorithm);
  ~Checksum();
  Checksum(Checksum&& other) noexcept;
  Checksum& operator=(Checksum&&) = delete;
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;

  ChecksumAlgorithm algorithm() const { return algorithm_; }
  void update(std::string_view data);
  // Returns the checksum of the data so far as raw bytes (a CRC in big-endian order) and starts
  // over. S3 headers carry the base64 of these bytes.
  std::string finish();

 private:
  ChecksumAlgorithm algorithm_;
  std::uint64_t crc_ = 0;
  void* digest_ = nullptr;  // EVP_MD_CTX* for SHA-1 and SHA-256, so no OpenSSL header here
};

// Decodes an aws-chunked body read from `inner` and presents the payload:
//   signed:   <hex size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//   unsigned: <hex size>\r\n<data>\r\n ... 0\r\n
// followed by optional trailer lines ("name:value\r\n", and x-amz-trailer-signature:<sig> when
// signed) and an empty line.
//
// With `signing`, every chunk signature, and the trailer signature when trailers come, is
// verified; without it (STREAMING-UNSIGNED-PAYLOAD-TRAILER) none is expected. A trailing
// x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1 or -sha256 is verified against the payload.
// `declared_trailer` is the request's x-amz-trailer header, empty when the request has none.
// Only that checksum is computed, and the trailer must carry it; a checksum trailer the header
// did not declare is rejected. A caller that leaves `declared_trailer` out gets every supported
// checksum computed, in case the trailer carries one, which costs about four times the CPU.
//
// Payload bytes are returned as they arrive, before their chunk's signature can be checked, and
// read() returns 0 only once every signature, checksum and length has been verified: a caller
// must discard what it read when a read fails. Failures are sticky:
//   Errc::unauthorized, type SignatureDoesNotMatch      a chunk or trailer signature is wrong
//   Errc::invalid_content, type IncompleteBody          the body ends early, or its payload length
//                                                       differs from decoded_length
//   Errc::invalid_content, type InvalidChunkSizeError   a signed chunk other than the last one
//                                                       is smaller than 8 KiB
//   Errc::invalid_content, type InvalidRequest          malformed framing or trailers
//   Errc::invalid_content, type BadDigest               a trailer checksum does not match
// and errors of `inner` pass through unchanged. `inner` must outlive the reader, which runs
// on the executor of the coroutine that awaits read().
class AwsChunkedReader final : public BodyReader {
 public:
  AwsChunkedReader(BodyReader& inner, std::optional<ChunkSigning> signing,
                   std::uint64_t decoded_length,
                   std::optional<std::string_view> declared_trailer = std::nullopt);
  ~AwsChunkedReader() override;

  Task<Result<std::size_t>> read(std::span<char> buffer) override;
  // Payload bytes returned so far.
  std::uint64_t consumed() const override { return consumed_; }
  // Trailer fields received after the last chunk, names lowercased, without the trailer
  // signature. Complete once read() has returned 0.
  const HeaderList& trailers() const { return trailers_; }

 private:
  enum class State { chunk_header, chunk_data, chunk_end, trailer, done };

  Task<Result<std::string_view>> read_line();
  Task<Result<std::size_t>> fill();
  Result<std::size_t> take_data(std::span<char> out, std::size_t count);
  std::optional<Error> start_chunk(std::string_view line);
  std::optional<Error> finish_chunk();
  std::optional<Error> add_trailer(std::string_view line);
  std::optional<Error> finish_trailers();
  Task<std::optional<Error>> expect_end_of_body();
  Error fail(Error error);

  BodyReader& inner_;
  std::optional<ChunkSigning> signing_;
  std::uint64_t decoded_length_;
  std::string declared_trailer_;
  std::vector<Checksum> checksums_;
  std::unique_ptr<Checksum> chunk_hash_;  // SHA-256 of the current chunk, when signed
  std::optional<Error> failure_;
  State state_ = State::chunk_header;
  std::uint64_t consumed_ = 0;
  std::uint64_t chunk_remaining_ = 0;
  std::optional<std::uint64_t> previous_chunk_size_;
  std::string previous_signature_;
  std::string chunk_signature_;
  std::string trailer_signature_;
  std::string canonical_trailers_;
  HeaderList trailers_;
  // Framing is read through this buffer. Payload bytes already in it are copied out, and the
  // rest of a chunk is read from `inner` straight into the caller's buffer.
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace lambent::http
