// Errors and results shared by every part of libvifwall.
//
// Contract: functions that can fail on input or on the outside world return
// Result<T>; they never throw for expected failures and never exit().  An Error
// says where (source and, for text input, the 1-based line) and what was
// expected, and renders as "SOURCE:LINE: MESSAGE" like a compiler.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace vifwall {

struct Error {
  std::string source;   // file name, command line, or "-" for stdin
  std::size_t line = 0; // 1-based; 0 when the error is not about one line
  std::string message;  // "expected X, got Y" style

  // "source:line: message", "source: message" or just "message".
  std::string str() const;
};

template <class T> using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(std::string source, std::size_t line,
                                  std::string message) {
  return tl::unexpected<Error>(
      Error{std::move(source), line, std::move(message)});
}

inline tl::unexpected<Error> fail(std::string message) {
  return tl::unexpected<Error>(Error{"", 0, std::move(message)});
}

} // namespace vifwall
