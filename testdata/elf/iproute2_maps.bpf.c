/* An iproute2-style object: `struct bpf_elf_map` legacy maps (36 bytes, with id and
 * pinning), a perf event array whose max_elem is 0 (the number of CPUs, as libbpf sets
 * it), a map of a type the VM does not implement that the program does not use, custom
 * .data.* and .rodata.* sections, and programs in `classifier` and tail-call section `1/0`
 * (slot 0 of the program array whose id is 1). */
#include "bpfx_helpers.h"

/* include/bpf_elf.h of iproute2. */
struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};
#define PIN_NONE 0
#define PIN_OBJECT_NS 1
#define PIN_GLOBAL_NS 2

struct bpf_elf_map SEC("maps") jmp = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4, .size_value = 4, .max_elem = 2, .id = 1,
};
struct bpf_elf_map SEC("maps") counters = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.pinning = PIN_GLOBAL_NS,
};
struct bpf_elf_map SEC("maps") events = {
	.type = 4 /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */, .size_key = 4, .size_value = 4,
};
struct bpf_elf_map SEC("maps") stacks = {
	.type = 7 /* BPF_MAP_TYPE_STACK_TRACE */, .size_key = 4, .size_value = 64, .max_elem = 16,
	.pinning = PIN_OBJECT_NS,
};

__u64 hits SEC(".data.hits") = 5;
const volatile __u32 mark SEC(".rodata.config") = 7;

SEC("classifier")
int ingress(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		*v += hits + mark;
	bpf_tail_call(skb, &jmp, 0);
	return 0;
}

SEC("1/0")
int slot0(struct __sk_buff *skb)
{
	return 2;
}

char __license[] SEC("license") = "GPL";
