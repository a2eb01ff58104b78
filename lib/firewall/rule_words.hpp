// The rule-word splitter without a string per word, for the parsers of this
// folder (netfilter.hpp's split_rule_words is the same split into strings).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vifwall {

// Splits `text` exactly as split_rule_words does, into `words` (cleared
// first).  A word without `"` or `\` is a view into `text`; the others are
// unescaped into `storage` (cleared first, and reserved once so that it never
// moves while a line is split), so the views are valid until `text` or
// `storage` change.  False when a quote is left open.
bool split_rule_word_views(std::string_view text, std::vector<std::string_view> &words,
                           std::string &storage);

// Reused buffers for split_rule_word_views, one per parse.
struct RuleWordSplitter {
  std::vector<std::string_view> words;
  std::string storage;

  bool split(std::string_view text) { return split_rule_word_views(text, words, storage); }
};

} // namespace vifwall
