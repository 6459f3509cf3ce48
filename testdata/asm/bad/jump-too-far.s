goto +40000
exit
