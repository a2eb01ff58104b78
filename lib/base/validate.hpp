// Validation of every value that reaches a command line or a state file.
//
// sg-apply writes VM names, addresses, MACs and interface names into
// iptables/ebtables/arptables/ipset input.  Each value passes one of these
// functions first; what they return is the NORMALIZED value to use (lower-case
// MAC, "/32" added to a bare address...), never the raw input.
//
// Contract: pure functions, no I/O.  On failure the Error has no source or
// line (the caller knows where the value came from and may set them) and a
// message that quotes the value with quote_for_error() and says what was
// expected, e.g.
//   invalid VM name "a b": expected letters, digits, '-', '_' or '.', at most 64 characters
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "error.hpp"

namespace vifwall {

// A CloudStack instance name (i-2-3-VM, r-4-VM, s-1-VM, v-2-VM, l-...) or any
// name built from the same characters: [A-Za-z0-9._-], starting with a letter
// or digit (a leading '-' would read as an option), 1..64 characters.
Result<std::string> validate_vm_name(std::string_view name);

// Dotted quad, each part 0..255 in decimal without leading zeros ("010" is
// refused: some tools read it as octal).  Returned unchanged.
Result<std::string> validate_ipv4(std::string_view address);

// An IPv4 address (as above) or an IPv6 address without zone ("%eth0").
// IPv6 is returned in its canonical text form (lower case, "::" compressed).
Result<std::string> validate_ip(std::string_view address);

// An IPv6 address a guest NIC may own (sg-apply --ip6, secondary IPv6):
// no zone, not unspecified (::), loopback (::1), multicast (ff00::/8) or
// IPv4-mapped (::ffff:0:0/96).  Returned in canonical text form.
Result<std::string> validate_ipv6_host(std::string_view address);

// The link-local address a guest derives from its MAC (modified EUI-64,
// RFC 4291 2.5.1 and appendix A): fe80:: and the MAC with the
// universal/local bit flipped and ff:fe in its middle.  `mac` as
// validate_mac returns it; 06:f8:c8:00:00:09 -> fe80::4f8:c8ff:fe00:9.
std::string link_local_from_mac(const std::string &mac);

// "address/prefix" for IPv4 (prefix 0..32) or IPv6 (0..128); a bare address
// means one host and gets "/32" ("/128").  Host bits are kept as given.
Result<std::string> validate_cidr(std::string_view cidr);

// Six hex octets separated by ':' or '-', any case, leading zeros optional
// (ebtables prints 6:f8:c8:0:0:9); returns "06:f8:c8:00:00:09".
Result<std::string> validate_mac(std::string_view mac);

// Decimal 0..65535.
Result<int> validate_port(std::string_view port);

// tcp, udp, icmp, icmpv6, all (any case) or a protocol number 0..255.  Returns the
// lower-case name or the number without leading zeros ("047" -> "47").
Result<std::string> validate_protocol(std::string_view protocol);

// A Linux interface name (vif7.0, tap7.0, eth0, bond0, xenbr0, eth0+ as an
// iptables wildcard): 1..15 characters from [A-Za-z0-9._@+-], not "." or
// "..", no leading '-'.  '/', ':' and blanks are refused (the kernel refuses
// '/' and blanks; ':' is an ifconfig alias, not an interface).
Result<std::string> validate_iface(std::string_view name);

// A VIF device number of a guest NIC (sg-apply --nic): decimal 0..15,
// digits only (no sign, blanks or leading zeros).
Result<int> validate_nic_device(std::string_view device);

// A Xen domain id: decimal 0..32767.
Result<int> validate_dom_id(std::string_view dom_id);

// CloudStack's numeric VM id: decimal, fits in int64; returned without
// leading zeros.
Result<std::string> validate_vm_id(std::string_view vm_id);

// CloudStack's rule sequence number: decimal int64, -1 ("never programmed")
// or greater.
Result<std::int64_t> validate_seqno(std::string_view seqno);

// CloudStack's rule signature: "_initial_" or 1..64 hex digits (an MD5 is
// 32); hex is returned in lower case.
Result<std::string> validate_signature(std::string_view signature);

} // namespace vifwall
