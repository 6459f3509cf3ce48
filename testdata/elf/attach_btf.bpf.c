/* Programs whose load needs an attach target in the kernel's BTF (attach_btf_id):
 * fentry/fexit on a function, tp_btf on a tracepoint's btf_trace_ typedef; and one whose
 * target does not exist, which must be refused by name. */
#include "bpfx_helpers.h"

SEC("fentry/bpf_fentry_test1")
int on_entry(__u64 *ctx)
{
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int on_exit(__u64 *ctx)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int on_switch(__u64 *ctx)
{
	return 0;
}

SEC("fentry/bpfx_no_such_function")
int nowhere(__u64 *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
