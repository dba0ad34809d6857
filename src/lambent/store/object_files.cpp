// The file side of the object store: temporary bodies, hashing while writing, copies and
// concatenation, all on the blocking pool.
#include "lambent/base/crypto.h"
#include "lambent/store/object_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

namespace lambent::store {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kCopyChunk = 1 << 20;

Error io_error(std::string_view action, const fs::path& path, int err) {
  return make_error(Errc::io, std::string(action) + " " + path.string() + ": " +
                                  std::system_category().message(err));
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

// Fsyncs a directory so a rename or unlink in it survives a crash.
void sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

ObjectFile::~ObjectFile() {
  if (fd_ >= 0) ::close(fd_);
}

struct ObjectWriter::State {
  fs::path path;
  std::string temp_name;
  int fd = -1;
  EVP_MD_CTX* md5 = nullptr;
  std::unique_ptr<Sha256> sha256;
  std::uint64_t size = 0;
  bool finished = false;

  ~State() {
    if (md5) EVP_MD_CTX_free(md5);
    if (fd >= 0) ::close(fd);
    if (!finished && !path.empty()) ::unlink(path.c_str());
  }
};

ObjectWriter::ObjectWriter(asio::thread_pool& pool, std::unique_ptr<State> state)
    : pool_(pool), state_(std::move(state)) {}

ObjectWriter::~ObjectWriter() {
  // Closing and unlinking touch the disk, so they run on the pool.
  if (state_) asio::post(pool_, [state = std::shared_ptr<State>(std::move(state_))] {});
}

Task<Status> ObjectWriter::write(std::string_view data) {
  State* state = state_.get();
  auto job = [state, data]() -> Status {
    EVP_DigestUpdate(state->md5, data.data(), data.size());
    if (state->sha256) state->sha256->update(data);
    state->size += data.size();
    return write_all(state->fd, data, state->path);
  };
  co_return co_await run_blocking(pool_, std::move(job));
}

Task<Result<WrittenBody>> ObjectWriter::finish() {
  State* state = state_.get();
  auto job = [state]() -> Result<WrittenBody> {
    if (::fsync(state->fd) != 0) return io_error("cannot sync", state->path, errno);
    int fd = std::exchange(state->fd, -1);
    if (::close(fd) != 0) return io_error("cannot close", state->path, errno);
    WrittenBody body;
    body.temp_name = state->temp_name;
    body.size = state->size;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(state->md5, digest, &length);
    body.md5.assign(reinterpret_cast<const char*>(digest), length);
    if (state->sha256) body.sha256_hex = to_hex(state->sha256->finish());
    state->finished = true;
    return body;
  };
  co_return co_await run_blocking(pool_, std::move(job));
}

Task<Result<std::unique_ptr<ObjectWriter>>> ObjectStore::writer(bool sha256) {
  auto state = std::make_unique<ObjectWriter::State>();
  state->temp_name = random_hex(16);
  fs::path path = dir_ / "tmp" / state->temp_name;
  // Returns the descriptor, or -errno.
  auto create = [path]() -> int {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    return fd >= 0 ? fd : -errno;
  };
  int fd = co_await run_blocking(blocking_, std::move(create));
  if (fd < 0) co_return io_error("cannot create", path, -fd);
  state->fd = fd;
  state->path = path;
  state->md5 = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state->md5, EVP_md5(), nullptr);
  if (sha256) state->sha256 = std::make_unique<Sha256>();
  co_return std::unique_ptr<ObjectWriter>(new ObjectWriter(blocking_, std::move(state)));
}

Task<Result<WrittenBody>> ObjectStore::copy_body(std::shared_ptr<ObjectFile> source,
                                                 std::uint64_t start, std::uint64_t size) {
  auto made = co_await writer(false);
  if (!made) co_return made.error();
  ObjectWriter::State* state = (*made)->state_.get();
  auto job = [state, source, start, size]() -> Status {
    std::string buffer(kCopyChunk, '\0');
    std::uint64_t offset = 0;
    while (offset < size) {
      std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kCopyChunk, size - offset));
      ssize_t n = ::pread(source->fd(), buffer.data(), want, static_cast<off_t>(start + offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("cannot read the source of", state->path, errno);
      if (n == 0) return make_error(Errc::io, "the copy source ended early");
      std::string_view piece(buffer.data(), static_cast<std::size_t>(n));
      EVP_DigestUpdate(state->md5, piece.data(), piece.size());
      if (auto written = write_all(state->fd, piece, state->path); !written) return written;
      offset += static_cast<std::uint64_t>(n);
      state->size += static_cast<std::uint64_t>(n);
    }
    return ok_status();
  };
  auto copied = co_await run_blocking(blocking_, std::move(job));
  if (!copied) co_return copied.error();
  co_return co_await (*made)->finish();
}

Task<Result<WrittenBody>> ObjectStore::concatenate(std::vector<PartRecord> parts) {
  auto made = co_await writer(false);
  if (!made) co_return made.error();
  ObjectWriter::State* state = (*made)->state_.get();
  fs::path dir = dir_;
  auto job = [state, dir, parts = std::move(parts)]() -> Status {
    for (const auto& part : parts) {
      fs::path path = dir / part.file;
      int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) return io_error("cannot open part", path, errno);
      std::uint64_t left = part.size;
      loff_t offset = 0;
      while (left > 0) {
        ssize_t n =
            ::copy_file_range(in, &offset, state->fd, nullptr,
                              static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 30)), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          int err = n < 0 ? errno : EIO;
          ::close(in);
          return io_error("cannot copy part", path, err);
        }
        left -= static_cast<std::uint64_t>(n);
      }
      ::close(in);
      state->size += part.size;
    }
    return ok_status();
  };
  auto copied = co_await run_blocking(blocking_, std::move(job));
  if (!copied) co_return copied.error();
  co_return co_await (*made)->finish();
}

Task<void> ObjectStore::discard(WrittenBody body) {
  fs::path path = dir_ / "tmp" / body.temp_name;
  auto job = [path]() -> bool { return ::unlink(path.c_str()) == 0; };
  co_await run_blocking(blocking_, std::move(job));
}

Task<Result<std::string>> ObjectStore::place(WrittenBody body, std::string prefix) {
  fs::path dir = dir_;
  auto job = [dir, body = std::move(body), prefix = std::move(prefix)]() -> Result<std::string> {
    std::string name = prefix + random_hex(16);
    fs::path from = dir / "tmp" / body.temp_name;
    if (::rename(from.c_str(), (dir / name).c_str()) != 0) {
      int err = errno;
      ::unlink(from.c_str());
      return io_error("cannot rename", from, err);
    }
    sync_dir(dir);
    return name;
  };
  co_return co_await run_blocking(blocking_, std::move(job));
}

Task<Status> ObjectStore::remove_files(std::vector<std::string> names) {
  if (names.empty()) co_return ok_status();
  fs::path dir = dir_;
  auto job = [dir, names = std::move(names)]() -> Status {
    for (const auto& name : names) ::unlink((dir / name).c_str());
    return ok_status();
  };
  co_return co_await run_blocking(blocking_, std::move(job));
}

Task<Result<std::size_t>> ObjectStore::read(std::shared_ptr<ObjectFile> file, std::uint64_t offset,
                                            std::span<char> buffer) {
  auto job = [file, offset, buffer]() -> Result<std::size_t> {
    while (true) {
      ssize_t n = ::pread(file->fd(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return make_error(Errc::io, std::string("cannot read an object body: ") +
                                        std::system_category().message(errno));
      }
      return static_cast<std::size_t>(n);
    }
  };
  co_return co_await run_blocking(blocking_, std::move(job));
}

}  // namespace lambent::store
