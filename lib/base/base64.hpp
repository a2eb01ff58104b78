// Base64 (RFC 4648, standard alphabet, '=' padding), for CloudStack's
// deflated rule strings.
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"

namespace vifwall {

// Decodes strictly: only A-Z a-z 0-9 + / and final '=' padding, the length
// (blanks and line breaks ignored, as Java's chunked encoders insert them) a
// multiple of 4.  The error gives the 0-based offset of the first bad
// character, or says the text is truncated.  Source and line are left empty.
Result<std::string> decode_base64(std::string_view text);

// Encodes with padding and no line breaks.
std::string encode_base64(std::string_view bytes);

} // namespace vifwall
