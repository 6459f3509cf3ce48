# An LPM trie has no for_each callback support.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# map: m=lpm_trie:8:8:4:1
# expect: reject "callback function not allowed for map" at 6 (ENOTSUPP)
r1 = map_fd(0) ll
r2 = func(+6) ll
r3 = 0
r4 = 0
call 164
r0 = 0
exit
r0 = 0
exit
