#include "lambent/runtime/runtimes.h"

namespace lambent::runtime {

const std::vector<std::string_view>& aws_runtime_names() {
  static const std::vector<std::string_view> names = {
      "nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13",
      "nodejs24.x", "nodejs22.x", "java25",          "python3.10", "python3.11",
      "java21",     "ruby3.3",    "ruby3.4",         "ruby3.2",    "python3.8",
      "python3.9",  "java17",     "nodejs16.x",      "dotnet10",   "dotnet8",
      "java11",     "dotnet6",    "nodejs18.x",      "provided.al2", "java8.al2"};
  return names;
}

std::optional<RuntimeFamily> runtime_family(std::string_view runtime) {
  if (runtime.starts_with("python3.")) {
    for (auto name : aws_runtime_names()) {
      if (name == runtime) return RuntimeFamily::python;
    }
    return std::nullopt;
  }
  if (runtime.starts_with("nodejs")) {
    for (auto name : aws_runtime_names()) {
      if (name == runtime) return RuntimeFamily::nodejs;
    }
    return std::nullopt;
  }
  // "provided" (Amazon Linux 1) is deprecated on AWS but still runs existing functions.
  if (runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023") {
    return RuntimeFamily::provided;
  }
  return std::nullopt;
}

std::vector<std::string> runtime_command(RuntimeFamily family, const RuntimePaths& paths,
                                         const std::filesystem::path& task_root) {
  switch (family) {
    case RuntimeFamily::python:
      // -u: unbuffered output, so log lines reach the pipe before the response is posted.
      return {paths.python.string(), "-u", (paths.bootstraps / "python" / "bootstrap.py").string()};
    case RuntimeFamily::nodejs:
      return {paths.node.string(), (paths.bootstraps / "nodejs" / "bootstrap.mjs").string()};
    case RuntimeFamily::provided:
      return {(task_root / "bootstrap").string()};
  }
  return {};
}

std::vector<std::string> zygote_command(RuntimeFamily family, const RuntimePaths& paths) {
  if (family != RuntimeFamily::python) return {};
  return {paths.python.string(), "-u", (paths.bootstraps / "python" / "zygote.py").string()};
}

}  // namespace lambent::runtime
