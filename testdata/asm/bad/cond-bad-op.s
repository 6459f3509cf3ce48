if r1 <> r2 goto +1
exit
