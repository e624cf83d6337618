// libFuzzer target: the RFC 6587 Framer on arbitrary byte streams.
// The first input byte picks max_message_size and the chunking; the rest is the stream. Checks,
// besides the sanitizers: the frames do not depend on how the stream is cut into reads; no frame
// exceeds max_message_size; the buffer never does either; a broken framer stays broken.
// Build and run with scripts/fuzz-syslog.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/syslog/framer.h"

namespace {

using vigil::connectors::syslog::Framer;

struct Outcome {
  std::vector<std::string> frames;
  bool broken = false;
  uint64_t oversize = 0;
  uint64_t truncated = 0;
};

// Feeds `stream` in chunks of the sizes cycled from `cuts` (1..16 bytes; whole if empty).
Outcome run(std::string_view stream, size_t max_message_size, std::string_view cuts) {
  Outcome out;
  Framer framer(max_message_size);
  auto on_frame = [&](std::string_view frame) {
    if (frame.empty() || frame.size() > max_message_size) {
      std::abort();
    }
    out.frames.emplace_back(frame);
  };
  size_t i = 0;
  size_t cut = 0;
  while (i < stream.size() && !out.broken) {
    const size_t n = cuts.empty() ? stream.size()
                                  : 1 + static_cast<unsigned char>(cuts[cut++ % cuts.size()]) % 16;
    const std::string_view chunk = stream.substr(i, n);
    i += chunk.size();
    out.broken = !framer.feed(chunk, on_frame);
    if (framer.buffered() > max_message_size) {
      std::abort();
    }
  }
  if (out.broken) {
    if (framer.feed("1 x\n", on_frame) || !framer.broken()) {
      std::abort();  // broken must be sticky
    }
  } else {
    framer.finish(on_frame);
  }
  out.oversize = framer.oversizeFrames();
  out.truncated = framer.truncatedFrames();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  // Small limits make the oversize paths reachable; 480 is the smallest the config allows.
  static constexpr size_t kLimits[] = {480, 512, 1024, 64 * 1024};
  const size_t max_message_size = kLimits[data[0] % 4];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string_view cuts = stream.substr(0, std::min<size_t>(stream.size(), 8));
  const Outcome whole = run(stream, max_message_size, {});
  const Outcome chunked = run(stream, max_message_size, cuts);
  const Outcome bytewise = run(stream, max_message_size, std::string_view("\0", 1));
  for (const Outcome* other : {&chunked, &bytewise}) {
    if (other->frames != whole.frames || other->broken != whole.broken ||
        other->oversize != whole.oversize || other->truncated != whole.truncated) {
      std::abort();  // framing must not depend on how reads split the stream
    }
  }
  return 0;
}
