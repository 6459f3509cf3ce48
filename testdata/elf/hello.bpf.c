/* The hello world of "Learning eBPF": print a line on every execve. */
#include "bpfx_helpers.h"

SEC("tracepoint/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	bpf_printk("Hello, BPF World!");
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
