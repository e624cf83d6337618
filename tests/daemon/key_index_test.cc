#include "daemon/incidents/key_index.h"

#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

namespace vigil::incidents {
namespace {

// Random inserts, replacements, erases (by the right and a wrong id) and lookups over a few
// hundred keys, so runs of probes wrap around the table and erases shift entries back, against
// a std::map of key → id.
TEST(KeyIndex, AgreesWithAMapThroughRandomInsertsAndErases) {
  KeyIndex index;
  std::map<std::string, IncidentId> model;
  std::unordered_map<IncidentId, KeyIndex::Slot> slots;  // stands in for the engine's active_
  std::mt19937 random(5);
  IncidentId next_id = 1;
  auto key = [&] { return "link:host-" + std::to_string(random() % 300) + ":eth0"; };
  for (int step = 0; step < 20000; ++step) {
    const std::string k = key();
    const auto known = model.find(k);
    switch (random() % 3) {
      case 0: {  // a new incident under the key, replacing any
        auto incident = std::make_shared<Incident>();
        incident->id = next_id++;
        incident->key = k;
        KeyIndex::Slot& slot = slots.emplace(incident->id, std::move(incident)).first->second;
        index.insert(&slot);
        model[k] = slot->id;
        break;
      }
      case 1: {  // the right id's erase removes it, a wrong id's does not
        const IncidentId id = known != model.end() ? known->second : 0;
        EXPECT_FALSE(index.erase(k, id + 1000000)) << k;
        EXPECT_EQ(index.erase(k, id), known != model.end()) << k;
        if (known != model.end()) model.erase(known);
        break;
      }
      default: {
        const KeyIndex::Slot* found = index.find(k);
        ASSERT_EQ(found != nullptr, known != model.end()) << k;
        if (found) {
          EXPECT_EQ((*found)->id, known->second) << k;
        }
      }
    }
    ASSERT_EQ(index.size(), model.size());
    if (step % 1000 == 0) {
      for (int h = 0; h < 300; ++h) {
        const std::string k = "link:host-" + std::to_string(h) + ":eth0";
        const KeyIndex::Slot* found = index.find(k);
        const auto m = model.find(k);
        ASSERT_EQ(found != nullptr, m != model.end()) << k;
        if (found) {
          EXPECT_EQ((*found)->id, m->second) << k;
        }
      }
    }
  }
  EXPECT_EQ(index.find("absent"), nullptr);
}

}  // namespace
}  // namespace vigil::incidents
