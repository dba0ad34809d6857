// Throughput and memory of streamed request and response bodies: uploads and downloads of
// --size-mb MiB (default 1024) through an http::Server on loopback, in this process. The server
// runs on its own io_context thread; the client is a blocking socket on the main thread, so the
// two use the machine's two cores. For each mode it prints MB/s (10^6 bytes per second), how far
// the process's peak RSS rose above its RSS before the transfer, and MB per CPU second of the
// server thread, which a busy machine disturbs less than MB/s.
//
//   upload, Content-Length      body read through Request::body_reader in 64 KiB pieces
//   upload, chunked             the same with chunked transfer coding, 64 KiB chunks
//   upload, aws-chunked CRC32   STREAMING-UNSIGNED-PAYLOAD-TRAILER decoded by AwsChunkedReader,
//                               with an x-amz-checksum-crc32 trailer verified
//   upload, aws-chunked signed  STREAMING-AWS4-HMAC-SHA256-PAYLOAD, every chunk signature verified
//   download, Content-Length    a BodySource of 64 KiB pieces
//   download, chunked           the same without a length
//
// The server only counts what it reads and sends bytes from one buffer, so the figures measure
// the HTTP path, not a disk. Run it through `bench/run.sh stream`.
#include "lambent/base/crypto.h"
#include "lambent/http/aws_chunked.h"
#include "lambent/http/server.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace lambent;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPieceBytes = 64 * 1024;

// Signing context of the signed aws-chunked mode. The server trusts it as if a verified
// Authorization header had produced it.
http::ChunkSigning bench_signing() {
  auto view = [](const Sha256Digest& digest) {
    return std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
  };
  Sha256Digest key = hmac_sha256("AWS4bench-secret", "20260101");
  key = hmac_sha256(view(key), "us-east-1");
  key = hmac_sha256(view(key), "s3");
  key = hmac_sha256(view(key), "aws4_request");
  return {key, "20260101T000000Z", "20260101/us-east-1/s3/aws4_request", std::string(64, '0')};
}

// Sends `size` bytes from one buffer, in pieces, until the body is complete.
class RepeatSource final : public http::BodySource {
 public:
  explicit RepeatSource(std::uint64_t size) : remaining_(size), piece_(kPieceBytes, 'd') {}
  Task<Result<std::string_view>> next() override {
    std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, kPieceBytes));
    remaining_ -= count;
    co_return std::string_view(piece_.data(), count);
  }

 private:
  std::uint64_t remaining_;
  std::string piece_;
};

// Streams every body. /upload counts the body, decoding it when Content-Encoding is aws-chunked,
// and returns the count. /download?size=N[&chunked=1] sends N bytes.
class BenchHandler : public http::Handler {
 public:
  HeadDecision check_head(const http::Request&, std::optional<std::uint64_t>) override {
    HeadDecision decision;
    decision.stream_body = true;
    decision.body_limit = std::uint64_t{1} << 40;
    return decision;
  }

  http::Response body_too_large(const http::Request&, std::uint64_t) override {
    http::Response response;
    response.status = 413;
    return response;
  }

  Task<http::Response> handle(http::Request& request) override {
    http::Response response;
    if (request.path() == "/download") {
      auto size = std::stoull(http::query_param(request.query(), "size").value);
      response.body_source = std::make_shared<RepeatSource>(size);
      if (!http::query_param(request.query(), "chunked").found) response.content_length = size;
      co_return response;
    }
    std::optional<http::AwsChunkedReader> chunked;
    http::BodyReader* reader = request.body_reader;
    if (request.header("content-encoding") == "aws-chunked") {
      std::optional<http::ChunkSigning> signing;
      if (request.header("x-amz-content-sha256") == http::kStreamingSignedPayload) {
        signing = bench_signing();
      }
      chunked.emplace(*reader, std::move(signing),
                      std::stoull(std::string(request.header("x-amz-decoded-content-length"))),
                      request.header("x-amz-trailer"));
      reader = &*chunked;
    }
    std::vector<char> piece(kPieceBytes);
    for (;;) {
      auto count = co_await reader->read(piece);
      if (!count) {
        response.status = 400;
        response.body = count.error().type + ": " + count.error().message;
        co_return response;
      }
      if (*count == 0) break;
    }
    response.body = std::to_string(reader->consumed());
    co_return response;
  }
};

long status_kib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

// Resets the peak RSS to the current RSS (Linux 4.0 and later) and returns the current RSS in
// KiB, or -1 when the kernel does not allow the reset.
long reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good() ? status_kib("VmRSS") : -1;
}

// A blocking loopback connection.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot connect to the bench server");
    }
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Reads up to and including `delimiter`.
  std::string read_until(std::string_view delimiter) {
    for (;;) {
      auto at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return out;
      }
      fill();
    }
  }

  // Reads and drops `size` bytes.
  void skip(std::uint64_t size) {
    while (size > 0) {
      if (buffer_.empty()) fill();
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size, buffer_.size()));
      buffer_.erase(0, take);
      size -= take;
    }
  }

  // Reads one response with a Content-Length body and returns the body.
  std::string read_response() {
    std::string head = read_until("\r\n\r\n");
    if (!head.starts_with("HTTP/1.1 200"))
      throw std::runtime_error("bench request failed: " + head);
    auto at = head.find("Content-Length: ");
    std::uint64_t length = at == std::string::npos ? 0 : std::stoull(head.substr(at + 16));
    while (buffer_.size() < length) fill();
    std::string body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return body;
  }

 private:
  void fill() {
    char chunk[kPieceBytes];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("the bench server closed the connection");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  int fd_;
  std::string buffer_;
};

enum class Mode { content_length, chunked, aws_unsigned, aws_signed };

// Sends an upload of `size` bytes in `mode` and waits for the server's count.
void upload(Connection& connection, std::uint64_t size, Mode mode) {
  const std::string piece(kPieceBytes, 'u');
  std::string head = "PUT /upload HTTP/1.1\r\nHost: bench\r\n";
  if (mode == Mode::content_length) {
    head += fmt::format("Content-Length: {}\r\n\r\n", size);
    connection.send(head);
    for (std::uint64_t left = size; left > 0;) {
      std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(left, kPieceBytes));
      connection.send(std::string_view(piece).substr(0, count));
      left -= count;
    }
  } else {
    head += "Transfer-Encoding: chunked\r\n";
    if (mode != Mode::chunked) {
      head += fmt::format("Content-Encoding: aws-chunked\r\nx-amz-decoded-content-length: {}\r\n",
                          size);
      head += mode == Mode::aws_signed
                  ? "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\n"
                  : "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n"
                    "x-amz-trailer: x-amz-checksum-crc32\r\n";
    }
    connection.send(head + "\r\n");
    const http::ChunkSigning signing = bench_signing();
    const std::string_view key(reinterpret_cast<const char*>(signing.signing_key.data()),
                               signing.signing_key.size());
    std::string previous = signing.seed_signature;
    // Every chunk has the same bytes, so the client hashes them once.
    const std::string piece_hash = to_hex(sha256(piece));
    const std::string empty_hash = to_hex(sha256(""));
    std::uint32_t crc = 0;
    std::string frame;
    auto sign = [&](std::string_view data_hash) {
      previous = to_hex(hmac_sha256(key, "AWS4-HMAC-SHA256-PAYLOAD\n" + signing.amz_date + "\n" +
                                             signing.scope + "\n" + previous + "\n" + empty_hash +
                                             "\n" + std::string(data_hash)));
      return ";chunk-signature=" + previous;
    };
    for (std::uint64_t left = size;;) {
      std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(left, kPieceBytes));
      std::string_view data = std::string_view(piece).substr(0, count);
      std::string inner = fmt::format("{:x}", count);
      if (mode == Mode::aws_signed) {
        inner += sign(count == kPieceBytes ? piece_hash : to_hex(sha256(data)));
      }
      inner += "\r\n";
      if (mode == Mode::aws_unsigned) crc = http::crc32(data, crc);
      if (count == 0) {
        if (mode == Mode::aws_unsigned) {
          std::string raw;
          for (int shift = 24; shift >= 0; shift -= 8) raw += static_cast<char>(crc >> shift);
          inner += "x-amz-checksum-crc32:" + base64_encode(raw) + "\r\n";
        }
        inner += "\r\n";
        // The aws-chunked body is itself sent in one HTTP chunk per piece.
        if (mode == Mode::chunked) {
          connection.send("0\r\n\r\n");
        } else {
          connection.send(fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", inner.size(), inner));
        }
        break;
      }
      // One send per chunk: small writes behind a large one would wait for the peer's ACK.
      frame.clear();
      if (mode == Mode::chunked) {
        frame += fmt::format("{:x}\r\n", count);
      } else {
        frame += fmt::format("{:x}\r\n", inner.size() + count + 2);
        frame += inner;
      }
      frame += data;
      frame += mode == Mode::chunked ? "\r\n" : "\r\n\r\n";
      connection.send(frame);
      left -= count;
    }
  }
  std::string counted = connection.read_response();
  if (counted != std::to_string(size)) {
    throw std::runtime_error("the server counted " + counted + " bytes, not " +
                             std::to_string(size));
  }
}

void download(Connection& connection, std::uint64_t size, bool chunked) {
  connection.send(fmt::format("GET /download?size={}{} HTTP/1.1\r\nHost: bench\r\n\r\n", size,
                              chunked ? "&chunked=1" : ""));
  std::string head = connection.read_until("\r\n\r\n");
  if (!chunked) {
    connection.skip(size);
    return;
  }
  std::uint64_t received = 0;
  for (;;) {
    std::uint64_t count = std::stoull(connection.read_until("\r\n"), nullptr, 16);
    if (count == 0) {
      connection.read_until("\r\n");
      break;
    }
    connection.skip(count + 2);
    received += count;
  }
  if (received != size) throw std::runtime_error("short chunked download");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Streamed body throughput and peak memory through Lambent's HTTP server"};
  std::uint64_t size_mb = 1024;
  app.add_option("--size-mb", size_mb, "MiB sent in each direction and mode")
      ->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);
  const std::uint64_t size = size_mb * 1024 * 1024;

  asio::io_context ctx;
  http::ServerOptions options;
  options.name = "stream-bench";
  http::Server server(ctx.get_executor(), options, std::make_shared<BenchHandler>());
  auto port = server.listen();
  if (!port) {
    std::cerr << port.error().message << "\n";
    return 1;
  }
  server.start();
  std::promise<void> stopped;
  std::thread thread([&] {
    ctx.run();
    stopped.set_value();
  });

  // CPU time of the server's thread alone, so figures taken on a busy machine can be compared.
  clockid_t server_clock;
  pthread_getcpuclockid(thread.native_handle(), &server_clock);
  auto server_cpu_seconds = [server_clock] {
    timespec now{};
    clock_gettime(server_clock, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  };

  struct Row {
    const char* name;
    std::function<void(Connection&)> run;
  };
  const std::vector<Row> rows = {
      {"upload, Content-Length", [&](Connection& c) { upload(c, size, Mode::content_length); }},
      {"upload, chunked", [&](Connection& c) { upload(c, size, Mode::chunked); }},
      {"upload, aws-chunked CRC32", [&](Connection& c) { upload(c, size, Mode::aws_unsigned); }},
      {"upload, aws-chunked signed", [&](Connection& c) { upload(c, size, Mode::aws_signed); }},
      {"download, Content-Length", [&](Connection& c) { download(c, size, false); }},
      {"download, chunked", [&](Connection& c) { download(c, size, true); }},
  };
  int status = 0;
  try {
    Connection connection(*port);
    fmt::print("{} MiB each way, one keep-alive connection, 64 KiB pieces\n", size_mb);
    fmt::print("{:<28} {:>8} {:>22} {:>24}\n", "mode", "MB/s", "peak RSS growth (KiB)",
               "MB per server CPU second");
    for (const auto& row : rows) {
      long baseline = reset_peak_rss();
      double cpu_before = server_cpu_seconds();
      auto begin = Clock::now();
      row.run(connection);
      double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
      double cpu = server_cpu_seconds() - cpu_before;
      long peak = status_kib("VmHWM");
      std::string growth = baseline < 0 ? "n/a" : std::to_string(peak - baseline);
      fmt::print("{:<28} {:>8.0f} {:>22} {:>24.0f}\n", row.name,
                 static_cast<double>(size) / seconds / 1e6, growth,
                 static_cast<double>(size) / cpu / 1e6);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << "stream_bench: " << e.what() << "\n";
    status = 1;
  }
  asio::post(ctx, [&server] { server.stop(); });
  stopped.get_future().wait();
  thread.join();
  return status;
}
