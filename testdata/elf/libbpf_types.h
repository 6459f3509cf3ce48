/* The fixed-width types libbpf's <bpf/bpf_helpers.h> expects to be declared before it is
 * included (a vmlinux.h or <linux/types.h> would declare them), for the CO-RE test objects
 * that use libbpf's headers but no kernel header. */
#ifndef BPFX_LIBBPF_TYPES_H
#define BPFX_LIBBPF_TYPES_H
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed int __s32;
typedef signed long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#endif
