/* Section names as libbpf and iproute2 name them, and names neither knows (a program of no
 * known type until --type gives one). One object, many program sections. */
#include "bpfx_helpers.h"

/* libbpf's section_defs: type, expected attach type, sleepable. */
SEC("xdp.frags") int frags(struct xdp_md *ctx) { return XDP_PASS; }
SEC("xdp/devmap") int devmap(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc/ingress") int tcx_in(struct __sk_buff *skb) { return 0; }
SEC("netkit/peer") int nk_peer(struct __sk_buff *skb) { return 0; }
SEC("sk_skb/stream_parser") int parser(struct __sk_buff *skb) { return skb->len; }
SEC("sk_msg") int msg(void *ctx) { return 1; }
SEC("sockops") int ops(void *ctx) { return 1; }
SEC("cgroup/connect4") int connect4(void *ctx) { return 1; }
SEC("sk_lookup") int lookup(void *ctx) { return 1; }
SEC("syscall") int sys(void *ctx) { return 0; }
SEC("fentry.s/do_unlinkat") int sleepy(void *ctx) { return 0; }
SEC("lsm.s/file_open") int lsm_sleepy(void *ctx) { return 0; }
SEC("uprobe.multi/./bin:f*") int umulti(void *ctx) { return 0; }
SEC("iter.s/task") int task_iter(void *ctx) { return 0; }
SEC("lwt_xmit") int lwt(struct __sk_buff *skb) { return 0; }
/* iproute2's names. */
SEC("classifier") int cls(struct __sk_buff *skb) { return 0; }
SEC("action") int act(struct __sk_buff *skb) { return 0; }
/* Names libbpf does not know: the loader must be told the type. */
SEC("socket1") int sock1(struct __sk_buff *skb) { return skb->len; }
SEC("xdp_prog") int xprog(struct xdp_md *ctx) { return XDP_DROP; }
SEC("2/1") int tail_slot(struct __sk_buff *skb) { return 0; }

char LICENSE[] SEC("license") = "GPL";
