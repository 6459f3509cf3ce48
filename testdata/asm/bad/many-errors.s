r0 = 0x123456789
r12 = 1
w1 += r2
goto nowhere
exit
