// Status and Result: how errors cross every boundary in vigil (config, I/O, store, connectors,
// rule compilation). Exceptions from libraries are caught in the adapter that called them and
// turned into a Status; they never cross a seam or a thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace vigil {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,    // bad input: config, rule file, request body
    kNotFound,
    kAlreadyExists,
    kFailedPrecondition, // e.g. an invalid incident transition
    kResourceExhausted,  // a queue or limit is full
    kUnavailable,        // try again later (shutting down, broker down)
    kIoError,
    kCorruption,
    kInternal,
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status notFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status alreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status failedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status resourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status ioError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string toString() const;
  // Swallows the status on purpose; greppable, like RocksDB's PermitUncheckedError().
  void ignore() const {}

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view codeName(Status::Code code);

template <typename T>
using Result = tl::expected<T, Status>;

inline tl::unexpected<Status> fail(Status status) { return tl::unexpected<Status>(std::move(status)); }

}  // namespace vigil
