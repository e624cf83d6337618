#include "daemon/event_json.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil {

namespace {

using simdjson::ondemand::json_type;

Status jsonError(std::string_view where, simdjson::error_code code) {
  return Status::invalidArgument(std::string(where) + ": " + simdjson::error_message(code));
}

// A scalar of any JSON type as a string label value; objects and arrays as their raw JSON.
Status valueAsString(simdjson::ondemand::value value, std::string& out) {
  json_type type;
  if (auto e = value.type().get(type)) return jsonError("value", e);
  switch (type) {
    case json_type::string: {
      std::string_view s;
      if (auto e = value.get_string().get(s)) return jsonError("string", e);
      out.assign(s);
      return Status::ok();
    }
    case json_type::null:
      out.clear();
      return Status::ok();
    case json_type::object: {
      simdjson::ondemand::object o;
      std::string_view raw;
      if (auto e = value.get_object().get(o)) return jsonError("value", e);
      if (auto e = o.raw_json().get(raw)) return jsonError("value", e);
      out.assign(raw);
      return Status::ok();
    }
    case json_type::array: {
      simdjson::ondemand::array a;
      std::string_view raw;
      if (auto e = value.get_array().get(a)) return jsonError("value", e);
      if (auto e = a.raw_json().get(raw)) return jsonError("value", e);
      out.assign(raw);
      return Status::ok();
    }
    default: {
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                              raw.back() == '\t')) {
        raw.remove_suffix(1);
      }
      out.assign(raw);
      return Status::ok();
    }
  }
}

}  // namespace

Status EventDecoder::decodeObject(simdjson::ondemand::object object, std::string_view default_source,
                                  TimePoint received_at, Event& event) {
  event.received_at = received_at;
  std::string scratch;
  size_t labels = 0;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return jsonError("field name", e);
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value)) return jsonError(key, e);
    if (key == "labels") {
      simdjson::ondemand::object map;
      if (value.get_object().get(map)) return Status::invalidArgument("labels: expected an object");
      for (auto label : map) {
        std::string_view name;
        if (auto e = label.unescaped_key().get(name)) return jsonError("labels", e);
        simdjson::ondemand::value v;
        if (auto e = label.value().get(v)) return jsonError("labels", e);
        if (Status s = valueAsString(v, scratch); !s.isOk()) return s;
        if (++labels > limits_.max_labels) return Status::invalidArgument("too many labels");
        if (scratch.size() > limits_.max_field_bytes) {
          return Status::invalidArgument("labels." + std::string(name) + ": longer than " +
                                         std::to_string(limits_.max_field_bytes) + " bytes");
        }
        event.labels.set(name, scratch);
      }
      continue;
    }
    if (key == "time" || key == "timestamp") {
      json_type type;
      if (auto e = value.type().get(type)) return jsonError(key, e);
      if (type == json_type::number) {
        double seconds = 0;
        if (auto e = value.get_double().get(seconds)) return jsonError(key, e);
        // The clock counts nanoseconds in 64 bits (years about 1678..2262): beyond, it overflows.
        constexpr double kLimit = 9.2e9;
        if (!(seconds > -kLimit && seconds < kLimit)) {
          return Status::invalidArgument(std::string(key) + ": out of range");
        }
        event.occurred_at = fromUnixMillis(static_cast<int64_t>(seconds * 1000));
      } else {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return jsonError(key, e);
        auto t = parseRfc3339(s);
        if (!t) return Status::invalidArgument(std::string(key) + ": not an RFC 3339 time: '" + std::string(s) + "'");
        event.occurred_at = *t;
      }
      continue;
    }
    // The string fields are decoded straight into the event: one copy of their bytes.
    std::string* target = key == "host"      ? &event.host
                          : key == "ci"      ? &event.ci
                          : key == "source"  ? &event.source
                          : key == "type"    ? &event.type
                          : key == "message" ? &event.message
                                             : &scratch;
    if (Status s = valueAsString(value, *target); !s.isOk()) return s;
    if (target->size() > limits_.max_field_bytes) {
      return Status::invalidArgument(std::string(key) + ": longer than " +
                                     std::to_string(limits_.max_field_bytes) + " bytes");
    }
    if (target != &scratch) continue;
    if (key == "severity") {
      auto sev = parseSeverity(scratch);
      if (!sev) return Status::invalidArgument("severity: unknown value '" + scratch + "'");
      event.severity = *sev;
    } else if (key == "state") {
      auto st = parseEventState(scratch);
      if (!st) return Status::invalidArgument("state: expected problem or ok, got '" + scratch + "'");
      event.state = *st;
    } else {
      if (++labels > limits_.max_labels) return Status::invalidArgument("too many labels");
      event.labels.set(key, scratch);
    }
  }
  if (event.source.empty()) event.source.assign(default_source);
  if (event.host.empty() && event.ci.empty()) {
    return Status::invalidArgument("event has neither host nor ci");
  }
  return Status::ok();
}

Status EventDecoder::decode(std::string_view json, std::string_view default_source,
                            TimePoint received_at, std::vector<Event>& out) {
  if (json.empty()) return Status::invalidArgument("empty body: expected a JSON object or an array of objects");
  if (buffer_.size() < json.size()) {
    buffer_ = simdjson::padded_string(json.size() * 2);
  }
  std::memcpy(buffer_.data(), json.data(), json.size());
  simdjson::ondemand::document doc;
  if (auto e = parser_.iterate(buffer_.data(), json.size(), buffer_.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    return jsonError("document", e);
  }
  json_type type;
  if (auto e = doc.type().get(type)) return jsonError("document", e);
  const size_t first = out.size();
  auto rollback = [&](Status s) {
    out.resize(first);
    return s;
  };
  if (type == json_type::object) {
    simdjson::ondemand::object object;
    if (auto e = doc.get_object().get(object)) return jsonError("document", e);
    // Decoded in place: no move of the event into the vector.
    if (Status s = decodeObject(object, default_source, received_at, out.emplace_back()); !s.isOk()) {
      return rollback(s);
    }
  } else if (type == json_type::array) {
    simdjson::ondemand::array array;
    if (auto e = doc.get_array().get(array)) return jsonError("document", e);
    size_t index = 0;
    for (auto element : array) {
      simdjson::ondemand::object object;
      if (element.get_object().get(object)) {
        return rollback(Status::invalidArgument("element " + std::to_string(index) + ": expected an object"));
      }
      if (Status s = decodeObject(object, default_source, received_at, out.emplace_back()); !s.isOk()) {
        return rollback(Status::invalidArgument("element " + std::to_string(index) + ": " + s.message()));
      }
      ++index;
    }
  } else {
    return Status::invalidArgument("expected a JSON object or an array of objects");
  }
  return Status::ok();
}

Status checkEventLimits(std::span<const Event> events, size_t max_labels, size_t max_field_bytes) {
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const std::string where = events.size() > 1 ? "element " + std::to_string(i) + ": " : "";
    if (e.labels.size() > max_labels) return Status::invalidArgument(where + "too many labels");
    for (const std::string* field : {&e.host, &e.ci, &e.source, &e.type, &e.message}) {
      if (field->size() > max_field_bytes) {
        return Status::invalidArgument(where + "a field is longer than " + std::to_string(max_field_bytes) + " bytes");
      }
    }
    for (const auto& [name, value] : e.labels) {
      if (value.size() > max_field_bytes) {
        return Status::invalidArgument(where + "labels." + name + ": longer than " + std::to_string(max_field_bytes) +
                                       " bytes");
      }
    }
  }
  return Status::ok();
}

bool jsonNestingWithin(std::string_view json, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

std::string encodeEventJson(const Event& event) {
  nlohmann::json j = nlohmann::json::object();
  if (event.occurred_at) j["time"] = formatRfc3339(*event.occurred_at);
  if (!event.host.empty()) j["host"] = event.host;
  if (!event.ci.empty()) j["ci"] = event.ci;
  if (!event.source.empty()) j["source"] = event.source;
  if (!event.type.empty()) j["type"] = event.type;
  j["severity"] = severityName(event.severity);
  if (event.state != EventState::kNone) j["state"] = eventStateName(event.state);
  j["message"] = event.message;
  if (!event.labels.empty()) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [k, v] : event.labels) labels[k] = v;
    j["labels"] = std::move(labels);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil
