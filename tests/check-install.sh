#!/usr/bin/env bash
# `cmake --install` of the built tree puts every file where packaging/files.txt
# says (tools in sbin, man pages in man8, completions, the XAPI plugin in
# /etc/xapi.d/plugins, ...), with the right modes, and the drift units name
# the installed sg-diff -- with DESTDIR and the prefix /usr (the packages'
# layout), and with --prefix DIR alone (everything under DIR, /etc as
# DIR/etc).  Runs on the already built tree: no configure, no build.
# shellcheck source-path=SCRIPTDIR source=e2e/lib.sh
. "$(dirname "$0")/e2e/lib.sh"
e2e_init "$@"

expected=$E2E_TMP/expected
grep -v '^#' "$SOURCE_DIR/packaging/files.txt" | sort >"$expected"

# list_tree DIR: every file and link under DIR, as absolute paths inside it.
list_tree() {
  (cd "$1" && find . ! -type d | sed 's|^\.||' | sort)
}

# mode_of FILE: octal permission bits.
mode_of() {
  stat -c %a "$1"
}

# --- DESTDIR and the prefix /usr ------------------------------------------------
dest=$E2E_TMP/dest
DESTDIR=$dest cmake --install "$BUILD_DIR" --prefix /usr >"$E2E_TMP/install.log" ||
  fail "cmake --install with DESTDIR failed: $(cat "$E2E_TMP/install.log")"
list_tree "$dest" >"$E2E_TMP/installed"
assert_same_file "$expected" "$E2E_TMP/installed" "files installed with the prefix /usr"

for f in /usr/sbin/vif-of /usr/sbin/sg-apply /usr/sbin/sg-show /usr/sbin/sg-diff \
  /etc/xapi.d/plugins/vifwall /usr/libexec/vifwall/vmops-vifwall /usr/libexec/vifwall/xapi-install; do
  assert_eq 755 "$(mode_of "$dest$f")" "mode of $f"
done
for f in /etc/cron.d/vifwall-drift /usr/lib/systemd/system/vifwall-drift.service \
  /usr/share/man/man8/vif-of.8 /usr/share/bash-completion/completions/vif-of; do
  assert_eq 644 "$(mode_of "$dest$f")" "mode of $f"
done
for f in xapi/vifwall xapi/vmops-vifwall; do
  assert_same_file "$SOURCE_DIR/$f" "$dest$(grep "/${f#xapi/}\$" "$expected")" "installed $f"
done
assert_same_file "$SOURCE_DIR/xapi/install" "$dest/usr/libexec/vifwall/xapi-install" "installed xapi/install"

# The installed tools are the built ones and run.
cmp -s "$BUILD_DIR/tools/sg-diff" "$dest/usr/sbin/sg-diff" || fail "/usr/sbin/sg-diff is not the built sg-diff"
assert_contains "$("$dest/usr/sbin/vif-of" --version)" "vif-of (vifwall)" "installed vif-of --version"

# The units and the cron line run the sg-diff of this prefix.
service=$dest/usr/lib/systemd/system/vifwall-drift.service
assert_eq "ExecStart=/usr/sbin/sg-diff --summary" "$(grep '^ExecStart=' "$service")" "the drift service's command"
assert_eq "SuccessExitStatus=1" "$(grep '^SuccessExitStatus=' "$service")" "drift (status 1) is not a failed unit"
grep -q '^WantedBy=timers.target' "$dest/usr/lib/systemd/system/vifwall-drift.timer" || fail "the timer is not installable"
cron=$(grep -v '^# ' "$dest/etc/cron.d/vifwall-drift" | grep 'sg-diff' || true)
assert_contains "$cron" "/usr/sbin/sg-diff --summary" "the cron line"
case $cron in
  '#'*) ;;
  *) fail "the cron line must ship commented out (the timer is the default): $cron" ;;
esac
assert_contains "$cron" "systemctl is-active --quiet vifwall-drift.timer" "the cron line skips while the timer is active"

# --- --prefix DIR alone: nothing outside DIR ---------------------------------------
prefix=$E2E_TMP/prefix
cmake --install "$BUILD_DIR" --prefix "$prefix" >"$E2E_TMP/install-prefix.log" ||
  fail "cmake --install --prefix failed: $(cat "$E2E_TMP/install-prefix.log")"
list_tree "$prefix" >"$E2E_TMP/installed-prefix"
sed 's|^/usr/|/|' "$expected" | sort >"$E2E_TMP/expected-prefix"
assert_same_file "$E2E_TMP/expected-prefix" "$E2E_TMP/installed-prefix" "files installed with --prefix DIR"
assert_eq "ExecStart=$prefix/sbin/sg-diff --summary" \
  "$(grep '^ExecStart=' "$prefix/lib/systemd/system/vifwall-drift.service")" "the service of --prefix DIR"
if grep -q "/usr/sbin/sg-diff" "$prefix/etc/cron.d/vifwall-drift"; then
  fail "the cron file of --prefix DIR names /usr/sbin/sg-diff"
fi
echo "install: ok"
