#include "connectors/syslog/framer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vigil::connectors::syslog {
namespace {

// Feeds `stream` in chunks of `chunk` bytes and returns the frames.
std::vector<std::string> frame(Framer& framer, std::string_view stream, size_t chunk,
                               bool* ok = nullptr) {
  std::vector<std::string> out;
  bool good = true;
  for (size_t i = 0; i < stream.size(); i += chunk) {
    good = framer.feed(stream.substr(i, chunk), [&](std::string_view f) { out.emplace_back(f); }) && good;
  }
  framer.finish([&](std::string_view f) { out.emplace_back(f); });
  if (ok) *ok = good;
  return out;
}

TEST(Framer, SplitsLfFramedMessagesAcrossAnyChunking) {
  const std::string stream = "<13>one\n<13>two\r\n\n<13>three\n";
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    Framer framer(1024);
    EXPECT_EQ(frame(framer, stream, chunk), (std::vector<std::string>{"<13>one", "<13>two", "<13>three"}))
        << "chunk " << chunk;
  }
}

TEST(Framer, ReadsOctetCountedFramesAcrossAnyChunking) {
  const std::string stream = "7 <13>one9 <13>two\n\n10 <13>three\n";
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    Framer framer(1024);
    EXPECT_EQ(frame(framer, stream, chunk), (std::vector<std::string>{"<13>one", "<13>two", "<13>three"}))
        << "chunk " << chunk;
  }
}

TEST(Framer, TrimsRsyslogsTrailingLfInsideTheOctetCount) {
  Framer framer(1024);
  // rsyslog counts its template's LF: "112 <28>1 ...\n".
  EXPECT_EQ(frame(framer, "8 <13>one\n8 <13>two\n", 3), (std::vector<std::string>{"<13>one", "<13>two"}));
}

TEST(Framer, DetectsFramingPerMessage) {
  Framer framer(1024);
  EXPECT_EQ(frame(framer, "<13>lf\n7 <13>oct<13>lf2\n", 100),
            (std::vector<std::string>{"<13>lf", "<13>oct", "<13>lf2"}));
}

TEST(Framer, ReadsDigitsWithoutSpaceAsAnLfFramedMessage) {
  Framer framer(1024);
  EXPECT_EQ(frame(framer, "2024-01-10 no pri\n", 1), (std::vector<std::string>{"2024-01-10 no pri"}));
}

TEST(Framer, SkipsOversizeLfFrameAndResyncsAtNextLf) {
  Framer framer(16);
  const std::string stream = "<13>short\n" + std::string(100, 'x') + "\n<13>after\n";
  for (size_t chunk : {1u, 7u, 200u}) {
    Framer f(16);
    EXPECT_EQ(frame(f, stream, chunk), (std::vector<std::string>{"<13>short", "<13>after"}));
    EXPECT_EQ(f.oversizeFrames(), 1u);
    EXPECT_LE(f.buffered(), 16u);
  }
}

TEST(Framer, SkipsOversizeOctetCountedFrameExactly) {
  Framer framer(16);
  const std::string stream = "40 " + std::string(40, 'y') + "9 <13>after";
  EXPECT_EQ(frame(framer, stream, 5), (std::vector<std::string>{"<13>after"}));
  EXPECT_EQ(framer.oversizeFrames(), 1u);
}

TEST(Framer, ReportsAbsurdOctetCountAsBroken) {
  Framer framer(1024);
  bool ok = true;
  frame(framer, "999999999 <13>x", 4, &ok);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(framer.broken());
  Framer ten_digits(1 << 24);
  EXPECT_FALSE(ten_digits.feed("1234567890 x", [](std::string_view) {}));
}

TEST(Framer, DeliversFinalLfMessageWithoutLfAtEndOfStream) {
  Framer framer(1024);
  EXPECT_EQ(frame(framer, "<13>a\n<13>no newline", 4), (std::vector<std::string>{"<13>a", "<13>no newline"}));
}

TEST(Framer, CountsTruncatedOctetFrameAtEndOfStream) {
  Framer framer(1024);
  EXPECT_TRUE(frame(framer, "20 <13>short", 3).empty());
  EXPECT_EQ(framer.truncatedFrames(), 1u);
}

TEST(Framer, SurvivesGarbageWithoutWedging) {
  Framer framer(64);
  std::string garbage;
  for (int i = 0; i < 5000; ++i) {
    garbage.push_back(static_cast<char>((i * 7919) % 256));
  }
  garbage += "\n<13>alive\n";
  size_t frames = 0;
  bool ok = true;
  for (size_t i = 0; i < garbage.size() && ok; i += 13) {
    ok = framer.feed(std::string_view(garbage).substr(i, 13), [&](std::string_view f) {
      ++frames;
      EXPECT_LE(f.size(), 64u);
    });
    EXPECT_LE(framer.buffered(), 64u);
  }
  // Either the stream was judged broken (absurd count) or it resynced and saw the last line.
  EXPECT_TRUE(!ok || frames >= 1);
}

TEST(Framer, EmitsZeroCopyViewsForWholeFramesInOneChunk) {
  Framer framer(1024);
  const std::string chunk = "<13>a\n<13>b\n";
  std::vector<const char*> starts;
  framer.feed(chunk, [&](std::string_view f) { starts.push_back(f.data()); });
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0], chunk.data());
  EXPECT_EQ(starts[1], chunk.data() + 6);
}

}  // namespace
}  // namespace vigil::connectors::syslog
