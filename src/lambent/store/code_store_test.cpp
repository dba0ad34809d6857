#include "lambent/store/code_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "lambent/base/crypto.h"

namespace lambent::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInvalidZip =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";
constexpr std::string_view kTooLarge = "Unzipped size must be smaller than 262144000 bytes";

// A stored (uncompressed) zip made by Python's zipfile module with a fixed timestamp:
// index.py, mode 0644, containing a two-line handler.
constexpr char kKnownZip[] =
    "\x50\x4b\x03\x04\x14\x00\x00\x00\x00\x00\x83\x18\x22\x50\x80\x1a\x71\x1f\x2b\x00\x00\x00"
    "\x2b\x00\x00\x00\x08\x00\x00\x00\x69\x6e\x64\x65\x78\x2e\x70\x79\x64\x65\x66\x20\x68\x61"
    "\x6e\x64\x6c\x65\x72\x28\x65\x76\x65\x6e\x74\x2c\x20\x63\x6f\x6e\x74\x65\x78\x74\x29\x3a"
    "\x0a\x20\x20\x20\x20\x72\x65\x74\x75\x72\x6e\x20\x34\x32\x0a\x50\x4b\x01\x02\x14\x03\x14"
    "\x00\x00\x00\x00\x00\x83\x18\x22\x50\x80\x1a\x71\x1f\x2b\x00\x00\x00\x2b\x00\x00\x00\x08"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xa4\x81\x00\x00\x00\x00\x69\x6e\x64\x65\x78"
    "\x2e\x70\x79\x50\x4b\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x36\x00\x00\x00\x51\x00\x00"
    "\x00\x00\x00";
// Digests of kKnownZip computed with Python's hashlib.
constexpr std::string_view kKnownZipHex =
    "111bd6f29fb1846ba134ba3f09fca72fe8b9b637bca7bd1db2ce32b63425b640";
constexpr std::string_view kKnownZipBase64 = "ERvW8p+xhGuhNLo/CfynL+i5tje8p70dss4ytjQltkA=";

std::string known_zip() { return std::string(kKnownZip, sizeof(kKnownZip) - 1); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

mode_t permissions_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::set<std::string> list_dir(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

// A source of `size` zero bytes, so a test can build a large entry without holding it in memory.
struct ZeroSource {
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  zip_error_t error{};
};

zip_int64_t zero_source_callback(void* state, void* data, zip_uint64_t length,
                                 zip_source_cmd_t command) {
  auto* source = static_cast<ZeroSource*>(state);
  switch (command) {
    case ZIP_SOURCE_OPEN:
      source->offset = 0;
      return 0;
    case ZIP_SOURCE_READ: {
      const zip_uint64_t count = std::min<zip_uint64_t>(length, source->size - source->offset);
      std::memset(data, 0, count);
      source->offset += count;
      return static_cast<zip_int64_t>(count);
    }
    case ZIP_SOURCE_CLOSE:
      return 0;
    case ZIP_SOURCE_STAT: {
      auto* stat = static_cast<zip_stat_t*>(data);
      zip_stat_init(stat);
      stat->size = source->size;
      stat->mtime = 1600000000;
      stat->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
      return zip_error_to_data(&source->error, data, length);
    case ZIP_SOURCE_FREE:
      zip_error_fini(&source->error);
      delete source;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      zip_error_set(&source->error, ZIP_ER_OPNOTSUPP, 0);
      return -1;
  }
}

// Builds a zip with libzip in a file, with full control over names and external attributes.
class ZipBuilder {
 public:
  explicit ZipBuilder(fs::path path) : path_(std::move(path)) {
    int error = 0;
    archive_ = zip_open(path_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    EXPECT_NE(archive_, nullptr) << "zip_open failed with " << error;
  }
  ~ZipBuilder() {
    if (archive_ != nullptr) zip_discard(archive_);
  }
  ZipBuilder(const ZipBuilder&) = delete;
  ZipBuilder& operator=(const ZipBuilder&) = delete;

  // Adds a file with unix mode `mode` (type and permission bits).
  ZipBuilder& file(const std::string& name, std::string data, mode_t mode = S_IFREG | 0644,
                   zip_int32_t method = ZIP_CM_DEFLATE) {
    const zip_int64_t index = add(name, std::move(data));
    set_unix_mode(index, mode);
    EXPECT_EQ(zip_set_file_compression(archive_, index, method, 0), 0);
    return *this;
  }

  // Adds a file with DOS external attributes, as Windows archivers write them.
  ZipBuilder& dos_file(const std::string& name, std::string data) {
    const zip_int64_t index = add(name, std::move(data));
    EXPECT_EQ(zip_file_set_external_attributes(archive_, index, 0, ZIP_OPSYS_DOS, 0), 0);
    return *this;
  }

  ZipBuilder& directory(const std::string& name) {
    const zip_int64_t index = zip_dir_add(archive_, name.c_str(), ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << zip_strerror(archive_);
    set_unix_mode(index, S_IFDIR | 0755);
    return *this;
  }

  ZipBuilder& symlink(const std::string& name, std::string target) {
    const zip_int64_t index = add(name, std::move(target));
    set_unix_mode(index, S_IFLNK | 0777);
    return *this;
  }

  ZipBuilder& zeros(const std::string& name, std::uint64_t size) {
    zip_error_t error;
    zip_error_init(&error);
    auto* state = new ZeroSource{size, 0, {}};
    zip_error_init(&state->error);
    zip_source_t* source = zip_source_function_create(zero_source_callback, state, &error);
    EXPECT_NE(source, nullptr);
    const zip_int64_t index = zip_file_add(archive_, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << zip_strerror(archive_);
    set_unix_mode(index, S_IFREG | 0644);
    // Level 1 deflates 250 MB of zeros in about 0.3 s on the 2-core machine these tests ran on.
    EXPECT_EQ(zip_set_file_compression(archive_, index, ZIP_CM_DEFLATE, 1), 0);
    zip_error_fini(&error);
    return *this;
  }

  zip_t* archive() { return archive_; }

  std::string finish() {
    EXPECT_EQ(zip_close(archive_), 0) << zip_strerror(archive_);
    archive_ = nullptr;
    return read_file(path_);
  }

 private:
  zip_int64_t add(const std::string& name, std::string data) {
    const std::string& stored = data_.emplace_back(std::move(data));
    zip_source_t* source = zip_source_buffer(archive_, stored.data(), stored.size(), 0);
    EXPECT_NE(source, nullptr);
    const zip_int64_t index = zip_file_add(archive_, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << zip_strerror(archive_);
    EXPECT_EQ(zip_file_set_mtime(archive_, index, 1600000000, 0), 0);
    return index;
  }

  void set_unix_mode(zip_int64_t index, mode_t mode) {
    EXPECT_EQ(zip_file_set_external_attributes(archive_, index, 0, ZIP_OPSYS_UNIX,
                                               static_cast<zip_uint32_t>(mode) << 16),
              0);
  }

  fs::path path_;
  zip_t* archive_ = nullptr;
  std::deque<std::string> data_;  // buffers stay alive until zip_close reads them
};

// Rewrites the uncompressed size of the first entry in both its local and central headers.
void patch_uncompressed_size(std::string& zip, std::uint32_t size) {
  auto put_le32 = [&](std::size_t offset) {
    for (int i = 0; i < 4; ++i) zip[offset + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  };
  const std::size_t local = zip.find("PK\x03\x04");
  const std::size_t central = zip.find("PK\x01\x02");
  ASSERT_NE(local, std::string::npos);
  ASSERT_NE(central, std::string::npos);
  put_le32(local + 22);
  put_le32(central + 24);
}

class CodeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = "/tmp/code_store_test-XXXXXX";
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir_ = name;
    root_ = dir_ / "store";
  }
  void TearDown() override { fs::remove_all(dir_); }

  ZipBuilder builder(const std::string& name = "build.zip") { return ZipBuilder(dir_ / name); }

  // A small valid package with nested directories and an executable bootstrap.
  std::string sample_zip() {
    ZipBuilder zip = builder();
    zip.directory("pkg")
        .file("pkg/mod.py", "VALUE = 1\n")
        .file("pkg/sub/deep.txt", "deep\n")
        .file("bootstrap", "#!/bin/sh\necho hi\n", S_IFREG | 0755)
        .file("index.py", "import pkg.mod\n");
    return zip.finish();
  }

  void expect_rejected(CodeStore& store, std::string_view bytes, std::string_view message) {
    auto result = store.put(bytes);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, Errc::invalid_parameter);
    EXPECT_EQ(result.error().message, message);
    // A rejected package leaves nothing behind, not even temporary files.
    EXPECT_TRUE(list_dir(root_ / "zips").empty());
    EXPECT_TRUE(list_dir(root_ / "trees").empty());
  }

  fs::path dir_;
  fs::path root_;
};

TEST_F(CodeStoreTest, ConstructorCreatesLayout) {
  CodeStore store(root_);
  EXPECT_TRUE(fs::is_directory(root_ / "zips"));
  EXPECT_TRUE(fs::is_directory(root_ / "trees"));
  EXPECT_EQ(store.root(), root_);
}

TEST_F(CodeStoreTest, KnownZipHasAwsDigestAndSize) {
  CodeStore store(root_);
  auto info = store.put(known_zip());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->sha256_hex, kKnownZipHex);
  EXPECT_EQ(info->sha256_base64, kKnownZipBase64);
  EXPECT_EQ(info->size, 157u);

  EXPECT_TRUE(store.contains(kKnownZipHex));
  EXPECT_EQ(store.zip_path(kKnownZipHex), root_ / "zips" / (std::string(kKnownZipHex) + ".zip"));
  EXPECT_EQ(store.tree_path(kKnownZipHex), root_ / "trees" / std::string(kKnownZipHex));
  EXPECT_EQ(read_file(store.zip_path(kKnownZipHex)), known_zip());
  EXPECT_EQ(read_file(store.tree_path(kKnownZipHex) / "index.py"),
            "def handler(event, context):\n    return 42\n");
}

TEST_F(CodeStoreTest, NestedDirectoriesExtract) {
  CodeStore store(root_);
  const std::string bytes = sample_zip();
  auto info = store.put(bytes);
  ASSERT_TRUE(info.ok()) << info.error().message;

  const Sha256Digest digest = sha256(bytes);
  EXPECT_EQ(info->sha256_hex, to_hex(digest));
  EXPECT_EQ(info->sha256_base64, base64_encode(digest));
  EXPECT_EQ(info->size, bytes.size());

  const fs::path tree = store.tree_path(info->sha256_hex);
  EXPECT_EQ(read_file(tree / "pkg" / "mod.py"), "VALUE = 1\n");
  EXPECT_EQ(read_file(tree / "pkg" / "sub" / "deep.txt"), "deep\n");
  EXPECT_EQ(read_file(tree / "index.py"), "import pkg.mod\n");
  EXPECT_EQ(list_dir(tree), (std::set<std::string>{"bootstrap", "index.py", "pkg"}));
  EXPECT_EQ(permissions_of(tree), 0755u);
  EXPECT_EQ(permissions_of(tree / "pkg"), 0755u);
  EXPECT_EQ(permissions_of(tree / "pkg" / "sub"), 0755u);  // created implicitly
  EXPECT_EQ(
      fs::last_write_time(tree / "index.py"),
      fs::file_time_type::clock::from_sys(std::chrono::system_clock::from_time_t(1600000000)));
}

TEST_F(CodeStoreTest, PermissionBits) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("bootstrap", "#!/bin/sh\n", S_IFREG | 0755)
      .file("owner_exec.sh", "x", S_IFREG | 0700)
      .file("private.txt", "x", S_IFREG | 0600)
      .file("shared.txt", "x", S_IFREG | 0666)
      .file("readonly.txt", "x", S_IFREG | 0400)
      .file("setuid", "x", S_IFREG | 04755)
      .file("no_type_bits", "x", 0750)
      .dos_file("windows.txt", "x")
      .directory("private_dir");
  auto info = store.put(zip.finish());
  ASSERT_TRUE(info.ok()) << info.error().message;

  const fs::path tree = store.tree_path(info->sha256_hex);
  EXPECT_EQ(permissions_of(tree / "bootstrap"), 0755u);
  EXPECT_EQ(::access((tree / "bootstrap").c_str(), X_OK), 0);
  EXPECT_EQ(permissions_of(tree / "owner_exec.sh"), 0755u);
  EXPECT_EQ(permissions_of(tree / "private.txt"), 0644u);
  EXPECT_EQ(permissions_of(tree / "shared.txt"), 0644u);
  EXPECT_EQ(permissions_of(tree / "readonly.txt"), 0444u);
  EXPECT_EQ(permissions_of(tree / "setuid"), 0755u);
  EXPECT_EQ(permissions_of(tree / "no_type_bits"), 0755u);
  EXPECT_EQ(permissions_of(tree / "windows.txt"), 0644u);
  EXPECT_EQ(permissions_of(tree / "private_dir"), 0755u);
}

TEST_F(CodeStoreTest, ZipCommandOutputExtracts) {
  if (::access("/usr/bin/zip", X_OK) != 0) GTEST_SKIP() << "/usr/bin/zip is not installed";
  const fs::path source = dir_ / "src";
  fs::create_directories(source / "pkg");
  write_file(source / "pkg" / "mod.py", "VALUE = 2\n");
  write_file(source / "bootstrap", "#!/bin/sh\n");
  fs::permissions(source / "bootstrap", fs::perms(0755));
  fs::create_symlink("pkg/mod.py", source / "link");
  const std::string command = "cd '" + source.string() + "' && /usr/bin/zip -q -r -X -y '" +
                              (dir_ / "cli.zip").string() + "' .";
  ASSERT_EQ(std::system(command.c_str()), 0);

  CodeStore store(root_);
  auto info = store.put(read_file(dir_ / "cli.zip"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  const fs::path tree = store.tree_path(info->sha256_hex);
  EXPECT_EQ(read_file(tree / "pkg" / "mod.py"), "VALUE = 2\n");
  EXPECT_EQ(permissions_of(tree / "bootstrap"), 0755u);
  EXPECT_EQ(permissions_of(tree / "pkg" / "mod.py") & 0444, 0444u);
  EXPECT_EQ(fs::read_symlink(tree / "link"), "pkg/mod.py");
}

TEST_F(CodeStoreTest, DotComponentsAreNormalized) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.directory("./").file("./a//b/./c.txt", "c");
  auto info = store.put(zip.finish());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(read_file(store.tree_path(info->sha256_hex) / "a" / "b" / "c.txt"), "c");
}

TEST_F(CodeStoreTest, EmptyArchiveIsAccepted) {
  // An end of central directory record with no entries: a valid zip of nothing.
  const std::string empty_zip("PK\x05\x06" + std::string(18, '\0'));
  CodeStore store(root_);
  auto info = store.put(empty_zip);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->size, 22u);
  EXPECT_TRUE(list_dir(store.tree_path(info->sha256_hex)).empty());
}

TEST_F(CodeStoreTest, GarbageRejected) {
  CodeStore store(root_);
  expect_rejected(store, "this is not a zip file", kInvalidZip);
  expect_rejected(store, "", kInvalidZip);
  expect_rejected(store, std::string(4096, '\xff'), kInvalidZip);
  expect_rejected(store, "PK\x03\x04 truncated local header", kInvalidZip);
}

TEST_F(CodeStoreTest, TruncatedZipRejected) {
  CodeStore store(root_);
  const std::string bytes = sample_zip();
  expect_rejected(store, std::string_view(bytes).substr(0, bytes.size() / 2), kInvalidZip);
  expect_rejected(store, std::string_view(bytes).substr(0, bytes.size() - 1), kInvalidZip);
  expect_rejected(store, std::string_view(bytes).substr(0, 30), kInvalidZip);
}

TEST_F(CodeStoreTest, CorruptDataRejected) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("data.txt", std::string(1000, 'a'), S_IFREG | 0644, ZIP_CM_STORE);
  std::string bytes = zip.finish();
  const std::size_t data = bytes.find(std::string(1000, 'a'));
  ASSERT_NE(data, std::string::npos);
  bytes[data + 500] = 'b';  // the CRC no longer matches
  expect_rejected(store, bytes, kInvalidZip);
}

TEST_F(CodeStoreTest, ParentTraversalRejected) {
  CodeStore store(root_);
  for (const std::string name : {"../evil", "pkg/../../evil", "pkg/..", ".."}) {
    ZipBuilder zip = builder();
    zip.file("ok.txt", "ok").file(name, "evil");
    expect_rejected(store, zip.finish(), kInvalidZip);
  }
  EXPECT_FALSE(fs::exists(dir_ / "evil"));
  EXPECT_FALSE(fs::exists(root_ / "evil"));
}

TEST_F(CodeStoreTest, AbsolutePathRejected) {
  CodeStore store(root_);
  const std::string target = (dir_ / "absolute_evil").string();
  ZipBuilder zip = builder();
  zip.file(target, "evil");
  expect_rejected(store, zip.finish(), kInvalidZip);
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(CodeStoreTest, ConflictingEntriesRejected) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("a", "file").file("a/b", "needs a to be a directory");
  expect_rejected(store, zip.finish(), kInvalidZip);
}

TEST_F(CodeStoreTest, DuplicateEntryLastWins) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("dup1", "first", S_IFREG | 0400).file("dup2", "second", S_IFREG | 0644);
  std::string bytes = zip.finish();
  // libzip refuses to write two entries with one name, so rename the second in the bytes.
  for (std::size_t at = bytes.find("dup2"); at != std::string::npos; at = bytes.find("dup2")) {
    bytes[at + 3] = '1';
  }
  auto info = store.put(bytes);
  ASSERT_TRUE(info.ok()) << info.error().message;
  const fs::path tree = store.tree_path(info->sha256_hex);
  EXPECT_EQ(read_file(tree / "dup1"), "second");
  EXPECT_EQ(permissions_of(tree / "dup1"), 0644u);
}

TEST_F(CodeStoreTest, EscapingSymlinksRejected) {
  CodeStore store(root_);
  const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
      {{"link", "../outside"}},
      {{"link", "/etc/passwd"}},
      {{"sub/link", "../../outside"}},
      {{"link", "a/../../outside"}},
      // Each link alone stays inside, but b resolves through a to the parent of the tree.
      {{"a", "."}, {"b", "a/.."}},
      {{"a", "sub"}, {"sub/c", ".."}, {"b", "a/c/.."}},
  };
  for (const auto& links : cases) {
    ZipBuilder zip = builder();
    zip.file("index.py", "x").directory("sub");
    for (const auto& [name, target] : links) zip.symlink(name, target);
    SCOPED_TRACE(links.back().first + " -> " + links.back().second);
    expect_rejected(store, zip.finish(), kInvalidZip);
  }
}

TEST_F(CodeStoreTest, InternalSymlinksKept) {
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("pkg/mod.py", "VALUE = 3\n")
      .symlink("lib/current", "../pkg")
      .symlink("self", ".")
      .symlink("dangling", "missing/file");
  auto info = store.put(zip.finish());
  ASSERT_TRUE(info.ok()) << info.error().message;
  const fs::path tree = store.tree_path(info->sha256_hex);
  EXPECT_TRUE(fs::is_symlink(tree / "lib" / "current"));
  EXPECT_EQ(fs::read_symlink(tree / "lib" / "current"), "../pkg");
  EXPECT_EQ(read_file(tree / "lib" / "current" / "mod.py"), "VALUE = 3\n");
  EXPECT_EQ(fs::read_symlink(tree / "self"), ".");
  EXPECT_EQ(fs::read_symlink(tree / "dangling"), "missing/file");
}

TEST_F(CodeStoreTest, SymlinkCannotRedirectWrites) {
  CodeStore store(root_);
  // The link is created after every file, so "out/x" is written to a real directory "out" and
  // the link then collides with it.
  ZipBuilder zip = builder();
  zip.symlink("out", "sub").file("out/x", "x").directory("sub");
  expect_rejected(store, zip.finish(), kInvalidZip);
}

TEST_F(CodeStoreTest, PutTwiceIsIdempotent) {
  CodeStore store(root_);
  const std::string bytes = sample_zip();
  auto first = store.put(bytes);
  ASSERT_TRUE(first.ok()) << first.error().message;
  struct stat before {};
  ASSERT_EQ(::stat(store.tree_path(first->sha256_hex).c_str(), &before), 0);

  auto second = store.put(bytes);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->sha256_hex, first->sha256_hex);
  EXPECT_EQ(second->sha256_base64, first->sha256_base64);
  EXPECT_EQ(second->size, first->size);
  struct stat after {};
  ASSERT_EQ(::stat(store.tree_path(first->sha256_hex).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // not extracted again
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{first->sha256_hex});
  EXPECT_EQ(list_dir(root_ / "zips"), std::set<std::string>{first->sha256_hex + ".zip"});
}

TEST_F(CodeStoreTest, PutRestoresMissingZip) {
  CodeStore store(root_);
  const std::string bytes = sample_zip();
  auto first = store.put(bytes);
  ASSERT_TRUE(first.ok());
  fs::remove(store.zip_path(first->sha256_hex));
  EXPECT_FALSE(store.contains(first->sha256_hex));

  auto second = store.put(bytes);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(store.contains(first->sha256_hex));
  EXPECT_EQ(read_file(store.zip_path(first->sha256_hex)), bytes);
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{first->sha256_hex});
}

TEST_F(CodeStoreTest, ConcurrentPutsOfSameBytes) {
  CodeStore store(root_);
  const std::string bytes = sample_zip();
  constexpr int kThreads = 8;
  std::vector<std::optional<Result<CodeInfo>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i].emplace(store.put(bytes)); });
  }
  for (auto& thread : threads) thread.join();

  const std::string hex = to_hex(sha256(bytes));
  for (const auto& result : results) {
    ASSERT_TRUE(result->ok()) << result->error().message;
    EXPECT_EQ((*result)->sha256_hex, hex);
  }
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{hex});
  EXPECT_EQ(list_dir(root_ / "zips"), std::set<std::string>{hex + ".zip"});
  EXPECT_EQ(read_file(store.tree_path(hex) / "pkg" / "mod.py"), "VALUE = 1\n");
}

TEST_F(CodeStoreTest, ConcurrentPutsOfDistinctBytes) {
  CodeStore store(root_);
  constexpr int kThreads = 4;
  std::vector<std::string> zips;
  for (int i = 0; i < kThreads; ++i) {
    ZipBuilder zip = builder("build" + std::to_string(i) + ".zip");
    zip.file("index.py", "N = " + std::to_string(i) + "\n");
    zips.push_back(zip.finish());
  }
  std::vector<std::optional<Result<CodeInfo>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i].emplace(store.put(zips[i])); });
  }
  for (auto& thread : threads) thread.join();

  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i]->ok()) << results[i]->error().message;
    EXPECT_EQ(read_file(store.tree_path((*results[i])->sha256_hex) / "index.py"),
              "N = " + std::to_string(i) + "\n");
  }
  EXPECT_EQ(list_dir(root_ / "trees").size(), static_cast<std::size_t>(kThreads));
}

TEST_F(CodeStoreTest, DeclaredSizeAtLimitRejected) {
  CodeStore store(root_);
  const auto start = std::chrono::steady_clock::now();
  ZipBuilder zip = builder();
  zip.zeros("zeros.bin", kMaxUnzippedSize + 1);
  const std::string bytes = zip.finish();
  EXPECT_LT(bytes.size(), 2u * 1024 * 1024);  // deflated zeros stay small
  expect_rejected(store, bytes, kTooLarge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(CodeStoreTest, DeclaredSizesSumAcrossEntries) {
  CodeStore store(root_, CodeStoreOptions{.max_unzipped_size = 1000});
  {
    ZipBuilder zip = builder();
    zip.file("a", std::string(600, 'a')).file("b", std::string(400, 'b'));
    expect_rejected(store, zip.finish(), "Unzipped size must be smaller than 1000 bytes");
  }
  ZipBuilder zip = builder();
  zip.file("a", std::string(600, 'a')).file("b", std::string(399, 'b'));
  auto info = store.put(zip.finish());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(fs::file_size(store.tree_path(info->sha256_hex) / "b"), 399u);
}

TEST_F(CodeStoreTest, UnderstatedSizeStopsExtraction) {
  // The central directory claims 100 bytes, but the entry inflates to 200000.
  ZipBuilder zip = builder();
  zip.file("liar.bin", std::string(200000, 'z'));
  std::string bytes = zip.finish();
  patch_uncompressed_size(bytes, 100);

  CodeStore small(root_, CodeStoreOptions{.max_unzipped_size = 1000});
  expect_rejected(small, bytes, "Unzipped size must be smaller than 1000 bytes");

  CodeStore store(root_);
  expect_rejected(store, bytes, kInvalidZip);
}

TEST_F(CodeStoreTest, OverstatedSizeRejected) {
  // The central directory claims 5000 bytes, but the entry inflates to 1000.
  ZipBuilder zip = builder();
  zip.file("short.bin", std::string(1000, 's'));
  std::string bytes = zip.finish();
  patch_uncompressed_size(bytes, 5000);
  CodeStore store(root_);
  expect_rejected(store, bytes, kInvalidZip);
}

TEST_F(CodeStoreTest, EnsureTreeRestoresDeletedTree) {
  CodeStore store(root_);
  auto info = store.put(sample_zip());
  ASSERT_TRUE(info.ok());
  const fs::path tree = store.tree_path(info->sha256_hex);

  Status unchanged = store.ensure_tree(info->sha256_hex);
  EXPECT_TRUE(unchanged.ok());

  fs::remove_all(tree);
  EXPECT_FALSE(store.contains(info->sha256_hex));
  Status restored = store.ensure_tree(info->sha256_hex);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_TRUE(store.contains(info->sha256_hex));
  EXPECT_EQ(read_file(tree / "pkg" / "mod.py"), "VALUE = 1\n");
  EXPECT_EQ(permissions_of(tree / "bootstrap"), 0755u);
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{info->sha256_hex});
}

TEST_F(CodeStoreTest, EnsureTreeDetectsCorruptZip) {
  CodeStore store(root_);
  auto info = store.put(sample_zip());
  ASSERT_TRUE(info.ok());
  fs::remove_all(store.tree_path(info->sha256_hex));
  write_file(store.zip_path(info->sha256_hex), known_zip());

  Status status = store.ensure_tree(info->sha256_hex);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::io);
  EXPECT_EQ(status.error().message, "Stored code package " +
                                        store.zip_path(info->sha256_hex).string() +
                                        " is corrupt: its SHA-256 is " + std::string(kKnownZipHex));
  EXPECT_FALSE(fs::exists(store.tree_path(info->sha256_hex)));
}

TEST_F(CodeStoreTest, EnsureTreeUnknownHash) {
  CodeStore store(root_);
  Status missing = store.ensure_tree(kKnownZipHex);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);

  Status malformed = store.ensure_tree("../../etc");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::invalid_parameter);
  EXPECT_EQ(malformed.error().message,
            "Invalid code package hash '../../etc': expected 64 lowercase hexadecimal digits");
  EXPECT_FALSE(store.contains("../../etc"));
  EXPECT_FALSE(store.contains(std::string(64, 'A')));
}

TEST_F(CodeStoreTest, RemoveDeletesZipAndTree) {
  CodeStore store(root_);
  auto info = store.put(sample_zip());
  ASSERT_TRUE(info.ok());
  auto other = store.put(known_zip());
  ASSERT_TRUE(other.ok());

  Status removed = store.remove(info->sha256_hex);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(store.contains(info->sha256_hex));
  EXPECT_FALSE(fs::exists(store.tree_path(info->sha256_hex)));
  EXPECT_FALSE(fs::exists(store.zip_path(info->sha256_hex)));
  EXPECT_TRUE(store.contains(other->sha256_hex));
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{other->sha256_hex});

  Status again = store.remove(info->sha256_hex);
  EXPECT_TRUE(again.ok());
  Status malformed = store.remove("..");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::invalid_parameter);
}

TEST_F(CodeStoreTest, RemoveTempFilesKeepsPackages) {
  CodeStore store(root_);
  auto info = store.put(known_zip());
  ASSERT_TRUE(info.ok());
  fs::create_directories(root_ / "trees" / ".tmp-abc123" / "pkg");
  write_file(root_ / "trees" / ".tmp-abc123" / "pkg" / "x", "partial");
  write_file(root_ / "zips" / ".tmp-def456", "partial");

  Status status = store.remove_temp_files();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(list_dir(root_ / "trees"), std::set<std::string>{info->sha256_hex});
  EXPECT_EQ(list_dir(root_ / "zips"), std::set<std::string>{info->sha256_hex + ".zip"});
  EXPECT_TRUE(store.contains(info->sha256_hex));
}

TEST_F(CodeStoreTest, EncryptedEntryRejected) {
  if (zip_encryption_method_supported(ZIP_EM_AES_256, 1) == 0) {
    GTEST_SKIP() << "this libzip build cannot encrypt";
  }
  CodeStore store(root_);
  ZipBuilder zip = builder();
  zip.file("secret.txt", "secret");
  ASSERT_EQ(zip_file_set_encryption(zip.archive(), 0, ZIP_EM_AES_256, "password"), 0);
  expect_rejected(store, zip.finish(), kInvalidZip);
}

}  // namespace
}  // namespace lambent::store
