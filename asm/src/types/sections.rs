//! libbpf's `section_defs` table (`tools/lib/bpf/libbpf.c`, libbpf 1.5): what a program's
//! ELF section name says about its program type, its `expected_attach_type` and whether
//! it is sleepable (`BPF_F_SLEEPABLE`), matched the way libbpf's `sec_def_matches` does;
//! and iproute2's tail-call section names (`N/M`).

use super::{AttachType, ProgType};

/// One row of libbpf's `section_defs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionDef {
    /// The pattern as libbpf writes it: `xdp` matches only `xdp`; `kprobe+` matches
    /// `kprobe` and `kprobe/ANYTHING` (not `kprobe1`).
    pub pattern: &'static str,
    /// The program type.
    pub prog_type: ProgType,
    /// The `expected_attach_type` libbpf loads the program with (`None`: 0).
    pub attach_type: Option<AttachType>,
    /// libbpf's `SEC_SLEEPABLE`: loaded with `BPF_F_SLEEPABLE`.
    pub sleepable: bool,
}

impl SectionDef {
    /// libbpf's `sec_def_matches`: a pattern ending in `+` matches itself and
    /// `PATTERN/...`; any other pattern matches only itself.
    pub fn matches(&self, section: &str) -> bool {
        match self.pattern.strip_suffix('+') {
            Some(p) => match section.strip_prefix(p) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
            None => section == self.pattern,
        }
    }
}

macro_rules! section_defs {
    ($($pat:literal => $p:ident, $a:tt, $sleep:literal;)*) => {
        /// libbpf's `section_defs`, in its order (the first match wins, so
        /// `xdp.frags/devmap` comes before `xdp.frags`).
        pub const SECTION_DEFS: &[SectionDef] = &[$(SectionDef {
            pattern: $pat,
            prog_type: ProgType::$p,
            attach_type: section_defs!(@a $a),
            sleepable: $sleep,
        },)*];
    };
    (@a -) => { None };
    (@a $a:ident) => { Some(AttachType::$a) };
}

section_defs! {
    "socket" => SocketFilter, -, false;
    "sk_reuseport/migrate" => SkReuseport, SkReuseportSelectOrMigrate, false;
    "sk_reuseport" => SkReuseport, SkReuseportSelect, false;
    "kprobe+" => Kprobe, -, false;
    "uprobe+" => Kprobe, -, false;
    "uprobe.s+" => Kprobe, -, true;
    "kretprobe+" => Kprobe, -, false;
    "uretprobe+" => Kprobe, -, false;
    "uretprobe.s+" => Kprobe, -, true;
    "kprobe.multi+" => Kprobe, TraceKprobeMulti, false;
    "kretprobe.multi+" => Kprobe, TraceKprobeMulti, false;
    "kprobe.session+" => Kprobe, TraceKprobeSession, false;
    "uprobe.multi+" => Kprobe, TraceUprobeMulti, false;
    "uretprobe.multi+" => Kprobe, TraceUprobeMulti, false;
    "uprobe.multi.s+" => Kprobe, TraceUprobeMulti, true;
    "uretprobe.multi.s+" => Kprobe, TraceUprobeMulti, true;
    "uprobe.session+" => Kprobe, TraceUprobeSession, false;
    "uprobe.session.s+" => Kprobe, TraceUprobeSession, true;
    "ksyscall+" => Kprobe, -, false;
    "kretsyscall+" => Kprobe, -, false;
    "usdt+" => Kprobe, -, false;
    "usdt.s+" => Kprobe, -, true;
    // `tc/ingress` and `tc/egress` are libbpf's aliases of the tcx sections.
    "tc/ingress" => SchedCls, TcxIngress, false;
    "tc/egress" => SchedCls, TcxEgress, false;
    "tcx/ingress" => SchedCls, TcxIngress, false;
    "tcx/egress" => SchedCls, TcxEgress, false;
    "netkit/primary" => SchedCls, NetkitPrimary, false;
    "netkit/peer" => SchedCls, NetkitPeer, false;
    "tc" => SchedCls, -, false;
    // iproute2's names, which libbpf keeps.
    "classifier" => SchedCls, -, false;
    "action" => SchedAct, -, false;
    "tracepoint+" => Tracepoint, -, false;
    "tp+" => Tracepoint, -, false;
    "raw_tracepoint+" => RawTracepoint, -, false;
    "raw_tp+" => RawTracepoint, -, false;
    "raw_tracepoint.w+" => RawTracepointWritable, -, false;
    "raw_tp.w+" => RawTracepointWritable, -, false;
    "tp_btf+" => Tracing, TraceRawTp, false;
    "fentry+" => Tracing, TraceFentry, false;
    "fmod_ret+" => Tracing, ModifyReturn, false;
    "fexit+" => Tracing, TraceFexit, false;
    "fentry.s+" => Tracing, TraceFentry, true;
    "fmod_ret.s+" => Tracing, ModifyReturn, true;
    "fexit.s+" => Tracing, TraceFexit, true;
    "freplace+" => Ext, -, false;
    "lsm+" => Lsm, LsmMac, false;
    "lsm.s+" => Lsm, LsmMac, true;
    "lsm_cgroup+" => Lsm, LsmCgroup, false;
    "iter+" => Tracing, TraceIter, false;
    "iter.s+" => Tracing, TraceIter, true;
    "syscall" => Syscall, -, true;
    "xdp.frags/devmap" => Xdp, XdpDevmap, false;
    "xdp/devmap" => Xdp, XdpDevmap, false;
    "xdp.frags/cpumap" => Xdp, XdpCpumap, false;
    "xdp/cpumap" => Xdp, XdpCpumap, false;
    "xdp.frags" => Xdp, Xdp, false;
    "xdp" => Xdp, Xdp, false;
    "perf_event" => PerfEvent, -, false;
    "lwt_in" => LwtIn, -, false;
    "lwt_out" => LwtOut, -, false;
    "lwt_xmit" => LwtXmit, -, false;
    "lwt_seg6local" => LwtSeg6local, -, false;
    "sockops" => SockOps, CgroupSockOps, false;
    "sk_skb/stream_parser" => SkSkb, SkSkbStreamParser, false;
    "sk_skb/stream_verdict" => SkSkb, SkSkbStreamVerdict, false;
    "sk_skb/verdict" => SkSkb, SkSkbVerdict, false;
    "sk_skb" => SkSkb, -, false;
    "sk_msg" => SkMsg, SkMsgVerdict, false;
    "lirc_mode2" => LircMode2, LircMode2, false;
    "flow_dissector" => FlowDissector, FlowDissector, false;
    "cgroup_skb/ingress" => CgroupSkb, CgroupInetIngress, false;
    "cgroup_skb/egress" => CgroupSkb, CgroupInetEgress, false;
    "cgroup/skb" => CgroupSkb, -, false;
    "cgroup/sock_create" => CgroupSock, CgroupInetSockCreate, false;
    "cgroup/sock_release" => CgroupSock, CgroupInetSockRelease, false;
    "cgroup/sock" => CgroupSock, CgroupInetSockCreate, false;
    "cgroup/post_bind4" => CgroupSock, CgroupInet4PostBind, false;
    "cgroup/post_bind6" => CgroupSock, CgroupInet6PostBind, false;
    "cgroup/bind4" => CgroupSockAddr, CgroupInet4Bind, false;
    "cgroup/bind6" => CgroupSockAddr, CgroupInet6Bind, false;
    "cgroup/connect4" => CgroupSockAddr, CgroupInet4Connect, false;
    "cgroup/connect6" => CgroupSockAddr, CgroupInet6Connect, false;
    "cgroup/connect_unix" => CgroupSockAddr, CgroupUnixConnect, false;
    "cgroup/sendmsg4" => CgroupSockAddr, CgroupUdp4Sendmsg, false;
    "cgroup/sendmsg6" => CgroupSockAddr, CgroupUdp6Sendmsg, false;
    "cgroup/sendmsg_unix" => CgroupSockAddr, CgroupUnixSendmsg, false;
    "cgroup/recvmsg4" => CgroupSockAddr, CgroupUdp4Recvmsg, false;
    "cgroup/recvmsg6" => CgroupSockAddr, CgroupUdp6Recvmsg, false;
    "cgroup/recvmsg_unix" => CgroupSockAddr, CgroupUnixRecvmsg, false;
    "cgroup/getpeername4" => CgroupSockAddr, CgroupInet4Getpeername, false;
    "cgroup/getpeername6" => CgroupSockAddr, CgroupInet6Getpeername, false;
    "cgroup/getpeername_unix" => CgroupSockAddr, CgroupUnixGetpeername, false;
    "cgroup/getsockname4" => CgroupSockAddr, CgroupInet4Getsockname, false;
    "cgroup/getsockname6" => CgroupSockAddr, CgroupInet6Getsockname, false;
    "cgroup/getsockname_unix" => CgroupSockAddr, CgroupUnixGetsockname, false;
    "cgroup/sysctl" => CgroupSysctl, CgroupSysctl, false;
    "cgroup/getsockopt" => CgroupSockopt, CgroupGetsockopt, false;
    "cgroup/setsockopt" => CgroupSockopt, CgroupSetsockopt, false;
    "cgroup/dev" => CgroupDevice, CgroupDevice, false;
    "struct_ops+" => StructOps, -, false;
    "struct_ops.s+" => StructOps, -, true;
    "sk_lookup" => SkLookup, SkLookup, false;
    "netfilter" => Netfilter, Netfilter, false;
}

/// The first row of [`SECTION_DEFS`] that matches `section`, as libbpf's
/// `find_sec_def` finds it; `None` for names libbpf does not know (`socket1`, `xdp_prog`,
/// iproute2's `2/1` ...). A leading `?` (`SEC("?xdp")`: libbpf does not load the program
/// unless asked, `bpf_object__init_prog`) is not part of the name matched.
pub fn section_def(section: &str) -> Option<&'static SectionDef> {
    let name = section.strip_prefix('?').unwrap_or(section);
    SECTION_DEFS.iter().find(|d| d.matches(name))
}

/// iproute2's tail-call sections (`lib/bpf_legacy.c`, `bpf_fetch_prog_sec` /
/// `bpf_fill_prog_arrays`): a section named `ID/KEY` (e.g. `2/1`) holds a program that tc
/// puts in slot `KEY` of the program array whose `bpf_elf_map.id` is `ID`. Its type is the
/// type of the program tc was asked to load, which the section does not say.
pub fn iproute2_tail_call(section: &str) -> Option<(u32, u32)> {
    let (id, key) = section.split_once('/')?;
    Some((id.parse().ok()?, key.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_matching() {
        let def = |s: &str| section_def(s).map(|d| (d.prog_type, d.attach_type, d.sleepable));
        assert_eq!(
            def("xdp"),
            Some((ProgType::Xdp, Some(AttachType::Xdp), false))
        );
        // Exact patterns take no suffix, `+` patterns only a `/...` one.
        assert_eq!(def("xdp1"), None);
        assert_eq!(def("xdp_prog"), None);
        assert_eq!(def("socket1"), None);
        assert_eq!(def("kprobe1"), None);
        assert_eq!(def("kprobe").map(|d| d.0), Some(ProgType::Kprobe));
        assert_eq!(def("kprobe/do_exit").map(|d| d.0), Some(ProgType::Kprobe));
        assert_eq!(
            def("xdp.frags/devmap"),
            Some((ProgType::Xdp, Some(AttachType::XdpDevmap), false))
        );
        assert_eq!(
            def("fentry.s/do_unlinkat"),
            Some((ProgType::Tracing, Some(AttachType::TraceFentry), true))
        );
        assert_eq!(
            def("lsm.s/bprm_check_security"),
            Some((ProgType::Lsm, Some(AttachType::LsmMac), true))
        );
        assert_eq!(def("uprobe.s/bin:f").map(|d| d.2), Some(true));
        assert_eq!(def("iter.s/task").map(|d| d.2), Some(true));
        assert_eq!(def("syscall").map(|d| d.2), Some(true));
        assert_eq!(def("usdt/a:b:c").map(|d| d.0), Some(ProgType::Kprobe));
        assert_eq!(
            def("uprobe.multi/p:f*").map(|d| d.1),
            Some(Some(AttachType::TraceUprobeMulti))
        );
        assert_eq!(
            def("struct_ops/init").map(|d| d.0),
            Some(ProgType::StructOps)
        );
        assert_eq!(def("lwt_xmit").map(|d| d.0), Some(ProgType::LwtXmit));
        assert_eq!(
            def("tc/ingress").map(|d| d.1),
            Some(Some(AttachType::TcxIngress))
        );
        assert_eq!(def("tc").map(|d| d.1), Some(None));
        assert_eq!(
            def("netkit/peer").map(|d| d.1),
            Some(Some(AttachType::NetkitPeer))
        );
        assert_eq!(def("classifier").map(|d| d.0), Some(ProgType::SchedCls));
        assert_eq!(def("action").map(|d| d.0), Some(ProgType::SchedAct));
        assert_eq!(def("cgroup/nope"), None);
        assert_eq!(def("2/1"), None);
        assert_eq!(def("?xdp").map(|d| d.0), Some(ProgType::Xdp));
        assert_eq!(def("?fentry.s/f").map(|d| d.2), Some(true));
        assert_eq!(def("??xdp"), None);
        assert_eq!(iproute2_tail_call("2/1"), Some((2, 1)));
        assert_eq!(iproute2_tail_call("xdp/devmap"), None);
        // Every pattern matches itself (minus `+`), and the first match is its own row
        // or an earlier row of the same meaning.
        for d in SECTION_DEFS {
            let s = d.pattern.trim_end_matches('+');
            assert_eq!(
                section_def(s).map(|f| f.prog_type),
                Some(d.prog_type),
                "{s}"
            );
        }
    }
}
