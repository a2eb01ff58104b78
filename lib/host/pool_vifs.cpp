#include "pool_vifs.hpp"

#include <algorithm>
#include <set>

#include "json_writer.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

// The first line of a tool's stderr, for a member's error.
std::string first_line(const std::string &text) {
  std::string line(trim(text.substr(0, text.find('\n'))));
  for (char &c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// Why a member's answer is not usable; "" when it is.
std::string read_member(PoolVifAnswer::Member &m) {
  const PluginAnswer &a = *m.answer.answer;
  if (a.tool != "vif-of")
    return "the plugin ran " + quote_for_error(a.tool) + ", not vif-of";
  if (a.exit != 0 && a.exit != 1) {
    const std::string why = first_line(a.stderr_text);
    return "vif-of exited with status " + std::to_string(a.exit) + (why.empty() ? "" : ": " + why);
  }
  if (a.output.empty())
    return "vif-of printed no JSON (exit status " + std::to_string(a.exit) + ")";
  auto vifs = parse_vif_of_json(a.output, "vif-of's output");
  if (!vifs)
    return vifs.error().str();
  m.vifs = std::move(*vifs);
  return "";
}

bool running(const Vm &vm) { return vm.dom_id && *vm.dom_id >= 0; }

bool matches_vm_key(const Vm &vm, const std::string &key) {
  if (vm.name_label == key || to_lower(vm.uuid) == to_lower(key))
    return true;
  const bool hex = key.size() >= 4 && std::all_of(key.begin(), key.end(), [](char c) {
                     return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
                   });
  return hex && starts_with(to_lower(vm.uuid), to_lower(key));
}

// Did some member's rows answer each selector?  (The members looked; this
// only says which selectors found nothing anywhere.)  An IP is not in
// vif-of's JSON: --ip counts as found when a member found everything it
// was asked, or showed a VM that no other selector explains.
std::vector<std::string> unmatched(const PoolVifAnswer &pool, const VifQuery &q) {
  std::vector<const HostVm *> vms;
  std::vector<const HostVif *> vifs; // every interface shown, with VMs' own
  for (const auto &row : pool.selection.rows) {
    if (row.vm && (vms.empty() || vms.back() != row.vm))
      vms.push_back(row.vm);
    if (row.vif)
      vifs.push_back(row.vif);
  }
  auto any_vm = [&](auto pred) { return std::any_of(vms.begin(), vms.end(), pred); };
  auto any_vif = [&](auto pred) { return std::any_of(vifs.begin(), vifs.end(), pred); };
  std::vector<std::string> missing;
  const std::string where =
      pool.failures.empty() ? " on any pool member" : " on any pool member that answered";
  for (const auto &key : q.vms)
    if (!any_vm([&](const HostVm *vm) { return matches_vm_key(vm->vm, key); }))
      missing.push_back("no VM with name-label, uuid or uuid prefix " + quote_for_error(key) + where);
  for (auto domid : q.domids)
    if (!any_vm([&](const HostVm *vm) { return vm->vm.dom_id == domid; }) &&
        !any_vif([&](const HostVif *vif) { return vif->dom_id == domid; }))
      missing.push_back("no VM with dom-id " + std::to_string(domid) + where);
  for (const auto &name : q.ifaces)
    if (!any_vif([&](const HostVif *vif) { return vif->name == name; }))
      missing.push_back("no VM interface " + quote_for_error(name) + where);
  for (const auto &mac : q.macs) {
    const auto wanted = normalize_mac(mac).value_or(mac);
    if (!any_vif([&](const HostVif *vif) { return vif->guest_mac == wanted || vif->mac == wanted; }))
      missing.push_back("no VM interface with MAC " + wanted + where);
  }
  for (const auto &name : q.bridges)
    if (!any_vif([&](const HostVif *vif) { return vif->bridge == name; }))
      missing.push_back("no VM interface on bridge " + quote_for_error(name) + where);
  if (!q.ips.empty()) {
    const bool some_member_found_all = std::any_of(
        pool.members.begin(), pool.members.end(),
        [](const auto &m) { return m->answer.answered() && m->answer.answer->exit == 0; });
    const bool unexplained = any_vm([&](const HostVm *vm) {
      return std::none_of(q.vms.begin(), q.vms.end(),
                          [&](const std::string &k) { return matches_vm_key(vm->vm, k); }) &&
             std::find(q.domids.begin(), q.domids.end(), vm->vm.dom_id.value_or(-2)) ==
                 q.domids.end() &&
             q.ifaces.empty() && q.macs.empty() && q.bridges.empty();
    });
    if (!q.all && !some_member_found_all && !unexplained)
      for (const auto &ip : q.ips)
        missing.push_back("no VM reports IP " + quote_for_error(ip) + where);
  }
  return missing;
}

} // namespace

std::unique_ptr<PoolVifAnswer> merge_pool_vifs(std::vector<MemberAnswer> answers,
                                               const VifQuery &query) {
  static const RowHost kNowhere{};
  auto pool = std::make_unique<PoolVifAnswer>();
  for (auto &answer : answers) {
    auto m = std::make_unique<PoolVifAnswer::Member>();
    m->answer = std::move(answer);
    m->host.uuid = m->answer.member.uuid;
    m->host.name = m->answer.member.display();
    if (m->answer.answered())
      m->answer.error = read_member(*m);
    if (m->host.name == m->host.uuid && m->answer.answer && !m->answer.answer->hostname.empty())
      m->host.name = m->answer.answer->hostname;
    if (!m->answer.answered())
      pool->failures.push_back(describe_member(m->answer.member) + " did not answer: " +
                               m->answer.error);
    pool->members.push_back(std::move(m));
  }
  std::set<std::string> halted_shown;
  for (const auto &m : pool->members) {
    if (!m->answer.answered())
      continue;
    for (const auto &vm : m->vifs.vms) {
      if (running(vm.vm)) {
        pool->selection.add_vm(vm, &m->host);
      } else if (vm.vm.uuid.empty() || halted_shown.insert(vm.vm.uuid).second) {
        pool->selection.add_vm(vm, &kNowhere); // a halted VM runs on no member
      }
    }
    for (const auto &vif : m->vifs.orphans)
      pool->selection.add_vif(nullptr, vif, &m->host);
  }
  pool->not_found = unmatched(*pool, query);
  return pool;
}

std::string render_pool_vif_json(const PoolVifAnswer &pool, bool pretty) {
  return render_vif_json(pool.selection, pretty, [&](JsonWriter &json) {
    json.key("hosts");
    json.begin_array();
    for (const auto &m : pool.members) {
      json.begin_object();
      json.field("host", m->host.uuid);
      json.field("hostname", m->host.name);
      json.field("answered", m->answer.answered());
      json.key("exit");
      if (m->answer.answer)
        json.value(m->answer.answer->exit);
      else
        json.null();
      if (!m->answer.answered())
        json.field("error", m->answer.error);
      json.end_object();
    }
    json.end_array();
  });
}

} // namespace vifwall
