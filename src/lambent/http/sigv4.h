#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lambent/base/crypto.h"
#include "lambent/base/result.h"

// AWS Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header form: verification
// for the server and signing for the CLI, tests and benchmarks. The canonical request follows
// botocore's SigV4Auth (botocore 1.29): for every service except s3 the received path is
// normalized and URI-encoded once more, and for s3 it is used as sent.
namespace lambent::http {

// A request header as received, in any letter case.
struct Header {
  std::string_view name;
  std::string_view value;
};

// A received request, viewed without copying. Every view must outlive the verify call.
struct SignedRequestView {
  std::string_view method;  // "POST"
  // Raw request-target as received, path and query still percent-encoded:
  // "/2015-03-31/functions/my%3Afn/invocations?Qualifier=1".
  std::string_view target;
  std::span<const Header> headers;
  // Lowercase hex SHA-256 of the body. The canonical request uses it when the request has no
  // x-amz-content-sha256 header. When the header carries a hex digest, the two must match.
  // When this is empty, a hex x-amz-content-sha256 is not compared, so the caller must check
  // the body against it.
  std::string_view payload_sha256_hex;
};

// The signing context for verifying aws-chunked chunk signatures, taken from the request's
// verified seed signature (see AwsChunkedReader).
struct ChunkSigning {
  Sha256Digest signing_key;
  std::string amz_date;        // X-Amz-Date of the request, "20130524T000000Z"
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string seed_signature;  // the Authorization header's signature, lowercase hex
};

// x-amz-content-sha256 values that stand for a body other than its hex digest.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingSignedPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedPayloadTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedPayloadTrailer =
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

// The signer of a verified request and the credential scope of its signature.
struct Identity {
  std::string access_key_id;
  std::string region;
  std::string service;
  // Set when x-amz-content-sha256 is STREAMING-AWS4-HMAC-SHA256-PAYLOAD or its -TRAILER form:
  // the body is aws-chunked and every chunk carries a signature chained from the seed.
  std::optional<ChunkSigning> chunk_signing;
};

// Returns the secret access key for an access key id, or nullopt when the key is unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Requests whose time is further than this from the server clock, either way, are rejected,
// as AWS does.
inline constexpr std::chrono::minutes kMaxClockSkew{15};

// Credential scope a verifier accepts. An empty field accepts any value, which suits an endpoint
// that serves every region and service on one port.
struct ScopeRequirements {
  std::string region;
  std::string service;
};

// Verifies SigV4 Authorization headers against secrets from a SecretLookup and caches the
// derived signing keys.
//
// Thread-confined: one instance belongs to one thread (or one strand), because verify() reuses
// member buffers and the key cache without locking. Create one verifier per thread.
//
// Every failure is an Error with code Errc::unauthorized and the AWS error type in Error::type:
//   MissingAuthenticationTokenException  no Authorization header
//   IncompleteSignatureException         malformed Authorization header, bad date, bad credential
//                                        form, or query-string (presigned) authentication
//   InvalidSignatureException            wrong signature, expired or future time, scope mismatch
//   UnrecognizedClientException          unknown access key id
// except for two s3 cases, both HTTP 400 in S3. An x-amz-content-sha256 that differs from the
// body digest gets Errc::invalid_content with type XAmzContentSHA256Mismatch. One that is neither
// a hex SHA-256 nor UNSIGNED-PAYLOAD or one of the three STREAMING forms above gets
// Errc::invalid_parameter with type InvalidArgument.
//
// For the two signed STREAMING forms, verify() checks the seed signature in the Authorization
// header and returns Identity::chunk_signing. The caller then verifies the chunks by reading the
// body through an AwsChunkedReader.
class SigV4Verifier {
 public:
  // `lookup` must be set. It is called on the verifying thread.
  explicit SigV4Verifier(SecretLookup lookup, ScopeRequirements scope = {});

  SigV4Verifier(const SigV4Verifier&) = delete;
  SigV4Verifier& operator=(const SigV4Verifier&) = delete;

  // Checks the request's signature at server time `now`. Calls the lookup once per request
  // that gets as far as the key check.
  Result<Identity> verify(const SignedRequestView& request,
                          std::chrono::system_clock::time_point now);

 private:
  struct CachedKey {
    std::string secret;
    std::string date;  // YYYYMMDD
    std::string region;
    std::string service;
    Sha256Digest key{};
  };
  static constexpr std::size_t kCacheSize = 8;

  const Sha256Digest& signing_key(const std::string& secret, std::string_view date,
                                  std::string_view region, std::string_view service);

  SecretLookup lookup_;
  ScopeRequirements scope_;
  std::array<CachedKey, kCacheSize> cache_;
  std::size_t cache_used_ = 0;
  std::size_t cache_next_ = 0;  // round-robin slot to replace when the cache is full
  // Buffers reused across calls so a verification allocates little.
  std::string canonical_request_;
  std::string string_to_sign_;
  std::string query_scratch_;
  std::vector<std::pair<std::string_view, std::string_view>> query_params_;
};

// Verifies one request without keeping a key cache. Use a SigV4Verifier on hot paths.
Result<Identity> verify_sigv4(const SignedRequestView& request, const SecretLookup& lookup,
                              std::chrono::system_clock::time_point now);

// Input for sign_sigv4. Views only: every field must outlive the call.
struct SigningInput {
  std::string_view method;
  // Path and query exactly as they will be sent, already URI-encoded ("/a%3Ab?x=1").
  std::string_view target;
  // Headers to sign, which must include host. Expect, User-Agent and X-Amzn-Trace-Id are left
  // unsigned as botocore does, and X-Amz-Date and Authorization are replaced by the result.
  // An X-Amz-Content-Sha256 header here (such as UNSIGNED-PAYLOAD) is signed as the payload
  // hash in place of the digest of `payload`.
  std::span<const Header> headers;
  std::string_view payload;
  std::string_view access_key_id;
  std::string_view secret;
  std::string_view region;
  std::string_view service;
  std::chrono::system_clock::time_point time;
};

// Signs a request and returns the headers to add to it, in this order: X-Amz-Date,
// X-Amz-Content-SHA256 (left out when the input headers already carry one) and Authorization.
std::vector<std::pair<std::string, std::string>> sign_sigv4(const SigningInput& input);

// Canonical forms, exposed for tests and for code that signs other shapes of request.

// Appends the canonical URI of a percent-encoded path. Services other than s3 get RFC 3986 dot
// segments removed, repeated slashes collapsed and every byte outside A-Z a-z 0-9 - _ . ~ /
// percent-encoded (so "%3A" becomes "%253A"). For s3 the path is kept as sent, and only bytes
// that may not appear raw in a URI are encoded. An empty path becomes "/".
void append_canonical_uri(std::string& out, std::string_view path, std::string_view service);

// Appends the canonical query string: parameters split on '&' (a missing '=' means an empty
// value), each name and value percent-decoded and re-encoded with the RFC 3986 unreserved set,
// sorted by name and then value, and joined with '&'.
void append_canonical_query(std::string& out, std::string_view query);

// Parses an X-Amz-Date value in ISO 8601 basic format, "20150830T123600Z".
std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view text);

// Parses an HTTP Date value in any of the three forms RFC 7231 requires recipients to accept
// (IMF-fixdate, RFC 850, asctime). Numeric zones such as "-0000", which botocore writes, are
// accepted too.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// Returns the service of the credential scope in an AWS4-HMAC-SHA256 Authorization header
// ("s3" for "Credential=AKID/20150830/us-east-1/s3/aws4_request, ..."), or an empty view when
// the header has no well-formed credential. Nothing is verified: it picks a route.
std::string_view scope_service(std::string_view authorization);

// Formats a time in ISO 8601 basic format, "20150830T123600Z".
std::string format_amz_date(std::chrono::sys_seconds time);

}  // namespace lambent::http
