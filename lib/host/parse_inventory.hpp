// Parser for /etc/xensource-inventory, the file in which a XenServer/XCP-ng
// host keeps facts about itself: lines KEY='VALUE' (a shell fragment that
// xe-toolstack scripts source), e.g.
//
//   INSTALLATION_UUID='3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10'
//   CONTROL_DOMAIN_UUID='c2e2ed54-9594-49f4-80aa-df341f998d6b'
//
// vifwall needs INSTALLATION_UUID: the uuid of this host in the pool, which
// the `resident-on` field of every running VM is compared with.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "error.hpp"

namespace vifwall {

// KEY='VALUE', KEY="VALUE" or KEY=VALUE per line; blank lines and `#`
// comments skipped; values unquoted (no escapes: the file has none).  A line
// of any other shape is an error naming it.
Result<std::map<std::string, std::string>> parse_inventory(std::string_view text,
                                                           const std::string &source);

// INSTALLATION_UUID, checked to be a uuid (8-4-4-4-12 hex digits).
Result<std::string> installation_uuid(std::string_view text, const std::string &source);

// True when the text has no KEY=VALUE line at all: only blanks and comments.
bool inventory_is_empty(std::string_view text);

// True for 8-4-4-4-12 hex digits, either case.
bool is_uuid(std::string_view text);

} // namespace vifwall
