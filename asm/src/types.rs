//! Program, map and attach types, with the kernel's numbers (`enum bpf_prog_type`,
//! `enum bpf_map_type`, `enum bpf_attach_type` in `include/uapi/linux/bpf.h`) and the names people use for them.
//! The VM, the verifier and the kernel backend all take their types from here.

pub mod ctx;
pub mod helpers;
pub mod map_compat;
mod sections;

pub use sections::{iproute2_tail_call, section_def, SectionDef, SECTION_DEFS};

use std::fmt;
use std::str::FromStr;

macro_rules! kernel_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $num:literal, $text:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vdoc])* $variant = $num,)* }

        impl $name {
            /// Every value, in kernel order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The kernel's number.
            pub const fn number(self) -> u32 { self as u32 }

            /// From the kernel's number.
            pub fn from_number(n: u32) -> Option<$name> {
                Self::ALL.iter().copied().find(|t| t.number() == n)
            }

            /// The lower-case name (`socket_filter`, `percpu_hash` ...).
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.name()) }
        }

        impl FromStr for $name {
            type Err = String;
            /// Accepts the lower-case name, with `-` or `_`, or the kernel constant's name.
            fn from_str(s: &str) -> Result<$name, String> {
                let norm = s.trim().to_ascii_lowercase().replace('-', "_");
                let norm = norm.strip_prefix("bpf_prog_type_").or_else(|| norm.strip_prefix("bpf_map_type_")).or_else(|| norm.strip_prefix("bpf_")).unwrap_or(&norm);
                Self::ALL.iter().copied().find(|t| t.name() == norm).ok_or_else(|| {
                    format!("unknown {} `{s}`; known: {}", stringify!($name),
                        Self::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "))
                })
            }
        }
    };
}

kernel_enum! {
    /// `enum bpf_prog_type`.
    ProgType {
        /// Socket filter (`BPF_PROG_TYPE_SOCKET_FILTER`).
        SocketFilter = 1, "socket_filter";
        /// kprobe / uprobe.
        Kprobe = 2, "kprobe";
        /// tc classifier.
        SchedCls = 3, "sched_cls";
        /// tc action.
        SchedAct = 4, "sched_act";
        /// Tracepoint.
        Tracepoint = 5, "tracepoint";
        /// XDP.
        Xdp = 6, "xdp";
        /// perf event.
        PerfEvent = 7, "perf_event";
        /// cgroup skb.
        CgroupSkb = 8, "cgroup_skb";
        /// cgroup sock.
        CgroupSock = 9, "cgroup_sock";
        /// lwt in.
        LwtIn = 10, "lwt_in";
        /// lwt out.
        LwtOut = 11, "lwt_out";
        /// lwt xmit.
        LwtXmit = 12, "lwt_xmit";
        /// sock ops.
        SockOps = 13, "sock_ops";
        /// sk skb.
        SkSkb = 14, "sk_skb";
        /// cgroup device.
        CgroupDevice = 15, "cgroup_device";
        /// sk msg.
        SkMsg = 16, "sk_msg";
        /// Raw tracepoint.
        RawTracepoint = 17, "raw_tracepoint";
        /// cgroup sock addr.
        CgroupSockAddr = 18, "cgroup_sock_addr";
        /// lwt seg6local.
        LwtSeg6local = 19, "lwt_seg6local";
        /// lirc mode2.
        LircMode2 = 20, "lirc_mode2";
        /// sk reuseport.
        SkReuseport = 21, "sk_reuseport";
        /// Flow dissector.
        FlowDissector = 22, "flow_dissector";
        /// cgroup sysctl.
        CgroupSysctl = 23, "cgroup_sysctl";
        /// Writable raw tracepoint.
        RawTracepointWritable = 24, "raw_tracepoint_writable";
        /// cgroup sockopt.
        CgroupSockopt = 25, "cgroup_sockopt";
        /// fentry/fexit/iter (BTF tracing).
        Tracing = 26, "tracing";
        /// struct_ops.
        StructOps = 27, "struct_ops";
        /// Freplace extension.
        Ext = 28, "ext";
        /// LSM.
        Lsm = 29, "lsm";
        /// sk lookup.
        SkLookup = 30, "sk_lookup";
        /// Syscall program (`BPF_PROG_TYPE_SYSCALL`).
        Syscall = 31, "syscall";
        /// Netfilter.
        Netfilter = 32, "netfilter";
    }
}

kernel_enum! {
    /// `enum bpf_map_type`.
    MapType {
        /// Hash table.
        Hash = 1, "hash";
        /// Array.
        Array = 2, "array";
        /// Program array for tail calls.
        ProgArray = 3, "prog_array";
        /// perf event array.
        PerfEventArray = 4, "perf_event_array";
        /// Per-CPU hash.
        PercpuHash = 5, "percpu_hash";
        /// Per-CPU array.
        PercpuArray = 6, "percpu_array";
        /// Stack trace.
        StackTrace = 7, "stack_trace";
        /// cgroup array.
        CgroupArray = 8, "cgroup_array";
        /// LRU hash.
        LruHash = 9, "lru_hash";
        /// LRU per-CPU hash.
        LruPercpuHash = 10, "lru_percpu_hash";
        /// Longest-prefix-match trie.
        LpmTrie = 11, "lpm_trie";
        /// Array of maps.
        ArrayOfMaps = 12, "array_of_maps";
        /// Hash of maps.
        HashOfMaps = 13, "hash_of_maps";
        /// Device map.
        Devmap = 14, "devmap";
        /// Socket map.
        Sockmap = 15, "sockmap";
        /// CPU map.
        Cpumap = 16, "cpumap";
        /// AF_XDP socket map.
        Xskmap = 17, "xskmap";
        /// Socket hash.
        Sockhash = 18, "sockhash";
        /// cgroup storage.
        CgroupStorage = 19, "cgroup_storage";
        /// reuseport socket array.
        ReuseportSockarray = 20, "reuseport_sockarray";
        /// Per-CPU cgroup storage.
        PercpuCgroupStorage = 21, "percpu_cgroup_storage";
        /// FIFO queue.
        Queue = 22, "queue";
        /// LIFO stack.
        Stack = 23, "stack";
        /// Socket local storage.
        SkStorage = 24, "sk_storage";
        /// Device hash map.
        DevmapHash = 25, "devmap_hash";
        /// struct_ops map.
        StructOps = 26, "struct_ops";
        /// Ring buffer.
        Ringbuf = 27, "ringbuf";
        /// inode storage.
        InodeStorage = 28, "inode_storage";
        /// Task storage.
        TaskStorage = 29, "task_storage";
        /// Bloom filter.
        BloomFilter = 30, "bloom_filter";
        /// User ring buffer.
        UserRingbuf = 31, "user_ringbuf";
        /// cgroup storage (new).
        CgrpStorage = 32, "cgrp_storage";
        /// Arena.
        Arena = 33, "arena";
    }
}

kernel_enum! {
    /// `enum bpf_attach_type` (Linux 6.18): where a program is attached, and what
    /// `BPF_PROG_LOAD` is told as `expected_attach_type`.
    AttachType {
        /// `BPF_CGROUP_INET_INGRESS`.
        CgroupInetIngress = 0, "cgroup_inet_ingress";
        /// `BPF_CGROUP_INET_EGRESS`.
        CgroupInetEgress = 1, "cgroup_inet_egress";
        /// `BPF_CGROUP_INET_SOCK_CREATE`.
        CgroupInetSockCreate = 2, "cgroup_inet_sock_create";
        /// `BPF_CGROUP_SOCK_OPS`.
        CgroupSockOps = 3, "cgroup_sock_ops";
        /// `BPF_SK_SKB_STREAM_PARSER`.
        SkSkbStreamParser = 4, "sk_skb_stream_parser";
        /// `BPF_SK_SKB_STREAM_VERDICT`.
        SkSkbStreamVerdict = 5, "sk_skb_stream_verdict";
        /// `BPF_CGROUP_DEVICE`.
        CgroupDevice = 6, "cgroup_device";
        /// `BPF_SK_MSG_VERDICT`.
        SkMsgVerdict = 7, "sk_msg_verdict";
        /// `BPF_CGROUP_INET4_BIND`.
        CgroupInet4Bind = 8, "cgroup_inet4_bind";
        /// `BPF_CGROUP_INET6_BIND`.
        CgroupInet6Bind = 9, "cgroup_inet6_bind";
        /// `BPF_CGROUP_INET4_CONNECT`.
        CgroupInet4Connect = 10, "cgroup_inet4_connect";
        /// `BPF_CGROUP_INET6_CONNECT`.
        CgroupInet6Connect = 11, "cgroup_inet6_connect";
        /// `BPF_CGROUP_INET4_POST_BIND`.
        CgroupInet4PostBind = 12, "cgroup_inet4_post_bind";
        /// `BPF_CGROUP_INET6_POST_BIND`.
        CgroupInet6PostBind = 13, "cgroup_inet6_post_bind";
        /// `BPF_CGROUP_UDP4_SENDMSG`.
        CgroupUdp4Sendmsg = 14, "cgroup_udp4_sendmsg";
        /// `BPF_CGROUP_UDP6_SENDMSG`.
        CgroupUdp6Sendmsg = 15, "cgroup_udp6_sendmsg";
        /// `BPF_LIRC_MODE2`.
        LircMode2 = 16, "lirc_mode2";
        /// `BPF_FLOW_DISSECTOR`.
        FlowDissector = 17, "flow_dissector";
        /// `BPF_CGROUP_SYSCTL`.
        CgroupSysctl = 18, "cgroup_sysctl";
        /// `BPF_CGROUP_UDP4_RECVMSG`.
        CgroupUdp4Recvmsg = 19, "cgroup_udp4_recvmsg";
        /// `BPF_CGROUP_UDP6_RECVMSG`.
        CgroupUdp6Recvmsg = 20, "cgroup_udp6_recvmsg";
        /// `BPF_CGROUP_GETSOCKOPT`.
        CgroupGetsockopt = 21, "cgroup_getsockopt";
        /// `BPF_CGROUP_SETSOCKOPT`.
        CgroupSetsockopt = 22, "cgroup_setsockopt";
        /// `BPF_TRACE_RAW_TP`.
        TraceRawTp = 23, "trace_raw_tp";
        /// `BPF_TRACE_FENTRY`.
        TraceFentry = 24, "trace_fentry";
        /// `BPF_TRACE_FEXIT`.
        TraceFexit = 25, "trace_fexit";
        /// `BPF_MODIFY_RETURN`.
        ModifyReturn = 26, "modify_return";
        /// `BPF_LSM_MAC`.
        LsmMac = 27, "lsm_mac";
        /// `BPF_TRACE_ITER`.
        TraceIter = 28, "trace_iter";
        /// `BPF_CGROUP_INET4_GETPEERNAME`.
        CgroupInet4Getpeername = 29, "cgroup_inet4_getpeername";
        /// `BPF_CGROUP_INET6_GETPEERNAME`.
        CgroupInet6Getpeername = 30, "cgroup_inet6_getpeername";
        /// `BPF_CGROUP_INET4_GETSOCKNAME`.
        CgroupInet4Getsockname = 31, "cgroup_inet4_getsockname";
        /// `BPF_CGROUP_INET6_GETSOCKNAME`.
        CgroupInet6Getsockname = 32, "cgroup_inet6_getsockname";
        /// `BPF_XDP_DEVMAP`.
        XdpDevmap = 33, "xdp_devmap";
        /// `BPF_CGROUP_INET_SOCK_RELEASE`.
        CgroupInetSockRelease = 34, "cgroup_inet_sock_release";
        /// `BPF_XDP_CPUMAP`.
        XdpCpumap = 35, "xdp_cpumap";
        /// `BPF_SK_LOOKUP`.
        SkLookup = 36, "sk_lookup";
        /// `BPF_XDP`.
        Xdp = 37, "xdp";
        /// `BPF_SK_SKB_VERDICT`.
        SkSkbVerdict = 38, "sk_skb_verdict";
        /// `BPF_SK_REUSEPORT_SELECT`.
        SkReuseportSelect = 39, "sk_reuseport_select";
        /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`.
        SkReuseportSelectOrMigrate = 40, "sk_reuseport_select_or_migrate";
        /// `BPF_PERF_EVENT`.
        PerfEvent = 41, "perf_event";
        /// `BPF_TRACE_KPROBE_MULTI`.
        TraceKprobeMulti = 42, "trace_kprobe_multi";
        /// `BPF_LSM_CGROUP`.
        LsmCgroup = 43, "lsm_cgroup";
        /// `BPF_STRUCT_OPS`.
        StructOps = 44, "struct_ops";
        /// `BPF_NETFILTER`.
        Netfilter = 45, "netfilter";
        /// `BPF_TCX_INGRESS`.
        TcxIngress = 46, "tcx_ingress";
        /// `BPF_TCX_EGRESS`.
        TcxEgress = 47, "tcx_egress";
        /// `BPF_TRACE_UPROBE_MULTI`.
        TraceUprobeMulti = 48, "trace_uprobe_multi";
        /// `BPF_CGROUP_UNIX_CONNECT`.
        CgroupUnixConnect = 49, "cgroup_unix_connect";
        /// `BPF_CGROUP_UNIX_SENDMSG`.
        CgroupUnixSendmsg = 50, "cgroup_unix_sendmsg";
        /// `BPF_CGROUP_UNIX_RECVMSG`.
        CgroupUnixRecvmsg = 51, "cgroup_unix_recvmsg";
        /// `BPF_CGROUP_UNIX_GETPEERNAME`.
        CgroupUnixGetpeername = 52, "cgroup_unix_getpeername";
        /// `BPF_CGROUP_UNIX_GETSOCKNAME`.
        CgroupUnixGetsockname = 53, "cgroup_unix_getsockname";
        /// `BPF_NETKIT_PRIMARY`.
        NetkitPrimary = 54, "netkit_primary";
        /// `BPF_NETKIT_PEER`.
        NetkitPeer = 55, "netkit_peer";
        /// `BPF_TRACE_KPROBE_SESSION`.
        TraceKprobeSession = 56, "trace_kprobe_session";
        /// `BPF_TRACE_UPROBE_SESSION`.
        TraceUprobeSession = 57, "trace_uprobe_session";
    }
}

impl MapType {
    /// Whether user space reads this map's contents with `BPF_MAP_GET_NEXT_KEY` and
    /// `BPF_MAP_LOOKUP_ELEM`. Not ring buffers (read through mmap), and not perf event
    /// arrays, whose values are perf event fds the kernel does not give back
    /// (`perf_event_array_map_ops` has no `map_fd_sys_lookup_elem`: `ENOTSUPP`).
    pub const fn readable_by_lookup(self) -> bool {
        !matches!(
            self,
            MapType::Ringbuf | MapType::UserRingbuf | MapType::PerfEventArray
        )
    }
}

impl ProgType {
    /// Whether `BPF_PROG_TEST_RUN` can run this type without attaching it anywhere. These are
    /// the types `bpfx kernel probe` measured on kernel 6.18 (`sk_skb` has a `test_run` hook in
    /// the source but answers `ENOTSUPP`; `tracing`, `struct_ops` and `netfilter` need an
    /// attach target first).
    pub const fn can_test_run(self) -> bool {
        matches!(
            self,
            ProgType::SocketFilter
                | ProgType::SchedCls
                | ProgType::SchedAct
                | ProgType::Xdp
                | ProgType::CgroupSkb
                | ProgType::LwtIn
                | ProgType::LwtOut
                | ProgType::LwtXmit
                | ProgType::RawTracepoint
                | ProgType::FlowDissector
                | ProgType::SkLookup
                | ProgType::Syscall
        )
    }

    /// What `r0` means at exit for a program of this type, where the kernel gives it a
    /// meaning (`None` for types whose return value is not a verdict, e.g. `syscall`). One
    /// wording for the VM, the kernel backend and the test runner.
    pub fn r0_meaning(self, r0: u64) -> Option<String> {
        let v = r0 as u32;
        Some(match self {
            ProgType::Xdp => match v {
                0 => "XDP_ABORTED".into(),
                1 => "XDP_DROP".into(),
                2 => "XDP_PASS".into(),
                3 => "XDP_TX".into(),
                4 => "XDP_REDIRECT".into(),
                // `bpf_warn_invalid_xdp_action`, then the frame is dropped as aborted.
                _ => format!("{v} is not an XDP action (the kernel treats it as XDP_ABORTED)"),
            },
            ProgType::SchedCls | ProgType::SchedAct => match v as i32 {
                -1 => "TC_ACT_UNSPEC".into(),
                0 => "TC_ACT_OK".into(),
                1 => "TC_ACT_RECLASSIFY".into(),
                2 => "TC_ACT_SHOT".into(),
                3 => "TC_ACT_PIPE".into(),
                4 => "TC_ACT_STOLEN".into(),
                5 => "TC_ACT_QUEUED".into(),
                6 => "TC_ACT_REPEAT".into(),
                7 => "TC_ACT_REDIRECT".into(),
                8 => "TC_ACT_TRAP".into(),
                n => format!("{n} is not a TC_ACT_* verdict"),
            },
            ProgType::SocketFilter => match v {
                0 => "drop the packet".into(),
                n => format!("keep the first {n} bytes of the packet"),
            },
            ProgType::CgroupSkb => match v {
                0 => "deny".into(),
                1 => "allow".into(),
                n => format!("verdict {n} (bit 0: allow, bit 1: congestion notification)"),
            },
            // `__cgroup_bpf_run_filter_*` (kernel/bpf/cgroup.c): 1 lets the operation go
            // on, 0 fails it with EPERM.
            ProgType::CgroupSock
            | ProgType::CgroupSockAddr
            | ProgType::CgroupDevice
            | ProgType::CgroupSysctl
            | ProgType::CgroupSockopt => match v {
                0 => "deny (EPERM)".into(),
                1 => "allow".into(),
                n => format!("{n} is not 0 or 1"),
            },
            // tcp_call_bpf(): 1 is success (and `reply` is the answer), 0 a failure.
            ProgType::SockOps => match v {
                0 => "0: failure".into(),
                1 => "1: success".into(),
                n => format!("{n} is not 0 or 1"),
            },
            // `enum sk_action`.
            ProgType::SkSkb | ProgType::SkMsg | ProgType::SkLookup | ProgType::SkReuseport => {
                match v {
                    0 => "SK_DROP".into(),
                    1 => "SK_PASS".into(),
                    n => format!("{n} is not an SK_* action"),
                }
            }
            // `enum bpf_ret_code`.
            ProgType::FlowDissector
            | ProgType::LwtIn
            | ProgType::LwtOut
            | ProgType::LwtXmit
            | ProgType::LwtSeg6local => match v {
                0 => "BPF_OK".into(),
                2 => "BPF_DROP".into(),
                7 => "BPF_REDIRECT".into(),
                128 => "BPF_LWT_REROUTE".into(),
                129 => "BPF_FLOW_DISSECTOR_CONTINUE".into(),
                n => format!("{n} is not a BPF_* return code"),
            },
            // `trace_call_bpf`: the event goes on to perf only when the program returns non-zero.
            ProgType::Kprobe
            | ProgType::Tracepoint
            | ProgType::RawTracepoint
            | ProgType::RawTracepointWritable
            | ProgType::PerfEvent => match v {
                0 => "0: the event is not passed on to perf".into(),
                n => format!("{n}: non-zero, the event is passed on to perf"),
            },
            _ => return None,
        })
    }

    /// The program type libbpf gives a section name (`xdp`, `kprobe/do_sys_open`,
    /// `tracepoint/syscalls/sys_enter_execve` ...), and the attach point after the `/`.
    /// [`AttachType::from_section`] gives the expected attach type of the same name.
    pub fn from_section(section: &str) -> Option<(ProgType, Option<&str>)> {
        let (t, _) = libbpf_section(section)?;
        Some((t, section.split_once('/').map(|(_, r)| r)))
    }
}

impl AttachType {
    /// The `expected_attach_type` libbpf loads a program of this section with
    /// (`cgroup/connect4` → [`AttachType::CgroupInet4Connect`], `fentry/FUNC` →
    /// [`AttachType::TraceFentry`], `xdp` and `xdp.frags` → [`AttachType::Xdp`] ...);
    /// `None` where libbpf leaves it 0 (`socket`, `kprobe/`, `tracepoint/` ...) or the
    /// section name is unknown.
    pub fn from_section(section: &str) -> Option<AttachType> {
        libbpf_section(section)?.1
    }
}

/// libbpf's `section_defs`: a section name's program type and expected attach type.
fn libbpf_section(section: &str) -> Option<(ProgType, Option<AttachType>)> {
    section_def(section).map(|d| (d.prog_type, d.attach_type))
}

/// Fields of a map value that the kernel treats specially, found in the value's BTF
/// (`btf_parse_fields` builds the kernel's `btf_record` from the same facts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ValueFields {
    /// Offset of a `struct bpf_spin_lock`.
    pub spin_lock: Option<u32>,
    /// Offset of a `struct bpf_timer`.
    pub timer: Option<u32>,
}

/// A map's shape: what `BPF_MAP_CREATE` is given, plus the name and, for map-in-map types,
/// the inner map's template. The one map definition every crate uses (VM, verifier, kernel
/// backend, object loader, CLI).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapSpec {
    /// Name (the variable name in an object, the section name for global data).
    pub name: String,
    /// The type.
    pub map_type: MapType,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (per CPU for per-CPU types).
    pub value_size: u32,
    /// Maximum number of entries (for ring buffers: the size in bytes).
    pub max_entries: u32,
    /// `map_flags` (`BPF_F_*`).
    pub flags: u32,
    /// For `array_of_maps` / `hash_of_maps`: the inner map's template.
    pub inner: Option<Box<MapSpec>>,
    /// Special fields of the value, from BTF.
    pub value_fields: ValueFields,
}

/// `BPF_F_RDONLY_PROG`: the program may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG`: the program may only write the map.
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;

impl MapSpec {
    /// A map of the given shape, unnamed, no flags.
    pub fn new(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapSpec {
        MapSpec {
            name: String::new(),
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: 0,
            inner: None,
            value_fields: ValueFields::default(),
        }
    }

    /// An array of `max_entries` values of `value_size` bytes (4-byte keys).
    pub fn array(value_size: u32, max_entries: u32) -> MapSpec {
        MapSpec::new(MapType::Array, 4, value_size, max_entries)
    }

    /// A hash map.
    pub fn hash(key_size: u32, value_size: u32, max_entries: u32) -> MapSpec {
        MapSpec::new(MapType::Hash, key_size, value_size, max_entries)
    }

    /// The same map with a name.
    pub fn named(mut self, name: impl Into<String>) -> MapSpec {
        self.name = name.into();
        self
    }

    /// The same map with `map_flags`.
    pub fn with_flags(mut self, flags: u32) -> MapSpec {
        self.flags = flags;
        self
    }

    /// Parses the command-line spelling shared by every subcommand:
    /// `[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS]`, e.g. `hash:4:8:16`,
    /// `counts=percpu_array:4:8:1`, `array:4:8:1:0x80` (flags in decimal or `0x` hex).
    ///
    /// The older `bpfx verify` spelling `NAME:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES` is still
    /// read; the second value returned is then a deprecation note for the user.
    pub fn parse_cli(s: &str) -> Result<(MapSpec, Option<String>), String> {
        const SYNTAX: &str =
            "[NAME=]TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS] (e.g. hash:4:8:16)";
        let (name, rest) = match s.split_once('=') {
            Some((n, r)) => (Some(n), r),
            None => (None, s),
        };
        if let Some(n) = name {
            if n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(format!(
                    "map name `{n}` in `{s}` must be letters, digits, `_` or `.`"
                ));
            }
        }
        let parts: Vec<&str> = rest.split(':').collect();
        // The old verify spelling: a name first, then the type.
        if name.is_none()
            && parts.len() == 5
            && parts[0].parse::<MapType>().is_err()
            && parts[1].parse::<MapType>().is_ok()
        {
            let (spec, _) = MapSpec::parse_cli(&format!("{}={}", parts[0], parts[1..].join(":")))?;
            let note = format!(
                "`--map {s}` uses the old NAME:TYPE:... spelling; write `--map {}={}`",
                parts[0],
                parts[1..].join(":")
            );
            return Ok((spec, Some(note)));
        }
        if !(4..=5).contains(&parts.len()) {
            return Err(format!("`{s}` is not {SYNTAX}: {} fields", parts.len()));
        }
        let map_type: MapType = parts[0].parse()?;
        let num = |what: &str, x: &str| -> Result<u32, String> {
            let parsed = match x.strip_prefix("0x").or_else(|| x.strip_prefix("0X")) {
                Some(h) => u32::from_str_radix(h, 16),
                None => x.parse::<u32>(),
            };
            parsed.map_err(|_| {
                format!(
                    "{what} `{x}` in `{s}` is not a number from 0 to {}",
                    u32::MAX
                )
            })
        };
        let mut spec = MapSpec::new(
            map_type,
            num("key size", parts[1])?,
            num("value size", parts[2])?,
            num("max entries", parts[3])?,
        );
        if let Some(f) = parts.get(4) {
            spec.flags = num("flags", f)?;
        }
        if let Some(n) = name {
            spec.name = n.to_string();
        }
        Ok((spec, None))
    }
}

impl fmt::Display for MapSpec {
    /// The command-line spelling ([`MapSpec::parse_cli`] reads it back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{}=", self.name)?;
        }
        write!(
            f,
            "{}:{}:{}:{}",
            self.map_type, self.key_size, self.value_size, self.max_entries
        )?;
        if self.flags != 0 {
            write!(f, ":{:#x}", self.flags)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(ProgType::Xdp.number(), 6);
        assert_eq!(ProgType::Syscall.number(), 31);
        assert_eq!("XDP".parse::<ProgType>(), Ok(ProgType::Xdp));
        assert_eq!(
            "BPF_PROG_TYPE_SCHED_CLS".parse::<ProgType>(),
            Ok(ProgType::SchedCls)
        );
        assert_eq!(
            "socket-filter".parse::<ProgType>(),
            Ok(ProgType::SocketFilter)
        );
        assert!("nope".parse::<ProgType>().unwrap_err().contains("xdp"));
        assert_eq!(MapType::Ringbuf.number(), 27);
        assert_eq!(MapType::from_number(9), Some(MapType::LruHash));
        assert_eq!(MapType::Arena.number(), 33);
    }

    #[test]
    fn r0_meanings() {
        assert_eq!(ProgType::Xdp.r0_meaning(2).as_deref(), Some("XDP_PASS"));
        assert!(ProgType::Xdp.r0_meaning(9).unwrap().contains("XDP_ABORTED"));
        assert_eq!(
            ProgType::SchedAct.r0_meaning(2).as_deref(),
            Some("TC_ACT_SHOT")
        );
        assert_eq!(
            ProgType::SchedCls.r0_meaning(u64::MAX).as_deref(),
            Some("TC_ACT_UNSPEC")
        );
        assert_eq!(
            ProgType::SocketFilter.r0_meaning(0).as_deref(),
            Some("drop the packet")
        );
        assert_eq!(ProgType::CgroupSkb.r0_meaning(1).as_deref(), Some("allow"));
        assert_eq!(ProgType::Syscall.r0_meaning(0), None);
    }

    #[test]
    fn sections() {
        assert_eq!(ProgType::from_section("xdp"), Some((ProgType::Xdp, None)));
        assert_eq!(
            ProgType::from_section("tracepoint/syscalls/sys_enter_execve"),
            Some((ProgType::Tracepoint, Some("syscalls/sys_enter_execve")))
        );
        assert_eq!(
            ProgType::from_section("kretprobe/do_exit").map(|t| t.0),
            Some(ProgType::Kprobe)
        );
        assert_eq!(ProgType::from_section(".text"), None);
        assert_eq!(
            ProgType::from_section("cgroup/connect4"),
            Some((ProgType::CgroupSockAddr, Some("connect4")))
        );
        assert_eq!(
            ProgType::from_section("cgroup/dev").map(|t| t.0),
            Some(ProgType::CgroupDevice)
        );
        assert_eq!(ProgType::from_section("cgroup/nope"), None);
    }

    #[test]
    fn attach_types() {
        assert_eq!(AttachType::CgroupInetIngress.number(), 0);
        assert_eq!(AttachType::CgroupInet4Connect.number(), 10);
        assert_eq!(AttachType::TraceFentry.number(), 24);
        assert_eq!(AttachType::LsmMac.number(), 27);
        assert_eq!(AttachType::SkLookup.number(), 36);
        assert_eq!(AttachType::Xdp.number(), 37);
        assert_eq!(AttachType::Netfilter.number(), 45);
        assert_eq!(AttachType::TraceUprobeSession.number(), 57);
        assert_eq!(AttachType::ALL.len(), 58);
        assert_eq!(AttachType::from_number(46), Some(AttachType::TcxIngress));
        assert_eq!(AttachType::from_number(58), None);
        assert_eq!(
            "BPF_CGROUP_INET4_CONNECT".parse::<AttachType>(),
            Ok(AttachType::CgroupInet4Connect)
        );
        assert_eq!(AttachType::LsmMac.to_string(), "lsm_mac");

        let expect = |s: &str| AttachType::from_section(s);
        assert_eq!(
            expect("cgroup/connect4"),
            Some(AttachType::CgroupInet4Connect)
        );
        assert_eq!(
            expect("cgroup/sendmsg6"),
            Some(AttachType::CgroupUdp6Sendmsg)
        );
        assert_eq!(
            expect("cgroup/sock"),
            Some(AttachType::CgroupInetSockCreate)
        );
        assert_eq!(
            expect("cgroup_skb/egress"),
            Some(AttachType::CgroupInetEgress)
        );
        assert_eq!(expect("sk_lookup"), Some(AttachType::SkLookup));
        assert_eq!(expect("fentry/do_unlinkat"), Some(AttachType::TraceFentry));
        assert_eq!(expect("fexit.s/do_unlinkat"), Some(AttachType::TraceFexit));
        assert_eq!(expect("lsm/file_open"), Some(AttachType::LsmMac));
        assert_eq!(expect("lsm_cgroup/file_open"), Some(AttachType::LsmCgroup));
        assert_eq!(expect("xdp"), Some(AttachType::Xdp));
        assert_eq!(expect("xdp.frags"), Some(AttachType::Xdp));
        assert_eq!(expect("xdp/devmap"), Some(AttachType::XdpDevmap));
        assert_eq!(expect("tcx/ingress"), Some(AttachType::TcxIngress));
        assert_eq!(
            expect("sk_skb/stream_parser"),
            Some(AttachType::SkSkbStreamParser)
        );
        assert_eq!(
            expect("kprobe.multi/do_*"),
            Some(AttachType::TraceKprobeMulti)
        );
        assert_eq!(expect("socket"), None);
        assert_eq!(expect("kprobe/do_exit"), None);
        assert_eq!(expect("tracepoint/syscalls/sys_enter_execve"), None);
        assert_eq!(expect("bogus"), None);
        // Every attach type given pairs with its program type's section.
        assert_eq!(
            ProgType::from_section("sk_lookup").map(|t| t.0),
            Some(ProgType::SkLookup)
        );
        assert_eq!(
            ProgType::from_section("lsm/file_open").map(|t| t.0),
            Some(ProgType::Lsm)
        );
    }

    #[test]
    fn map_spec_cli_spelling() {
        let (m, note) = MapSpec::parse_cli("hash:4:8:16").unwrap();
        assert_eq!(m, MapSpec::hash(4, 8, 16));
        assert!(note.is_none());
        let (m, _) = MapSpec::parse_cli("counts=percpu_array:4:8:1:0x80").unwrap();
        assert_eq!(m.name, "counts");
        assert_eq!(m.map_type, MapType::PercpuArray);
        assert_eq!(m.flags, BPF_F_RDONLY_PROG);
        assert_eq!(m.to_string(), "counts=percpu_array:4:8:1:0x80");
        assert_eq!(MapSpec::parse_cli(&m.to_string()).unwrap().0, m);
        let (old, note) = MapSpec::parse_cli("m:array:4:8:1").unwrap();
        assert_eq!(old, MapSpec::array(8, 1).named("m"));
        assert!(note.unwrap().contains("--map m=array:4:8:1"));
        assert!(MapSpec::parse_cli("array:4:8")
            .unwrap_err()
            .contains("3 fields"));
        assert!(MapSpec::parse_cli("array:4:8:4294967296")
            .unwrap_err()
            .contains("max entries"));
        assert!(MapSpec::parse_cli("nope:4:8:1")
            .unwrap_err()
            .contains("unknown MapType"));
        assert!(MapSpec::parse_cli("a b=array:4:8:1")
            .unwrap_err()
            .contains("map name"));
    }
}
