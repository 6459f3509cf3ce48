# A callback must be a static function (BTF linkage), not a global one.
# kernel: needs BTF func_info, which the kernel crate does not load
# func_info: yes
# global_func: 8
# expect: reject "callback function not static" at 1 (EINVAL)
r1 = 4
r2 = func(+6) ll
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
