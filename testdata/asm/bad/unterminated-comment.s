r0 = 0
/* never closed
exit
