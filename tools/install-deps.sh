#!/usr/bin/env bash
# Install what vtdsync needs to build, run and test on Debian 12.
# QEMU 10 comes from bookworm-backports: the backports suite is added by
# reusing the URI of the machine's own Debian source, so no mirror host is
# ever named here.  Idempotent: does nothing when everything is present.
set -eu

need_pkgs=(gcc make binutils nasm gnu-efi ovmf mtools dosfstools gdisk console-setup-linux
           acpica-tools clang python3 sbsigntool openssl python3-pexpect python3-yaml
           lava-common)
need_cmds=(gcc make objcopy nasm mformat sgdisk iasl clang python3 sbsign sbverify openssl)

have_all=1
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || have_all=0; done
[ -f /usr/include/efi/efi.h ] || have_all=0
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || have_all=0
# The LAVA job's test streams logs through pexpect as LAVA does.
[ -f /usr/lib/python3/dist-packages/pexpect/__init__.py ] || have_all=0
[ -f /usr/lib/python3/dist-packages/yaml/__init__.py ] || have_all=0
[ -d /usr/lib/python3/dist-packages/lava_common ] || have_all=0  # the job's schema
[ -f /usr/share/consolefonts/Lat15-Terminus16.psf.gz ] || have_all=0

qemu_major() {
    command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo 0; return; }
    qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1
}
[ "$(qemu_major)" -ge 10 ] 2>/dev/null || have_all=0
[ $have_all = 1 ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

# Find the URI of the main Debian archive among the configured sources.
debian_uri() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            /^URIs:/   { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok = 1 }
            /^$/       { if (ok && uri) { print uri; exit } ok = 0; uri = "" }
            END        { if (ok && uri) print uri }' "$f" | head -n1
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' "$f"
    done
}

bp=/etc/apt/sources.list.d/vtdsync-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(debian_uri | head -n1)
    if [ -n "$uri" ]; then
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uri" | $SUDO tee "$bp" >/dev/null
    else
        echo "install-deps: no Debian source found; QEMU 10 from backports unavailable" >&2
    fi
fi

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
if ! $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
        qemu-system-x86 qemu-utils >/dev/null; then
    echo "install-deps: QEMU from bookworm-backports failed; trying bookworm's" >&2
    $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
fi
echo "install-deps: $(qemu-system-x86_64 --version | head -n1)"
