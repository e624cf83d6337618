// A whole string as a number (query parameters, path ids, Last-Event-ID); nullopt unless every
// character is part of it.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace vigil::api {

template <typename T>
std::optional<T> parseNumber(std::string_view s) {
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace vigil::api
