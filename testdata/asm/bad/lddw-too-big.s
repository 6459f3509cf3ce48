r1 = 0x1ffffffffffffffff ll
exit
