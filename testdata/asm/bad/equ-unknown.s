.equ A, B
r0 = A
exit
