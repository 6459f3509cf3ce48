/* Externs as libbpf resolves them: __kconfig values of every kconfig type (bool,
 * tristate, int, char array; a __weak one the configuration lacks; libbpf's
 * LINUX_KERNEL_VERSION), a typeless __ksym (an address) and kfunc calls, and a global
 * variable of hidden visibility. The tests give the configuration and the symbol
 * addresses, so the return values are known: see kernel/tests/object_load.rs. */
#include "bpfx_helpers.h"

#define __kconfig __attribute__((section(".kconfig")))
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))
#define __hidden __attribute__((visibility("hidden")))

enum libbpf_tristate { TRI_NO = 0, TRI_YES = 1, TRI_MODULE = 2 };

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_XFS_FS __kconfig __weak;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig;
extern int CONFIG_BPFX_ABSENT __kconfig __weak;

extern const void bpf_prog_active __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

int hidden_counter __hidden = 5;

SEC("xdp")
int kconfig_values(struct xdp_md *ctx)
{
	if (!CONFIG_BPF_SYSCALL)
		return 1;
	if (CONFIG_XFS_FS != TRI_MODULE)
		return 2;
	if (CONFIG_BPFX_ABSENT != 0)
		return 3;
	/* 300 + 'b' (98) + 6 = 404 for HZ 300, "bpfx", 6.18.44 */
	return CONFIG_HZ + CONFIG_DEFAULT_HOSTNAME[0] + (LINUX_KERNEL_VERSION >> 16);
}

SEC("xdp")
int ksym_values(struct xdp_md *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	hidden_counter++;
	/* the low 32 bits of the address */
	return (int)(long)&bpf_prog_active;
}

char LICENSE[] SEC("license") = "GPL";
