// Replay: feeds a file of JSON-lines events (one event object per line, DESIGN.md's event JSON)
// into the pipeline, so tests and benchmarks can drive vigild without a network. Used by
// `vigild --replay FILE`. Lines that do not decode are counted and logged with a sample; they
// never stop the replay.
#pragma once

#include <cstdint>
#include <string>

#include "connectors/source.h"
#include "daemon/status.h"

namespace vigil::connectors {

struct ReplayOptions {
  // Events per batch handed to the pipeline: small enough for its first groups (Pipeline::groupLimit),
  // which take whole batches.
  size_t batch_events = 1024;
  size_t max_line_bytes = 1 << 20;
};

struct ReplayStats {
  uint64_t lines = 0;
  uint64_t events = 0;      // accepted by the pipeline
  uint64_t bad_lines = 0;   // undecodable, counted and skipped
  uint64_t committed = 0;   // events whose batch was committed
  uint64_t failed = 0;      // events whose batch failed to commit
};

// Reads `path` ("-" for stdin) and pushes its events into `sink`, blocking while the pipeline is
// full, then waits until every batch is committed (or failed). Events get source "replay" unless
// the line names one.
Result<ReplayStats> replayFile(const std::string& path, EventSink& sink, const ReplayOptions& options = {});

}  // namespace vigil::connectors
