#include "lambent/services/apigateway/stage_variables.h"

#include <fmt/format.h>

#include <string_view>

namespace lambent::services::apigateway {

namespace {

constexpr std::string_view kReferenceStart = "${stageVariables.";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_plain_name(std::string_view text, std::size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  for (char c : text) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

// Copies `text` with each ${stageVariables.NAME} replaced by the variable's value.
Result<std::string> substitute(std::string_view text,
                               const std::map<std::string, std::string>& variables) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t start = text.find(kReferenceStart, at);
    if (start == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, start - at));
    std::size_t name_start = start + kReferenceStart.size();
    std::size_t end = text.find('}', name_start);
    if (end == std::string_view::npos) {
      // The control plane accepts only complete references. Copy the rest unchanged so that
      // the name check below rejects it.
      out.append(text.substr(start));
      break;
    }
    std::string name(text.substr(name_start, end - name_start));
    auto it = variables.find(name);
    if (it == variables.end()) {
      return make_error(Errc::not_found,
                        fmt::format("stage variable {} is not set on this stage", name));
    }
    out.append(it->second);
    at = end + 1;
  }
  return out;
}

}  // namespace

Result<LambdaTarget> resolve_stage_variables(const LambdaTarget& target,
                                             const std::map<std::string, std::string>& variables) {
  if (!target.uses_stage_variables) return target;
  auto name = substitute(target.function_name, variables);
  if (!name) return std::move(name).error();
  std::string combined = std::move(*name);
  if (target.qualifier) {
    auto qualifier = substitute(*target.qualifier, variables);
    if (!qualifier) return std::move(qualifier).error();
    combined += ':';
    combined += *qualifier;
  }

  // The resolved text takes the place of FUNCTION_NAME[:QUALIFIER] in a function ARN.
  LambdaTarget resolved;
  std::size_t colon = combined.find(':');
  std::string_view function_name = std::string_view(combined).substr(0, colon);
  if (!is_plain_name(function_name, 64)) {
    return make_error(Errc::invalid_parameter,
                      fmt::format("resolved function name {} is not a valid function name",
                                  combined));
  }
  resolved.function_name = std::string(function_name);
  if (colon != std::string::npos) {
    std::string_view qualifier = std::string_view(combined).substr(colon + 1);
    if (qualifier != "$LATEST" && !is_plain_name(qualifier, 128)) {
      return make_error(Errc::invalid_parameter,
                        fmt::format("resolved function {} has an invalid version or alias",
                                    combined));
    }
    resolved.qualifier = std::string(qualifier);
  }
  return resolved;
}

}  // namespace lambent::services::apigateway
