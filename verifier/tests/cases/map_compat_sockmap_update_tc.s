# tc may update a sockmap, but the value must be a socket (resolve_map_arg_type), not stack
# memory.
# type: sched_cls
# map: s=sockmap:4:4:4
# expect: reject "R3 type=fp expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_" at 8 (EACCES)
*(u32 *)(r10 - 4) = 0
r2 = r10
r2 += -4
r3 = r10
r3 += -4
r1 = map_fd(0) ll
r4 = 0
call 2
r0 = 0
exit
