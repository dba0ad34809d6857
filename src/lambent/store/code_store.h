#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "lambent/base/result.h"

namespace lambent::store {

// Lambda's limit on the sum of uncompressed entry sizes in a deployment package. AWS rejects a
// package whose unzipped size is equal to or greater than this value.
inline constexpr std::uint64_t kMaxUnzippedSize = 262144000;

// Identity of a stored code package, as Lambda reports it in CodeSha256 and CodeSize.
struct CodeInfo {
  std::string sha256_hex;     // lowercase hex SHA-256 of the zip bytes, the store key
  std::string sha256_base64;  // CodeSha256: base64 of the same digest
  std::uint64_t size = 0;     // CodeSize: zip length in bytes
};

struct CodeStoreOptions {
  // Packages whose unzipped size reaches this many bytes are rejected.
  std::uint64_t max_unzipped_size = kMaxUnzippedSize;
};

// Content-addressed store of function code packages (Lambda `Code.ZipFile` uploads).
//
// Layout under `root`: `zips/<hex>.zip` contains the uploaded bytes and `trees/<hex>/` the
// extracted tree that the sandbox mounts read-only as /var/task. Temporary files and
// directories are named `.tmp-*` in the same folders and are renamed into place only once
// complete and synced, so a reader never sees a partial zip or tree.
//
// Extracted trees contain only directories, regular files and symbolic links whose targets stay
// inside the tree. Directories get mode 0755. A file keeps the unix permission bits stored in
// the zip, or gets 0644 when the zip has none. Setuid, setgid, sticky, group write and other
// write bits are dropped. Every file is readable by all, and executable by all when the zip
// set any execute bit.
//
// Every method except tree_path() and zip_path() does blocking file I/O, so call them from a
// worker thread, never from the event loop. Methods are thread-safe, also across processes that
// share `root`, with two exceptions. The caller must not run remove() on a hash while put() or
// ensure_tree() runs on the same hash, and remove_temp_files() must run before any other call.
//
// Failures: a package that Lambda would reject returns Errc::invalid_parameter with the AWS
// message. File system failures return Errc::io naming the path and the OS error. A failed call
// leaves no partial zip or tree in place.
class CodeStore {
 public:
  // Creates `root`, `root/zips` and `root/trees` when missing. A failure to create them is
  // reported by the first put() or ensure_tree().
  explicit CodeStore(std::filesystem::path root, CodeStoreOptions options = {});

  // Validates `zip_bytes` as Lambda does, stores them, and extracts them into tree_path().
  // Rejections, all Errc::invalid_parameter:
  //  - "Could not unzip uploaded file. Please check your file, then try to upload again." for
  //    bytes that are not a complete zip archive, an encrypted entry, an unsupported compression
  //    method or a CRC error. The same message rejects an entry larger than its declared size,
  //    an absolute or `..` path, and conflicting entries (a file where a directory is needed).
  //    It also rejects a symbolic link whose target is absolute or resolves outside the tree.
  //  - "Unzipped size must be smaller than 262144000 bytes" when the declared or the actual
  //    unzipped size reaches max_unzipped_size. The message names the configured limit.
  // Storing bytes that are already stored returns the same CodeInfo without extracting again,
  // and concurrent puts of the same bytes all succeed with one stored copy.
  Result<CodeInfo> put(std::string_view zip_bytes);

  // Paths for a 64-character lowercase hex SHA-256. They need not exist.
  std::filesystem::path tree_path(std::string_view sha256_hex) const;
  std::filesystem::path zip_path(std::string_view sha256_hex) const;

  // True when both the zip and its extracted tree are present. When only the zip is,
  // ensure_tree() restores the tree. False for a string that is not a lowercase hex SHA-256.
  bool contains(std::string_view sha256_hex) const;

  // Extracts the tree again from the stored zip when the tree directory is missing. Before
  // extracting, it checks that the stored zip still has the SHA-256 it is named by.
  // Errors: Errc::invalid_parameter for a malformed hash, Errc::not_found when no zip is stored,
  // and Errc::io when the stored zip is unreadable or its digest does not match. It also returns
  // the rejections of put() for a zip that no longer passes them, as under a lower limit.
  Status ensure_tree(std::string_view sha256_hex);

  // Deletes the tree, then the zip, of a package no function references any more. Removing a
  // hash that is not stored succeeds. Errors: Errc::invalid_parameter for a malformed hash,
  // Errc::io when deletion fails.
  Status remove(std::string_view sha256_hex);

  // Deletes the `.tmp-*` entries that an interrupted put, ensure_tree or remove left behind.
  // Run it at startup, before any other call from any process that shares `root`.
  Status remove_temp_files();

  const std::filesystem::path& root() const { return root_; }

 private:
  Status create_directories() const;

  std::filesystem::path root_;
  std::filesystem::path zips_dir_;
  std::filesystem::path trees_dir_;
  CodeStoreOptions options_;
};

}  // namespace lambent::store
