#!/usr/bin/env bash
# The packages of the built tree (scripts/package does the same): an RPM, a
# DEB and a tarball, each holding exactly packaging/files.txt; the RPM asks
# for nothing a CentOS 7 dom0 (rpm 4.11) lacks; each installs into a
# throw-away root, where the tools run (vif-of on examples/xen6, as on the
# build host); the scriptlets run there too, chrooted with a shell and
# stand-ins for systemctl and python (what xapi-install runs under): they
# reload systemd only where it runs, hand a vmops takeover the new wrapper
# on upgrade, give CloudStack its vmops back on removal, refuse the removal
# when that fails, and run no firewall tool.  Needs root (rpm and dpkg
# chroot into the root for scriptlets), cpack, rpm, rpmbuild and dpkg.
# shellcheck source-path=SCRIPTDIR source=e2e/lib.sh
. "$(dirname "$0")/e2e/lib.sh"
e2e_init --root "$@"

for tool in cpack rpm rpmbuild dpkg dpkg-deb chroot mknod; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps installs it)"
done
expected=$E2E_TMP/expected
grep -v '^#' "$SOURCE_DIR/packaging/files.txt" | sort >"$expected"
xen6=$SOURCE_DIR/examples/xen6

out=$E2E_TMP/out
cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$out" >"$E2E_TMP/cpack.log" 2>&1 ||
  fail "cpack failed: $(tail -30 "$E2E_TMP/cpack.log")"
rpm_file=$(echo "$out"/vifwall-*.x86_64.rpm)
deb_file=$(echo "$out"/vifwall_*_amd64.deb)
tgz_file=$(echo "$out"/vifwall-*.tar.gz)
for f in "$rpm_file" "$deb_file" "$tgz_file"; do
  [ -f "$f" ] || fail "cpack made no $f: $(ls "$out")"
done

# rpm_q ROOT ARGS...: rpm on the throw-away root ROOT, its database inside it.
# (Debian's rpm warns on every install; that line is not news.)
rpm_q() {
  local root=$1
  shift
  rpm --root "$root" --dbpath /var/lib/rpm "$@" 2> >(grep -v 'RPM should not be used directly\|assuming you know what' >&2)
}

# --- what each package holds ----------------------------------------------------
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm_file" >"$E2E_TMP/rpm.list"
awk '$1 !~ /^d/ {print $2}' "$E2E_TMP/rpm.list" | sort >"$E2E_TMP/rpm.files"
assert_same_file "$expected" "$E2E_TMP/rpm.files" "the RPM's files"
# Only its own directories: /usr/sbin, /etc/xapi.d/plugins, ... are the system's.
assert_eq "/usr/libexec/vifwall /usr/share/doc/vifwall" \
  "$(awk '$1 ~ /^d/ {print $2}' "$E2E_TMP/rpm.list" | sort | xargs)" "the RPM's directories"

dpkg-deb -c "$deb_file" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort >"$E2E_TMP/deb.files"
assert_same_file "$expected" "$E2E_TMP/deb.files" "the DEB's files"
tar -tzvf "$tgz_file" | awk '$1 !~ /^d/ {print "/" $6}' | sort >"$E2E_TMP/tgz.files"
assert_same_file "$expected" "$E2E_TMP/tgz.files" "the tarball's files"

# --- the RPM asks only what CentOS 7's rpm 4.11 and a dom0 have ------------------
rpm -qp --requires "$rpm_file" | sort -u >"$E2E_TMP/rpm.requires"
while read -r req; do
  case $req in
    /bin/sh | "rpmlib(CompressedFileNames) <= 3.0.4-1" | "rpmlib(FileDigests) <= 4.6.0-1" | \
      "rpmlib(PayloadFilesHavePrefix) <= 4.0-1" | "rpmlib(PayloadIsXz) <= 5.2-1") ;;
    *) fail "the RPM requires '$req', which a CentOS 7 dom0 may not have or rpm 4.11 cannot give" ;;
  esac
done <"$E2E_TMP/rpm.requires"
assert_eq "xz x86_64" "$(rpm -qp --qf '%{PAYLOADCOMPRESSOR} %{ARCH}' "$rpm_file")" "the RPM's payload and arch"
assert_eq "/etc/cron.d/vifwall-drift" "$(rpm -qp --configfiles "$rpm_file")" "the RPM's config files"
assert_eq "" "$(dpkg-deb -f "$deb_file" Depends Pre-Depends)" "the DEB's dependencies"
dpkg-deb -e "$deb_file" "$E2E_TMP/deb.control"
assert_eq "/etc/cron.d/vifwall-drift" "$(cat "$E2E_TMP/deb.control/conffiles")" "the DEB's conffiles"
for tool in vif-of sg-apply sg-show sg-diff; do
  dpkg-deb --fsys-tarfile "$deb_file" | tar -xOf - "./usr/sbin/$tool" >"$E2E_TMP/$tool"
  if readelf -d "$E2E_TMP/$tool" | grep -q 'Dynamic section'; then
    fail "the packaged $tool is not static"
  fi
done

# No scriptlet runs a firewall tool (comments aside).
rpm -qp --scripts "$rpm_file" >"$E2E_TMP/rpm.scripts"
for script in "$E2E_TMP/rpm.scripts" "$E2E_TMP"/deb.control/{postinst,prerm,postrm}; do
  if grep -v '^[[:space:]]*#' "$script" | grep -Eq 'sg-apply|iptables|ebtables|arptables|ipset|reapply'; then
    fail "$script runs a firewall tool: $(grep -Ev '^[[:space:]]*#' "$script" | grep -E 'sg-apply|tables|ipset|reapply')"
  fi
done

# --- throw-away roots ---------------------------------------------------------------
# make_root DIR: a shell (what the scriptlets run under) and /dev/null, a
# stand-in python3 that records how xapi-install was run, a stand-in
# systemctl that records its arguments; no systemd running (no
# /run/systemd/system) until a test makes it so.
make_root() {
  local root=$1 lib
  mkdir -p "$root"/{bin,dev,tmp,usr/bin,etc}
  cp /bin/dash "$root/bin/sh"
  for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp "$lib" "$root$lib"
  done
  mknod -m 666 "$root/dev/null" c 1 3
  # (no cat in the root: the shell's own read)
  printf '#!/bin/sh\necho "python $*" >>/calls\nstatus=0\n[ ! -f /python-status ] || read -r status </python-status\nexit "$status"\n' >"$root/usr/bin/python3"
  printf '#!/bin/sh\necho "systemctl $*" >>/calls\n' >"$root/usr/bin/systemctl"
  chmod 755 "$root/usr/bin/python3" "$root/usr/bin/systemctl"
  cp -r "$xen6" "$root/tmp/xen6"
  cp -r "$SOURCE_DIR/tests/data/sgshow/xen6-arptables" "$root/tmp/fw"
}

# calls ROOT: what the scriptlets ran in ROOT since the last call; forgets it.
calls() {
  cat "$1/calls" 2>/dev/null || true
  rm -f "$1/calls"
}

# same_as_built ROOT TOOL ARGS...: TOOL installed in ROOT, run chrooted
# (nothing of the build host's is reachable; the working directory is /),
# prints and exits as the built TOOL run in ROOT's directory with the same
# (relative) paths.
same_as_built() {
  local root=$1 tool=$2 rc_root=0 rc_built=0
  shift 2
  chroot "$root" "/usr/sbin/$tool" "$@" >"$root.out" 2>&1 || rc_root=$?
  (cd "$root" && "$BUILD_DIR/tools/$tool" "$@") >"$root.built" 2>&1 || rc_built=$?
  assert_eq "$rc_built" "$rc_root" "exit status of $tool $* in $root"
  assert_same_file "$root.built" "$root.out" "$tool $* in $root"
}

# run_tools ROOT: the installed tools run in ROOT: their versions, and one
# real run each on the seed host (examples/xen6) and a snapshot with
# firewall dumps.
run_tools() {
  local root=$1 tool
  for tool in vif-of sg-apply sg-show sg-diff; do
    assert_contains "$(chroot "$root" "/usr/sbin/$tool" --version)" "$tool (vifwall)" "$tool --version in $root"
  done
  same_as_built "$root" vif-of --from tmp/xen6 --all
  grep -Eq '^i-2-3-VM +7 +vif7\.0 +xenbr0 ' "$root.out" || fail "i-2-3-VM is not vif7.0 on xenbr0 in $root"
  same_as_built "$root" sg-show --from tmp/fw
  same_as_built "$root" sg-diff --from tmp/fw --desired-from tmp/fw --no-xe --summary
  assert_contains "$(cat "$root.out")" "sg-diff: no differences" "sg-diff --summary in $root"
  same_as_built "$root" sg-apply --dry-run --state-dir tmp/state frobnicate
}

# --- RPM --------------------------------------------------------------------------
root=$E2E_TMP/rpmroot
make_root "$root"
rpm_q "$root" -i --nodeps "$rpm_file" || fail "rpm -i into $root failed"
assert_eq "vifwall" "$(rpm_q "$root" -q --qf '%{NAME}' vifwall)" "the RPM installed"
run_tools "$root"
assert_eq "" "$(calls "$root")" "install without systemd, no takeover: the scriptlets run nothing"

mkdir -p "$root/run/systemd/system" # systemd runs now
rpm_q "$root" -U --replacepkgs --nodeps "$rpm_file" || fail "rpm -U (upgrade) in $root failed"
assert_eq "systemctl daemon-reload" "$(calls "$root")" "upgrade with systemd, no takeover"

mkdir -p "$root/usr/lib/vifwall"
: >"$root/usr/lib/vifwall/xapi-install" # what xapi-install install leaves
rpm_q "$root" -U --replacepkgs --nodeps "$rpm_file" || fail "rpm -U (upgrade after takeover) failed"
assert_eq "systemctl daemon-reload
python /usr/libexec/vifwall/xapi-install install --no-firewall" "$(calls "$root")" "upgrade after the takeover refreshes the wrapper"

echo 1 >"$root/python-status" # xapi-install remove fails
if rpm_q "$root" -e vifwall 2>"$E2E_TMP/erase.err"; then
  fail "rpm -e succeeded although xapi-install remove failed"
fi
assert_contains "$(cat "$E2E_TMP/erase.err")" "CloudStack's vmops is not back" "the refused removal says why"
rpm_q "$root" -q vifwall >/dev/null || fail "the package went although CloudStack's vmops was not given back"
[ -x "$root/usr/sbin/sg-apply" ] || fail "sg-apply went although the wrapper still runs it"
calls "$root" >/dev/null

rm "$root/python-status"
rpm_q "$root" -e vifwall || fail "rpm -e failed"
assert_eq "systemctl --no-reload disable vifwall-drift.timer
systemctl stop vifwall-drift.timer vifwall-drift.service
python /usr/libexec/vifwall/xapi-install remove
systemctl daemon-reload" "$(calls "$root")" "removal after the takeover"
left=$(cd "$root" && grep -v '^#' "$SOURCE_DIR/packaging/files.txt" | while read -r f; do [ ! -e ".$f" ] || echo "$f"; done)
assert_eq "" "$left" "files left after rpm -e"

# --- DEB --------------------------------------------------------------------------
root=$E2E_TMP/debroot
make_root "$root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
dpkg --root="$root" -i "$deb_file" >"$E2E_TMP/dpkg.log" || fail "dpkg -i into $root failed: $(cat "$E2E_TMP/dpkg.log")"
run_tools "$root"
assert_eq "" "$(calls "$root")" "deb install without systemd"
mkdir -p "$root/run/systemd/system" "$root/usr/lib/vifwall"
: >"$root/usr/lib/vifwall/xapi-install"
dpkg --root="$root" -i "$deb_file" >"$E2E_TMP/dpkg.log" || fail "dpkg -i (upgrade) failed: $(cat "$E2E_TMP/dpkg.log")"
assert_eq "systemctl daemon-reload
python /usr/libexec/vifwall/xapi-install install --no-firewall" "$(calls "$root")" "deb upgrade after the takeover"
dpkg --root="$root" -r vifwall >"$E2E_TMP/dpkg.log" || fail "dpkg -r failed: $(cat "$E2E_TMP/dpkg.log")"
assert_eq "systemctl --no-reload disable vifwall-drift.timer
systemctl stop vifwall-drift.timer vifwall-drift.service
python /usr/libexec/vifwall/xapi-install remove
systemctl daemon-reload" "$(calls "$root")" "deb removal after the takeover"
# The admin's cron file is a conffile: it stays until purge.
[ -f "$root/etc/cron.d/vifwall-drift" ] || fail "dpkg -r removed the conffile /etc/cron.d/vifwall-drift"
[ ! -e "$root/usr/sbin/vif-of" ] || fail "dpkg -r left /usr/sbin/vif-of"

# --- tarball ----------------------------------------------------------------------
root=$E2E_TMP/tgzroot
make_root "$root"
tar -xzf "$tgz_file" -C "$root"
run_tools "$root"
echo "packages: ok"
