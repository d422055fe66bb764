// The Tokenizer's options, Keras's Tokenizer arguments: the config holds them (tokenizer: in
// YAML, engine/config/config.h) and a bundle saves them, so they sit apart from the Tokenizer
// itself in a header of their own that the config layer may include.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ember {

struct TokenizerConfig {
  std::optional<int64_t> num_words;
  std::optional<std::string> oov_token;
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  bool lower = true;
  std::string split = " ";
  bool char_level = false;
};

}  // namespace ember
