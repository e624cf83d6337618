// Logging: one line per record on stderr, which journald stores as is.
//   text  `ts=2026-11-22T20:01:29.123Z level=info message` (logfmt-style)
//   json  `{"ts":"2026-11-22T20:01:29.123Z","level":"info","msg":"message"}`
// Newlines inside a message are escaped, so a record never spans lines. When stderr is the
// journal (JOURNAL_STREAM names it, as systemd sets it for StandardError=journal), every line
// starts with the sd-daemon priority prefix `<N>` (journald turns it into PRIORITY= and strips
// it) and text lines leave out ts=, since the journal stamps each record itself.
#pragma once

#include <string>

#include "daemon/status.h"

namespace vigil {

// `format` is "text" or "json".
Status setupLogging(const std::string& level, const std::string& format);

// True when stderr is the stream JOURNAL_STREAM ("DEV:INODE") names.
bool stderrIsJournal();

}  // namespace vigil
