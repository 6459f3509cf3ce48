r0 = bswap24 r0
exit
