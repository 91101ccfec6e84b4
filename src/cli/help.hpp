#pragma once
// Help that teaches: per-verb examples, typed placeholders, the verb's own exit codes, the global
// options that apply, and "did you mean" for mistyped words, applied to the built CLI11 tree.

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace scalectl::cli {

// One verb's help additions, keyed by command path ("droplet up").
struct VerbHelp {
  std::string path;
  std::vector<std::string> examples;  // full command lines, each starting with "scalectl "
  std::vector<int> exit_codes;        // the codes this verb can return, ascending
};

// Returns the help table: every verb with its examples and exit codes.
const std::vector<VerbHelp>& verb_help();

// Applies the table, the typed placeholders and the help formatter to the tree built on `root`.
void apply_help(CLI::App& root);

// Returns a one-line usage message for argv when it holds a token flag, an unknown subcommand or
// an unknown option (with "did you mean"), or nullopt when it finds none of those.
std::optional<std::string> explain_bad_words(const CLI::App& root, int argc, const char* const* argv);

}  // namespace scalectl::cli
