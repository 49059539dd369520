// The one error model of vouch: every fallible operation returns Result<T>, which holds
// either a value or an Error naming what failed and where. Exceptions never cross a
// module's public API.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace vouch {

enum class ErrorCode {
  kInvalidInput,   // malformed or unsupported input (exit code 2)
  kVerification,   // a signature, digest, proof or policy check failed (exit code 1)
  kIo,             // file system or network failure (exit code 2)
  kNotFound,       // a named thing does not exist (exit code 2)
  kInternal,       // a bug or a library failure that should not happen (exit code 2)
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes the message with the context in which it happened: "bundle: " + "...".
  Error& context(std::string_view where) {
    message = fmt::format("{}: {}", where, message);
    return *this;
  }
};

inline Error invalid_input(std::string message) { return {ErrorCode::kInvalidInput, std::move(message)}; }
inline Error verification_failed(std::string message) { return {ErrorCode::kVerification, std::move(message)}; }
inline Error io_error(std::string message) { return {ErrorCode::kIo, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Error internal_error(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

inline Status ok_status() { return {}; }

}  // namespace vouch

#define VOUCH_CONCAT_INNER(a, b) a##b
#define VOUCH_CONCAT(a, b) VOUCH_CONCAT_INNER(a, b)

// Evaluates a Status expression and returns its error from the enclosing function.
#define VOUCH_RETURN_IF_ERROR(expr)                      \
  do {                                                   \
    auto vouch_status_ = (expr);                         \
    if (!vouch_status_.ok()) return std::move(vouch_status_).error(); \
  } while (0)

// Evaluates a Result<T> expression; on error returns it, otherwise binds the value to lhs.
#define VOUCH_ASSIGN_OR_RETURN(lhs, expr) \
  VOUCH_ASSIGN_OR_RETURN_IMPL(VOUCH_CONCAT(vouch_result_, __LINE__), lhs, expr)
#define VOUCH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  lhs = std::move(tmp).value()
