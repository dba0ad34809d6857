#pragma once

#include "lambent/base/result.h"

#include <memory>
#include <string>
#include <string_view>

// Message signatures (SignatureVersion 1: SHA1withRSA, base64) with a key pair the server
// creates in its data directory on first start, and the self-signed certificate subscribers
// fetch from the SigningCertURL to verify them.
namespace lambent::services::sns {

// The edge path that serves the certificate.
inline constexpr std::string_view kSigningCertPath = "/_lambent/sns/SimpleNotificationService.pem";

class Signer {
 public:
  // Loads signing-key.pem and signing-cert.pem from `dir`, or creates them (RSA 2048, the key
  // readable by the owner only). Blocking. Fails with Errc::io naming the file.
  static Result<std::unique_ptr<Signer>> load_or_create(const std::string& dir);
  ~Signer();

  // Signs `text` and returns the base64 signature, or an empty string when OpenSSL fails.
  std::string sign(std::string_view text) const;
  const std::string& certificate_pem() const { return certificate_pem_; }

 private:
  Signer(void* key, std::string certificate_pem)
      : key_(key), certificate_pem_(std::move(certificate_pem)) {}
  void* key_;  // EVP_PKEY*, opaque so OpenSSL headers stay out of this header
  std::string certificate_pem_;
};

}  // namespace lambent::services::sns
