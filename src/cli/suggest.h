// What a mistyped command line most likely meant: after a parse error, the argument that was
// not understood and the nearest subcommand or flag of the command it was given to.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace vouch::cli {

// Walks `args` (the command line without the program name) through `app`'s commands and
// returns, for the first word that is not a subcommand where one is expected or the first flag
// no command on the way has: "unknown flag '--yess' for 'vouch sign'; did you mean '--yes'?"
// ("unknown command 'sgin' for 'vouch'; ..."), without the suggestion when nothing is near.
// Empty when every word and flag is known (the parse error was about something else).
std::string suggestion_for(const CLI::App& app, const std::vector<std::string>& args);

// The edit distance (insertions, deletions, substitutions) between two names.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace vouch::cli
