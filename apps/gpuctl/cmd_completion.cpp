// SPDX-License-Identifier: MIT
// gpuctl completion bash|zsh|fish: prints the shell completion script built into the binary
// (the files of completions/, embedded at build time by cmake/embed_completions.cmake).
#include "app.hpp"

#include <cstdio>
#include <string_view>

namespace gpuctl::app {

std::string_view completion_script(std::string_view shell); // generated completions.cpp

void
register_completion(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "completion",
      "print the shell completion script for bash, zsh or fish\n"
      "Example: gpuctl completion bash > ~/.local/share/bash-completion/completions/gpuctl");
  auto shell = std::make_shared<std::string>();
  sub->add_option("shell", *shell, "bash | zsh | fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  r.on_plain(sub, [=] {
    std::string_view text = completion_script(*shell);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  });
}

} // namespace gpuctl::app
