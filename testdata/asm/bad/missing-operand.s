r0 +=
exit
