w0 += r1
exit
