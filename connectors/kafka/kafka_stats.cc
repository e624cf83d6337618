#include "connectors/kafka/kafka_stats.h"

#include <nlohmann/json.hpp>

namespace vigil::connectors::kafka {

KafkaStats parseKafkaStats(std::string_view json) {
  KafkaStats out;
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  if (auto brokers = j.find("brokers"); brokers != j.end() && brokers->is_object()) {
    for (const auto& [name, b] : brokers->items()) {
      if (b.value("nodeid", -1) >= 0 && b.value("state", "") == "UP") out.broker_up = true;
    }
  }
  if (auto topics = j.find("topics"); topics != j.end() && topics->is_object()) {
    for (const auto& [topic, t] : topics->items()) {
      auto partitions = t.find("partitions");
      if (partitions == t.end() || !partitions->is_object()) continue;
      for (const auto& [partition, p] : partitions->items()) {
        const int id = p.value("partition", -1);
        if (id < 0) continue;  // librdkafka's internal "unassigned" partition
        out.high_watermarks[{topic, id}] = p.value("hi_offset", int64_t{-1});
      }
    }
  }
  return out;
}

}  // namespace vigil::connectors::kafka
