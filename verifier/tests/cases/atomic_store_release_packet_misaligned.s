# Store-release checks the access before the pointer type: an unaligned packet store is
# refused for its alignment (NET_IP_ALIGN 2), not for being a packet.
# type: xdp
# expect: reject "misaligned packet access off 2+0+0+0 size 4" at 2 (EACCES)
r2 = *(u32 *)(r1 + 0)
r3 = 0
store_release((u32 *)(r2 + 0), r3)
r0 = 2
exit
