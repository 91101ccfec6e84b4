#pragma once
// One rule for a state-store write that fails after DigitalOcean accepted an action, shared by the
// droplet and app drivers.

#include <functional>
#include <string>
#include <vector>

namespace scalectl {
class Reporter;
}

namespace scalectl::ops {

// Runs `write`. When it throws an Error (an interruption is never caught here) and `submitted` names actions DigitalOcean has
// accepted, warns (stderr) naming the last one and that `what` of `subject` is missing from the
// state store, and returns so the command finishes the operation it started; with nothing
// submitted the error is rethrown (nothing happened yet, so the command may stop).
void write_after_submit(Reporter& reporter, const std::string& subject, const std::string& what,
                        const std::vector<std::string>& submitted, const std::function<void()>& write);

// Returns `error` completed for a command that stops after DigitalOcean accepted `submitted`
// (labels such as "action 123 (resize)"): it names the last one unless the text already does, and
// says that `rerun` converges. With nothing submitted, returns `error` as it is.
std::string name_submitted(const std::string& error, const std::vector<std::string>& submitted,
                           const std::string& rerun);

}  // namespace scalectl::ops
