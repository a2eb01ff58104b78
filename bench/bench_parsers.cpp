// bench_parsers: how fast one libvifwall parser reads a large input, next to
// trivial passes over the same bytes measured in the same process.
//
//   bench_parsers PARSER FILE [--min-seconds S] [--min-iterations N]
//   bench_parsers PARSER FILE --callgrind     (one iteration, for valgrind)
//   bench_parsers --list
//
// The file is read into memory once; each iteration parses it from memory
// and destroys the result, so no I/O and no page cache is timed.  Prints one
// JSON object: bytes, iterations, min and median wall and thread-CPU seconds
// per iteration, MB/s (10^6 bytes) from the median CPU time (`mbps`) and from
// the median wall time (`wall_mbps`), the number of records parsed (a parse
// that fails is reported and exits 1: a fast error is not a fast parser),
// and the heap use of one parse (allocations and peak live bytes, counted by
// the operator new below).
//
// With --callgrind the single iteration runs between CALLGRIND_TOGGLE_COLLECT
// requests, so `valgrind --tool=callgrind --collect-atstart=no` counts the
// parse's instructions only (not reading the file, not the process start).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <malloc.h>
#include <new>
#include <string>
#include <string_view>
#include <time.h>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include "host_inputs.hpp"
#include "parse_arptables.hpp"
#include "parse_brctl.hpp"
#include "parse_ebtables.hpp"
#include "parse_ifconfig.hpp"
#include "parse_ip_json.hpp"
#include "parse_ip_link.hpp"
#include "parse_ipset.hpp"
#include "parse_iptables_save.hpp"
#include "parse_xe.hpp"
#include "text.hpp"

// ---- heap accounting ---------------------------------------------------------
// Every allocation of the process goes through here; the driver is single
// threaded, so plain counters do.  Live bytes use malloc_usable_size, which
// is what the allocator really hands out.

// Counting is switched on for one parse only: the bookkeeping costs time
// and instructions, and the timed and callgrind runs must not pay it.

namespace {
bool g_counting = false;
std::size_t g_allocations = 0;
std::int64_t g_live_bytes = 0; // signed: a parse may free what it did not count
std::int64_t g_peak_live_bytes = 0;

void *counted_alloc(std::size_t size) {
  void *p = std::malloc(size ? size : 1);
  if (!p)
    throw std::bad_alloc();
  if (g_counting) {
    ++g_allocations;
    g_live_bytes += static_cast<std::int64_t>(malloc_usable_size(p));
    g_peak_live_bytes = std::max(g_peak_live_bytes, g_live_bytes);
  }
  return p;
}

void counted_free(void *p) {
  if (!p)
    return;
  if (g_counting)
    g_live_bytes -= static_cast<std::int64_t>(malloc_usable_size(p));
  std::free(p);
}
} // namespace

void *operator new(std::size_t size) { return counted_alloc(size); }
void *operator new[](std::size_t size) { return counted_alloc(size); }
void operator delete(void *p) noexcept { counted_free(p); }
void operator delete[](void *p) noexcept { counted_free(p); }
void operator delete(void *p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void *p, std::size_t) noexcept { counted_free(p); }

// ---- the parsers and the baselines -------------------------------------------

namespace {

using namespace vifwall;

// What one run produced: a record count, or the parser's error.
struct Outcome {
  std::size_t records = 0;
  std::string error;
};

template <class T> Outcome count_of(const Result<std::vector<T>> &result) {
  if (!result)
    return {0, result.error().str()};
  return {result->size(), {}};
}

Outcome count_of(const Result<FwDump> &result) {
  if (!result)
    return {0, result.error().str()};
  std::size_t rules = 0;
  for (const auto &table : result->tables)
    rules += table.rules.size();
  return {rules, {}};
}

Outcome count_of(const Result<IpsetDump> &result) {
  if (!result)
    return {0, result.error().str()};
  std::size_t members = 0;
  for (const auto &set : result->sets)
    members += set.members.size() + 1;
  return {members, {}};
}

struct Parser {
  const char *name;
  const char *what; // for --list
  std::function<Outcome(const std::string &, const std::string &)> run;
};

const std::vector<Parser> &parsers() {
  static const std::vector<Parser> all = {
      // Baselines: what any reader of the text must at least do.
      {"count-lines", "baseline: count '\\n' with memchr (wc -l)",
       [](const std::string &text, const std::string &) {
         std::size_t lines = 0;
         const char *p = text.data();
         const char *end = p + text.size();
         while ((p = static_cast<const char *>(std::memchr(p, '\n', end - p)))) {
           ++lines;
           ++p;
         }
         return Outcome{lines, {}};
       }},
      {"clean-text", "baseline: clean_text() copy every parser makes first",
       [](const std::string &text, const std::string &) {
         return Outcome{clean_text(text).size(), {}};
       }},
      {"split-lines", "baseline: clean_text() + split_lines()",
       [](const std::string &text, const std::string &) {
         const std::string cleaned = clean_text(text);
         return Outcome{split_lines(cleaned).size(), {}};
       }},
      {"split-words", "baseline: clean_text() + split_lines() + split_blanks() per line",
       [](const std::string &text, const std::string &) {
         const std::string cleaned = clean_text(text);
         std::size_t words = 0;
         for (const Line &line : split_lines(cleaned))
           words += split_blanks(line.text).size();
         return Outcome{words, {}};
       }},
      // The parsers (records = list elements; rules for xtables dumps; sets +
      // members for ipset).
      {"xe-records", "parse_xe_records",
       [](const std::string &t, const std::string &s) { return count_of(parse_xe_records(t, s)); }},
      {"xe-vm-list", "parse_xe_vm_list",
       [](const std::string &t, const std::string &s) { return count_of(parse_xe_vm_list(t, s)); }},
      {"xe-vif-list", "parse_xe_vif_list",
       [](const std::string &t, const std::string &s) { return count_of(parse_xe_vif_list(t, s)); }},
      {"xe-network-list", "parse_xe_network_list",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_xe_network_list(t, s));
       }},
      {"ip-link", "parse_ip_link (ip [-s] [-o] link)",
       [](const std::string &t, const std::string &s) { return count_of(parse_ip_link(t, s)); }},
      {"ip-link-brief", "parse_ip_link_brief (ip -br link)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_ip_link_brief(t, s));
       }},
      {"ip-link-json", "parse_ip_link_json (ip -j [-s] link)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_ip_link_json(t, s));
       }},
      {"ifconfig", "parse_ifconfig (ifconfig -a)",
       [](const std::string &t, const std::string &s) { return count_of(parse_ifconfig(t, s)); }},
      {"links", "parse_links (format detection + the parser vif-of uses)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_links(t, s));
       }},
      {"brctl-show", "parse_brctl_show",
       [](const std::string &t, const std::string &s) { return count_of(parse_brctl_show(t, s)); }},
      {"bridge-link", "parse_bridge_link",
       [](const std::string &t, const std::string &s) { return count_of(parse_bridge_link(t, s)); }},
      {"iptables-save", "parse_iptables_save",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_iptables_save(t, s));
       }},
      {"iptables-rules", "parse_iptables_rules (iptables -S)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_iptables_rules(t, s));
       }},
      {"ebtables-save", "parse_ebtables_save",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_ebtables_save(t, s));
       }},
      {"ebtables-list", "parse_ebtables_list (ebtables -L)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_ebtables_list(t, s));
       }},
      {"arptables-save", "parse_arptables_save",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_arptables_save(t, s));
       }},
      {"arptables-list", "parse_arptables_list (arptables -L -n)",
       [](const std::string &t, const std::string &s) {
         return count_of(parse_arptables_list(t, s));
       }},
      {"ipset-save", "parse_ipset_save",
       [](const std::string &t, const std::string &s) { return count_of(parse_ipset_save(t, s)); }},
      {"ipset-list", "parse_ipset_list",
       [](const std::string &t, const std::string &s) { return count_of(parse_ipset_list(t, s)); }},
  };
  return all;
}

const Parser *find_parser(std::string_view name) {
  for (const auto &parser : parsers())
    if (name == parser.name)
      return &parser;
  return nullptr;
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_parsers PARSER FILE [--min-seconds S] [--min-iterations N] "
               "[--callgrind]\n       bench_parsers --list\n");
  return 2;
}

// The JSON string literal of `text` (file names and parser errors only).
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const auto &parser : parsers())
      std::printf("%-16s %s\n", parser.name, parser.what);
    return 0;
  }
  if (argc < 3)
    return usage();
  const Parser *parser = find_parser(argv[1]);
  if (!parser) {
    std::fprintf(stderr, "bench_parsers: unknown parser %s (see --list)\n", argv[1]);
    return 2;
  }
  const std::string path = argv[2];
  double min_seconds = 1.0;
  std::size_t min_iterations = 5;
  bool callgrind = false;
  for (int i = 3; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--callgrind") {
      callgrind = true;
    } else if (arg == "--min-seconds" && i + 1 < argc) {
      min_seconds = std::atof(argv[++i]);
    } else if (arg == "--min-iterations" && i + 1 < argc) {
      min_iterations = static_cast<std::size_t>(std::atol(argv[++i]));
    } else {
      return usage();
    }
  }

  auto text = read_input_file(path);
  if (!text) {
    std::fprintf(stderr, "bench_parsers: %s\n", text.error().str().c_str());
    return 1;
  }
  const std::string &input = *text;

  // One parse that checks the input parses: under callgrind the measured
  // one, otherwise the one whose heap use is counted.
  Outcome outcome;
  if (callgrind) {
    CALLGRIND_TOGGLE_COLLECT;
    outcome = parser->run(input, path);
    CALLGRIND_TOGGLE_COLLECT;
  } else {
    g_counting = true;
    outcome = parser->run(input, path);
    g_counting = false;
  }
  const std::size_t allocations = g_allocations;
  const std::int64_t peak_heap = g_peak_live_bytes;
  if (!outcome.error.empty()) {
    std::fprintf(stderr, "bench_parsers: %s failed: %s\n", parser->name, outcome.error.c_str());
    return 1;
  }

  // Wall time and this thread's CPU time per iteration: on a shared machine
  // the wall clock also counts the time other jobs held the CPU.
  std::vector<double> wall, cpu;
  if (!callgrind) {
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    volatile std::size_t sink = 0;
    while (wall.size() < min_iterations ||
           std::chrono::duration<double>(clock::now() - started).count() < min_seconds) {
      const double cpu0 = thread_cpu_seconds();
      const auto t0 = clock::now();
      sink = sink + parser->run(input, path).records;
      wall.push_back(std::chrono::duration<double>(clock::now() - t0).count());
      cpu.push_back(thread_cpu_seconds() - cpu0);
      if (wall.size() >= 100000)
        break;
    }
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  const auto median = [](const std::vector<double> &v) { return v.empty() ? 0 : v[v.size() / 2]; };
  const auto mbps = [&](double seconds) {
    return seconds > 0 ? static_cast<double>(input.size()) / seconds / 1e6 : 0;
  };

  std::printf("{\"parser\": %s, \"file\": %s, \"bytes\": %zu, \"records\": %zu, "
              "\"iterations\": %zu, \"min_s\": %.9f, \"median_s\": %.9f, "
              "\"cpu_min_s\": %.9f, \"cpu_median_s\": %.9f, \"mbps\": %.2f, "
              "\"wall_mbps\": %.2f, \"allocations\": %zu, \"peak_heap_bytes\": %lld}\n",
              quoted(parser->name).c_str(), quoted(path).c_str(), input.size(),
              outcome.records, wall.size(), wall.empty() ? 0 : wall.front(), median(wall),
              cpu.empty() ? 0 : cpu.front(), median(cpu), mbps(median(cpu)),
              mbps(median(wall)), allocations, static_cast<long long>(peak_heap));
  return 0;
}
