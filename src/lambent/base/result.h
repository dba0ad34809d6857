#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lambent {

// Error categories that a client or the environment can cause. Each maps to one AWS error shape
// and HTTP status at the protocol boundary; code below the boundary never picks a status.
enum class Errc {
  invalid_parameter,  // InvalidParameterValueException, 400
  validation,         // ValidationException, 400
  not_found,          // ResourceNotFoundException, 404
  conflict,           // ResourceConflictException, 409
  precondition_failed,  // PreconditionFailedException, 412 (stale RevisionId)
  too_large,          // RequestEntityTooLargeException, 413
  invalid_content,    // InvalidRequestContentException, 400
  throttled,          // TooManyRequestsException, 429
  unauthorized,       // signature and key failures, 403
  not_implemented,    // an operation Lambent does not support, 501
  io,                 // disk or OS failure, 500
  internal,           // ServiceException, 500
};

struct Error {
  Errc code;
  std::string message;
  // AWS error type name when it differs from the default for `code`
  // (for example "UnrecognizedClientException" for an unauthorized request).
  std::string type = {};
};

// A value or an Error. Outcomes that clients or the OS can cause travel as Result; bugs are
// assertions and exceptions only escape to a task root.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace lambent
