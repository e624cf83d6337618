// Splits a TCP byte stream into syslog messages (RFC 6587), detecting the framing per message
// the way rsyslog does:
//  - a message starting with a digit is octet-counted: "LEN SP MSG" (if the digits are not
//    followed by SP, the message is read as LF-framed instead, digits included);
//  - anything else is LF-terminated ("non-transparent framing").
// Trailing LF/CR/NUL inside a frame are trimmed (rsyslog's octet count includes its template's
// LF); empty frames are skipped.
// Limits: a frame longer than max_message_size is counted in oversizeFrames() and skipped (an
// octet-counted one exactly, an LF one up to its LF). An octet count above kAbsurdFactor times
// the limit (or more than 9 digits) means the peer is not speaking syslog: feed() returns false
// and the connection should be closed. The internal buffer never exceeds max_message_size.
// Thread-safety: none; one Framer per connection, used from that connection's strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vigil::connectors::syslog {

// A non-owning, non-allocating reference to a callable `void(std::string_view)`.
class FrameCallback {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FrameCallback>>>
  FrameCallback(F&& f)  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::string_view frame) { (*static_cast<std::remove_reference_t<F>*>(o))(frame); }) {}
  void operator()(std::string_view frame) const { call_(object_, frame); }

 private:
  void* object_;
  void (*call_)(void*, std::string_view);
};

class Framer {
 public:
  static constexpr uint64_t kAbsurdFactor = 64;

  explicit Framer(size_t max_message_size);

  // Consumes all of `data`, calling `on_frame` for each complete message. A frame's view is valid
  // only during the call. Returns false once the stream is broken (see above); after that every
  // call returns false and consumes nothing.
  bool feed(std::string_view data, FrameCallback on_frame);

  // End of stream: delivers a final LF-framed message that had no LF (rsyslog does the same).
  // A partial octet-counted frame is dropped and counted in truncatedFrames().
  void finish(FrameCallback on_frame);

  uint64_t oversizeFrames() const { return oversize_frames_; }
  uint64_t truncatedFrames() const { return truncated_frames_; }
  bool broken() const { return state_ == State::kBroken; }
  // Bytes held for an incomplete frame.
  size_t buffered() const { return pending_.size(); }

 private:
  enum class State : uint8_t { kStart, kCount, kCounted, kLf, kSkipLf, kSkipCount, kBroken };

  void emit(std::string_view frame, FrameCallback& on_frame);

  const size_t max_message_size_;
  State state_ = State::kStart;
  uint64_t count_ = 0;      // octet count being read / bytes still expected
  size_t count_digits_ = 0;
  char digits_[10] = {};    // the digits read in kCount, restored when the frame is LF-framed
  std::string pending_;     // a frame split across feeds; never above max_message_size_
  uint64_t oversize_frames_ = 0;
  uint64_t truncated_frames_ = 0;
};

}  // namespace vigil::connectors::syslog
