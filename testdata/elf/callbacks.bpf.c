/* A static subprogram in .text (called through the section symbol, not a function
 * symbol) and a callback passed to bpf_loop (a function address: lddw with
 * BPF_PSEUDO_FUNC). */
#include "bpfx_helpers.h"

static __noinline int twice(int x)
{
	return x + x;
}

static int add_index(__u32 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

SEC("xdp")
int use_callbacks(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(4, add_index, &sum, 0);
	return twice(sum) == 12 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
