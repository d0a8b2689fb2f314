#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds what tests/vm/run.sh boots: Debian 12's own kernel (the
# linux-image-amd64 package, 6.1) and a small Debian 12 root filesystem as
# an initramfs, so the guest needs no block device or module: the whole
# root lives in RAM. Cached in $TLSWATCH_VM_CACHE (default
# /var/cache/tlswatch-vm, outside the work tree so `make clean` and fresh
# clones reuse it); rebuilt only when this script changes. Needs root
# (debootstrap), debootstrap, cpio and Debian's apt archive.
# Leaves in the cache: vmlinuz, rootfs.cpio, kernel-package, stamp.
set -euo pipefail
cache=${TLSWATCH_VM_CACHE:-/var/cache/tlswatch-vm}
# Everything ./tlswatch links dynamically (ldd ./tlswatch), openssl for
# the peers, busybox for ip and poweroff, libcmocka0 for the BPF unit
# test (build/tests/test_bpf).
include=busybox,openssl,libelf1,zlib1g,libpcap0.8,libssl3,libmicrohttpd12,libcmocka0
stamp=$(sha256sum <"$0" | cut -c1-16)

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -s "$cache/vmlinuz" ] && [ -s "$cache/rootfs.cpio" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "tests/vm/build.sh: needs root (debootstrap)" >&2
	exit 1
fi
for t in debootstrap cpio apt-get dpkg-deb; do
	command -v "$t" >/dev/null || {
		echo "tests/vm/build.sh: $t is missing (tests/install-deps.sh test)" >&2
		exit 1
	}
done

# The Debian mirror apt already uses, so that debootstrap reaches the same
# archive (deb822 "URIs:" or one-line "deb" entries; not security).
if [ -z "${TLSWATCH_VM_MIRROR:-}" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
		/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
		grep -E '/debian/?$' | head -n 1) || true
else
	mirror=$TLSWATCH_VM_MIRROR
fi
mirror=${mirror:-http://deb.debian.org/debian}

rm -f "$cache/stamp"
work="$cache/work"
# A debootstrap that failed may leave proc or sys mounted in its target:
# unmount them, and never let rm cross into another file system.
clean() {
	awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$work"
}
clean
mkdir -p "$work"
trap clean EXIT

echo "vm build: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include="$include" bookworm \
	"$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -n 20 "$work/debootstrap.log" >&2
	echo "tests/vm/build.sh: debootstrap failed" >&2
	exit 1
}
# What a RAM root does not need: documentation, locales, apt's caches.
rm -rf "$work/root"/usr/share/{doc,man,info,locale,lintian} \
	"$work/root"/var/cache/apt/* "$work/root"/var/lib/apt/lists/*
(cd "$work/root" && find . -xdev | LC_ALL=C sort |
	cpio -o -H newc --quiet) >"$work/rootfs.cpio"

# The kernel: the package linux-image-amd64 depends on, fetched, not
# installed; only its vmlinuz is used (the guest loads no module).
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-/ { print $2; exit }'
}
pkg=$(kernel_pkg)
[ -n "$pkg" ] || { apt-get update -qq && pkg=$(kernel_pkg); }
[ -n "$pkg" ] || {
	echo "tests/vm/build.sh: apt knows no linux-image-amd64 (apt-get update?)" >&2
	exit 1
}
echo "vm build: kernel $pkg"
# Lists older than the archive name a version it no longer has: refresh.
get() { (cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null); }
get || { apt-get update -qq && get; }
dpkg-deb --fsys-tarfile "$work"/"$pkg"_*.deb |
	tar -x -C "$work" --wildcards './boot/vmlinuz-*'
mv "$work"/boot/vmlinuz-* "$cache/vmlinuz"
mv "$work/rootfs.cpio" "$cache/rootfs.cpio"
# shellcheck disable=SC2016 # dpkg's fields, not the shell's
dpkg-deb --show --showformat='${Package} ${Version}' "$work"/"$pkg"_*.deb >"$cache/kernel-package"
echo "$stamp" >"$cache/stamp"
echo "vm build: done ($(cat "$cache/kernel-package"), rootfs $(du -m "$cache/rootfs.cpio" | cut -f1) MB)"
