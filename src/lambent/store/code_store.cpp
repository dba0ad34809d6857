#include "lambent/store/code_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lambent/base/crypto.h"

namespace lambent::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInvalidZipMessage =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";
constexpr std::size_t kChunkSize = 64 * 1024;
// Linux PATH_MAX (4096) minus the terminating NUL: symlink(2) rejects longer targets.
constexpr std::uint64_t kMaxSymlinkTarget = 4095;
constexpr std::string_view kTempPrefix = ".tmp-";

Error invalid_zip() { return make_error(Errc::invalid_parameter, std::string(kInvalidZipMessage)); }

Error unzipped_too_large(std::uint64_t limit) {
  return make_error(Errc::invalid_parameter,
                    "Unzipped size must be smaller than " + std::to_string(limit) + " bytes");
}

Error io_error(std::string_view action, const fs::path& path, int err) {
  return make_error(Errc::io, std::string(action) + " " + path.string() + ": " +
                                  std::system_category().message(err));
}

// errno values that an archive's own entries cause when extracted into a fresh directory: a name
// used both as a file and as a directory, a duplicate symbolic link, a name longer than NAME_MAX.
bool is_entry_conflict(int err) {
  return err == EEXIST || err == EISDIR || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG ||
         err == ENOTEMPTY;
}

Error create_error(const fs::path& path, int err) {
  return is_entry_conflict(err) ? invalid_zip() : io_error("Failed to create", path, err);
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Error malformed_hash(std::string_view text) {
  return make_error(Errc::invalid_parameter, "Invalid code package hash '" + std::string(text) +
                                                 "': expected 64 lowercase hexadecimal digits");
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor and returns the errno of close(2), or 0.
  int close() {
    const int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Returns 0 or the errno of the failed write(2).
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

// Makes a completed rename or unlink in `dir` durable.
Status sync_directory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return io_error("Failed to open", dir, errno);
  if (::fsync(fd.get()) != 0) return io_error("Failed to sync", dir, errno);
  return ok_status();
}

struct ArchiveDiscarder {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ArchivePtr = std::unique_ptr<zip_t, ArchiveDiscarder>;

struct EntryCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using EntryPtr = std::unique_ptr<zip_file_t, EntryCloser>;

// ---- Reading the archive -------------------------------------------------------------------

enum class EntryKind { directory, file, symlink };

struct Entry {
  zip_uint64_t index = 0;
  EntryKind kind = EntryKind::file;
  std::vector<std::string> components;  // relative path without empty, "." or ".." parts
  mode_t mode = 0;                      // final permission bits of a file
  std::uint64_t size = 0;               // uncompressed size from the central directory
  std::optional<time_t> mtime;
};

// Splits a path at '/' and drops empty and "." components. Returns nullopt for an absolute path
// or one with a ".." component, which could name something outside the extraction directory.
std::optional<std::vector<std::string>> split_relative_path(std::string_view name) {
  if (name.empty() || name.front() == '/') return std::nullopt;
  std::vector<std::string> components;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    if (part == "..") return std::nullopt;
    if (!part.empty() && part != ".") components.emplace_back(part);
    start = end + 1;
  }
  return components;
}

fs::path join(const fs::path& base, const std::vector<std::string>& components) {
  fs::path path = base;
  for (const auto& component : components) path /= component;
  return path;
}

// Permission bits for an extracted file from the mode stored in the zip (0 when it has none).
mode_t file_permissions(mode_t stored) {
  mode_t mode = (stored & 07777) == 0 ? 0644 : (stored & 0755);
  mode |= 0444;
  if ((mode & 0111) != 0) mode |= 0555;
  return mode;
}

// Lists the archive's entries, rejecting unsafe names and a declared unzipped size at or over
// `limit` before anything is written.
Result<std::vector<Entry>> plan_entries(zip_t* archive, std::uint64_t limit) {
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  if (count < 0) return invalid_zip();

  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(count));
  std::uint64_t declared_total = 0;
  for (zip_uint64_t index = 0; index < static_cast<zip_uint64_t>(count); ++index) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    constexpr zip_uint64_t kRequired =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
    if (zip_stat_index(archive, index, 0, &stat) != 0) return invalid_zip();
    if ((stat.valid & kRequired) != kRequired) return invalid_zip();
    if (stat.encryption_method != ZIP_EM_NONE) return invalid_zip();
    if (zip_compression_method_supported(stat.comp_method, 0) == 0) return invalid_zip();

    // declared_total < limit is true here, so the subtraction cannot wrap.
    if (stat.size >= limit - declared_total) return unzipped_too_large(limit);
    declared_total += stat.size;

    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(archive, index, 0, &opsys, &attributes) != 0) {
      return invalid_zip();
    }
    // Unix archivers store st_mode in the high 16 bits of the external attributes.
    const mode_t unix_mode = opsys == ZIP_OPSYS_UNIX ? static_cast<mode_t>(attributes >> 16) : 0;

    const std::string_view name = stat.name;
    if (name.empty()) return invalid_zip();
    Entry entry;
    entry.index = index;
    entry.size = stat.size;
    if (name.back() == '/' || S_ISDIR(unix_mode)) {
      entry.kind = EntryKind::directory;
    } else if (S_ISLNK(unix_mode)) {
      entry.kind = EntryKind::symlink;
    } else {
      // Regular files, and also FIFOs and device nodes, which are extracted as regular files.
      entry.kind = EntryKind::file;
    }

    auto components = split_relative_path(name);
    if (!components) return invalid_zip();
    if (components->empty()) {
      if (entry.kind == EntryKind::directory) continue;  // "./" names the root itself
      return invalid_zip();
    }
    entry.components = std::move(*components);

    if (entry.kind == EntryKind::symlink && (stat.size == 0 || stat.size > kMaxSymlinkTarget)) {
      return invalid_zip();
    }
    entry.mode = file_permissions(unix_mode);
    if ((stat.valid & ZIP_STAT_MTIME) != 0) entry.mtime = stat.mtime;
    entries.push_back(std::move(entry));
  }
  return entries;
}

// Streams one entry's data to `sink` in chunks of at most kChunkSize bytes. `extracted` counts
// bytes across the whole archive, because entries can decompress to more than they declare.
template <typename Sink>
Status stream_entry(zip_t* archive, const Entry& entry, std::uint64_t limit,
                    std::uint64_t& extracted, std::vector<char>& buffer, Sink&& sink) {
  EntryPtr file(zip_fopen_index(archive, entry.index, 0));
  if (!file) return invalid_zip();

  std::uint64_t entry_bytes = 0;
  while (true) {
    // libzip 1.7 reports a CRC mismatch as a failed read at the end of the entry, but not a
    // size mismatch, which the checks below and after the loop catch.
    const zip_int64_t read = zip_fread(file.get(), buffer.data(), buffer.size());
    if (read < 0) return invalid_zip();
    if (read == 0) break;

    const auto count = static_cast<std::uint64_t>(read);
    extracted += count;
    entry_bytes += count;
    if (extracted >= limit) return unzipped_too_large(limit);
    if (entry_bytes > entry.size) return invalid_zip();

    Status status = sink(std::string_view(buffer.data(), static_cast<std::size_t>(read)));
    if (!status) return status;
  }
  if (entry_bytes != entry.size) return invalid_zip();
  return ok_status();
}

// ---- Writing the tree ----------------------------------------------------------------------

// Extracts entries into `root`, a new private directory. Directories and files come first and
// symbolic links last, so no write ever passes through a link the archive created.
class Extractor {
 public:
  Extractor(zip_t* archive, fs::path root, std::uint64_t limit)
      : archive_(archive), root_(std::move(root)), limit_(limit), buffer_(kChunkSize) {}

  Status run() {
    auto planned = plan_entries(archive_, limit_);
    if (!planned) return std::move(planned).error();
    const std::vector<Entry>& entries = *planned;

    std::vector<const Entry*> links;
    for (const Entry& entry : entries) {
      Status status = ok_status();
      switch (entry.kind) {
        case EntryKind::directory:
          status = make_directories(entry.components, entry.components.size());
          break;
        case EntryKind::file:
          status = write_file(entry);
          break;
        case EntryKind::symlink:
          links.push_back(&entry);
          break;
      }
      if (!status) return status;
    }

    std::vector<std::pair<const Entry*, std::string>> targets;
    for (const Entry* link : links) {
      auto target = write_symlink(*link);
      if (!target) return std::move(target).error();
      targets.emplace_back(link, std::move(*target));
    }
    return check_symlinks_resolve_inside(targets);
  }

 private:
  // Creates the first `count` components of `components` below root_, each with mode 0755.
  Status make_directories(const std::vector<std::string>& components, std::size_t count) {
    fs::path path = root_;
    std::string relative;
    for (std::size_t i = 0; i < count; ++i) {
      path /= components[i];
      relative.append(components[i]).push_back('/');
      if (created_directories_.contains(relative)) continue;

      if (::mkdir(path.c_str(), 0755) == 0) {
        // mkdir(2) applies the umask, so set the mode explicitly.
        if (::chmod(path.c_str(), 0755) != 0) return io_error("Failed to chmod", path, errno);
      } else {
        const int err = errno;
        if (err != EEXIST) return create_error(path, err);
        struct stat existing {};
        if (::lstat(path.c_str(), &existing) != 0) return io_error("Failed to stat", path, errno);
        if (!S_ISDIR(existing.st_mode)) return invalid_zip();
      }
      created_directories_.insert(relative);
    }
    return ok_status();
  }

  // Opens a new file for writing. A later entry with the same name replaces an earlier file.
  Result<int> create_file(const fs::path& path) {
    constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::open(path.c_str(), kFlags, 0600);
    if (fd < 0 && errno == EEXIST) {
      if (::unlink(path.c_str()) != 0) return create_error(path, errno);
      fd = ::open(path.c_str(), kFlags, 0600);
    }
    if (fd < 0) return create_error(path, errno);
    return fd;
  }

  Status write_file(const Entry& entry) {
    Status parents = make_directories(entry.components, entry.components.size() - 1);
    if (!parents) return parents;

    const fs::path path = join(root_, entry.components);
    auto created = create_file(path);
    if (!created) return std::move(created).error();
    UniqueFd fd(*created);

    Status copied = stream_entry(archive_, entry, limit_, extracted_, buffer_,
                                 [&](std::string_view chunk) -> Status {
                                   const int err = write_all(fd.get(), chunk);
                                   if (err != 0) return io_error("Failed to write", path, err);
                                   return ok_status();
                                 });
    if (!copied) return copied;

    if (::fchmod(fd.get(), entry.mode) != 0) return io_error("Failed to chmod", path, errno);
    if (entry.mtime) {
      const timespec times[2] = {{0, UTIME_OMIT}, {*entry.mtime, 0}};
      if (::futimens(fd.get(), times) != 0) return io_error("Failed to set times", path, errno);
    }
    const int err = fd.close();
    if (err != 0) return io_error("Failed to write", path, err);
    return ok_status();
  }

  // Creates the link and returns its target.
  Result<std::string> write_symlink(const Entry& entry) {
    std::string target;
    Status read = stream_entry(archive_, entry, limit_, extracted_, buffer_,
                               [&](std::string_view chunk) -> Status {
                                 target.append(chunk);
                                 return ok_status();
                               });
    if (!read) return std::move(read).error();
    if (!target_stays_inside(entry.components, target)) return invalid_zip();

    Status parents = make_directories(entry.components, entry.components.size() - 1);
    if (!parents) return std::move(parents).error();
    const fs::path path = join(root_, entry.components);
    if (::symlink(target.c_str(), path.c_str()) != 0) return create_error(path, errno);
    return target;
  }

  // Lexical check of a link target against the depth of the link's own directory. It rejects
  // absolute targets and `..` steps above the root, but not escapes through other links,
  // which check_symlinks_resolve_inside() catches once every link exists.
  static bool target_stays_inside(const std::vector<std::string>& link_components,
                                  std::string_view target) {
    if (target.empty() || target.front() == '/' || target.find('\0') != std::string_view::npos) {
      return false;
    }
    std::size_t depth = link_components.size() - 1;
    std::size_t start = 0;
    while (start <= target.size()) {
      std::size_t end = target.find('/', start);
      if (end == std::string_view::npos) end = target.size();
      const std::string_view part = target.substr(start, end - start);
      if (part == "..") {
        if (depth == 0) return false;
        --depth;
      } else if (!part.empty() && part != ".") {
        ++depth;
      }
      start = end + 1;
    }
    return true;
  }

  // Resolves every link the way the kernel would and rejects any that leads outside root_.
  // This catches chains such as `a -> .` plus `b -> a/..`, which each look harmless alone.
  // A link that cannot be resolved (a loop) is rejected too.
  Status check_symlinks_resolve_inside(
      const std::vector<std::pair<const Entry*, std::string>>& targets) const {
    if (targets.empty()) return ok_status();
    std::error_code ec;
    const fs::path root = fs::canonical(root_, ec);
    if (ec) return io_error("Failed to resolve", root_, ec.value());

    for (const auto& [entry, target] : targets) {
      const fs::path link = join(root, entry->components);
      const fs::path resolved = fs::weakly_canonical(link.parent_path() / target, ec);
      if (ec) return invalid_zip();
      const auto mismatch =
          std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
      if (mismatch.first != root.end()) return invalid_zip();
    }
    return ok_status();
  }

  zip_t* archive_;
  fs::path root_;
  std::uint64_t limit_;
  std::vector<char> buffer_;
  std::uint64_t extracted_ = 0;
  std::unordered_set<std::string> created_directories_;
};

// A tree extracted into `trees/.tmp-*`, deleted unless commit() moves it into place.
class TempTree {
 public:
  static Result<TempTree> extract(zip_t* archive, const fs::path& trees_dir, std::uint64_t limit) {
    std::string name = (trees_dir / (std::string(kTempPrefix) + "XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) return io_error("Failed to create", name, errno);
    TempTree tree{fs::path(name)};
    // The function runs as an unprivileged user, so the tree root must be readable by all.
    if (::chmod(tree.path_.c_str(), 0755) != 0) return io_error("Failed to chmod", name, errno);

    Status extracted = Extractor(archive, tree.path_, limit).run();
    if (!extracted) return std::move(extracted).error();

    // One syncfs(2) instead of an fsync per file: the tree must be complete on disk before the
    // rename makes it visible, or a crash could leave a truncated tree that contains() accepts.
    UniqueFd fd(::open(tree.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return io_error("Failed to open", tree.path_, errno);
    if (::syncfs(fd.get()) != 0) return io_error("Failed to sync", tree.path_, errno);
    return tree;
  }

  TempTree(TempTree&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempTree& operator=(TempTree&&) = delete;
  ~TempTree() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  // Renames the tree to `final_dir`. When `final_dir` already exists, another put of the same
  // bytes finished first, so its tree is kept and this one is deleted.
  Status commit(const fs::path& final_dir) {
    if (::rename(path_.c_str(), final_dir.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST || err == ENOTEMPTY) return ok_status();
      return io_error("Failed to rename " + path_.string() + " to", final_dir, err);
    }
    path_.clear();
    return sync_directory(final_dir.parent_path());
  }

 private:
  explicit TempTree(fs::path path) : path_(std::move(path)) {}

  fs::path path_;
};

// Writes `bytes` to `path` through a synced temporary file in the same directory.
Status write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path dir = path.parent_path();
  std::string temp = (dir / (std::string(kTempPrefix) + "XXXXXX")).string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) return io_error("Failed to create", temp, errno);

  auto fail = [&](std::string_view action, int err) {
    ::unlink(temp.c_str());
    return io_error(action, temp, err);
  };
  if (const int err = write_all(fd.get(), bytes); err != 0) return fail("Failed to write", err);
  if (::fchmod(fd.get(), 0644) != 0) return fail("Failed to chmod", errno);
  if (::fsync(fd.get()) != 0) return fail("Failed to sync", errno);
  if (const int err = fd.close(); err != 0) return fail("Failed to write", err);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("Failed to rename", errno);
  return sync_directory(dir);
}

// Computes the SHA-256 of a file by reading it in chunks.
Result<Sha256Digest> hash_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("Failed to open", path, errno);
  Sha256 hasher;
  std::vector<char> buffer(kChunkSize);
  while (true) {
    const ssize_t read = ::read(fd.get(), buffer.data(), buffer.size());
    if (read < 0) {
      if (errno == EINTR) continue;
      return io_error("Failed to read", path, errno);
    }
    if (read == 0) break;
    hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(read)));
  }
  return hasher.finish();
}

}  // namespace

CodeStore::CodeStore(std::filesystem::path root, CodeStoreOptions options)
    : root_(std::move(root)),
      zips_dir_(root_ / "zips"),
      trees_dir_(root_ / "trees"),
      options_(options) {
  (void)create_directories();
}

Status CodeStore::create_directories() const {
  for (const auto& dir : {zips_dir_, trees_dir_}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return io_error("Failed to create", dir, ec.value());
  }
  return ok_status();
}

fs::path CodeStore::tree_path(std::string_view sha256_hex) const {
  assert(is_sha256_hex(sha256_hex));
  return trees_dir_ / std::string(sha256_hex);
}

fs::path CodeStore::zip_path(std::string_view sha256_hex) const {
  assert(is_sha256_hex(sha256_hex));
  return zips_dir_ / (std::string(sha256_hex) + ".zip");
}

bool CodeStore::contains(std::string_view sha256_hex) const {
  if (!is_sha256_hex(sha256_hex)) return false;
  std::error_code ec;
  return fs::is_directory(tree_path(sha256_hex), ec) &&
         fs::is_regular_file(zip_path(sha256_hex), ec);
}

Result<CodeInfo> CodeStore::put(std::string_view zip_bytes) {
  // libzip opens an empty file as an empty archive, but an empty upload is not a zip file.
  if (zip_bytes.empty()) return invalid_zip();

  const Sha256Digest digest = sha256(zip_bytes);
  CodeInfo info{to_hex(digest), base64_encode(digest), zip_bytes.size()};
  if (contains(info.sha256_hex)) return info;

  Status dirs = create_directories();
  if (!dirs) return std::move(dirs).error();

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return make_error(Errc::internal, "Failed to create a zip source for the code package");
  }
  // Without ZIP_CHECKCONS, because it rejects some archives that Info-ZIP unzip extracts, such
  // as ones made by the macOS Archive Utility (reported against libzip 1.9.2). CRC and size
  // mismatches still fail while reading entries.
  ArchivePtr archive(zip_open_from_source(source, ZIP_RDONLY, &error));
  zip_error_fini(&error);
  if (!archive) {
    zip_source_free(source);
    return invalid_zip();
  }

  auto tree = TempTree::extract(archive.get(), trees_dir_, options_.max_unzipped_size);
  if (!tree) return std::move(tree).error();

  // The zip goes in place before the tree, so a present tree implies a present zip.
  Status written = write_file_atomically(zip_path(info.sha256_hex), zip_bytes);
  if (!written) return std::move(written).error();
  Status committed = tree->commit(tree_path(info.sha256_hex));
  if (!committed) return std::move(committed).error();
  return info;
}

Status CodeStore::ensure_tree(std::string_view sha256_hex) {
  if (!is_sha256_hex(sha256_hex)) return malformed_hash(sha256_hex);
  const fs::path tree = tree_path(sha256_hex);
  const fs::path zip = zip_path(sha256_hex);
  std::error_code ec;
  if (fs::is_directory(tree, ec)) return ok_status();
  if (!fs::exists(zip, ec)) {
    return make_error(Errc::not_found, "Code package " + std::string(sha256_hex) +
                                           " is not stored in " + root_.string());
  }

  auto digest = hash_file(zip);
  if (!digest) return std::move(digest).error();
  if (to_hex(*digest) != sha256_hex) {
    return make_error(Errc::io, "Stored code package " + zip.string() +
                                    " is corrupt: its SHA-256 is " + to_hex(*digest));
  }

  Status dirs = create_directories();
  if (!dirs) return dirs;
  int error_code = 0;
  ArchivePtr archive(zip_open(zip.c_str(), ZIP_RDONLY, &error_code));
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, error_code);
    Error result =
        make_error(Errc::io, "Failed to open " + zip.string() + ": " + zip_error_strerror(&error));
    zip_error_fini(&error);
    return result;
  }

  auto temp_tree = TempTree::extract(archive.get(), trees_dir_, options_.max_unzipped_size);
  if (!temp_tree) return std::move(temp_tree).error();
  return temp_tree->commit(tree);
}

Status CodeStore::remove(std::string_view sha256_hex) {
  if (!is_sha256_hex(sha256_hex)) return malformed_hash(sha256_hex);
  const fs::path tree = tree_path(sha256_hex);
  const fs::path zip = zip_path(sha256_hex);

  // Rename the tree out of the way first, so it disappears at once and a crash part way through
  // deleting it leaves only a `.tmp-*` directory.
  std::error_code ec;
  if (fs::exists(tree, ec)) {
    std::string doomed = (trees_dir_ / (std::string(kTempPrefix) + "XXXXXX")).string();
    if (::mkdtemp(doomed.data()) == nullptr) return io_error("Failed to create", doomed, errno);
    // rename(2) may replace the empty directory that mkdtemp created.
    if (::rename(tree.c_str(), doomed.c_str()) != 0) {
      const int err = errno;
      ::rmdir(doomed.c_str());
      if (err != ENOENT) return io_error("Failed to rename " + tree.string() + " to", doomed, err);
    } else {
      fs::remove_all(doomed, ec);
      if (ec) return io_error("Failed to delete", doomed, ec.value());
    }
  }

  if (::unlink(zip.c_str()) != 0) {
    if (errno == ENOENT) return ok_status();
    return io_error("Failed to delete", zip, errno);
  }
  return sync_directory(zips_dir_);
}

Status CodeStore::remove_temp_files() {
  for (const auto& dir : {zips_dir_, trees_dir_}) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) continue;
      return io_error("Failed to list", dir, ec.value());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with(kTempPrefix)) continue;
      fs::remove_all(it->path(), ec);
      if (ec) return io_error("Failed to delete", it->path(), ec.value());
    }
    if (ec) return io_error("Failed to list", dir, ec.value());
  }
  return ok_status();
}

}  // namespace lambent::store
