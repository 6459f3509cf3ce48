# Returns __sk_buff.mark (offset 8) plus __sk_buff.len (offset 0).
ldxw %r0, [%r1+8]
ldxw %r2, [%r1]
add %r0, %r2
exit
