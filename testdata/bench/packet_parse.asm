# Parses an Ethernet/IPv4/TCP-or-UDP packet (r1, 64 bytes) 512 times with many
# branches; each round changes the destination port and the IP protocol so the branches
# taken vary. r0 sums a code per verdict. After 512 rounds the packet is as it was
# (7 * 512 is a multiple of 256), so every run executes the same instructions. 512 rounds
# also keep the kernel's verifier under its 8,192 pending branches (1,024 exceed it:
# "The sequence of 8193 jumps is too complex"), so the kernel's JIT runs it too.
mov %r0, 0
mov %r9, 0
again:
ldxb %r4, [%r1+37]
add %r4, 7
stxb [%r1+37], %r4
mov %r4, %r9
and %r4, 3
mov %r5, 6
jne %r4, 1, proto_set
mov %r5, 17
proto_set:
jne %r4, 2, proto_store
mov %r5, 1
proto_store:
stxb [%r1+23], %r5
mov %r2, %r1
add %r2, 64
mov %r3, %r1
add %r3, 34
jgt %r3, %r2, drop
ldxh %r4, [%r1+12]
be16 %r4
jeq %r4, 0x86dd, ipv6
jne %r4, 0x0800, drop
ldxb %r5, [%r1+14]
mov %r6, %r5
rsh %r6, 4
jne %r6, 4, drop
and %r5, 0xf
lsh %r5, 2
jlt %r5, 20, drop
ldxb %r6, [%r1+23]
jeq %r6, 6, tcp
jeq %r6, 17, udp
jeq %r6, 1, icmp
ja drop
tcp:
mov %r7, %r1
add %r7, 14
add %r7, %r5
mov %r8, %r7
add %r8, 20
jgt %r8, %r2, drop
ldxh %r8, [%r7+2]
be16 %r8
jeq %r8, 80, http
jeq %r8, 443, https
jeq %r8, 22, ssh
jgt %r8, 1024, high
add %r0, 1
ja next
http:
add %r0, 2
ja next
https:
add %r0, 3
ja next
ssh:
add %r0, 4
ja next
high:
add %r0, 5
ja next
udp:
mov %r7, %r1
add %r7, 14
add %r7, %r5
mov %r8, %r7
add %r8, 8
jgt %r8, %r2, drop
ldxh %r8, [%r7+2]
be16 %r8
jne %r8, 53, udp_other
add %r0, 6
ja next
udp_other:
add %r0, 7
ja next
icmp:
add %r0, 8
ja next
ipv6:
add %r0, 9
ja next
drop:
add %r0, 100
next:
add %r9, 1
jlt %r9, 512, again
exit
