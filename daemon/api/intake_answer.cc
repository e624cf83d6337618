#include "daemon/api/intake_answer.h"

#include <charconv>

namespace vigil::api {

std::string intakeAnswerBody(size_t count, uint64_t first_id) {
  char digits[24];
  auto append_number = [&](std::string& out, uint64_t n) {
    const auto end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
    out.append(digits, end);
  };
  std::string out = "{\"accepted\":";
  append_number(out, count);
  if (first_id != 0 && count > 0) {
    out.reserve(out.size() + 9 + count * 23);  // "NNN..", per id
    out += ",\"ids\":[";
    for (size_t i = 0; i < count; ++i) {
      if (i != 0) out += ',';
      out += '"';
      append_number(out, first_id + i);
      out += '"';
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace vigil::api
