#include "lambent/services/sns/signer.h"

#include "lambent/base/crypto.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lambent::services::sns {

namespace fs = std::filesystem;

namespace {

Error io_error(const fs::path& path, std::string_view what) {
  return make_error(Errc::io, fmt::format("{} {}", what, path.string()));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

Status write_file(const fs::path& path, const std::string& text, mode_t mode) {
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return io_error(temporary, "cannot write");
    out << text;
    if (!out.flush()) return io_error(temporary, "cannot write");
  }
  ::chmod(temporary.c_str(), mode);
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) return io_error(path, "cannot rename to");
  return ok_status();
}

// PEM text of a private key or certificate, written through a memory BIO.
template <typename Write>
std::string to_pem(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio && write(bio) == 1) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<std::size_t>(size));
  }
  BIO_free(bio);
  return out;
}

std::string self_signed_certificate(EVP_PKEY* key) {
  X509* cert = X509_new();
  if (!cert) return {};
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sns.lambent.local"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  std::string pem;
  if (X509_sign(cert, key, EVP_sha256()) > 0) {
    pem = to_pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  }
  X509_free(cert);
  return pem;
}

}  // namespace

Result<std::unique_ptr<Signer>> Signer::load_or_create(const std::string& dir) {
  fs::path key_path = fs::path(dir) / "signing-key.pem";
  fs::path cert_path = fs::path(dir) / "signing-cert.pem";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(dir, "cannot create");
  EVP_PKEY* key = nullptr;
  std::string certificate;
  if (fs::exists(key_path) && fs::exists(cert_path)) {
    std::string text = read_file(key_path);
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!key) return io_error(key_path, "cannot read the private key in");
    certificate = read_file(cert_path);
  } else {
    key = EVP_RSA_gen(2048);
    if (!key) return make_error(Errc::internal, "cannot generate an RSA key");
    std::string key_pem = to_pem([key](BIO* bio) {
      return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
    certificate = self_signed_certificate(key);
    if (key_pem.empty() || certificate.empty()) {
      EVP_PKEY_free(key);
      return make_error(Errc::internal, "cannot encode the signing key");
    }
    if (auto written = write_file(key_path, key_pem, 0600); !written) {
      EVP_PKEY_free(key);
      return written.error();
    }
    if (auto written = write_file(cert_path, certificate, 0644); !written) {
      EVP_PKEY_free(key);
      return written.error();
    }
  }
  return std::unique_ptr<Signer>(new Signer(key, std::move(certificate)));
}

Signer::~Signer() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

std::string Signer::sign(std::string_view text) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return {};
  std::string signature;
  std::size_t size = 0;
  auto* key = static_cast<EVP_PKEY*>(key_);
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha1(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) == 1) {
    signature.resize(size);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1) {
      signature.resize(size);
    } else {
      signature.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  return signature.empty() ? std::string() : base64_encode(signature);
}

}  // namespace lambent::services::sns
