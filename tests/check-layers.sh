#!/bin/bash
# Every header of lib/ compiles with only the include paths of its own layer
# and the layers below it (lib/CMakeLists.txt): so no header reaches up a
# layer, and none depends on being included after another.  The build checks
# the same for every .cpp; this covers headers no .cpp of their layer includes.
#   tests/check-layers.sh SOURCE_DIR [CXX]
set -eu
top=$1
cxx=${2:-c++}
declare -A below=(
  [base]="base"
  [host]="host base"
  [firewall]="firewall base"
  [sg]="sg firewall base"
  [sg/apply]="sg/apply sg/view sg host firewall base"
  [sg/view]="sg/view sg host firewall base"
  [sg/compare]="sg/compare sg/view sg host firewall base"
  [sg/check]="sg/check sg/view sg host firewall base"
)
status=0
for layer in "${!below[@]}"; do
  flags=()
  for dir in ${below[$layer]}; do flags+=(-I "$top/lib/$dir"); done
  for header in "$top/lib/$layer"/*.hpp; do
    if ! "$cxx" -std=c++20 -fsyntax-only "${flags[@]}" -x c++ "$header" 2>/tmp/check-layers.$$; then
      echo "lib/$layer/$(basename "$header"): does not compile with the layers ${below[$layer]} only:"
      head -5 /tmp/check-layers.$$
      status=1
    fi
  done
done
rm -f /tmp/check-layers.$$
# And the check itself can fail: a base header including a host one must not compile.
if printf '#include "host.hpp"\n' | "$cxx" -std=c++20 -fsyntax-only -I "$top/lib/base" -x c++ - 2>/dev/null; then
  echo "an upward include compiled: the layer check is broken"
  status=1
fi
exit $status
