# sock_ops: succeed (and reply 1) for remote port 80 (bpf_sock_ops.remote_port, offset 64).
ldxw %r2, [%r1+64]
mov %r0, 0
jne %r2, 80, out
mov %r0, 1
stxw [%r1+4], %r0
out:
exit
