// Helpers shared by the unit tests: reading fixtures.
#pragma once

#include <fstream>
#include <vector>

#include "model.hpp"
#include <sstream>
#include <stdexcept>
#include <string>

namespace vifwall::test {

// Reads tests/data/<relative>; throws (failing the test) if it is missing.
inline std::string read_data(const std::string &relative) {
  const std::string path = std::string(VIFWALL_TEST_DATA) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("missing test fixture " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline std::string read_source(const std::string &relative) {
  const std::string path = std::string(VIFWALL_SOURCE_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("missing file " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Every field of each link, one link a line, so that a failed comparison
// shows the difference (Catch cannot print a Link).
inline std::string describe_links(const std::vector<Link> &links) {
  auto opt = [](const auto &value) {
    if (!value)
      return std::string("-");
    std::ostringstream out;
    out << *value;
    return out.str();
  };
  auto counters_text = [&](const Counters &c) {
    return opt(c.bytes) + "/" + opt(c.packets) + "/" + opt(c.errors) + "/" + opt(c.dropped);
  };
  std::string out;
  for (const Link &l : links) {
    out += opt(l.ifindex) + " " + l.name + " mac=" + opt(l.mac) + " mtu=" + opt(l.mtu) +
           " master=" + opt(l.master) + " state=" + l.state + " flags=";
    for (const std::string &flag : l.flags)
      out += flag + ",";
    out += " rx=" + counters_text(l.rx) + " tx=" + counters_text(l.tx) +
           " line=" + std::to_string(l.line) + (l.name_truncated ? " truncated" : "") + "\n";
  }
  return out;
}

} // namespace vifwall::test
