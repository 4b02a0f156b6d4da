#!/usr/bin/env bash
# Build a bootable disk image without root: a GPT with one FAT32 EFI system
# partition holding \EFI\BOOT\BOOTX64.EFI and a commented \vtdsync.cfg.
# usage: make-usb.sh OUT.img vtdsync.efi vtdsync.cfg SIZE_MB
set -euo pipefail
out=$1 efi=$2 cfg=$3 mb=${4:-64}
start=2048                      # first partition at 1 MiB
tmp="$out.tmp"
rm -f "$tmp"
truncate -s "${mb}M" "$tmp"
sgdisk --clear --new=1:${start}:0 --typecode=1:ef00 --change-name=1:VTDSYNC "$tmp" >/dev/null
# FAT32 inside the partition; mtools addresses it with image@@offset.
end=$(sgdisk --info=1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
sectors=$((end - start + 1))
part="$tmp@@$((start * 512))"
mformat -i "$part" -F -T "$sectors" -v VTDSYNC ::
mmd -i "$part" ::/EFI ::/EFI/BOOT
mcopy -i "$part" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$part" "$cfg" ::/vtdsync.cfg
mv "$tmp" "$out"
echo "vtdsync.img: ${mb} MiB GPT disk, FAT32 ESP ($sectors sectors); write it with: dd if=$out of=/dev/sdX bs=4M conv=fsync"
