//! Program and map types, with the kernel's numbers (`enum bpf_prog_type`,
//! `enum bpf_map_type` in `include/uapi/linux/bpf.h`) and the names people use for them.
//! The VM, the verifier and the kernel backend all take their types from here.

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
                let norm = norm.strip_prefix("bpf_prog_type_").or_else(|| norm.strip_prefix("bpf_map_type_")).unwrap_or(&norm);
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

    /// The program type libbpf gives a section name (`xdp`, `kprobe/do_sys_open`,
    /// `tracepoint/syscalls/sys_enter_execve` ...), and the attach point after the `/`.
    pub fn from_section(section: &str) -> Option<(ProgType, Option<&str>)> {
        let (head, rest) = match section.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (section, None),
        };
        let t = match head {
            "socket" => ProgType::SocketFilter,
            "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "ksyscall" | "kretsyscall"
            | "usdt" => ProgType::Kprobe,
            "tc" | "classifier" | "tcx" | "tc_ingress" | "tc_egress" => ProgType::SchedCls,
            "action" => ProgType::SchedAct,
            "tracepoint" | "tp" => ProgType::Tracepoint,
            "raw_tracepoint" | "raw_tp" => ProgType::RawTracepoint,
            "raw_tracepoint.w" | "raw_tp.w" => ProgType::RawTracepointWritable,
            "xdp" | "xdp.frags" => ProgType::Xdp,
            "perf_event" => ProgType::PerfEvent,
            "cgroup_skb" => ProgType::CgroupSkb,
            "cgroup" => ProgType::CgroupSock,
            "sockops" => ProgType::SockOps,
            "sk_skb" => ProgType::SkSkb,
            "sk_msg" => ProgType::SkMsg,
            "flow_dissector" => ProgType::FlowDissector,
            "sk_lookup" => ProgType::SkLookup,
            "syscall" => ProgType::Syscall,
            "fentry" | "fexit" | "fmod_ret" | "iter" | "tp_btf" => ProgType::Tracing,
            "lsm" => ProgType::Lsm,
            "struct_ops" => ProgType::StructOps,
            "netfilter" => ProgType::Netfilter,
            _ => return None,
        };
        Some((t, rest))
    }
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
