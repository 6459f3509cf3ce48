.frobnicate 3
exit
