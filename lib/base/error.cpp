#include "error.hpp"

namespace vifwall {

std::string Error::str() const {
  std::string out;
  if (!source.empty()) {
    // A source is a path or a command; a hostile one must not push the
    // message itself off the screen.
    out += source.size() > 160 ? source.substr(0, 157) + "..." : source;
    if (line > 0) {
      out += ':';
      out += std::to_string(line);
    }
    out += ": ";
  }
  out += message;
  return out;
}

} // namespace vifwall
