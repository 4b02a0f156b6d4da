#!/usr/bin/env bash
# Sign a UEFI image for Secure Boot and check the signature against the
# certificate, so a stick never carries an image its firmware would refuse
# for a reason we could have seen here.
# usage: sign-efi.sh KEY CERT IN.efi OUT.efi
#   KEY:  PEM private key (an encrypted key makes sbsign ask for its passphrase)
#   CERT: PEM certificate of that key, the one enrolled in the firmware's db
set -euo pipefail
if [ $# -ne 4 ]; then
    echo "usage: $0 KEY CERT IN.efi OUT.efi" >&2
    exit 2
fi
key=$1 cert=$2 in=$3 out=$4
for f in "$key" "$cert" "$in"; do
    [ -r "$f" ] || { echo "sign-efi: cannot read $f" >&2; exit 2; }
done
# sbsign warns about the padding between PE sections of a GNU-EFI image;
# the signature still covers every byte (sbverify checks it below).
sbsign --key "$key" --cert "$cert" --output "$out.tmp" "$in" >/dev/null 2> >(grep -v 'gaps between PE/COFF sections' >&2)
sbverify --cert "$cert" "$out.tmp" 2> >(grep -v 'gaps between PE/COFF sections' >&2) >/dev/null
mv "$out.tmp" "$out"
echo "$(basename "$out"): signed with $(openssl x509 -in "$cert" -noout -subject)"
