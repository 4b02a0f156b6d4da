#!/usr/bin/env python3
"""tools/vtdsync-plan over the real-hardware corpus: every DMAR table in
tests/data/hw/dmar (or ../shared/data/hw/dmar until it is copied), every
unit of tests/data/hw/capecap.tsv (--unit), Linux logs in both formats
(--dmesg), a fake /sys tree (the default input), and bad input.  Checks the
JSON shape, one unit per DRHD in table order, that every corpus unit is
usable in its best mode with a depth SAGAW offers, and the exit status
(0 main job can run, 1 cannot, 2 unreadable input)."""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/vtdsync-plan")
HW = os.path.join(ROOT, "tests/data/hw")
DMAR_DIR = os.path.join(HW, "dmar")
if not glob.glob(os.path.join(DMAR_DIR, "*.dat")):
    DMAR_DIR = os.path.join(ROOT, "..", "shared", "data", "hw", "dmar")

results = []


def case(name, ok, detail=""):
    results.append((name, ok, detail))


BIN = os.path.join(ROOT, "build/vtdsync-plan")
tool = [TOOL]  # the wrapper first (it builds the binary), then the binary


def run(*args):
    p = subprocess.run([*tool, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def run_json(*args):
    rc, out, err = run("--json", *args)
    lines = [l for l in out.splitlines() if l.strip()]
    try:
        obj = json.loads(out)
    except ValueError as e:
        return rc, None, f"not one JSON object ({e}): {out[:300]!r} {err[:300]!r}"
    if len(lines) != 1 or not isinstance(obj, dict):
        return rc, None, f"want exactly one object on one line: {out[:300]!r}"
    return rc, obj, err


def shape_errors(obj):
    """The agreed shape of --json."""
    errs = []
    for key, typ in (("units", list), ("rmrrs", int), ("findings", list), ("main_job", bool)):
        if not isinstance(obj.get(key), typ) or (typ is int and isinstance(obj.get(key), bool)):
            errs.append(f"{key}: {obj.get(key)!r}")
    for u in obj.get("units", []):
        if not (isinstance(u.get("base"), str) and u["base"].startswith("0x")):
            errs.append(f"base {u.get('base')!r}")
        if u.get("usable") not in (True, False, None):
            errs.append(f"usable {u.get('usable')!r}")
        if u.get("mode") not in ("scalable", "legacy", None):
            errs.append(f"mode {u.get('mode')!r}")
        if u.get("levels") not in (3, 4, 5, None):
            errs.append(f"levels {u.get('levels')!r}")
        if not isinstance(u.get("states"), list) or not isinstance(u.get("reason"), str):
            errs.append(f"states/reason {u!r}")
        if u.get("usable") and (u["mode"] is None or "blocked" not in u["states"]):
            errs.append(f"usable unit without mode or states: {u!r}")
        if u.get("usable") is not True and (u.get("states") or not u.get("reason")):
            errs.append(f"unit not usable needs a reason and no states: {u!r}")
    for f in obj.get("findings", []):
        if f.get("severity") not in ("defect", "note") or not isinstance(f.get("text"), str):
            errs.append(f"finding {f!r}")
    return errs


def drhd_bases(path):
    """Register bases of the DRHDs of a DMAR image, in table order."""
    data = open(path, "rb").read()
    length = struct.unpack_from("<I", data, 4)[0]
    off, bases = 48, []
    while off + 4 <= min(length, len(data)):
        typ, slen = struct.unpack_from("<HH", data, off)
        if slen < 4:
            break
        if typ == 0 and off + 16 <= len(data):
            bases.append(struct.unpack_from("<Q", data, off + 8)[0])
        off += slen
    return bases


def corpus_units():
    rows = []
    with open(os.path.join(HW, "capecap.tsv")) as f:
        next(f)
        for line in f:
            col = line.rstrip("\n").split("\t")
            if len(col) >= 5:
                rows.append(col)
    return rows


def best(cap, ecap):
    """Mode and depths the unit must get (independent of the tool's code)."""
    smts, qi, slts, flts = (ecap >> 43) & 1, (ecap >> 1) & 1, (ecap >> 46) & 1, (ecap >> 47) & 1
    sagaw, mgaw = (cap >> 8) & 0x1f, ((cap >> 16) & 0x3f) + 1
    scalable = bool(smts and qi and (slts or flts))
    return ("scalable" if scalable else "legacy"), sagaw, mgaw, scalable and not slts


def main():
    rc, out, err = run("--help")
    case("wrapper_builds_and_runs", rc == 0 and "usage: vtdsync-plan" in out and
         os.access(BIN, os.X_OK), f"rc {rc} {out[:200]!r} {err[:300]!r}")
    tool[:] = [BIN]
    tables = sorted(glob.glob(os.path.join(DMAR_DIR, "*.dat")))
    case("corpus_tables_found", len(tables) >= 20, f"{len(tables)} tables in {DMAR_DIR}")
    for t in tables:
        name = "table_" + os.path.basename(t)[:-4]
        rc, obj, err = run_json("--dmar", t)
        if obj is None:
            case(name, False, err)
            continue
        errs = shape_errors(obj)
        bases = [int(u["base"], 16) for u in obj["units"]]
        if bases != drhd_bases(t):
            errs.append(f"units {list(map(hex, bases))} != DRHDs {list(map(hex, drhd_bases(t)))}")
        if any(u["usable"] is not None and not (u["usable"] is False and "defective" in u["reason"])
               for u in obj["units"]):
            errs.append("usable must be null without register values (false: defective DRHD)")
        if rc != (0 if obj["main_job"] else 1):
            errs.append(f"exit {rc} with main_job {obj['main_job']}")
        case(name, not errs, "; ".join(errs))

    # Every real unit alone: usable, best mode, a SAGAW depth, IOVAs below MGAW.
    for col in corpus_units():
        uid, ver, cap, ecap = col[0], col[2], int(col[3], 16), int(col[4], 16)
        rc, obj, err = run_json("--unit", f"fed90000={cap:x},{ecap:x},{ver}")
        if obj is None:
            case("unit_" + uid, False, err)
            continue
        errs = shape_errors(obj)
        u = obj["units"][0] if len(obj["units"]) == 1 else {}
        mode, sagaw, mgaw, fs_only = best(cap, ecap)
        if u.get("usable") is not True or u.get("mode") != mode:
            errs.append(f"want usable in {mode} mode: {u!r}")
        lv = u.get("levels")
        if not fs_only and (lv is None or not sagaw & (1 << (lv - 2))):
            errs.append(f"depth {lv} not offered by SAGAW {sagaw:#x}")
        if not isinstance(u.get("iova_bits"), int) or u["iova_bits"] > mgaw:
            errs.append(f"iova_bits {u.get('iova_bits')} above MGAW {mgaw}")
        if rc != 0 or obj.get("main_job") is not True:
            errs.append(f"exit {rc}, main_job {obj.get('main_job')}")
        case("unit_" + uid, not errs, "; ".join(errs))

    # Logs: the current and the old kernel format, alone and with their table.
    logs = os.path.join(HW, "dmesg")
    rc, obj, err = run_json("--dmesg", os.path.join(logs, "meteorlake-h.log"))
    ok = obj is not None and rc == 0 and [u["base"] for u in obj["units"]] == \
        ["0xfc800000", "0xfc801000"] and all(u["usable"] and u["mode"] == "scalable"
                                             and u["levels"] == 4 and "FS-A" in u["states"]
                                             for u in obj["units"])
    case("dmesg_current_format", ok, f"rc {rc} {obj or err}")
    rc, obj, err = run_json("--dmesg", os.path.join(logs, "xps15z-snb-kernel3.11.log"))
    ok = obj is not None and rc == 0 and len(obj["units"]) == 2 and all(
        u["usable"] and u["mode"] == "legacy" and u["levels"] == 3 for u in obj["units"])
    case("dmesg_old_format", ok, f"rc {rc} {obj or err}")
    nuc = os.path.join(DMAR_DIR, "linuxhw_ASUS_NUC14RVH-B.dat")
    rc, obj, err = run_json("--dmar", nuc, "--dmesg", os.path.join(logs, "meteorlake-h.log"))
    ok = obj is not None and rc == 0 and obj["main_job"] and not shape_errors(obj) and \
        [u["usable"] for u in obj["units"]] == [True, True] and obj["units"][0].get("graphics")
    case("table_with_dmesg", ok, f"rc {rc} {obj or err}")
    rc, out, err = run("--dmar", nuc, "--dmesg", os.path.join(logs, "meteorlake-h.log"))
    case("text_output", rc == 0 and "main job (transitions): can run on unit 1 at 0xfc801000"
         in out and "states: blocked PT SS-A SS-B FS-A FS-B" in out, out[-600:])

    # The corpus's real defects (DRHD register base 0 on shipping laptops).
    flex = os.path.join(DMAR_DIR, "linuxhw_Lenovo_IdeaPadFlex_15_20309.dat")
    if os.path.exists(flex):
        rc, out, err = run("--dmar", flex)
        case("real_defect_only_unit_exit_1", rc == 1 and "defect: DMAR: structure type 0 (DRHD)"
             in out and "cannot run: the unit the NVMe would sit behind cannot be used" in out,
             f"rc {rc} {out[-500:]!r}")
    e15 = os.path.join(DMAR_DIR, "linuxhw_Lenovo_ThinkPad_E15_Gen2.dat")
    if os.path.exists(e15):
        rc, out, err = run("--dmar", e15)
        case("real_defect_root_port_left", rc == 0 and "only for an NVMe behind that unit's root "
             "ports: unit 2 at 0x0" in out, f"rc {rc} {out[-500:]!r}")
    # A unit vtdsync cannot use: legacy mode without any SAGAW depth.
    rc, obj, err = run_json("--unit", "fed90000=c0000020e60062,f0101a")
    ok = obj is not None and rc == 1 and obj["units"][0]["usable"] is False and \
        "no supported AGAW" in obj["units"][0]["reason"] and not obj["main_job"]
    case("unusable_unit_exit_1", ok, f"rc {rc} {obj or err}")
    # Scalable forced on a legacy-only unit.
    rc, obj, err = run_json("--mode", "scalable", "--unit", "fed90000=c0000020e60262,f0101a")
    case("mode_scalable_refused", obj is not None and rc == 1 and
         "scalable mode requested" in obj["units"][0]["reason"], f"rc {rc} {obj or err}")

    with tempfile.TemporaryDirectory() as d:
        # The default input, from a fake /sys: the T420's table, units of the same layout.
        sysfs = os.path.join(d, "sys")
        os.makedirs(os.path.join(sysfs, "firmware/acpi/tables"))
        shutil.copy(os.path.join(DMAR_DIR, "linuxhw_Lenovo_ThinkPad_T420.dat"),
                    os.path.join(sysfs, "firmware/acpi/tables/DMAR"))
        for n, (base, cap, ecap) in enumerate((("fed90000", "c0000020e60262", "f0101a"),
                                               ("fed91000", "c9008020660262", "f0105a"))):
            u = os.path.join(sysfs, f"class/iommu/dmar{n}/intel-iommu")
            os.makedirs(u)
            for k, v in (("address", base), ("version", "1:0"), ("cap", cap), ("ecap", ecap)):
                with open(os.path.join(u, k), "w") as f:
                    f.write(v + "\n")
        rc, obj, err = run_json("--sysroot", d)
        ok = obj is not None and rc == 0 and [u["usable"] for u in obj["units"]] == [True, True] \
            and obj["rmrrs"] == 2
        case("sysfs_default_input", ok, f"rc {rc} {obj or err}")
        # A machine without DMAR (this one, or an empty tree): exit 1 with the reason.
        empty = os.path.join(d, "empty")
        os.makedirs(empty)
        rc, obj, err = run_json("--sysroot", empty)
        case("no_dmar_exit_1", obj is not None and rc == 1 and not obj["main_job"] and
             "no DMAR table" in obj.get("main_job_reason", ""), f"rc {rc} {obj or err}")
        if not os.path.exists("/sys/firmware/acpi/tables/DMAR"):
            rc, out, err = run()
            case("this_machine_exit_1", rc == 1 and "no DMAR table" in out, f"rc {rc} {out!r}")
        # A real defect (a DRHD whose register base is 0, as on a shipping
        # laptop): named with severity "defect", that unit left alone.
        t420 = bytearray(open(os.path.join(DMAR_DIR, "linuxhw_Lenovo_ThinkPad_T420.dat"),
                              "rb").read())
        off = 48
        while struct.unpack_from("<H", t420, off)[0] != 0:
            off += struct.unpack_from("<H", t420, off + 2)[0]
        struct.pack_into("<Q", t420, off + 8, 0)
        t420[9] = 0
        t420[9] = (-sum(t420)) & 0xff
        broken = os.path.join(d, "base0.dat")
        with open(broken, "wb") as f:
            f.write(t420)
        rc, obj, err = run_json("--dmar", broken, "--unit", "fed91000=c9008020660262,f0105a")
        ok = obj is not None and not shape_errors(obj) and rc == 0 and \
            obj["units"][0]["base"] == "0x0" and obj["units"][0]["usable"] is False and \
            obj["units"][1]["usable"] is True and \
            any(f["severity"] == "defect" and "register base" in f["text"]
                for f in obj["findings"])
        case("defect_named", ok, f"rc {rc} {obj or err}")
        # Unreadable input: exit 2.
        junk = os.path.join(d, "junk.dat")
        with open(junk, "wb") as f:
            f.write(b"APIC" + bytes(60))
        nolines = os.path.join(d, "dmesg.txt")
        with open(nolines, "w") as f:
            f.write("[    0.000000] Linux version 6.1\n")
        for name, args in (("missing_file", ("--dmar", os.path.join(d, "none.dat"))),
                           ("not_a_dmar", ("--dmar", junk)),
                           ("dmesg_without_units", ("--dmesg", nolines)),
                           ("bad_unit_syntax", ("--unit", "fed90000=xyz")),
                           ("bad_option", ("--frobnicate",))):
            rc, out, err = run(*args)
            case("exit_2_" + name, rc == 2 and err.strip(), f"rc {rc} {out!r} {err!r}")

    print("KTAP version 1")
    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {name}")
        if not ok:
            failed += 1
            print(f"# {detail}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
