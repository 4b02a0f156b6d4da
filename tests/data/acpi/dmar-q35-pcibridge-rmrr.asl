/* DMAR for q35 with intel-iommu and a pcie-pci-bridge at 00:02.0 (edu at
 * 01:01.0 behind it, NVMe at 00:03.0): one INCLUDE_PCI_ALL unit and an RMRR
 * of 64 KiB at 192 MiB whose endpoint scope names the bridge, as server
 * firmware does for a BMC device behind such a bridge, and 00:1f.6, which
 * config space does not show (a hidden function still gets its entry).  The edu's DMA
 * carries the alias 01:00.0; scenario pcibridge-rmrr injects this table to
 * check that the RMRR identity map reaches it.  HAW 48, INTR_REMAP. */
[0004]                          Signature : "DMAR"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "BOCHS "
[0008]                       Oem Table ID : "BXPC    "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "VTDS"
[0004]              Asl Compiler Revision : 00000001

[0001]                 Host Address Width : 2F
[0001]                              Flags : 01
[0010]                           Reserved : 00 00 00 00 00 00 00 00 00 00

[0002]                      Subtable Type : 0000 [Hardware Unit Definition]
[0002]                             Length : 0018
[0001]                              Flags : 01
[0001]                           Reserved : 00
[0002]                 PCI Segment Number : 0000
[0008]              Register Base Address : 00000000FED90000

[0001]                  Device Scope Type : 03
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : FF
[0002]                           PCI Path : 00,00

// RMRR naming the pcie-pci-bridge 00:02.0 as an endpoint: it holds the
// whole bus behind the bridge (the edu at 01:01.0, DMA as 01:00.0); and
// 00:1f.6, a function PCI enumeration does not find (hidden or phantom)
[0002]                      Subtable Type : 0001 [Reserved Memory Region]
[0002]                             Length : 0028
[0002]                           Reserved : 0000
[0002]                 PCI Segment Number : 0000
[0008]                       Base Address : 000000000C000000
[0008]                End Address (limit) : 000000000C00FFFF

[0001]                  Device Scope Type : 01
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 02,00

[0001]                  Device Scope Type : 01
[0001]                       Entry Length : 08
[0002]                           Reserved : 0000
[0001]                     Enumeration ID : 00
[0001]                     PCI Bus Number : 00
[0002]                           PCI Path : 1F,06
