# ld_abs in a subprogram may end it with r0 = 0, so main's r0 != 0 branch is not the only one.
# kernel: needs BTF func_info (without it the kernel says "LD_ABS is not allowed in subprogs without BTF"); bpfx verifies as if it were given
# expect: reject "R9 !read_ok" at 2 (EACCES)
call pc+4
if r0 != 0 goto +1
r0 = r9
r0 = 0
exit
r6 = r1
r0 = *(u8 *)skb[0]
r0 = 1
exit
