/* The hello world of "Learning eBPF": print a line on every execve. */
#include "bpfx_helpers.h"

SEC("tracepoint/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	char msg[] = "Hello, BPF World!";
	bpf_trace_printk(msg, sizeof(msg));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
