#include "base64.hpp"

#include <cstdint>
#include <vector>

#include "text.hpp"

namespace vifwall {

namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

bool is_skipped(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

} // namespace

Result<std::string> decode_base64(std::string_view text) {
  // The significant characters and where each one was in `text`.
  std::string chars;
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!is_skipped(text[i])) {
      chars.push_back(text[i]);
      offsets.push_back(i);
    }
  const std::size_t n = chars.size();
  // '=' may only end the text, at most twice.
  std::size_t padding = 0;
  while (padding < 2 && padding < n && chars[n - 1 - padding] == '=')
    ++padding;
  for (std::size_t k = 0; k < n; ++k)
    if ((k < n - padding && value_of(chars[k]) < 0) ||
        (k >= n - padding && chars[k] != '='))
      return fail("invalid base64 at offset " + std::to_string(offsets[k]) +
                  ": expected A-Z, a-z, 0-9, '+', '/' or final '=' padding, "
                  "got " + quote_for_error(std::string_view(&chars[k], 1)));
  if (n % 4 != 0)
    return fail("invalid base64: expected a multiple of 4 characters, got " +
                std::to_string(n) + " (truncated?)");
  std::string out;
  out.reserve(n / 4 * 3);
  for (std::size_t k = 0; k < n; k += 4) {
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j)
      group = (group << 6) |
              static_cast<std::uint32_t>(chars[k + j] == '=' ? 0 : value_of(chars[k + j]));
    const std::size_t pad_here = k + 4 == n ? padding : 0;
    const char bytes[3] = {static_cast<char>((group >> 16) & 0xff),
                           static_cast<char>((group >> 8) & 0xff),
                           static_cast<char>(group & 0xff)};
    out.append(bytes, 3 - pad_here);
  }
  return out;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group =
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
        static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(kAlphabet[(group >> 6) & 63]);
    out.push_back(kAlphabet[group & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t group =
        static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2)
      group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

} // namespace vifwall
