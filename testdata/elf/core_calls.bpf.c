/* CO-RE relocations inside a `.text` function that two programs call: each program gets
 * its own relocated copy, at the slot where the function is appended. */
#include "libbpf_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct inner {
	int a;
	int b;
} __attribute__((preserve_access_index));

__u64 out[2];

static __attribute__((noinline)) int read_b(struct inner *in)
{
	return BPF_CORE_READ(in, b);
}

SEC("tp_btf/one")
int first(struct inner *in)
{
	out[0] = read_b(in);
	return 0;
}

SEC("tp_btf/two")
int second(struct inner *in)
{
	out[1] = bpf_core_field_size(in->a) + read_b(in);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
