#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Maps Lambda runtime identifiers to the interpreters installed on this host.
namespace lambent::runtime {

enum class RuntimeFamily { python, nodejs, provided };

// The way a new environment starts: forked from a zygote (Python only, so other runtimes
// exec), or by exec'ing the interpreter.
enum class ColdStart { zygote, exec };

struct RuntimePaths {
  std::filesystem::path python = "/usr/bin/python3";
  std::filesystem::path node = "/usr/bin/node";
  std::filesystem::path bootstraps;  // folder holding python/bootstrap.py, nodejs/bootstrap.mjs
};

// The runtimes AWS accepts in CreateFunction, in the order AWS lists them in its error message.
const std::vector<std::string_view>& aws_runtime_names();

// Returns the family for a runtime Lambent can run, or nullopt (java, dotnet, ruby, unknown).
std::optional<RuntimeFamily> runtime_family(std::string_view runtime);

// The argv that starts a runtime in an environment whose code is mounted at task_root.
std::vector<std::string> runtime_command(RuntimeFamily family, const RuntimePaths& paths,
                                         const std::filesystem::path& task_root);

// The argv of the zygote that forks environments of `family` (bootstraps on the host's paths),
// or an empty vector when the family has no zygote.
std::vector<std::string> zygote_command(RuntimeFamily family, const RuntimePaths& paths);

}  // namespace lambent::runtime
