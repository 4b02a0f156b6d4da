// MADT of a server (revision 5): xAPIC and x2APIC CPUs (ids above 255),
// an online-capable xAPIC CPU (this iasl cannot set the bit on x2APIC
// entries), two IOAPICs,
// a local APIC address override and NMI entries of both kinds.
[0004]                          Signature : "APIC"
[0004]                       Table Length : 00000000
[0001]                           Revision : 05
[0001]                           Checksum : 00
[0006]                             Oem ID : "VTDSYN"
[0008]                       Oem Table ID : "SERVER  "
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "VTDS"
[0004]              Asl Compiler Revision : 00000001

[0004]                 Local Apic Address : FEE00000
[0004]              Flags (decoded below) : 00000000
                      PC-AT Compatibility : 1

[0001]                      Subtable Type : 00
[0001]                             Length : 08
[0001]                       Processor ID : 00
[0001]                      Local Apic ID : 00
[0004]              Flags (decoded below) : 00000000
                        Processor Enabled : 1
                   Runtime Online Capable : 0

[0001]                      Subtable Type : 00
[0001]                             Length : 08
[0001]                       Processor ID : 01
[0001]                      Local Apic ID : 02
[0004]              Flags (decoded below) : 00000000
                        Processor Enabled : 1
                   Runtime Online Capable : 0

[0001]                      Subtable Type : 00
[0001]                             Length : 08
[0001]                       Processor ID : 02
[0001]                      Local Apic ID : 04
[0004]              Flags (decoded below) : 00000000
                        Processor Enabled : 0
                   Runtime Online Capable : 1

[0001]                      Subtable Type : 09
[0001]                             Length : 10
[0002]                           Reserved : 0000
[0004]                Processor x2Apic ID : 00000100
[0004]              Flags (decoded below) : 00000000
                        Processor Enabled : 1
[0004]                      Processor UID : 00000003

[0001]                      Subtable Type : 09
[0001]                             Length : 10
[0002]                           Reserved : 0000
[0004]                Processor x2Apic ID : 00000102
[0004]              Flags (decoded below) : 00000000
                        Processor Enabled : 1
[0004]                      Processor UID : 00000004

[0001]                      Subtable Type : 01
[0001]                             Length : 0C
[0001]                        I/O Apic ID : 08
[0001]                           Reserved : 00
[0004]                            Address : FEC00000
[0004]                          Interrupt : 00000000

[0001]                      Subtable Type : 01
[0001]                             Length : 0C
[0001]                        I/O Apic ID : 09
[0001]                           Reserved : 00
[0004]                            Address : FEC01000
[0004]                          Interrupt : 00000018

[0001]                      Subtable Type : 02
[0001]                             Length : 0A
[0001]                                Bus : 00
[0001]                             Source : 00
[0004]                          Interrupt : 00000002
[0002]              Flags (decoded below) : 0000
                                 Polarity : 0
                             Trigger Mode : 0

[0001]                      Subtable Type : 05
[0001]                             Length : 0C
[0002]                           Reserved : 0000
[0008]                       APIC Address : 00000000FEE10000

[0001]                      Subtable Type : 04
[0001]                             Length : 06
[0001]                       Processor ID : FF
[0002]              Flags (decoded below) : 0000
                                 Polarity : 0
                             Trigger Mode : 0
[0001]               Interrupt Input LINT : 01

[0001]                      Subtable Type : 0A
[0001]                             Length : 0C
[0002]              Flags (decoded below) : 0000
                                 Polarity : 0
                             Trigger Mode : 0
[0004]                      Processor UID : FFFFFFFF
[0001]               Interrupt Input LINT : 01
[0003]                           Reserved : 000000
