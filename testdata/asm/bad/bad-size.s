r0 = *(u24 *)(r1 + 0)
exit
