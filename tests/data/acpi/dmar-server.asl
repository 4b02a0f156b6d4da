// make-acpi-tables: signature DMAR
/*
 * DMAR of a two-socket server.  This iasl (20200925) knows neither ANDD,
 * SATC nor SIDP, so the table is written with generic fields under a
 * placeholder signature; tools/make-acpi-tables.sh then writes "DMAR"
 * into the signature and fixes the checksum.  Lengths are written out.
 *
 * Segment 0: unit A (0xc5ffc000) for the root port 17:00.0 and its
 * sub-hierarchy plus the VMD endpoint 17:05.0; unit B (0xfbffc000,
 * INCLUDE_PCI_ALL, last on the segment) with the IOAPIC, the HPET and an
 * ACPI namespace UART.  Segment 1: unit C (INCLUDE_PCI_ALL, 8 KiB
 * registers above 4 GiB).  RMRRs for the USB controllers, ATSRs, one RHSA
 * per unit, an ANDD, a SATC for a DSA device and a SIDP.
 */
[0004]                          Signature : "VTDX"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "VTDSYN"
[0008]                       Oem Table ID : "SERVER  "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "VTDS"
[0004]              Asl Compiler Revision : 00000001

UINT8 : 2D                  // host address width 46
UINT8 : 03                  // INTR_REMAP | X2APIC_OPT_OUT
UINT64 : 0000000000000000   // reserved
UINT16 : 0000

// DRHD unit A, segment 0
UINT16 : 0000
UINT16 : 0020
UINT8 : 00                  // flags
UINT8 : 00                  // size: 4 KiB
UINT16 : 0000               // segment
UINT64 : 00000000C5FFC000
UINT8 : 02                  // scope: PCI sub-hierarchy 17:00.0
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 17
UINT8 : 00
UINT8 : 00
UINT8 : 01                  // scope: PCI endpoint 17:05.0
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 17
UINT8 : 05
UINT8 : 00

// DRHD unit B, segment 0, INCLUDE_PCI_ALL
UINT16 : 0000
UINT16 : 0028
UINT8 : 01
UINT8 : 00
UINT16 : 0000
UINT64 : 00000000FBFFC000
UINT8 : 03                  // scope: IOAPIC id 8 at 00:05.4
UINT8 : 08
UINT16 : 0000
UINT8 : 08
UINT8 : 00
UINT8 : 05
UINT8 : 04
UINT8 : 04                  // scope: HPET 0 at 00:1f.0
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 00
UINT8 : 1F
UINT8 : 00
UINT8 : 05                  // scope: ACPI namespace device 1 at 00:1e.3
UINT8 : 08
UINT16 : 0000
UINT8 : 01
UINT8 : 00
UINT8 : 1E
UINT8 : 03

// DRHD unit C, segment 1, INCLUDE_PCI_ALL
UINT16 : 0000
UINT16 : 0018
UINT8 : 01
UINT8 : 01                  // size: 8 KiB
UINT16 : 0001
UINT64 : 00000200FFFFC000
UINT8 : 03                  // scope: IOAPIC id 9 at 80:05.4
UINT8 : 08
UINT16 : 0000
UINT8 : 09
UINT8 : 80
UINT8 : 05
UINT8 : 04

// RMRR for the xHCI 00:14.0 and EHCI 00:1a.0 controllers
UINT16 : 0001
UINT16 : 0028
UINT16 : 0000
UINT16 : 0000               // segment
UINT64 : 000000006E8A5000
UINT64 : 000000006E8C4FFF
UINT8 : 01
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 00
UINT8 : 14
UINT8 : 00
UINT8 : 01
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 00
UINT8 : 1A
UINT8 : 00

// RMRR for the EHCI controller 00:1d.0
UINT16 : 0001
UINT16 : 0020
UINT16 : 0000
UINT16 : 0000
UINT64 : 000000006F000000
UINT64 : 000000006F00FFFF
UINT8 : 01
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 00
UINT8 : 1D
UINT8 : 00

// ATSR, segment 0: root port 17:00.0
UINT16 : 0002
UINT16 : 0010
UINT8 : 00
UINT8 : 00
UINT16 : 0000
UINT8 : 02
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 17
UINT8 : 00
UINT8 : 00

// ATSR, segment 1: ALL_PORTS
UINT16 : 0002
UINT16 : 0008
UINT8 : 01
UINT8 : 00
UINT16 : 0001

// RHSA for units A, B (domain 0) and C (domain 1)
UINT16 : 0003
UINT16 : 0014
UINT32 : 00000000
UINT64 : 00000000C5FFC000
UINT32 : 00000000
UINT16 : 0003
UINT16 : 0014
UINT32 : 00000000
UINT64 : 00000000FBFFC000
UINT32 : 00000000
UINT16 : 0003
UINT16 : 0014
UINT32 : 00000000
UINT64 : 00000200FFFFC000
UINT32 : 00000001

// ANDD: ACPI device number 1 is \_SB.PC00.UAR1
UINT16 : 0004
UINT16 : 0017
UINT16 : 0000
UINT8 : 00
UINT8 : 01
String : "\_SB.PC00.UAR1"

// SATC, segment 0, ATC_REQUIRED: DSA at 6a:01.0
UINT16 : 0005
UINT16 : 0010
UINT8 : 01
UINT8 : 00
UINT16 : 0000
UINT8 : 01
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 6A
UINT8 : 01
UINT8 : 00

// SIDP, segment 0: 6a:02.0
UINT16 : 0006
UINT16 : 0010
UINT16 : 0000
UINT16 : 0000
UINT8 : 01
UINT8 : 08
UINT16 : 0000
UINT8 : 00
UINT8 : 6A
UINT8 : 02
UINT8 : 00
