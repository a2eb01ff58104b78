// Parsers for bridge membership: `brctl show` (bridge-utils) and
// `bridge link` (iproute2).  See formats.md §3.5 and §4.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// `brctl show [BR...]`, with its tabs or with them turned into spaces (the
// seed's copy): a line of 4 words is a bridge and its first port, 3 words a
// bridge without ports, 1 word a further port of the bridge above.  stderr
// lines merged in (`bridge X does not exist!`, `can't get port info`) are
// skipped.
Result<std::vector<Bridge>> parse_brctl_show(std::string_view text,
                                             const std::string &source);
bool looks_like_brctl_show(std::string_view text);

// `bridge link [show]` and `bridge -d link`: one line per port with
// `master BR`; bridges come out in order of first appearance, without id or
// STP state.  The `@peer` suffix is dropped (it can name an unrelated device).
Result<std::vector<Bridge>> parse_bridge_link(std::string_view text,
                                              const std::string &source);
bool looks_like_bridge_link(std::string_view text);

} // namespace vifwall
