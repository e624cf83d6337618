// Workload: the seeded, realistic event stream the end-to-end benchmark drives vigild with, and
// the incidents that stream must produce. The same stream can be written as JSON lines (replay,
// HTTP, Kafka, SEC) or as syslog lines (TCP); both carry the same device message, so vigil's
// rules and SEC's patterns do the same matching work.
//
// The stream interleaves episodes over thousands of hosts:
//   link    %LINK-3-UPDOWN down, repeats that must deduplicate, then (mostly) up
//   bgp     %BGP-5-ADJCHANGE neighbor Down, repeats, then (mostly) Up
//   disk    usage warnings; an episode of 3 or more opens an incident (a threshold rule),
//           one of 1 or 2 opens nothing
//   noise   messages that match no rule
// Every episode has a key of its own, so the expected incidents follow from the stream alone,
// whatever the correlator's clock or window lengths (each threshold episode is contiguous
// enough to fit any window of a minute or more).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vigil::loadgen {

struct WorkloadOptions {
  uint64_t seed = 1;
  uint64_t events = 100000;
  uint32_t hosts = 5000;
  uint32_t concurrent_episodes = 2000;  // episodes in flight at once (open incidents, roughly)
  double noise_share = 0.3;             // of all events
  double threshold_share = 0.15;        // of all events: disk episodes
  double unresolved_share = 0.1;        // link/bgp episodes that never clear
  uint32_t threshold = 3;               // disk events per episode that open an incident
};

struct GeneratedEvent {
  uint64_t time_ms;  // event time, ms since the epoch
  uint32_t host;
  std::string message;  // the device message (Cisco IOS style)
};

// What the stream must produce, for the benchmark's correctness check.
struct Expectation {
  uint64_t events = 0;
  uint64_t noise = 0;
  uint64_t opened = 0;         // incidents opened (link + bgp + disk episodes that reach the threshold)
  uint64_t resolved = 0;       // incidents resolved by a clear
  uint64_t disk_opened = 0;
  uint64_t disk_held = 0;      // disk episodes below the threshold: no incident
  uint64_t open_at_end() const { return opened - resolved; }
};

class Workload {
 public:
  explicit Workload(const WorkloadOptions& options);
  // The next event; false once `options.events` were produced (pending episodes then close).
  bool next(GeneratedEvent& out);
  const Expectation& expectation() const { return expect_; }
  const WorkloadOptions& options() const { return options_; }

  static std::string hostName(uint32_t host);
  static std::string hostAddress(uint32_t host);

 private:
  enum class Kind : uint8_t { kLink, kBgp, kDisk };
  struct Episode {
    Kind kind;
    uint32_t host;
    uint64_t id;        // makes the key unique: interface, neighbour or mount number
    uint32_t sent;      // events sent so far
    uint32_t remaining; // events still to send, the clear (if any) included
    bool clears;        // ends with a clear (link/bgp)
    bool qualifies;     // disk: reaches the threshold
  };

  Episode startEpisode();
  std::string message(const Episode& e, bool last) const;

  WorkloadOptions options_;
  std::mt19937_64 rng_;
  std::vector<Episode> active_;
  uint64_t produced_ = 0;
  uint64_t next_episode_id_ = 0;
  Expectation expect_;
};

// Output formats.
std::string toJsonLine(const GeneratedEvent& e);                 // one event object + '\n'
std::string toSyslogLine(const GeneratedEvent& e);                // RFC 3164 line, no newline
std::string rfc3339(uint64_t time_ms);

}  // namespace vigil::loadgen
