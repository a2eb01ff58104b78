// The two ways parse_ip_json.cpp reads `ip -j link`, for its tests: the
// fast one (JsonPull, no DOM) and the nlohmann DOM, which is the reference
// for what is accepted and gives every error message.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// The links of clean_text()'s output, or nullopt whenever the fast path does
// not take the input: anything invalid or of a wrong type, and the valid
// cases JsonPull has no fast path for (a key the model uses given twice, a
// number with an exponent, a byte-order mark...).  parse_ip_link_json then
// reads the input again with the DOM, which accepts it or says why not.
// When it returns links, they equal the DOM's.
std::optional<std::vector<Link>> read_ip_links_fast(std::string_view cleaned);

// parse_ip_link_json without the fast path.
Result<std::vector<Link>> parse_ip_link_json_dom(std::string_view text,
                                                 const std::string &source);

} // namespace vifwall
