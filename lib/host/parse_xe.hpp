// Parser for the output of the XAPI command line `xe` (formats.md §1):
// record lists (`xe <class>-list`, `<class>-param-list`), `--minimal` lines
// and map values, plus typed views for the three classes vifwall joins
// (VM, VIF, network).  Pure functions from text to model; no I/O.
//
// Record lists look like
//
//   uuid ( RO)          : 20238d97-f5cb-9de7-5605-771f2052b051
//       name-label ( RW): Control domain on host: Rack1Pod1Host22
//           dom-id ( RO): 0
//   <empty>
//   <empty>
//
// and reach us in many shapes: straight from xe, over `ssh -t` (CRLF), or pasted
// from blogs and tickets (non-breaking spaces, indentation stripped, one blank
// line between records, trailing spaces gone).  All of those parse the same.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// Records of `xe <class>-list` / `<class>-param-list`, whatever `params=` was
// given, fields in any order.
//
// A field line is `NAME SP "(" ACCESS ")" [" [DEPRECATED]"] BLANKS ":" [SP] VALUE`
// with any leading indentation; ACCESS is " RO", " RW", "MRO", "MRW", "SRO" or
// "SRW" ("(RO)"/"(RW)" from retyped copies are accepted and stored as " RO"/" RW").
// The value is everything after the colon and one optional space, kept raw: it
// may contain ": ", "; ", leading blanks and UTF-8.  Placeholders such as
// `<not in database>` are ordinary values here.  The DEPRECATED marker is
// accepted and not recorded (XeField has no place for it).
//
// Record boundaries:
//  * one or more blank lines end a record (xe prints two; copies often one);
//  * without a blank line, a field whose NAME equals the FIRST field name of the
//    current record starts a new record (copies that lost every blank line);
//    other repeated names stay in the same record.
// A line that is not a field line, directly after a field line or a
// continuation line, is the next line of a multi-line value: it is appended to
// that value after a "\n".  After a blank line (or at the start) such a line is
// an error naming it: xe never starts a record with anything but a field.  So a
// value that itself contains an empty line cannot be read back (ambiguous with
// a record end); xe values practically never do.
//
// Empty input, or only blank lines, gives zero records.  Fails on the first
// line that cannot be part of xe output, e.g. line 1 of `ifconfig` text.
Result<std::vector<XeRecord>> parse_xe_records(std::string_view text,
                                               const std::string &source);

// `xe ... --minimal`: one line of comma-separated values with `,` escaped as
// `\,` and `\` as `\\`.  Splits on unescaped commas and unescapes; a backslash
// before any other character is kept as is.  Values are otherwise raw (empty
// values and edge blanks are kept).  An empty or blank line -> empty vector.
// Trailing newlines are dropped; an inner newline belongs to a value (xe does
// not escape newlines).  Fails if a line looks like a record field line, i.e.
// record output was passed where --minimal output was expected.
Result<std::vector<std::string>> parse_xe_minimal(std::string_view text,
                                                  const std::string &source);

// A map value "0/ip: 10.1.1.2; 0/ipv6/0: fe80::1" ->
// {{"0/ip","10.1.1.2"},{"0/ipv6/0","fe80::1"}}.
// Pairs are split on "; " and key from value on the first ": ".  A piece with no
// ": " continues the previous value (a value containing "; "), or is a key with
// an empty value when it comes first or ends in ":" (stripped trailing space).
// An empty value or a placeholder (see is_xe_placeholder) -> empty map.
std::map<std::string, std::string> parse_xe_map(std::string_view value);

// A set value "10.1.1.3; 10.1.1.30" -> {"10.1.1.3", "10.1.1.30"}; empty -> {}.
// (A few legacy sets, e.g. `tags`, are joined with ", " instead; split those
// yourself.)
std::vector<std::string> split_xe_set(std::string_view value);

// True for the markers xe prints instead of a value: `<not in database>`,
// `<invalid reference>`, `<expensive field>`, `<unknown time>`, `<unknown>`,
// `<inconsistent>`, `<not set>`, ... (any "<lower case words>") and
// `OpaqueRef:NULL`.  Callers joining by uuid must not treat these as ids.
bool is_xe_placeholder(std::string_view value);

// Typed views over parse_xe_records.  Every record needs a `uuid` field with a
// value without blanks (error on the record's first line, or on the uuid line);
// other fields are optional (empty / nullopt when not listed) and unknown
// fields are ignored.  Ids, numbers, MACs and bridge names are trimmed (edge
// blanks there are copy damage); name-labels are kept raw (edge blanks in a
// name are real, formats.md §10.13).

// `xe vm-list [params=...]`: uuid, name-label (raw), power-state (lower case),
// dom-id (-1 when not running; a non-numeric one is an error on its line),
// networks (parse_xe_map; empty for `<not in database>`), resident-on (a host
// uuid; "" for a placeholder such as OpaqueRef:NULL or `<not in database>`).
Result<std::vector<Vm>> parse_xe_vm_list(std::string_view text,
                                         const std::string &source);

// `xe vif-list [params=...]`: uuid, vm-uuid, vm-name-label, device, MAC
// (normalize_mac; an unparsable non-empty one is an error on its line), MTU
// (u32; non-numeric is an error), network-uuid, network-name-label.
// Placeholders in vm-uuid / network-uuid / names are kept raw.
Result<std::vector<XeVif>> parse_xe_vif_list(std::string_view text,
                                             const std::string &source);

// `xe network-list [params=...]`: uuid, name-label (raw), bridge.
Result<std::vector<XeNetwork>> parse_xe_network_list(std::string_view text,
                                                     const std::string &source);

} // namespace vifwall
