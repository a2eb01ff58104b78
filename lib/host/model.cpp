#include "model.hpp"

#include "text.hpp"

namespace vifwall {

const std::string *XeRecord::get(const std::string &name) const {
  for (const auto &field : fields)
    if (field.name == name)
      return &field.value;
  return nullptr;
}

std::optional<VifName> parse_vif_name(const std::string &name) {
  VifName result;
  std::string_view rest = name;
  if (starts_with(rest, "vif"))
    result.kind = VifKind::vif;
  else if (starts_with(rest, "tap"))
    result.kind = VifKind::tap;
  else
    return std::nullopt;
  rest.remove_prefix(3);
  if (ends_with(rest, "-emu")) {
    // vif7.0-emu is the emulated twin, like tap7.0.
    if (result.kind != VifKind::vif)
      return std::nullopt;
    result.kind = VifKind::tap;
    rest.remove_suffix(4);
  }
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  const auto dom_text = rest.substr(0, dot);
  const auto dev_text = rest.substr(dot + 1);
  // The kernel names are printed with %d: "vif07.0" is not a VIF name.
  for (auto part : {dom_text, dev_text})
    if (part.size() > 1 && part.front() == '0')
      return std::nullopt;
  auto dom = parse_u64(dom_text);
  auto dev = parse_u64(dev_text);
  // Xen domids are 15-bit; anything larger is not a VIF name.
  if (!dom || !dev || *dom > 0x7FFF || *dev > 0xFFFF)
    return std::nullopt;
  result.dom_id = static_cast<std::int64_t>(*dom);
  result.device = static_cast<std::int64_t>(*dev);
  return result;
}

const char *to_string(VifKind kind) {
  return kind == VifKind::vif ? "vif" : "tap";
}

} // namespace vifwall
