#include "connectors/syslog/framer.h"

#include <algorithm>
#include <cstring>

#include "connectors/syslog/parse_util.h"

namespace vigil::connectors::syslog {

Framer::Framer(size_t max_message_size) : max_message_size_(std::max<size_t>(max_message_size, 1)) {}

void Framer::emit(std::string_view frame, FrameCallback& on_frame) {
  frame = detail::trimTrailing(frame);
  if (!frame.empty()) {
    on_frame(frame);
  }
}

bool Framer::feed(std::string_view data, FrameCallback on_frame) {
  size_t p = 0;
  const size_t n = data.size();
  while (p < n) {
    switch (state_) {
      case State::kBroken:
        return false;
      case State::kStart: {
        const char c = data[p];
        if (c == '\n' || c == '\r' || c == '\0') {
          ++p;  // blank lines and stray terminators between frames
        } else if (detail::isDigit(c)) {
          state_ = State::kCount;
          count_ = 0;
          count_digits_ = 0;
        } else {
          state_ = State::kLf;
        }
        break;
      }
      case State::kCount: {
        while (p < n && detail::isDigit(data[p])) {
          if (count_digits_ == 9) {
            state_ = State::kBroken;
            return false;
          }
          digits_[count_digits_++] = data[p];
          count_ = count_ * 10 + static_cast<uint64_t>(data[p] - '0');
          ++p;
        }
        if (p == n) {
          break;  // more digits may follow
        }
        if (data[p] != ' ') {
          // Not an octet count: an LF-framed message that starts with digits.
          pending_.assign(digits_, count_digits_);
          state_ = State::kLf;
          break;
        }
        ++p;
        if (count_ > max_message_size_ * kAbsurdFactor) {
          state_ = State::kBroken;
          return false;
        }
        if (count_ > max_message_size_) {
          ++oversize_frames_;
          state_ = State::kSkipCount;
        } else {
          state_ = count_ == 0 ? State::kStart : State::kCounted;
        }
        break;
      }
      case State::kCounted: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(count_, n - p));
        if (pending_.empty() && take == count_) {
          emit(data.substr(p, take), on_frame);  // whole frame in this chunk: no copy
        } else {
          pending_.append(data.data() + p, take);
          if (take == count_) {
            emit(pending_, on_frame);
            pending_.clear();
          }
        }
        p += take;
        count_ -= take;
        if (count_ == 0) {
          state_ = State::kStart;
        }
        break;
      }
      case State::kLf: {
        const void* lf = std::memchr(data.data() + p, '\n', n - p);
        const size_t end = lf ? static_cast<size_t>(static_cast<const char*>(lf) - data.data()) : n;
        if (pending_.size() + (end - p) > max_message_size_) {
          ++oversize_frames_;
          pending_.clear();
          state_ = State::kSkipLf;
          break;  // kSkipLf finds the same LF
        }
        if (!lf) {
          pending_.append(data.data() + p, n - p);
          p = n;
        } else if (pending_.empty()) {
          emit(data.substr(p, end - p), on_frame);
          p = end + 1;
          state_ = State::kStart;
        } else {
          pending_.append(data.data() + p, end - p);
          emit(pending_, on_frame);
          pending_.clear();
          p = end + 1;
          state_ = State::kStart;
        }
        break;
      }
      case State::kSkipLf: {
        const void* lf = std::memchr(data.data() + p, '\n', n - p);
        if (lf) {
          p = static_cast<size_t>(static_cast<const char*>(lf) - data.data()) + 1;
          state_ = State::kStart;
        } else {
          p = n;
        }
        break;
      }
      case State::kSkipCount: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(count_, n - p));
        p += take;
        count_ -= take;
        if (count_ == 0) {
          state_ = State::kStart;
        }
        break;
      }
    }
  }
  return state_ != State::kBroken;
}

void Framer::finish(FrameCallback on_frame) {
  if (state_ == State::kLf && !pending_.empty()) {
    emit(pending_, on_frame);
  } else if (state_ == State::kCount && count_digits_ > 0) {
    emit(std::string_view(digits_, count_digits_), on_frame);  // a bare number, LF missing
  } else if (state_ == State::kCounted) {
    ++truncated_frames_;
  }
  pending_.clear();
  state_ = state_ == State::kBroken ? State::kBroken : State::kStart;
}

}  // namespace vigil::connectors::syslog
