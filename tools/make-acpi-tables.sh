#!/bin/bash
# Regenerates the ACPI table images tests/data/acpi/*.dat from their iasl
# data-table sources (*.asl) and refreshes the fuzzers' seed corpora.
#
# A source whose first line is "// make-acpi-tables: signature SIGN" is
# compiled under a placeholder signature (for structures this iasl cannot
# express natively) and then gets signature SIGN and a fixed checksum.
#
# The images are committed, so building and running the tests needs no iasl.
set -euo pipefail

cd "$(dirname "$0")/.."
data=tests/data/acpi
corpus=tests/fuzz/corpus
command -v iasl >/dev/null || { echo "iasl not found: install acpica-tools" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Writes byte value $3 (0..255) at offset $2 of file $1.
put_byte() {
    printf "\\x$(printf %02x "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

fix_signature() {
    local f=$1 sig=$2 sum
    printf '%s' "$sig" | dd of="$f" bs=1 seek=0 conv=notrunc status=none
    put_byte "$f" 9 0
    sum=$(od -An -tu1 -v "$f" | tr -s ' ' '\n' | awk '{ s += $1 } END { print s % 256 }')
    put_byte "$f" 9 $(((256 - sum) % 256))
}

for src in "$data"/*.asl; do
    name=$(basename "$src" .asl)
    cp "$src" "$tmp/$name.asl"
    # iasl 20200925 spins forever on some malformed sources: bound it.
    if ! (cd "$tmp" && timeout 30 iasl "$name.asl" </dev/null >"$name.log" 2>&1); then
        cat "$tmp/$name.log" >&2
        echo "make-acpi-tables: iasl failed on $src" >&2
        exit 1
    fi
    sig=$(sed -n '1s|^// make-acpi-tables: signature \([A-Z0-9_]\{4\}\)$|\1|p' "$src")
    [ -n "$sig" ] && fix_signature "$tmp/$name.aml" "$sig"
    cp "$tmp/$name.aml" "$data/$name.dat"
    echo "$data/$name.dat: $(stat -c %s "$data/$name.dat") bytes"
done

# Seeds for the fuzzers: every image of the table each one parses.
for pair in dmar:dmar madt:madt mcfg:mcfg; do
    prefix=${pair%%:*} fuzzer=${pair##*:}
    mkdir -p "$corpus/$fuzzer"
    cp "$data/$prefix"-*.dat "$corpus/$fuzzer/"
done
