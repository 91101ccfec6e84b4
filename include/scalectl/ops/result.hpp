#pragma once
// The one result vocabulary of the reports of every changing verb: droplet up/down, app scale and
// autoscale apply print it as "result" (text and -o json), with the same words for every noun.

#include <string>

namespace scalectl::ops {

// What a changing verb did.
enum class Result {
  changed,     // the change was made and is live (a droplet resized, an app scaled, a target set)
  noop,        // already at the target: nothing was sent
  dry_run,     // --dry-run: planned only, nothing was sent
  submitted,   // --no-wait: DigitalOcean accepted the change and is still carrying it out
  powered_on,  // droplet only: it was already at the target size but off, and was powered on
};

// Returns the word of `result` in reports: "changed", "noop", "dry_run", "submitted", "powered_on".
std::string to_string(Result result);

// Returns the audit event's result for a report's result: "ok" for a change (or a power-on),
// "noop", "submitted", or "dry_run" (dry runs emit no event).
std::string event_result(Result result);

}  // namespace scalectl::ops
