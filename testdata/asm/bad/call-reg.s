call r1
exit
