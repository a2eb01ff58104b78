// Helpers shared by the unit tests: reading fixtures.
#pragma once

#include <fstream>
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

} // namespace vifwall::test
