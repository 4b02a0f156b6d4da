#!/usr/bin/env python3
"""Boot vtdsync under QEMU + OVMF for one named scenario.

A scenario is tests/scenarios/NAME.scn, lines of `key: value`:
  desc:     one line of description
  iommu:    none | legacy | scalable | scalable-flts | scalable-cm | raw
            (raw: give the whole -device intel-iommu,... in qemu:)
  aw:       39 | 48 (intel-iommu aw-bits; default: QEMU's)
  smp:      CPUs (default 2)        mem: RAM (default 512M)
  devices:  any of nvme edu nvme-bridge edu-bridge (default: nvme edu);
            nvme-pcibridge edu-pcibridge put them behind a pcie-pci-bridge
            (conventional PCI: their DMA carries the bridge's alias)
  qemu:     extra QEMU arguments (repeatable; $ROOT is the repository)
  cfg:      a line for \\vtdsync.cfg (repeatable)
  expect:   pass | fail | skip | crash | timeout (the firmware's verdict)
  case:     PATH = RESULT [# REASON] (repeatable): the KTAP verdict of one
            test, the way a scenario should judge.  PATH is SUITE/CASE
            (SUITE alone: the suite's own result line; a deeper subtest
            adds /NAME).  RESULT is pass, fail, skip, xfail, timeout,
            error (the directive decides: `ok .. # SKIP` is skip, `ok ..
            # XFAIL` is xfail, `not ok .. # TIMEOUT` is timeout) or absent
            (no such result line); pass|skip accepts either.  Every result
            line of that PATH (a case may run once per iteration) must
            have RESULT, and there must be one unless absent is allowed.
            REASON, a regex, must occur in the directive's reason (a
            skip's reason is part of the KTAP result line) or, for a plain
            fail, in the `# CASE: reason` line just before it.
  json:     KEY OP VALUE ... (repeatable): one `json: {...}` line of the log
            (the firmware prints them with cfg json=1) holds every
            condition.  OP is = or != (a number, 0x hex too, or a string),
            < <= > >= (numbers) or ~ (a regex searched in the value).
            Words are split as by a shell, so a value may be quoted.
  totals:   KEY OP VALUE ... : the last line's counts (passed, failed,
            skipped), with the ops of json:
  match:    a regex some serial line must match (repeatable).  Prefer
            case:/json:/totals:; a regex over a `# ...` diagnostic is only
            for a line that IS the product's output (a finding, a fault
            line, a tool's answer), as wording may change freely elsewhere
  nomatch:  a regex no serial line may match (repeatable)
  timeout:  seconds before the harness kills QEMU (default 180)
  image:    esp (default: a FAT image made for the run, on AHCI) | usb (the
            `make usb` disk image, cfg: lines added, on an xHCI USB stick)
  boots:    boot N times against the same OVMF variable store (default 1);
            expect/match/nomatch apply to the last boot
  cfg_last: a line for \\vtdsync.cfg of the last boot only, after the cfg:
            lines (repeatable; a later word wins)
  kill_on:  a regex: the first boot's QEMU is killed (SIGKILL, as a machine
            that dies) as soon as a serial line matches it
  boot_expect: the verdict of every boot before the last (default: any):
            killed (kill_on: matched), reset (the firmware reset the
            machine: QEMU's -no-reboot exits 0), pass, fail, ...
  after:    a shell command run after the last boot ($WORK is the scenario's
            directory, $ROOT the repository); its output lines are checked
            by match:/nomatch: along with the serial log
  screenshot: a PNG path: on the summary line, save the screen (QEMU
            screendump) before the machine exits (runs with end=halt)
  firmware: ovmf (default: OVMF_CODE_4M, no Secure Boot) | snakeoil (Debian's
            Secure-Boot OVMF with the snakeoil test key enrolled in PK, KEK
            and db; SMM on)
  fixture:  NAME WORDS...: boot build/fixtures/NAME.efi first (tests/fixtures/
            NAME.c), with WORDS in \\fixture.cfg; it starts \\vtdsync.efi itself
  sign:     snakeoil: boot build/vtdsync.efi signed with the snakeoil key
            (`make signed` with that key) instead of the unsigned image
  expect: refused means the firmware must refuse to start the image (Secure
  Boot): no KTAP, the harness stops QEMU as soon as OVMF says so.
  ovmf:     the OVMF code image in /usr/share/OVMF (default OVMF_CODE_4M.fd);
            the Secure-Boot builds (*.ms.fd, *.snakeoil.fd, *.secboot.fd)
            get SMM and a secure flash, and keep the empty variable store
            (setup mode: no keys, so the unsigned image still boots)

usage: qemu-run.py --scenario NAME [--accel tcg|kvm] [--qemu-extra ARGS]
                   [--cfg 'k=v ...'] [--quiet] [--log FILE]
       qemu-run.py --recheck [NAME...]   judge the last runs' logs again
                   (build/scenarios/NAME/) with the scenario's current
                   checks, without booting (all when no NAME)
Exits with the firmware's verdict: 0 pass, 1 fail or anything unexpected.
"""
import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("BUILD", os.path.join(ROOT, "build")))
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# Debian's Secure-Boot test firmware and its key (ovmf's README.Debian).
SNAKEOIL_CODE = "/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd"
SNAKEOIL_VARS = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
SNAKEOIL_KEY = "/usr/share/ovmf/PkKek-1-snakeoil.key"
SNAKEOIL_CERT = "/usr/share/ovmf/PkKek-1-snakeoil.pem"
SNAKEOIL_PASS = "snakeoil"
# OVMF's boot manager line when Secure Boot refuses an image.
REFUSED = re.compile(r"BdsDxe: failed to (load|start) .*: (Access Denied|Security Violation)")

# isa-debug-exit status = (code << 1) | 1; codes from app/run.h.
VERDICTS = {33: "pass", 35: "fail", 37: "skip", 39: "crash", 41: "timeout",
            0: "reset"}  # 0: the guest reset the machine (-no-reboot) or powered off


def load_scenario(name):
    path = os.path.join(ROOT, "tests", "scenarios", name + ".scn")
    sc = {"name": name, "desc": "", "iommu": "scalable", "aw": "", "smp": "2",
          "mem": "512M", "devices": "nvme edu", "qemu": [], "cfg": [],
          "expect": "pass", "match": [], "nomatch": [],
          "case": [], "json": [], "totals": [], "timeout": "180",
          "image": "esp", "boots": "1", "screenshot": "", "after": "",
          "firmware": "ovmf", "sign": "", "fixture": "", "kill_on": "", "boot_expect": "",
          "cfg_last": [],
          "ovmf": os.path.basename(OVMF_CODE)}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if not sep or key not in sc:
                raise SystemExit(f"{path}:{lineno}: bad line: {line}")
            if isinstance(sc[key], list):
                sc[key].append(value)
            else:
                sc[key] = value
    return sc


def iommu_args(sc):
    kind, aw = sc["iommu"], sc["aw"]
    props = {
        "none": None,
        "raw": None,
        "legacy": "intel-iommu",
        "scalable": "intel-iommu,x-scalable-mode=on,x-pasid-mode=on",
        "scalable-cm": "intel-iommu,x-scalable-mode=on,x-pasid-mode=on,caching-mode=on",
        "scalable-flts": "intel-iommu,x-scalable-mode=on,x-pasid-mode=on,x-flts=on",
    }
    if kind not in props:
        raise SystemExit(f"scenario {sc['name']}: unknown iommu kind {kind}")
    dev = props[kind]
    if dev is None:
        return []
    if kind == "scalable-flts" and not aw:
        aw = "48"  # first stage needs 48-bit address width in QEMU
    if aw:
        dev += f",aw-bits={aw}"
    return ["-device", dev]


def signed_image(workdir):
    """build/vtdsync.efi signed with the snakeoil key by tools/sign-efi.sh,
    as `make signed` signs it (the key is decrypted into the scenario's
    directory first: sbsign would ask for its passphrase on a terminal)."""
    key = os.path.join(workdir, "snakeoil.key")
    out = os.path.join(workdir, "vtdsync.signed.efi")
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "rsa", "-in", SNAKEOIL_KEY, "-passin", "pass:" + SNAKEOIL_PASS,
                    "-out", key], **quiet)
    subprocess.run(["bash", os.path.join(ROOT, "tools", "sign-efi.sh"), key, SNAKEOIL_CERT,
                    os.path.join(BUILD, "vtdsync.efi"), out], **quiet)
    return out


def make_esp(workdir, cfg_lines, efi, fixture=""):
    img = os.path.join(workdir, "esp.img")
    if os.path.exists(img):
        os.remove(img)
    with open(img, "wb") as f:
        f.truncate(48 << 20)
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL)
    run("mformat", "-i", img, "-v", "VTDSYNC", "::")
    run("mmd", "-i", img, "::/EFI", "::/EFI/BOOT")
    if fixture:
        # The fixture boots first and starts \vtdsync.efi from the same disk.
        name, _, words = fixture.partition(" ")
        fixture_efi = os.path.join(BUILD, "fixtures", name + ".efi")
        if not os.path.exists(fixture_efi):
            raise SystemExit(f"scenario needs {fixture_efi}: run `make fixtures` first")
        run("mcopy", "-i", img, fixture_efi, "::/EFI/BOOT/BOOTX64.EFI")
        run("mcopy", "-i", img, efi, "::/vtdsync.efi")
        words_file = os.path.join(workdir, "fixture.cfg")
        with open(words_file, "w") as f:
            f.write(words + "\n")
        run("mcopy", "-i", img, words_file, "::/fixture.cfg")
    else:
        run("mcopy", "-i", img, efi, "::/EFI/BOOT/BOOTX64.EFI")
    if cfg_lines:
        cfg = os.path.join(workdir, "vtdsync.cfg")
        with open(cfg, "w") as f:
            f.write("# written by tools/qemu-run.py\n" + "\n".join(cfg_lines) + "\n")
        run("mcopy", "-i", img, cfg, "::/vtdsync.cfg")
    return img


def usb_image(workdir, cfg_lines):
    src = os.path.join(BUILD, "vtdsync.img")
    if not os.path.exists(src):
        raise SystemExit("scenario needs build/vtdsync.img: run `make usb` first")
    img = os.path.join(workdir, "usb.img")
    shutil.copy(src, img)
    if cfg_lines:
        cfg = os.path.join(workdir, "vtdsync.cfg")
        with open(cfg, "w") as f:
            f.write("# written by tools/qemu-run.py\n" + "\n".join(cfg_lines) + "\n")
        subprocess.run(["mcopy", "-o", "-i", img + "@@1M", cfg, "::/vtdsync.cfg"], check=True)
    return img


def nvme_image(workdir):
    img = os.path.join(workdir, "nvme.img")
    if not os.path.exists(img):
        with open(img, "wb") as f:
            f.truncate(64 << 20)
    return img


def qemu_command(sc, workdir, accel, extra, serial_args, fresh_vars=True):
    if sc["firmware"] not in ("ovmf", "snakeoil"):
        raise SystemExit(f"scenario {sc['name']}: unknown firmware {sc['firmware']}")
    secure = sc["firmware"] == "snakeoil"
    code, vars_template = (SNAKEOIL_CODE, SNAKEOIL_VARS) if secure else (OVMF_CODE, OVMF_VARS)
    vars_fd = os.path.join(workdir, "OVMF_VARS.fd")
    if not os.path.exists(vars_fd) or fresh_vars:
        shutil.copy(vars_template, vars_fd)
    if sc["image"] == "usb":
        esp = usb_image(workdir, sc["cfg"])
    else:
        efi = signed_image(workdir) if sc["sign"] == "snakeoil" else \
            os.path.join(BUILD, "vtdsync.efi")
        esp = make_esp(workdir, sc["cfg"], efi, sc["fixture"])
    accel_arg = "tcg,thread=multi" if accel == "tcg" else accel
    if not secure:
        code = os.path.join(os.path.dirname(OVMF_CODE), sc["ovmf"])
        secure = re.search(r"\.(ms|snakeoil|secboot)\.fd$", code) is not None
    # The Secure-Boot builds keep their variables in SMM-protected flash.
    cmd = ["qemu-system-x86_64", "-machine", "q35,smm=on" if secure else "q35",
           "-accel", accel_arg, "-cpu", "max", "-smp", sc["smp"], "-m", sc["mem"],
           "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
           "-drive", f"if=pflash,format=raw,unit=1,file={vars_fd}",
           "-display", "none", "-vga", "std", "-nic", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if secure:
        cmd += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
    cmd += iommu_args(sc)
    devices = sc["devices"].split()
    if sc["image"] == "usb":
        cmd += ["-device", "qemu-xhci,id=xhci",
                "-drive", f"if=none,id=esp,format=raw,file={esp}",
                "-device", "usb-storage,bus=xhci.0,drive=esp,bootindex=0"]
    else:
        cmd += ["-drive", f"if=none,id=esp,format=raw,file={esp}",
                "-device", "ide-hd,drive=esp,bus=ide.0,bootindex=0"]
    if "nvme" in devices or "nvme-bridge" in devices or "nvme-pcibridge" in devices:
        cmd += ["-drive", f"if=none,id=nvm,format=raw,file={nvme_image(workdir)}"]
    if "nvme-bridge" in devices or "edu-bridge" in devices:
        cmd += ["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1"]
    if "nvme-pcibridge" in devices or "edu-pcibridge" in devices:
        cmd += ["-device", "pcie-pci-bridge,id=pb1,bus=pcie.0"]
    if "nvme" in devices:
        cmd += ["-device", "nvme,serial=vtdsync0,drive=nvm"]
    if "nvme-pcibridge" in devices:
        cmd += ["-device", "nvme,serial=vtdsync0,drive=nvm,bus=pb1,addr=2"]
    if "edu-pcibridge" in devices:
        cmd += ["-device", "edu,bus=pb1,addr=1"]
    if "nvme-bridge" in devices:
        cmd += ["-device", "nvme,serial=vtdsync0,drive=nvm,bus=rp1"]
    if "edu" in devices:
        cmd += ["-device", "edu"]
    if "edu-bridge" in devices:
        cmd += ["-device", "edu,bus=rp1"]
    for q in sc["qemu"]:
        cmd += shlex.split(q.replace("$ROOT", ROOT))
    if extra:
        cmd += shlex.split(extra)
    if sc["screenshot"]:
        cmd += ["-monitor", f"unix:{os.path.join(workdir, 'monitor.sock')},server,nowait"]
    cmd += serial_args
    return cmd


# QEMU runs in its own session so a hung guest can be killed as a group;
# the signal handlers make sure none is left behind when we are stopped.
LIVE = set()


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def install_signal_handlers():
    def stop(signum, _frame):
        for p in list(LIVE):
            kill_group(p)
        sys.exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)


def run_scenario(sc, accel="tcg", extra="", live=False, log_path=None):
    """Boot one scenario; returns (ok, verdict, seconds, log_lines, problems)."""
    workdir = os.path.join(BUILD, "scenarios", sc["name"])
    os.makedirs(workdir, exist_ok=True)
    if sc["screenshot"] and "end=halt" not in " ".join(sc["cfg"]):
        sc = dict(sc, cfg=sc["cfg"] + ["end=halt"])
    start = time.time()
    early = []  # problems of the boots before the last
    for boot in range(int(sc["boots"])):
        path = log_path or os.path.join(workdir, "serial.log")
        if int(sc["boots"]) > 1:
            path = os.path.join(workdir, f"serial-boot{boot + 1}.log")
        kill_on = sc["kill_on"] if boot == 0 else ""
        last = boot + 1 == int(sc["boots"])
        this = dict(sc, cfg=sc["cfg"] + sc["cfg_last"]) if last and sc["cfg_last"] else sc
        verdict, lines = boot_once(this, workdir, accel, extra, live, path, fresh_vars=boot == 0,
                                   kill_on=kill_on)
        if boot + 1 < int(sc["boots"]) and sc["boot_expect"] and verdict != sc["boot_expect"]:
            early.append(f"boot {boot + 1}: verdict {verdict}, expected {sc['boot_expect']}")
    seconds = time.time() - start
    after = []
    if sc["after"]:
        cmd = sc["after"].replace("$WORK", workdir).replace("$ROOT", ROOT)
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT)
        after = (p.stdout + p.stderr).splitlines()
        with open(os.path.join(workdir, "after.txt"), "w") as f:
            f.write("\n".join(after) + "\n")
    with open(os.path.join(workdir, "verdict.txt"), "w") as f:
        f.write(verdict + "\n")
    problems = early + check_log(sc, lines, verdict, after)
    return not problems, verdict, seconds, lines, problems


def recheck_scenario(sc):
    """Judge the scenario's last run again (its serial log, verdict and
    after: output) without booting: for changed checks or reworded
    diagnostics.  Returns (verdict, problems)."""
    workdir = os.path.join(BUILD, "scenarios", sc["name"])
    boots = int(sc["boots"])
    log = os.path.join(workdir, f"serial-boot{boots}.log" if boots > 1 else "serial.log")
    verdict = "".join(read_lines(os.path.join(workdir, "verdict.txt"))).strip()
    if not verdict or not os.path.exists(log):
        return "none", [f"no earlier run in {workdir}"]
    after = read_lines(os.path.join(workdir, "after.txt")) if sc["after"] else []
    return verdict, check_log(sc, read_lines(log), verdict, after)


def read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip("\r\n") for l in f]
    except FileNotFoundError:
        return []


def boot_once(sc, workdir, accel, extra, live, log_path, fresh_vars, kill_on=""):
    if os.path.exists(log_path):
        os.remove(log_path)
    if live:
        serial = ["-chardev", f"stdio,id=s0,logfile={log_path},signal=off", "-serial", "chardev:s0"]
    else:
        serial = ["-serial", f"file:{log_path}"]
    cmd = qemu_command(sc, workdir, accel, extra, serial, fresh_vars)
    with open(os.path.join(workdir, "qemu-cmd.txt"), "w") as f:
        f.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
    stdin = None if live else subprocess.DEVNULL
    out = None if live else open(os.path.join(workdir, "qemu-stderr.txt"), "w")
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=out if out else None,
                            start_new_session=True)
    LIVE.add(proc)
    status = None
    try:
        if sc["screenshot"]:
            status = screenshot_when_done(sc, workdir, proc, log_path)
        else:
            status = wait_unless_refused(proc, int(sc["timeout"]), log_path, kill_on)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.wait()
        status = None
    finally:
        LIVE.discard(proc)
        if out:
            out.close()
    lines = read_lines(log_path)
    if status is None:
        verdict = "hang"
    elif status in ("refused", "killed"):
        verdict = status
    elif status == "screenshot":
        verdict = verdict_from_summary(lines)
    else:
        verdict = VERDICTS.get(status, f"qemu-status-{status}")
    return verdict, lines


def wait_unless_refused(proc, timeout, log_path, kill_on=""):
    """proc.wait(timeout), but a firmware that refuses to start the image
    (Secure Boot) ends the wait at once: it would only sit in its boot menu.
    With kill_on, QEMU is killed as soon as a serial line matches it."""
    deadline = time.time() + timeout
    kill_re = re.compile(kill_on) if kill_on else None
    while True:
        try:
            return proc.wait(timeout=0.1 if kill_re else 0.5)
        except subprocess.TimeoutExpired:
            lines = read_lines(log_path)
            if kill_re and any(kill_re.search(l) for l in lines):
                kill_group(proc)
                proc.wait()
                return "killed"
            if any(REFUSED.search(l) for l in lines):
                kill_group(proc)
                proc.wait()
                return "refused"
            if time.time() >= deadline:
                raise


def verdict_from_summary(lines):
    """The verdict of a run that halted instead of exiting (screenshots)."""
    for l in reversed(lines):
        m = re.match(r"^# run time \d+ ms, verdict (\w+)", l)
        if m:
            return {"PASS": "pass", "FAIL": "fail", "SKIPPED": "skip"}.get(m.group(1), "fail")
    return "hang"


def screenshot_when_done(sc, workdir, proc, log_path):
    """Wait for the summary line, save the screen as PNG, stop QEMU."""
    import socket
    deadline = time.time() + int(sc["timeout"])
    while time.time() < deadline and proc.poll() is None:
        lines = read_lines(log_path)
        if any(re.match(r"^\d+ passed, \d+ failed, \d+ skipped$", l) for l in lines):
            break
        time.sleep(0.5)
    if proc.poll() is not None:
        return proc.returncode
    if time.time() >= deadline:
        raise subprocess.TimeoutExpired("qemu", sc["timeout"])
    time.sleep(1.0)  # let the banner reach the framebuffer
    ppm = os.path.join(workdir, "screen.ppm")
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(os.path.join(workdir, "monitor.sock"))
    sock.sendall(f"screendump {ppm}\n".encode())
    for _ in range(100):  # until the whole image is on disk
        time.sleep(0.1)
        if ppm_complete(ppm):
            break
    sock.sendall(b"quit\n")
    sock.close()
    proc.wait(timeout=30)
    png = sc["screenshot"].replace("$ROOT", ROOT).replace("$WORK", workdir)
    ppm_to_png(ppm, png)
    return "screenshot"


def ppm_header(data):
    """(width, height, offset of the pixels) of a binary P6 PPM, or None.
    The pixels start one byte after maxval: they may begin with bytes that
    look like white space, so the header is scanned token by token."""
    tokens, i = [], 0
    while len(tokens) < 4 and i < len(data):
        while i < len(data) and data[i:i + 1].isspace():
            i += 1
        j = i
        while j < len(data) and not data[j:j + 1].isspace():
            j += 1
        tokens.append(data[i:j])
        i = j
    if len(tokens) < 4 or tokens[0] != b"P6":
        return None
    return int(tokens[1]), int(tokens[2]), i + 1


def ppm_complete(ppm):
    try:
        data = open(ppm, "rb").read()
    except FileNotFoundError:
        return False
    h = ppm_header(data)
    return bool(h) and len(data) >= h[2] + h[0] * h[1] * 3


def ppm_to_png(ppm, png):
    """Binary P6 PPM to PNG with only the standard library."""
    import struct
    import zlib
    data = open(ppm, "rb").read()
    header = ppm_header(data)
    if not header:
        raise SystemExit(f"{ppm}: not a P6 PPM")
    w, h, off = header
    pixels = data[off:]
    raw = b"".join(b"\x00" + pixels[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    with open(png, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def ktap_problems(lines):
    """Strict KTAP v1 structure (tools/ktap_check.py) and, with KUNIT_DIR set
    to a kernel tree's tools/testing/kunit, Linux's own parser's reading
    (tools/kunit-check.py) of the log."""
    import tempfile

    doc = load_tool("ktap_check", "ktap_check.py").parse(lines)
    problems = [f"KTAP line {no}: {text}" for no, text in doc.problems[:10]]
    kunit_dir = os.environ.get("KUNIT_DIR")
    if kunit_dir:
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            problems += [f"kunit_parser: {p}" for p in
                         load_tool("kunit_check", "kunit-check.py").check(kunit_dir, f.name)]
    return problems


CASE = re.compile(r"^(\S+)\s*=\s*(\w+(?:\|\w+)*)(?:\s+#\s*(.*?))?\s*$")
RESULTS = ("pass", "fail", "skip", "xfail", "timeout", "error", "absent")
CONDITION = re.compile(r"^([\w.-]+)(=|!=|<=|>=|<|>|~)(.*)$")


def load_tool(name, file):
    """A module from tools/ (their file names are not all importable)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "tools", file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def result_word(test):
    """pass, fail, skip, xfail, timeout or error: a result line's verdict."""
    if test.ok and test.directive == "XFAIL":
        return "xfail"
    return test.status


def case_reason(test):
    """A directive's reason; for a plain `not ok`, the `# NAME: reason`
    line the firmware prints just before it (lib/ktap.c)."""
    if test.directive or test.ok:
        return test.reason
    prefix = test.name + ": "
    return next((d[len(prefix):] for d in reversed(test.diagnostics) if d.startswith(prefix)), "")


def find_tests(tests, path):
    """Every result line whose names from the top down are path (a list)."""
    found = [t for t in tests if t.name == path[0]]
    if len(path) == 1:
        return found
    return [hit for t in found if t.subtests for hit in find_tests(t.subtests, path[1:])]


def case_problems(doc, lines, spec):
    m = CASE.match(spec)
    wants = m.group(2).split("|") if m else []
    if not m or not set(wants) <= set(RESULTS):
        return [f"bad case: line {spec!r} (PATH = {'|'.join(RESULTS)} [# REASON])"]
    path, reason = m.group(1), m.group(3)
    hits = find_tests(doc.tests, path.split("/"))
    if not hits:
        return [] if "absent" in wants else [f"case {path}: no result line, expected {m.group(2)}"]
    problems = []
    for t in hits:
        got, text = result_word(t), lines[t.line - 1].strip()
        if got not in wants:
            problems.append(f"case {path}: {got}, expected {m.group(2)} (line {t.line}: {text})")
        elif reason and not re.search(reason, case_reason(t)):
            problems.append(f"case {path}: reason {case_reason(t)!r} does not contain "
                            f"{reason!r}")
    return problems


def number(x):
    """An int (decimal or 0x hex, as addresses are written) or a float."""
    if isinstance(x, bool):
        raise TypeError("a boolean is no number")
    if isinstance(x, (int, float)):
        return x
    try:
        return int(x, 0)
    except ValueError:
        return float(x)


def condition_holds(value, op, want):
    """One json:/totals: condition on one value of the log."""
    if value is None:
        return False
    if op == "~":
        return re.search(want, str(value)) is not None
    try:
        a, b = number(value), number(want)
    except (TypeError, ValueError):
        if op in ("=", "!="):
            return (str(value) == want) == (op == "=")
        return False
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


def parse_conditions(key, spec):
    conds = [CONDITION.match(w) for w in shlex.split(spec)]
    if not conds or not all(conds):
        raise ValueError(f"bad {key}: line {spec!r} (KEY OP VALUE ..., OP one of "
                         "= != < <= > >= ~)")
    return [c.groups() for c in conds]


def json_records(lines):
    """The objects of the log's `json: {...}` lines (indented or not)."""
    records = []
    for l in lines:
        body = l.strip()
        if body.startswith("json: "):
            try:
                obj = json.loads(body[6:])
            except ValueError:
                continue
            if isinstance(obj, dict):
                records.append(obj)
    return records


def condition_problems(key, specs, records):
    """Each json:/totals: line must hold, all its conditions at once, for
    one of records (the json: objects; the last line's counts)."""
    problems = []
    for spec in specs:
        try:
            conds = parse_conditions(key, spec)
        except ValueError as e:
            problems.append(str(e))
            continue
        if not any(all(condition_holds(r.get(k), op, v) for k, op, v in conds)
                   for r in records):
            seen = f"the last line's counts {records}" if key == "totals" else \
                f"{len(records)} json: lines"
            problems.append(f"{key}: {spec}: held by none of {seen}")
    return problems


def verdict_problems(sc, lines):
    """case:, json: and totals: checks (see the header)."""
    problems = []
    if sc["case"]:
        doc = load_tool("ktap_check", "ktap_check.py").parse(lines)
        for spec in sc["case"]:
            problems += case_problems(doc, lines, spec)
    problems += condition_problems("json", sc["json"], json_records(lines) if sc["json"] else [])
    if sc["totals"]:
        last = next((l for l in reversed(lines) if l.strip()), "")
        m = re.match(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", last)
        counts = [dict(zip(("passed", "failed", "skipped"), m.groups()))] if m else []
        problems += condition_problems("totals", sc["totals"], counts)
    return problems


def check_log(sc, lines, verdict, extra_lines=()):
    problems = []
    if verdict != sc["expect"]:
        problems.append(f"verdict {verdict}, expected {sc['expect']}")
    ktap = [l for l in lines if "KTAP version 1" in l]
    if verdict == "refused":
        if ktap:
            problems.append("refused image printed KTAP")
    elif not ktap:
        problems.append("no KTAP output on serial")
    last = next((l for l in reversed(lines) if l.strip()), "")
    if verdict in ("pass", "fail", "skip", "crash", "timeout") and not sc["screenshot"] and \
            not re.match(r"^\d+ passed, \d+ failed, \d+ skipped$", last):
        problems.append(f"last line is not the summary: {last!r}")
    if verdict in ("pass", "fail", "skip", "crash", "timeout") and not sc["screenshot"]:
        problems += ktap_problems(lines)
    problems += verdict_problems(sc, lines)
    lines = list(lines) + list(extra_lines)
    for pat in sc["match"]:
        if not any(re.search(pat, l) for l in lines):
            problems.append(f"no line matches {pat!r}")
    for pat in sc["nomatch"]:
        hit = next((l for l in lines if re.search(pat, l)), None)
        if hit is not None:
            problems.append(f"line matches forbidden {pat!r}: {hit}")
    return problems


def recheck_main(names):
    if not names:
        top = os.path.join(BUILD, "scenarios")
        names = sorted(n for n in os.listdir(top) if os.path.exists(
            os.path.join(ROOT, "tests", "scenarios", n + ".scn"))) if os.path.isdir(top) else []
    bad = 0
    for name in names:
        verdict, problems = recheck_scenario(load_scenario(name))
        bad += bool(problems)
        print(f"{'ok  ' if not problems else 'FAIL'} {name}: verdict {verdict}")
        for p in problems:
            print(f"      | {p}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="run")
    ap.add_argument("--accel", default=os.environ.get("ACCEL", "tcg"))
    ap.add_argument("--qemu-extra", default=os.environ.get("QEMU_EXTRA", ""))
    ap.add_argument("--cfg", default="", help="extra vtdsync.cfg words")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--recheck", nargs="*", metavar="NAME",
                    help="judge the last runs' logs again without booting (all scenarios "
                         "with a log when no NAME is given)")
    args = ap.parse_args()
    if args.recheck is not None:
        sys.exit(recheck_main(args.recheck))
    install_signal_handlers()
    sc = load_scenario(args.scenario)
    if args.cfg:
        sc["cfg"].append(args.cfg)
    ok, verdict, seconds, lines, problems = run_scenario(
        sc, args.accel, args.qemu_extra, live=not args.quiet)
    print(f"\nvtdsync: scenario {sc['name']}: verdict {verdict} in {seconds:.1f} s"
          f" (serial log: {BUILD}/scenarios/{sc['name']}/serial.log)")
    for p in problems:
        print(f"vtdsync: {p}")
    sys.exit(0 if verdict == "pass" else 1)


if __name__ == "__main__":
    main()
