/* CO-RE against the running kernel: build with a vmlinux.h from
 * `bpftool btf dump file /sys/kernel/btf/vmlinux format c` (see build.sh). bpfx's
 * relocations of this object are compared with libbpf's (`bpftool -d prog load`). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* An older kernel's view: a field that no kernel has, read only when it exists. */
struct task_struct___old {
	int bpfx_no_such_field;
} __attribute__((preserve_access_index));

__u64 out[8];

SEC("kprobe/do_nanosleep")
int read_task(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	out[0] = BPF_CORE_READ(t, pid);
	out[1] = BPF_CORE_READ(t, tgid);
	out[2] = BPF_CORE_READ(t, real_parent, tgid);
	out[3] = bpf_core_type_size(struct task_struct);
	out[4] = bpf_core_field_exists(t->comm);
	out[5] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARRAY);
	if (bpf_core_field_exists(((struct task_struct___old *)t)->bpfx_no_such_field))
		out[6] = BPF_CORE_READ((struct task_struct___old *)t, bpfx_no_such_field);
	out[7] = bpf_core_field_size(t->comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
