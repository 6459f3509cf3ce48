//! The VM's state outside the registers: memory regions, maps, the environment the test
//! controls, and captured output. Helpers (built-in and user-registered) work on it.

use crate::ctx::{Layout, Refused, FLOW_KEYS_AT};
use crate::error::{HelperError, MemFault};
use crate::maps::Map;
use crate::mem::{
    self, fault, get, put, Region, MAX_FRAMES, R_CTX, R_HELPER_DATA, R_MAP, R_MAPVAL0, R_MEM,
    R_PACKET, R_SOCK, R_STACK0, STACK_SIZE,
};
use crate::ProgType;
use asm::types::ctx::{Field, Kind};

/// What the test controls: the clock, the current task, the CPU, the random seed, and
/// memory images for `probe_read_*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// `bpf_ktime_get_ns` returns this.
    pub ktime_ns: u64,
    /// Added to `ktime_ns` after each clock read (0: the clock stands still).
    pub ktime_step_ns: u64,
    /// `bpf_ktime_get_boot_ns` is `ktime_ns` plus this (time spent suspended).
    pub boot_offset_ns: u64,
    /// Simulated CPUs (per-CPU maps have this many copies).
    pub ncpus: u32,
    /// The CPU the program runs on (`bpf_get_smp_processor_id`).
    pub cpu: u32,
    /// Thread id (low half of `bpf_get_current_pid_tgid`).
    pub pid: u32,
    /// Process id (high half).
    pub tgid: u32,
    /// `bpf_get_current_uid_gid` low half.
    pub uid: u32,
    /// High half.
    pub gid: u32,
    /// `bpf_get_current_comm` (at most 15 bytes are used, NUL-terminated).
    pub comm: String,
    /// Seed of `bpf_get_prandom_u32`.
    pub seed: u64,
    /// Kernel memory for `bpf_probe_read_kernel`: (address, bytes) pieces.
    pub kernel_memory: Vec<(u64, Vec<u8>)>,
    /// User memory for `bpf_probe_read_user`: (address, bytes) pieces.
    pub user_memory: Vec<(u64, Vec<u8>)>,
    /// `__sk_buff` fields for socket filters and tc programs.
    pub skb: crate::SkbFields,
    /// `xdp_md.ingress_ifindex`.
    pub xdp_ingress_ifindex: u32,
    /// `xdp_md.rx_queue_index`.
    pub xdp_rx_queue_index: u32,
    /// The network around packet programs: checksum state, hashes, interfaces, tunnel.
    pub net: crate::ctx::net::NetEnv,
    /// `bpf_get_current_task(_btf)`: the address of the current `task_struct` in
    /// [`Env::kernel_memory`] (where `probe_read_kernel` finds its fields).
    pub current_task: u64,
    /// `bpf_get_numa_node_id`.
    pub numa_node: u32,
    /// The current task's cgroup ids from the root (level 0) down to its own cgroup:
    /// `bpf_get_current_cgroup_id` is the last, `bpf_get_current_ancestor_cgroup_id(l)` the
    /// one at level `l` (0 past the end).
    pub cgroup_path: Vec<u64>,
    /// `bpf_get_func_ip`: the address of the traced function.
    pub func_ip: u64,
    /// `bpf_get_attach_cookie`: the cookie given at attach time.
    pub attach_cookie: u64,
    /// `bpf_ktime_get_tai_ns` is `ktime_ns` plus this (TAI minus the monotonic clock).
    pub tai_offset_ns: u64,
    /// `CONFIG_HZ`: the tick of `bpf_jiffies64` and `bpf_ktime_get_coarse_ns`.
    pub hz: u32,
    /// `bpf_get_stack`/`bpf_get_stackid`: the kernel call chain, innermost address first
    /// (empty: `-EFAULT`, no callchain).
    pub kernel_stack: Vec<u64>,
    /// The same with `BPF_F_USER_STACK`: the user call chain, innermost first.
    pub user_stack: Vec<u64>,
    /// The current task's memory mappings, for `bpf_find_vma`.
    pub vmas: Vec<Vma>,
}

/// One mapping of the task's address space (`struct vm_area_struct`), for `bpf_find_vma`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vma {
    /// `vm_start`: the first address.
    pub start: u64,
    /// `vm_end`: the first address past the mapping.
    pub end: u64,
    /// The bytes of the `struct vm_area_struct` the callback reads (fields at this kernel's
    /// offsets). Empty: 16 bytes, `vm_start` and `vm_end`, the struct's first two fields.
    pub image: Vec<u8>,
}

impl Vma {
    /// What the callback of `bpf_find_vma` sees.
    pub(crate) fn image(&self) -> Vec<u8> {
        if self.image.is_empty() {
            [self.start.to_le_bytes(), self.end.to_le_bytes()].concat()
        } else {
            self.image.clone()
        }
    }
}

/// Where [`Env::current_task`] points unless the test says otherwise: an address in the
/// kernel's direct map, so a program that reads the task without a memory image gets
/// `-EFAULT` from `probe_read_kernel`, as for unmapped memory.
pub const DEFAULT_CURRENT_TASK: u64 = 0xffff_8880_0400_0000;

impl Default for Env {
    fn default() -> Env {
        Env {
            ktime_ns: 1_000_000_000,
            ktime_step_ns: 0,
            boot_offset_ns: 0,
            ncpus: 1,
            cpu: 0,
            pid: 1000,
            tgid: 1000,
            uid: 0,
            gid: 0,
            comm: "bpfx".into(),
            seed: 0x5eed,
            kernel_memory: Vec::new(),
            user_memory: Vec::new(),
            skb: crate::SkbFields::default(),
            xdp_ingress_ifindex: 1,
            xdp_rx_queue_index: 0,
            net: crate::ctx::net::NetEnv::default(),
            current_task: DEFAULT_CURRENT_TASK,
            numa_node: 0,
            // The cgroup v2 root has id 1.
            cgroup_path: vec![1],
            func_ip: 0,
            attach_cookie: 0,
            tai_offset_ns: 0,
            hz: 250,
            kernel_stack: Vec::new(),
            user_stack: Vec::new(),
            vmas: Vec::new(),
        }
    }
}

/// One `bpf_trace_printk` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// The formatted message (without a trailing newline).
    pub message: String,
    /// The line as `/sys/kernel/tracing/trace_pipe` shows it.
    pub line: String,
}

/// Memory, maps and environment; what helpers see.
#[derive(Debug)]
pub struct Machine {
    pub(crate) stack: Vec<u8>,
    pub(crate) ctx: Vec<u8>,
    pub(crate) layout: Layout,
    /// The packet buffer: headroom, metadata, then the data up to its end.
    pub(crate) packet: Vec<u8>,
    /// The packet as the test set it; each run starts from it, as each test_run does.
    pub(crate) packet_in: Vec<u8>,
    /// Offset of `data_meta` in `packet` (the metadata runs up to `pkt_data`).
    pub(crate) pkt_meta: usize,
    /// Offset of `data` in `packet` (`data_end` is the buffer's end).
    pub(crate) pkt_data: usize,
    /// skb state helpers change and the context does not show.
    pub(crate) skb_state: crate::helpers::SkbState,
    /// The redirect the program set up last (`bpf_redirect*`).
    pub(crate) redirect: Option<crate::ctx::net::Redirect>,
    /// Copies sent by `bpf_clone_redirect`, in order.
    pub(crate) clones: Vec<crate::ctx::net::Redirect>,
    /// `struct bpf_sock`s the socket lookups of this run returned (read-only region).
    pub(crate) sockets: Vec<u8>,
    pub(crate) mem: Vec<u8>,
    pub(crate) maps: Vec<Map>,
    /// The environment the test controls.
    pub env: Env,
    pub(crate) trace: Vec<TraceLine>,
    pub(crate) rng: u64,
    pub(crate) prog_type: Option<ProgType>,
    /// Region id of the deepest live stack frame: deeper frames are not mapped.
    pub(crate) stack_live: u32,
    /// Deepest stack region used since the stack was last cleared.
    pub(crate) stack_dirty: u32,
    /// The program whose code runs (function addresses are its slots).
    pub(crate) running_prog: u32,
    /// The `bpf_spin_lock` held, by address.
    pub(crate) held_lock: Option<u64>,
    /// Initialised BPF timers.
    pub(crate) timers: Vec<crate::helpers::timer::Timer>,
    /// The timer whose callback runs (`bpf_timer_cancel` of it is `-EDEADLK`).
    pub(crate) running_timer: Option<u64>,
    /// Read-only data helpers pass to callbacks, innermost call last.
    pub(crate) helper_data: Vec<u8>,
}

impl Machine {
    pub(crate) fn new() -> Machine {
        Machine {
            stack: vec![0; STACK_SIZE * MAX_FRAMES],
            ctx: Vec::new(),
            layout: crate::ctx::layout(None),
            packet: Vec::new(),
            packet_in: Vec::new(),
            pkt_meta: 0,
            pkt_data: 0,
            skb_state: crate::helpers::SkbState::default(),
            redirect: None,
            clones: Vec::new(),
            sockets: Vec::new(),
            mem: Vec::new(),
            maps: Vec::new(),
            env: Env::default(),
            trace: Vec::new(),
            rng: 0,
            prog_type: None,
            stack_live: R_STACK0,
            stack_dirty: R_STACK0,
            running_prog: 0,
            held_lock: None,
            timers: Vec::new(),
            running_timer: None,
            helper_data: Vec::new(),
        }
    }

    /// The maps, by index (fd − 3).
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// A map by the handle a program passes to helpers (`lddw map_fd`).
    pub fn map_by_handle(&mut self, handle: u64) -> Option<(usize, &mut Map)> {
        if handle >> 32 != R_MAP as u64 {
            return None;
        }
        let i = handle as u32 as usize;
        self.maps.get_mut(i).map(|m| (i, m))
    }

    /// Lines written by `bpf_trace_printk` so far.
    pub fn trace_lines(&self) -> &[TraceLine] {
        &self.trace
    }

    /// Appends a trace_pipe line with `message`.
    pub fn trace(&mut self, message: String) {
        let e = &self.env;
        let t = e.ktime_ns;
        let comm = if e.comm.is_empty() { "<idle>" } else { &e.comm };
        let line = format!(
            "{:>16}-{:<7} [{:03}] d..31 {:>5}.{:06}: bpf_trace_printk: {}",
            comm,
            e.pid,
            e.cpu,
            t / 1_000_000_000,
            (t / 1000) % 1_000_000,
            message
        );
        self.trace.push(TraceLine { message, line });
    }

    fn region(&self, id: u32) -> Option<&[u8]> {
        match id {
            R_MEM => Some(&self.mem),
            R_STACK0..=8 if id <= self.stack_live => {
                let base = (id - R_STACK0) as usize * STACK_SIZE;
                self.stack.get(base..base + STACK_SIZE)
            }
            R_PACKET => Some(&self.packet),
            R_CTX => Some(&self.ctx),
            R_SOCK => Some(&self.sockets),
            R_HELPER_DATA => Some(&self.helper_data),
            n if n >= R_MAPVAL0 => self
                .maps
                .get((n - R_MAPVAL0) as usize)
                .map(|m| &m.values[..]),
            _ => None,
        }
    }

    fn region_mut(&mut self, id: u32) -> Option<&mut [u8]> {
        match id {
            R_MEM => Some(&mut self.mem),
            R_STACK0..=8 if id <= self.stack_live => {
                let base = (id - R_STACK0) as usize * STACK_SIZE;
                self.stack.get_mut(base..base + STACK_SIZE)
            }
            R_PACKET => Some(&mut self.packet),
            R_CTX => Some(&mut self.ctx),
            n if n >= R_MAPVAL0 => self
                .maps
                .get_mut((n - R_MAPVAL0) as usize)
                .map(|m| &mut m.values[..]),
            _ => None,
        }
    }

    /// Loads `N` bytes (1, 2, 4, 8) little-endian.
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&self, addr: u64) -> Result<u64, MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        let buf: &[u8] = match id {
            R_MEM => &self.mem,
            R_STACK0..=8 if id <= self.stack_live => {
                let base = (id - R_STACK0) as usize * STACK_SIZE;
                &self.stack[base..base + STACK_SIZE]
            }
            R_PACKET if off >= self.pkt_meta => &self.packet,
            _ => return self.load_slow::<N>(addr),
        };
        match get::<N>(buf, off) {
            Some(v) => Ok(v),
            None => Err(self.bounds_fault(addr, N, false, buf.len())),
        }
    }

    #[cold]
    fn load_slow<const N: usize>(&self, addr: u64) -> Result<u64, MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        self.packet_guard(addr, N, false)?;
        if id == R_CTX && off < self.ctx.len() {
            match self.layout.field(off, N, false) {
                Ok(Some(f)) if f.kind.is_pointer() => {
                    return self.ctx_pointer(f).map_err(|why| MemFault {
                        addr,
                        size: N,
                        write: false,
                        region: Some(Region::Ctx),
                        why,
                    });
                }
                Ok(_) => {}
                Err(r) => return Err(self.ctx_refused(addr, N, false, r)),
            }
        }
        self.check_map_access(addr, N, false)?;
        let Some(buf) = self.region(id) else {
            return Err(fault(addr, N, false, None));
        };
        get::<N>(buf, off).ok_or_else(|| self.bounds_fault(addr, N, false, buf.len()))
    }

    /// `check_map_access_type`: programs do not read `BPF_F_WRONLY_PROG` maps or write
    /// `BPF_F_RDONLY_PROG` ones (the verifier refuses the program; the VM faults).
    fn check_map_access(&self, addr: u64, size: usize, write: bool) -> Result<(), MemFault> {
        let id = (addr >> 32) as u32;
        let Some(map) = id
            .checked_sub(R_MAPVAL0)
            .and_then(|i| self.maps.get(i as usize))
        else {
            return Ok(());
        };
        let (read_ok, write_ok) = map.prog_access();
        if (write && write_ok) || (!write && read_ok) {
            return Ok(());
        }
        Err(MemFault {
            addr,
            size,
            write,
            region: Region::of(addr),
            why: format!(
                "{} map forbidden, value_size={} off={} size={size} (map `{}` is {})",
                if write { "write into" } else { "read from" },
                map.spec().value_size,
                addr as u32,
                map.spec().name,
                if write {
                    "read-only for programs"
                } else {
                    "write-only for programs"
                },
            ),
        })
    }

    /// The value a load of a pointer field yields: where the kernel's rewritten load
    /// (`*_convert_ctx_access`) would point.
    pub(crate) fn ctx_pointer(&self, f: &Field) -> Result<u64, String> {
        Ok(match f.kind {
            Kind::Packet => mem::addr(R_PACKET, self.pkt_data as u64),
            Kind::PacketMeta => mem::addr(R_PACKET, self.pkt_meta as u64),
            Kind::PacketEnd => mem::addr(R_PACKET, self.packet.len() as u64),
            Kind::FlowKeys => mem::addr(R_CTX, FLOW_KEYS_AT as u64),
            // The VM has no sockets: a field that may be NULL is NULL.
            Kind::SocketOrNull | Kind::SockCommonOrNull => 0,
            Kind::Scalar | Kind::Socket | Kind::TpBuffer | Kind::Btf => {
                return Err(format!(
                    "context field `{}` points at a kernel object the VM does not have",
                    f.name
                ))
            }
        })
    }

    fn ctx_refused(&self, addr: u64, size: usize, write: bool, _: Refused) -> MemFault {
        let off = addr as u32;
        let field = self
            .layout
            .table
            .and_then(|t| {
                t.fields
                    .iter()
                    .find(|f| (f.off..f.off + f.len).contains(&off))
            })
            .map_or(String::new(), |f| format!(" (`{}`)", f.name));
        let why = format!(
            "{} context offset {off}{field} is not {} with size {size}",
            crate::prog_type_name(self.prog_type),
            if write { "writable" } else { "readable" }
        );
        MemFault {
            addr,
            size,
            write,
            region: Some(Region::Ctx),
            why,
        }
    }

    /// An access past the end of a region. Packet offsets are given from `data`, as the
    /// program sees them (the buffer also holds the headroom and metadata before it).
    #[cold]
    fn bounds_fault(&self, addr: u64, size: usize, write: bool, len: usize) -> MemFault {
        if (addr >> 32) as u32 != R_PACKET {
            return fault(addr, size, write, Some(len));
        }
        let off = addr as u32 as i64 - self.pkt_data as i64;
        MemFault {
            addr,
            size,
            write,
            region: Some(Region::Packet),
            why: format!(
                "offset {off} is out of bounds of packet ({} bytes)",
                self.packet_data().len()
            ),
        }
    }

    /// The headroom before `data_meta` is not the program's: the verifier only lets it
    /// reach `[data_meta, data_end)`.
    fn packet_guard(&self, addr: u64, size: usize, write: bool) -> Result<(), MemFault> {
        let off = addr as u32 as usize;
        if write && (addr >> 32) as u32 == R_SOCK {
            return Err(MemFault {
                addr,
                size,
                write,
                region: Some(Region::Socket),
                why: "a struct bpf_sock is read-only".into(),
            });
        }
        if (addr >> 32) as u32 == R_PACKET && off < self.pkt_meta {
            return Err(MemFault {
                addr,
                size,
                write,
                region: Some(Region::Packet),
                why: format!(
                    "offset {off} is in the headroom, before data_meta (offset {})",
                    self.pkt_meta
                ),
            });
        }
        Ok(())
    }

    /// The packet as the kernel's test_run returns it: from `data_meta` to `data_end`.
    pub fn packet(&self) -> &[u8] {
        &self.packet[self.pkt_meta..]
    }

    /// The packet data, from `data` to `data_end`.
    pub fn packet_data(&self) -> &[u8] {
        &self.packet[self.pkt_data..]
    }

    /// The redirect the program set up last, if any.
    pub fn redirect(&self) -> Option<&crate::ctx::net::Redirect> {
        self.redirect.as_ref()
    }

    /// The copies `bpf_clone_redirect` sent, in order.
    pub fn clones(&self) -> &[crate::ctx::net::Redirect] {
        &self.clones
    }

    /// Sets the packet runs start from.
    pub(crate) fn set_packet(&mut self, packet: Vec<u8>) {
        self.packet_in = packet.clone();
        self.packet = packet;
        self.pkt_meta = 0;
        self.pkt_data = 0;
    }

    /// Lays the packet out as the kernel's test_run does before a run: XDP frames get
    /// `XDP_PACKET_HEADROOM` (256) bytes of zeroed headroom before `data`, as in
    /// bpf_prog_test_run_xdp() (net/bpf/test_run.c); skbs start at the Ethernet header.
    /// Resets the skb state and the redirects.
    pub(crate) fn start_packet(&mut self, prog_type: Option<ProgType>) {
        let headroom = if prog_type == Some(ProgType::Xdp) {
            crate::helpers::XDP_PACKET_HEADROOM
        } else {
            0
        };
        let mut buf = vec![0u8; headroom];
        buf.extend_from_slice(&self.packet_in);
        self.packet = buf;
        self.pkt_meta = headroom;
        self.pkt_data = headroom;
        self.skb_state = crate::helpers::SkbState::from_env(&self.env.net, self.env.skb.hash);
        self.redirect = None;
        self.clones.clear();
        self.sockets.clear();
    }

    /// Stores the low `N` bytes of `v`.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, addr: u64, v: u64) -> Result<(), MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        let buf: &mut [u8] = match id {
            R_MEM => &mut self.mem,
            R_STACK0..=8 if id <= self.stack_live => {
                let base = (id - R_STACK0) as usize * STACK_SIZE;
                &mut self.stack[base..base + STACK_SIZE]
            }
            R_PACKET if off >= self.pkt_meta => &mut self.packet,
            _ => return self.store_slow::<N>(addr, v),
        };
        let len = buf.len();
        match put::<N>(buf, off, v) {
            Some(()) => Ok(()),
            None => Err(self.bounds_fault(addr, N, true, len)),
        }
    }

    #[cold]
    fn store_slow<const N: usize>(&mut self, addr: u64, v: u64) -> Result<(), MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        self.packet_guard(addr, N, true)?;
        if id == R_CTX && off < self.ctx.len() {
            if let Err(r) = self.layout.field(off, N, true) {
                return Err(self.ctx_refused(addr, N, true, r));
            }
        }
        self.check_map_access(addr, N, true)?;
        let Some(buf) = self.region_mut(id) else {
            return Err(fault(addr, N, true, None));
        };
        let len = buf.len();
        put::<N>(buf, off, v).ok_or_else(|| self.bounds_fault(addr, N, true, len))
    }

    /// Reads `len` bytes at a VM address.
    pub fn read(&self, addr: u64, len: usize) -> Result<&[u8], MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        self.packet_guard(addr, len, false)?;
        if id == R_CTX && len > 0 && (!self.layout.can_read(off, len)) {
            return Err(MemFault {
                addr,
                size: len,
                write: false,
                region: Some(Region::Ctx),
                why: "helpers cannot read context fields that hold pointers".into(),
            });
        }
        self.check_map_access(addr, len, false)?;
        let buf = self
            .region(id)
            .ok_or_else(|| fault(addr, len, false, None))?;
        buf.get(off..off.saturating_add(len))
            .ok_or_else(|| self.bounds_fault(addr, len, false, buf.len()))
    }

    /// Writes bytes at a VM address.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), MemFault> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        self.packet_guard(addr, bytes.len(), true)?;
        if id == R_CTX && !bytes.is_empty() && !self.layout.can_write(off, bytes.len()) {
            return Err(MemFault {
                addr,
                size: bytes.len(),
                write: true,
                region: Some(Region::Ctx),
                why: format!(
                    "{} context offset {off} is read-only",
                    crate::prog_type_name(self.prog_type)
                ),
            });
        }
        self.check_map_access(addr, bytes.len(), true)?;
        let len = self
            .region(id)
            .ok_or_else(|| fault(addr, bytes.len(), true, None))?
            .len();
        let end = off.saturating_add(bytes.len());
        if end > len {
            return Err(self.bounds_fault(addr, bytes.len(), true, len));
        }
        if let Some(buf) = self.region_mut(id) {
            buf[off..end].copy_from_slice(bytes);
        }
        Ok(())
    }

    /// Fills `len` bytes at a VM address with zeros (checked before anything is allocated).
    pub fn zero(&mut self, addr: u64, len: usize) -> Result<(), MemFault> {
        self.read(addr, len)?;
        self.write(addr, &vec![0; len])
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL); `None` when
    /// the address is bad.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Option<Vec<u8>> {
        let id = (addr >> 32) as u32;
        let off = addr as u32 as usize;
        let buf = self.region(id)?.get(off..)?;
        let buf = &buf[..buf.len().min(max)];
        Some(buf.iter().take_while(|&&b| b != 0).copied().collect())
    }

    /// Reads a map key or value for a helper: `len` bytes at `addr`.
    pub fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, HelperError> {
        Ok(self.read(addr, len)?.to_vec())
    }

    /// Next value of the seeded generator (xorshift64*; the kernel's is not reproducible
    /// anyway).
    pub fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// Appends read-only helper data (8-byte aligned); returns its address and the mark to
    /// pop back to.
    pub(crate) fn push_helper_data(&mut self, bytes: &[u8]) -> (u64, usize) {
        let mark = self.helper_data.len();
        let at = mark.next_multiple_of(8);
        self.helper_data.resize(at, 0);
        self.helper_data.extend_from_slice(bytes);
        (Region::HelperData.addr(at as u32), mark)
    }

    pub(crate) fn pop_helper_data(&mut self, mark: usize) {
        self.helper_data.truncate(mark);
    }

    /// Reads from a test-provided memory image (`probe_read_kernel/user`).
    pub(crate) fn read_image(image: &[(u64, Vec<u8>)], addr: u64, len: usize) -> Option<Vec<u8>> {
        image.iter().find_map(|(base, bytes)| {
            let off = addr.checked_sub(*base)? as usize;
            bytes.get(off..off.checked_add(len)?).map(|b| b.to_vec())
        })
    }
}
