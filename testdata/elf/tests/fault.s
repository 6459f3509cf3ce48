# Reads past the end of the 24-byte xdp_md context: the VM stops with an error.
ldxw %r0, [%r1+100]
exit
