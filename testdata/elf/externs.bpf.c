/* Externs as libbpf records them (`__kconfig`, `__ksym`, weak or not), and a call to an
 * undefined function that is no kfunc (libbpf refuses that program; the others load). */
#include "bpfx_helpers.h"

#define __kconfig __attribute__((section(".kconfig")))
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern int not_a_kfunc(int x);

SEC("xdp")
int plain(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int kconfig(struct xdp_md *ctx)
{
	return LINUX_KERNEL_VERSION > 0 && CONFIG_HZ ? XDP_PASS : XDP_DROP;
}

SEC("tp_btf/sched_switch")
int kfunc(void *ctx)
{
	bpf_rcu_read_lock();
	return 0;
}

SEC("xdp")
int undefined(struct xdp_md *ctx)
{
	return not_a_kfunc(ctx->ingress_ifindex);
}

char LICENSE[] SEC("license") = "GPL";
