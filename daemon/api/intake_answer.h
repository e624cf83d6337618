// The body of POST /api/v1/events' 202 answer, {"accepted":N,"ids":["ID",...]}, written straight
// into a string: as a nlohmann::json it was a thousand string nodes per batch of a thousand,
// built on the io thread and dumped and destroyed on the commit thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil::api {

// `first_id` 0: no ids (verdict tracking off), {"accepted":N}. Byte for byte what
// nlohmann::json{{"accepted", count}, {"ids", [...]}}.dump() wrote.
std::string intakeAnswerBody(size_t count, uint64_t first_id);

}  // namespace vigil::api
