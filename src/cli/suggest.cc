#include "cli/suggest.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vouch::cli {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

std::string nearest(std::string_view typed, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, typed.size() / 3) + 1;
  for (const auto& name : names) {
    size_t d = edit_distance(typed, name);
    // A prefix of a longer name is as good as a near miss ("--certificate-identity-reg").
    if (name.size() > typed.size() && name.starts_with(typed) && typed.size() >= 4) d = std::min<size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

// The option `flag` names on `command` or, as CLI11 lets a flag fall through, on a parent.
const CLI::Option* find_flag(const CLI::App* command, const std::string& flag) {
  for (; command; command = command->get_parent())
    if (const CLI::Option* o = command->get_option_no_throw(flag)) return o;
  return nullptr;
}

std::string unknown_flag(const CLI::App* command, const std::string& path, const std::string& flag) {
  std::vector<std::string> names;
  for (const CLI::Option* o : command->get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  std::string best = nearest(flag, names);
  if (best.empty()) return fmt::format("unknown flag '{}' for '{}' (see {} --help)", flag, path, path);
  return fmt::format("unknown flag '{}' for '{}'; did you mean '{}'?", flag, path, best);
}

}  // namespace

std::string suggestion_for(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* command = &app;
  std::string path = "vouch";
  bool positional_seen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return {};
    if (arg.size() > 1 && arg[0] == '-') {
      std::string flag = arg.substr(0, arg.find('='));
      if (flag.size() > 2 && flag[1] != '-') flag = flag.substr(0, 2);  // -ovalue, -abc
      const CLI::Option* o = find_flag(command, flag);
      if (!o) return unknown_flag(command, path, flag);
      // A value in the next argument: skip it.
      if (arg.find('=') == std::string::npos && arg.size() == flag.size() && o->get_type_size_max() > 0 &&
          o->get_expected_max() > 0)
        ++i;
      continue;
    }
    auto subcommands = command->get_subcommands([](const CLI::App*) { return true; });
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subcommands)
      if (sub->check_name(arg)) next = sub;
    if (next) {
      command = next;
      path += " " + next->get_name();
      positional_seen = false;
      continue;
    }
    // A word where only subcommands are taken: a mistyped command.
    if (!positional_seen && !subcommands.empty() && command->get_options([](const CLI::Option* o) {
          return o->get_lnames().empty() && o->get_snames().empty();
        }).empty()) {
      std::vector<std::string> names;
      for (const CLI::App* sub : subcommands) names.push_back(sub->get_name());
      std::string best = nearest(arg, names);
      if (best.empty()) return fmt::format("unknown command '{}' for '{}' (see {} --help)", arg, path, path);
      return fmt::format("unknown command '{}' for '{}'; did you mean '{}'?", arg, path, best);
    }
    positional_seen = true;
  }
  return {};
}

}  // namespace vouch::cli
