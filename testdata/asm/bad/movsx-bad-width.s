r0 = (s64)r1
exit
