/* A struct_ops program: the `.struct_ops` variable's `init` member points at it, so the
 * kernel loads it with the id of its `struct tcp_congestion_ops` as attach target and
 * the index of `init` there as expected attach type. The struct is declared with only
 * the members used, as a program may; the kernel's member index is what counts. */
#include "bpfx_helpers.h"

struct sock;

struct tcp_congestion_ops {
	void (*init)(struct sock *sk);
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
};

SEC("struct_ops/bpfx_init")
void bpfx_init(__u64 *ctx)
{
}

SEC("struct_ops/bpfx_ssthresh")
__u32 bpfx_ssthresh(__u64 *ctx)
{
	return 2;
}

SEC(".struct_ops")
struct tcp_congestion_ops bpfx_cc = {
	.init = (void *)bpfx_init,
	.ssthresh = (void *)bpfx_ssthresh,
	.name = "bpfx_cc",
};

char LICENSE[] SEC("license") = "GPL";
