#include "daemon/status.h"

namespace vigil {

std::string_view codeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kAlreadyExists: return "already exists";
    case Status::Code::kFailedPrecondition: return "failed precondition";
    case Status::Code::kResourceExhausted: return "resource exhausted";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kIoError: return "I/O error";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (isOk()) {
    return "OK";
  }
  std::string out(codeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace vigil
