"""The PE32+ headers of a UEFI image, as vtdsync's build tools read them
(tools/pe-nxcompat.py, tools/pe-bss-tail.py)."""
import struct


class NotPE(ValueError):
    """The file is not a PE32+ image at all."""


class Section:
    def __init__(self, data, off):
        self.header = off  # offset of its 40-byte section header
        self.name = data[off:off + 8].rstrip(b"\0").decode("ascii", "replace")
        self.vsize, self.vaddr, self.rawsize, self.rawptr = \
            struct.unpack_from("<IIII", data, off + 8)
        self.flags = struct.unpack_from("<I", data, off + 36)[0]


def headers(data):
    """(offset of the PE signature, of the optional header, [Section]), or
    raises NotPE / ValueError."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        raise NotPE("no MZ header")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if pe + 24 > len(data) or data[pe:pe + 4] != b"PE\0\0":
        raise NotPE("no PE signature")
    nsections, opt_size = struct.unpack_from("<H12xH", data, pe + 6)
    opt = pe + 24
    if opt + 72 > len(data) or struct.unpack_from("<H", data, opt)[0] != 0x20B:
        raise NotPE("not a PE32+ optional header")
    table = opt + opt_size
    if table + 40 * nsections > len(data):
        raise ValueError("section table runs past the end of the file")
    return pe, opt, [Section(data, table + 40 * i) for i in range(nsections)]
