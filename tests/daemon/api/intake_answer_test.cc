#include "daemon/api/intake_answer.h"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vigil::api {
namespace {

// What postEvents answered before: the same bytes, so no client sees a difference.
std::string viaNlohmann(size_t count, uint64_t first_id) {
  nlohmann::json answer = {{"accepted", count}};
  if (first_id != 0 && count > 0) {
    nlohmann::json ids = nlohmann::json::array();
    for (size_t i = 0; i < count; ++i) ids.push_back(std::to_string(first_id + i));
    answer["ids"] = std::move(ids);
  }
  return answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(IntakeAnswer, SameBytesAsTheJsonItReplaces) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{1000}}) {
    for (uint64_t first : {uint64_t{0}, uint64_t{1}, uint64_t{99}, uint64_t{123456789012345}}) {
      EXPECT_EQ(intakeAnswerBody(count, first), viaNlohmann(count, first)) << count << " from " << first;
    }
  }
}

TEST(IntakeAnswer, NoIdsWithoutVerdictTracking) {
  EXPECT_EQ(intakeAnswerBody(3, 0), R"({"accepted":3})");
  EXPECT_EQ(intakeAnswerBody(0, 0), R"({"accepted":0})");
}

TEST(IntakeAnswer, LargestIdsAreWrittenInFull) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(intakeAnswerBody(2, max - 1), viaNlohmann(2, max - 1));
  EXPECT_EQ(intakeAnswerBody(1, max), R"({"accepted":1,"ids":["18446744073709551615"]})");
}

TEST(IntakeAnswer, ParsesAsTheDocumentedObject) {
  const auto parsed = nlohmann::json::parse(intakeAnswerBody(3, 40));
  EXPECT_EQ(parsed["accepted"], 3);
  EXPECT_EQ(parsed["ids"], nlohmann::json::array({"40", "41", "42"}));
}

}  // namespace
}  // namespace vigil::api
