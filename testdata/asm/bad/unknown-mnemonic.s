r0 = frobnicate r1
exit
