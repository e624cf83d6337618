// CompactString: an immutable-in-place string that costs one pointer, and nothing more while it
// is empty. For the CI fields that most CIs leave empty (display name, assignment group,
// location): a std::string is 32 bytes even then, which at a million CIs is 32 MB per field.
// The text lives in one heap block, its length first.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace vigil::cmdb {

class CompactString {
 public:
  CompactString() = default;
  CompactString(std::string_view text) { assign(text); }           // NOLINT: implicit, like std::string
  CompactString(const std::string& text) { assign(text); }         // NOLINT
  CompactString(const char* text) { assign(std::string_view(text)); }  // NOLINT
  CompactString(const CompactString& other) { assign(other.view()); }
  CompactString(CompactString&&) noexcept = default;
  CompactString& operator=(const CompactString& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  CompactString& operator=(CompactString&&) noexcept = default;

  std::string_view view() const {
    if (!block_) return {};
    uint32_t size = 0;
    std::memcpy(&size, block_.get(), sizeof size);
    return {block_.get() + sizeof size, size};
  }
  operator std::string_view() const { return view(); }  // NOLINT: reads like a std::string
  std::string str() const { return std::string(view()); }
  bool empty() const { return !block_; }
  size_t size() const { return view().size(); }

  // With a literal, a std::string, a string_view or another CompactString. A template, so that
  // it is an exact match and never ambiguous with string_view's own operator.
  template <typename T>
    requires std::is_convertible_v<const T&, std::string_view>
  friend bool operator==(const CompactString& a, const T& b) {
    return a.view() == std::string_view(b);
  }
  friend std::ostream& operator<<(std::ostream& out, const CompactString& s) { return out << s.view(); }

 private:
  void assign(std::string_view text) {
    if (text.empty()) {
      block_.reset();
      return;
    }
    const auto size = static_cast<uint32_t>(text.size());
    block_ = std::make_unique_for_overwrite<char[]>(sizeof size + size);
    std::memcpy(block_.get(), &size, sizeof size);
    std::memcpy(block_.get() + sizeof size, text.data(), size);
  }

  std::unique_ptr<char[]> block_;
};

}  // namespace vigil::cmdb
