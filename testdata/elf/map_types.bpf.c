/* Map types beyond arrays and hashes, as clang builds them from BTF map definitions: a map
 * of maps initialised with `.values`, an LPM trie, a bloom filter, a perf event array and
 * task storage, and maps the program does not use (a sockhash, a cgroup array the VM does
 * not implement, and an LPM trie the kernel refuses: no BPF_F_NO_PREALLOC). */
#include "bpfx_helpers.h"

#define BPF_MAP_TYPE_PERF_EVENT_ARRAY 4
#define BPF_MAP_TYPE_CGROUP_ARRAY 8
#define BPF_MAP_TYPE_LPM_TRIE 11
#define BPF_MAP_TYPE_ARRAY_OF_MAPS 12
#define BPF_MAP_TYPE_SOCKHASH 18
#define BPF_MAP_TYPE_TASK_STORAGE 29
#define BPF_MAP_TYPE_BLOOM_FILTER 30
#define BPF_F_NO_PREALLOC 1
#define BPF_F_CURRENT_CPU 0xffffffffULL

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;
static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)89;

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = {
		[0] = &inner_a,
		[1] = &inner_b,
	},
};

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} unused_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} unused_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4);
	__type(key, struct lpm_key);
	__type(value, __u32);
} refused_routes SEC(".maps");

/* The route of the packet's first four bytes (as an IPv4 address), the value at index 1
 * of the inner map that route selects, and a perf sample of both. */
SEC("xdp")
int route(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct lpm_key key = { .prefixlen = 32 };
	__u32 *which, one = 1;
	__u64 *value, sample[2];
	void *inner;

	if (data + 4 > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(key.addr, data, 4);
	which = bpf_map_lookup_elem(&routes, &key);
	if (!which)
		return XDP_PASS;
	if (bpf_map_peek_elem(&seen, which) != 0)
		return XDP_PASS;
	inner = bpf_map_lookup_elem(&outer, which);
	if (!inner)
		return XDP_ABORTED;
	value = bpf_map_lookup_elem(inner, &one);
	if (!value)
		return XDP_ABORTED;
	sample[0] = *which;
	sample[1] = *value;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, sample, sizeof(sample));
	return XDP_DROP;
}

/* Uses the map the kernel refuses to create. */
SEC("xdp")
int uses_refused(struct xdp_md *ctx)
{
	struct lpm_key key = { .prefixlen = 32 };

	return bpf_map_lookup_elem(&refused_routes, &key) ? XDP_DROP : XDP_PASS;
}
