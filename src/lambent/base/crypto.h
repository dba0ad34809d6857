#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Digests and encodings used by request signing, code packages and log tails.
// All functions are thread-safe and allocate only their result.
namespace lambent {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// Incremental SHA-256 for data that arrives in pieces (files, streamed bodies).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  Sha256Digest finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of this header
};

Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

std::string to_hex(std::string_view bytes);
inline std::string to_hex(const Sha256Digest& digest) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string base64_encode(std::string_view bytes);
inline std::string base64_encode(const Sha256Digest& digest) {
  return base64_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// Decodes standard base64 with padding. Returns nullopt on any character outside the alphabet,
// a bad length or misplaced padding. ASCII whitespace is rejected, as AWS rejects it in blobs.
std::optional<std::string> base64_decode(std::string_view text);

// Random bytes from the OS CSPRNG, as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// A random version 4 UUID in its canonical 36-character form, as AWS request ids are.
std::string random_uuid();

}  // namespace lambent
