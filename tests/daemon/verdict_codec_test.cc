// The verdict record's binary layout (daemon/verdicts/verdict.cc): the encoder that measures a
// record and writes it in place must give the bytes the field-by-field encoder gave, so chunks
// stored before decode unchanged. The reference below is that former encoder.
#include <gtest/gtest.h>

#include "daemon/time_util.h"
#include "daemon/verdicts/verdict.h"

namespace vigil::verdicts {
namespace {

void referenceVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void referenceString(std::string& out, std::string_view s) {
  referenceVarint(out, s.size());
  out.append(s);
}
uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// Version 1 record, as the former encodeRef wrote it.
std::string referenceRecord(const VerdictRecord& r) {
  std::string out;
  out.push_back(1);
  out.push_back(static_cast<char>(r.verdict.reason));
  referenceVarint(out, r.event_id);
  referenceVarint(out, zigzag(toUnixMillis(r.at)));
  referenceVarint(out, zigzag(toUnixMillis(r.event_time)));
  referenceVarint(out, r.verdict.incident);
  for (std::string_view s : {std::string_view(r.ci), std::string_view(r.host), std::string_view(r.verdict.rule),
                             std::string_view(r.verdict.key), std::string_view(r.verdict.window),
                             std::string_view(r.verdict.detail)}) {
    referenceString(out, s);
  }
  return out;
}

// The former appendToChunk: a 0x81 byte, then each record prefixed by its length.
std::string referenceChunk(const std::vector<VerdictRecord>& records) {
  std::string chunk(1, static_cast<char>(0x81));
  for (const auto& r : records) referenceString(chunk, referenceRecord(r));
  return chunk;
}

std::vector<VerdictRecord> sampleRecords() {
  std::vector<VerdictRecord> out;
  const std::vector<uint64_t> ids = {1, 127, 128, 16383, 16384, 1'234'567'890, ~uint64_t{0}};
  // Times within TimePoint's range (int64 nanoseconds: about 1678 to 2262).
  const std::vector<int64_t> times = {0, 1, -1, 1'800'000'000'123, -2'000'000'000'000, 8'000'000'000'000};
  for (size_t i = 0; i < ids.size() * times.size(); ++i) {
    VerdictRecord r;
    r.event_id = ids[i % ids.size()];
    r.at = fromUnixMillis(times[i % times.size()]);
    r.event_time = fromUnixMillis(times[(i + 1) % times.size()]);
    r.ci = i % 3 == 0 ? "" : "sw" + std::to_string(i);
    r.host = std::string(i * 7, 'h');  // crosses the one-byte length at 128
    r.verdict.reason = static_cast<Reason>(i % kReasonCount);
    r.verdict.rule = i % 2 ? "rule-" + std::to_string(i) : "";
    r.verdict.key = std::string("key\0with nul", 12);
    r.verdict.window = i % 5 == 0 ? "mw-1" : "";
    r.verdict.detail = std::string(i * 40, static_cast<char>(0x80 + i % 64));
    r.verdict.incident = ids[(i + 3) % ids.size()];
    out.push_back(std::move(r));
  }
  return out;
}

void expectSame(const VerdictRecord& got, const VerdictRecord& want) {
  EXPECT_EQ(got.event_id, want.event_id);
  EXPECT_EQ(got.at, want.at);
  EXPECT_EQ(got.event_time, want.event_time);
  EXPECT_EQ(got.ci, want.ci);
  EXPECT_EQ(got.host, want.host);
  EXPECT_EQ(got.verdict.reason, want.verdict.reason);
  EXPECT_EQ(got.verdict.rule, want.verdict.rule);
  EXPECT_EQ(got.verdict.key, want.verdict.key);
  EXPECT_EQ(got.verdict.window, want.verdict.window);
  EXPECT_EQ(got.verdict.detail, want.verdict.detail);
  EXPECT_EQ(got.verdict.incident, want.verdict.incident);
}

TEST(VerdictCodec, ARecordIsTheBytesOfTheFormerEncoderAndDecodesBack) {
  for (const auto& r : sampleRecords()) {
    std::string got = "leftover from the previous record";
    encode(r, got);
    EXPECT_EQ(got, referenceRecord(r)) << r.event_id;
    VerdictRecord back;
    ASSERT_TRUE(decode(got, back));
    expectSame(back, r);
  }
}

TEST(VerdictCodec, AChunkIsTheBytesOfTheFormerEncoderAndDecodesInOrder) {
  const auto records = sampleRecords();
  std::string chunk;
  for (const auto& r : records) {
    appendToChunk({.event_id = r.event_id, .at = r.at, .event_time = r.event_time, .ci = r.ci, .host = r.host,
                   .verdict = r.verdict},
                  chunk);
  }
  EXPECT_EQ(chunk, referenceChunk(records));
  size_t i = 0;
  ASSERT_TRUE(forEachInChunk(chunk, [&](VerdictRecord& r) {
    expectSame(r, records.at(i++));
    return true;
  }));
  EXPECT_EQ(i, records.size());
}

// Bytes as stored by earlier versions: a lone record (before chunks) and a chunk of two.
TEST(VerdictCodec, StoredValuesOfEarlierVersionsStillDecode) {
  // v1 record: reason held (6), id 300, at 1 ms, event_time -1 ms, incident 0, ci "sw1",
  // host "h", rule "", key "k", window "", detail "threshold 1/3".
  const std::string single("\x01\x06\xac\x02\x02\x01\x00\x03sw1\x01h\x00\x01k\x00\x0dthreshold 1/3", 31);
  VerdictRecord r;
  ASSERT_TRUE(decode(single, r));
  EXPECT_EQ(r.verdict.reason, Reason::kHeld);
  EXPECT_EQ(r.event_id, 300u);
  EXPECT_EQ(toUnixMillis(r.at), 1);
  EXPECT_EQ(toUnixMillis(r.event_time), -1);
  EXPECT_EQ(r.ci, "sw1");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.verdict.key, "k");
  EXPECT_EQ(r.verdict.detail, "threshold 1/3");
  size_t visited = 0;
  EXPECT_TRUE(forEachInChunk(single, [&](VerdictRecord&) { return ++visited, true; }));
  EXPECT_EQ(visited, 1u);

  const std::string chunk = std::string("\x81\x1f", 2) + single + std::string("\x0c\x01\x01\x05\x00\x00\x07\x00\x00\x00\x00\x00\x00", 13);
  std::vector<uint64_t> ids;
  ASSERT_TRUE(forEachInChunk(chunk, [&](VerdictRecord& x) {
    ids.push_back(x.event_id);
    return true;
  }));
  EXPECT_EQ(ids, (std::vector<uint64_t>{300, 5}));
  EXPECT_FALSE(forEachInChunk(chunk.substr(0, chunk.size() - 1), [](VerdictRecord&) { return true; }));
}

}  // namespace
}  // namespace vigil::verdicts
