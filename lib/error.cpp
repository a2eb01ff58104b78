#include "error.hpp"

namespace vifwall {

std::string Error::str() const {
  std::string out;
  if (!source.empty()) {
    out += source;
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
