/* CO-RE relocations of every kind libbpf applies, against types declared here (the
 * target is core_target.bpf.c's BTF, so tests do not depend on the host kernel). */
#include "libbpf_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum color { RED = 0, GREEN = 1, BLUE = 2, YELLOW = 3 /* not in the target */ };

struct inner {
	int a;
	int b;
};

struct sample {
	int x;
	long y;
	struct inner in;
	int arr[4];
	unsigned int flag : 3;
	int sflag : 5;
	union {
		int u1;
		short u2;
	};
	int gone; /* missing in the target: its relocations are poisoned */
	unsigned long long cnt; /* 4 bytes in the target: loads shrink */
} __attribute__((preserve_access_index));

/* A flavor: matches `struct sample` of the target by its essential name. */
struct sample___v2 {
	long y;
	int newer;
} __attribute__((preserve_access_index));

__u64 out[20];

SEC("tp_btf/sample")
int read_all(struct sample *s)
{
	struct sample___v2 *v2 = (void *)s;

	out[0] = BPF_CORE_READ(s, y);
	out[1] = BPF_CORE_READ(s, in.b);
	out[2] = BPF_CORE_READ(s, arr[2]);
	out[3] = bpf_core_field_exists(s->gone);
	out[4] = bpf_core_type_size(struct sample);
	out[5] = bpf_core_enum_value(enum color, BLUE);
	out[6] = bpf_core_field_size(s->y);
	out[7] = BPF_CORE_READ_BITFIELD_PROBED(s, flag);
	out[8] = BPF_CORE_READ_BITFIELD_PROBED(s, sflag);
	out[9] = BPF_CORE_READ(s, u2);
	out[10] = bpf_core_type_exists(struct inner);
	out[11] = bpf_core_enum_value_exists(enum color, GREEN);
	out[12] = bpf_core_field_exists(v2->newer);
	out[13] = BPF_CORE_READ(v2, y);
	out[14] = bpf_core_type_id_kernel(struct sample);
	out[15] = s->gone + bpf_core_type_matches(struct inner);
	out[16] = bpf_core_enum_value(enum color, YELLOW);
	out[17] = s->cnt; /* unsigned: the 8-byte load becomes a 4-byte load */
	out[18] = s->y;   /* signed long → int: cannot be resized, poisoned */
	out[19] = bpf_core_type_id_local(struct inner);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
