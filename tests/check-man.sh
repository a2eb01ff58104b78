#!/bin/bash
# Fails if a man page renders with any warning (man --warnings, as iproute2's
# `make check` does) or if mandoc's linter finds a warning.
set -u
page=$1
out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
if [ -n "$out" ]; then
    echo "man --warnings on $page:"; echo "$out"; exit 1
fi
if command -v mandoc >/dev/null; then
    out=$(mandoc -Tlint -W warning "$page" 2>&1)
    if [ -n "$out" ]; then
        echo "mandoc -Tlint on $page:"; echo "$out"; exit 1
    fi
fi
for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
    grep -q "^\.SH \"\?$section\"\?\$" "$page" || { echo "$page: missing section $section"; exit 1; }
done
echo "$page: ok"
