/* Bad on purpose: a BTF-defined map without max_entries. */
#include "../bpfx_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
} incomplete SEC(".maps");

SEC("xdp")
int uses_map(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&incomplete, &k) ? XDP_PASS : XDP_DROP;
}
