//! A userspace eBPF interpreter with the Linux kernel's semantics: the instruction set of
//! `asm`'s table, checked memory regions, maps, helpers and program contexts — for running
//! BPF programs in tests without root.
//!
//! ```
//! use vm::Vm;
//!
//! use asm::isa::AluOp;
//! use asm::Insn;
//!
//! // r0 = 7; r0 /= 0 (kernel: a division by zero register gives 0); r0 += 5; exit
//! let prog = asm::encode(&[
//!     Insn::mov64_imm(0, 7),
//!     Insn::mov64_imm(1, 0),
//!     Insn::alu64_reg(AluOp::Div, 0, 1),
//!     Insn::alu64_imm(AluOp::Add, 0, 5),
//!     Insn::exit(),
//! ]);
//! let mut vm = Vm::new();
//! // No kernel context (`None`): r1 = user memory, r2 = its length.
//! let id = vm.load(&prog, None).unwrap();
//! let out = vm.run(id).unwrap();
//! assert_eq!(out.r0, 5);
//! assert_eq!(out.insns, 5);
//! ```
//!
//! # Program types, and "plain" programs
//!
//! The VM takes `asm`'s [`ProgType`] (the kernel's `enum bpf_prog_type`) as
//! `Option<ProgType>`: `Some(t)` runs with `t`'s context, for the types in
//! [`SUPPORTED_PROG_TYPES`]; `None` is a *plain* program, with no kernel context:
//! r1 points at user memory ([`Vm::set_mem`]) and r2 holds its length, the
//! bpf_conformance and uBPF convention. The CLI spells it `--type plain`
//! ([`parse_prog_type`]).
//!
//! | type | r1 | r0 |
//! |---|---|---|
//! | `None` (plain) | user memory, r2 = its length | — |
//! | `socket_filter` | `__sk_buff`; the packet is the whole frame, `skb->protocol` from it ([`skb_protocol`]) | bytes of the packet to keep |
//! | `sched_cls` | `__sk_buff` | a `TC_ACT_*` verdict |
//! | `xdp` | `xdp_md` | an `XDP_*` action |
//! | `kprobe` | `struct pt_regs` (x86-64 layout, 168 bytes) | |
//! | `tracepoint` | the raw tracepoint record | |
//! | `raw_tracepoint`, `tracing` | an array of u64 arguments | |
//! | `syscall` | arbitrary, writable context bytes | |
//! | the others of [`SUPPORTED_PROG_TYPES`] | their uapi structure (`bpf_sock_ops`, `bpf_sockopt` ...) from the test's bytes | see [`ProgType::r0_meaning`] |
//!
//! Every context's fields, offsets and access rules come from `asm::types::ctx`, the table
//! the verifier reads too: loads and stores the kernel would refuse fault (naming the
//! field), pointer fields point into the packet (or a flow dissector's keys, which follow
//! `__sk_buff` in the context region), and fields that may be NULL sockets are NULL.
//!
//! # Semantics (Linux 6.18)
//!
//! * Division by a zero register gives 0; modulo by zero leaves dst (the 32-bit forms
//!   truncate dst to 32 bits, as the verifier's rewrite in `do_misc_fixups` does).
//!   `sdiv` of `INT_MIN` by -1 gives `INT_MIN`, `smod` gives 0.
//! * Register shift counts are masked (`& 31`, `& 63`); 32-bit operations zero-extend.
//! * `may_goto` has a budget of `BPF_MAX_LOOPS` (8M) per call frame, set at function entry;
//!   once it is spent the jump is taken.
//! * `ld_abs`/`ld_ind` read the packet big-endian with a 32-bit signed offset; a read outside
//!   the packet ends the program with r0 = 0 (`bpf_skb_load_helper_*`). For
//!   plain programs they read the user memory.
//! * Calls: at most 8 frames (`MAX_CALL_FRAMES`), 512 bytes of stack each; r6–r9 and r10 are
//!   restored on return. Tail calls: at most 33 (`MAX_TAIL_CALL_CNT`); a failed tail call
//!   continues after the call with r0 unchanged.
//! * Load-acquire and store-release are plain loads and stores (one thread).
//!
//! # Where RFC 9669 and the kernel differ (the VM follows the kernel)
//!
//! * RFC 9669 §4.1 leaves the result of division by zero to the runtime; Linux defines it as
//!   above.
//! * RFC 9669 §5.4 (legacy packet access) leaves failure handling open; Linux ends the program
//!   with r0 = 0.
//! * `may_goto`, `load_acquire`/`store_release` and the `lddw` pseudo sources 3–6 are Linux
//!   extensions that the RFC does not define.
//! * `callx` is not defined for programs by Linux (the verifier rejects it); the VM follows
//!   the conformance suite: a function address (`lddw` with `src = 4`) is called as a
//!   subprogram, a small number as a helper id.
//!
//! # Loading
//!
//! Programs are decoded once, as the kernel reads them (`asm::insn::decode_lenient`: an
//! invalid encoding the kernel's verifier would only reject where it goes, such as one in
//! dead code, becomes a trap op that faults if reached), into 16-byte ops: one tag per operation,
//! width and operand source; jump targets as op indexes; `lddw` folded, its map or
//! function reference resolved (`map_fd N` and `map_idx N` both name the N-th map created,
//! the convention the verifier and the kernel backend share). Like the kernel's `check_subprogs`, loading refuses a subprogram whose
//! last instruction is not `exit` or a jump, and jumps from one subprogram into another;
//! programs may have at most [`MAX_INSNS`] instructions. Plain runs then fuse a few pairs
//! that compilers emit all the time (`rX = rY; rX += K`, `ldxh` + `be16`, `rX += K; if rX < K
//! goto`) into one dispatch; traced runs execute one op per instruction, and both count
//! instructions the same way.
//!
//! # Maps and helpers
//!
//! [`Vm::create_map`] makes the map types of [`SUPPORTED_MAP_TYPES`] — array, hash, per-CPU
//! and LRU variants, program array, ring buffer, queue, stack, LPM trie, bloom filter, perf
//! event array, devmap, devmap_hash, cpumap, xskmap, sockmap, sockhash, array and hash of
//! maps, cgroup storage (shared and per-CPU), sk/task/inode/cgrp storage, stack trace and
//! user ring buffer (records a test submits with [`Map::user_ringbuf_push`]) —
//! with the kernel's creation checks, update flags, errnos and `get_next_key` order
//! (`tests/map_kernel.rs` compares them with the running kernel). Their contents are
//! readable and writable through [`Vm::map`] / [`Vm::map_mut`] between runs; what the kernel
//! takes as an fd (a program, an inner map, a device, a socket, a perf event) is what the
//! test declares ([`Vm::set_inner_map`], [`Map::redirect_target`], and the `maps` module
//! notes). Programs see the kernel verifier's map rules at run time: which helpers take
//! which map types, `BPF_F_RDONLY_PROG`/`BPF_F_WRONLY_PROG`. Helpers are a table by id
//! ([`Vm::register_helper`] adds or replaces one); the built-ins cover map access (a map of
//! maps' lookup answers the inner map), `trace_printk` (captured as trace_pipe lines), the
//! clock, random numbers, task ids, `probe_read_*` from test-provided memory images, ring
//! buffers, `perf_event_output` ([`Map::perf_records`]), `get_stackid` (the call chains of
//! [`Env`]), `get_local_storage` and the `*_storage_get/delete` helpers, `skb_load_bytes`,
//! queue/bloom push/pop/peek and `tail_call`; for tc and XDP programs the packet,
//! checksum, redirect, skb metadata, tunnel key, `fib_lookup` and socket lookup helpers of
//! net/core/filter.c, against the network a test declares ([`NetEnv`]); redirects are
//! recorded ([`Machine::redirect`]). Helpers that call back into the
//! program (`bpf_loop`, `bpf_for_each_map_elem`, `bpf_find_vma`: the callback runs as a new
//! frame, sharing the run's budget and call depth limit); BPF timers on the VM clock, whose
//! callbacks run when the test calls [`Vm::advance_clock`]; spin locks; `strtol`,
//! `strtoul`, `strncmp`, `snprintf`, `trace_vprintk`; dynptrs; the task, cgroup, stack and
//! clock helpers that read [`Env`]; `sys_bpf` on the VM's maps. A helper the VM lacks is a
//! run error naming it. [`register_ubpf_test_helpers`] installs the helpers
//! uBPF's test suite expects instead.
//!
//! Each run starts from the packet [`Vm::set_packet`] gave, laid out as the kernel's test
//! run does: XDP data after 256 bytes of headroom in a 4096-byte frame, so helpers can move
//! `data`, `data_meta` and `data_end`; [`Vm::packet`] is the packet from `data_meta` on.
//!
//! # What the VM checks that the verifier would have
//!
//! Every load and store is bounds-checked against its region ([`Region`]); bounds of map
//! values are checked per map (not per element). Out-of-range constant shifts and division
//! by a zero immediate, which the verifier rejects, run with the register semantics. A
//! budget of executed instructions (default [`DEFAULT_BUDGET`]) ends runaway programs.

#![deny(missing_docs)]

pub mod classic;
mod ctx;
mod error;
mod helpers;
mod interp;
mod machine;
mod maps;
mod mem;
mod printk;
mod program;
pub mod testing;

pub use ctx::net::{
    Interface, IpSummed, Neighbour, NetEnv, Redirect, RedirectKind, Route, RouteType, Socket,
    TunnelKey,
};
pub use ctx::{parse_prog_type, prog_type_name, skb_protocol, ProgType, SkbFields};
pub use error::{ErrorKind, HelperError, LoadError, MemFault, VmError};
pub use helpers::timer::{TimerRun, MAX_TIMER_RUNS};
pub use helpers::{helper_implemented, register_ubpf_test_helpers, HelperFn};
pub use interp::{MAX_TAIL_CALLS, MAY_GOTO_BUDGET};
pub use machine::{Env, Machine, TraceLine, Vma, DEFAULT_CURRENT_TASK};
pub use maps::{
    flags as map_flags, Map, MapError, MapSpec, MapType, PerfRecord, RedirectTarget,
    UserRecordState, BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, MAX_MAP_BYTES,
    SUPPORTED_MAP_TYPES,
};
pub use mem::{Region, MAX_FRAMES, STACK_SIZE};
pub use program::Program;

use asm::Insn;
use helpers::Helper;
use mem::R_MEM;

/// The kernel program types the VM has a context for (what r1 points at); every other
/// type is a [`LoadError::UnsupportedProgType`].
pub const SUPPORTED_PROG_TYPES: [ProgType; 28] = [
    ProgType::SocketFilter,
    ProgType::SchedCls,
    ProgType::SchedAct,
    ProgType::Xdp,
    ProgType::Kprobe,
    ProgType::Tracepoint,
    ProgType::RawTracepoint,
    ProgType::RawTracepointWritable,
    ProgType::Tracing,
    ProgType::PerfEvent,
    ProgType::Syscall,
    ProgType::CgroupSkb,
    ProgType::LwtIn,
    ProgType::LwtOut,
    ProgType::LwtXmit,
    ProgType::LwtSeg6local,
    ProgType::SkSkb,
    ProgType::FlowDissector,
    ProgType::CgroupSock,
    ProgType::CgroupSockAddr,
    ProgType::SockOps,
    ProgType::SkMsg,
    ProgType::SkReuseport,
    ProgType::SkLookup,
    ProgType::CgroupDevice,
    ProgType::CgroupSysctl,
    ProgType::CgroupSockopt,
    ProgType::Netfilter,
];

/// The most instructions a program may have (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const MAX_INSNS: usize = 1_000_000;

/// Default instruction budget per run.
pub const DEFAULT_BUDGET: u64 = 1_000_000;

/// A program's id in a [`Vm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProgId(pub u32);

/// What a run produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The return value.
    pub r0: u64,
    /// Instructions executed (an `lddw` counts once).
    pub insns: u64,
}

/// One executed instruction, for `--trace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The program it belongs to (changes with tail calls).
    pub prog: u32,
    /// Its slot index.
    pub pc: usize,
    /// The instruction.
    pub insn: Insn,
    /// Registers it changed, with their new values.
    pub changed: Vec<(u8, u64)>,
}

/// The virtual machine: programs, maps, helpers, memory and environment.
pub struct Vm {
    programs: Vec<Program>,
    helpers: Vec<Option<Helper>>,
    machine: Machine,
    budget: u64,
    last_regs: [u64; 16],
    ctx_input: Vec<u8>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("programs", &self.programs.len())
            .field("maps", &self.machine.maps.len())
            .field("budget", &self.budget)
            .finish()
    }
}

impl Default for Vm {
    fn default() -> Vm {
        Vm::new()
    }
}

struct MapsView<'a>(&'a [Map]);

impl program::MapLookup for MapsView<'_> {
    // bpfx programs name maps by index with either pseudo source (`map_fd N` is the N-th
    // map), as the verifier and the kernel backend do; only the kernel backend turns the
    // index into a real fd.
    fn by_fd(&self, fd: i64) -> Option<(u32, &Map)> {
        self.by_index(fd)
    }
    fn by_index(&self, idx: i64) -> Option<(u32, &Map)> {
        let i = usize::try_from(idx).ok()?;
        self.0.get(i).map(|m| (i as u32, m))
    }
}

impl Vm {
    /// A VM with the built-in helpers, no maps and no programs.
    pub fn new() -> Vm {
        let mut vm = Vm {
            programs: Vec::new(),
            helpers: Vec::new(),
            machine: Machine::new(),
            budget: DEFAULT_BUDGET,
            last_regs: [0; 16],
            ctx_input: Vec::new(),
        };
        for (id, f) in helpers::builtins() {
            let name = helpers::builtin_name(id);
            vm.set_helper(id, name, helpers::HelperImpl::Plain(f));
        }
        for (id, f) in helpers::interp_builtins() {
            let name = helpers::builtin_name(id);
            vm.set_helper(id, name, helpers::HelperImpl::Interp(f));
        }
        vm
    }

    fn set_helper(&mut self, id: u32, name: String, f: helpers::HelperImpl) {
        let i = id as usize;
        if self.helpers.len() <= i {
            self.helpers.resize_with(i + 1, || None);
        }
        self.helpers[i] = Some(Helper { name, f });
    }

    /// Registers (or replaces) helper `id`. The closure sees the machine (memory, maps,
    /// environment) and r1–r5, and returns r0; an `Err` ends the run.
    pub fn register_helper<F>(&mut self, id: u32, name: &str, f: F)
    where
        F: FnMut(&mut Machine, [u64; 5]) -> Result<u64, HelperError> + 'static,
    {
        self.set_helper(
            id,
            name.to_string(),
            helpers::HelperImpl::Plain(Box::new(f)),
        );
    }

    /// Sets the instruction budget per run.
    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// Creates a map; returns its index (0, 1, ...), which `lddw map_fd N` / `map_idx N`
    /// instructions use.
    /// Per-CPU maps get [`Env::ncpus`] copies: set it first.
    pub fn create_map(&mut self, spec: MapSpec) -> Result<u32, MapError> {
        let map = Map::new(spec, self.machine.env.ncpus as usize)?;
        self.machine.maps.push(map);
        Ok(self.machine.maps.len() as u32 - 1)
    }

    /// A map by index.
    pub fn map(&self, index: u32) -> Option<&Map> {
        self.machine.maps.get(index as usize)
    }

    /// A map by index, to fill or change it between runs.
    pub fn map_mut(&mut self, index: u32) -> Option<&mut Map> {
        self.machine.maps.get_mut(index as usize)
    }

    /// Loads a program from its binary form. `prog_type` is a [`ProgType`] (or
    /// `Some(t)`) for a program with `t`'s context, one of [`SUPPORTED_PROG_TYPES`], or
    /// `None` for a plain program (r1 = user memory, r2 = its length).
    pub fn load(
        &mut self,
        bytes: &[u8],
        prog_type: impl Into<Option<ProgType>>,
    ) -> Result<ProgId, LoadError> {
        // The kernel's reading, not the strict one: see `asm::insn::decode_lenient`.
        let decoded = asm::insn::decode_lenient(bytes)?;
        self.add(&decoded, prog_type.into())
    }

    /// Loads a program from instructions (checked as the decoder checks bytes); see
    /// [`Vm::load`] for `prog_type`.
    pub fn load_insns(
        &mut self,
        insns: &[Insn],
        prog_type: impl Into<Option<ProgType>>,
    ) -> Result<ProgId, LoadError> {
        let prog_type = prog_type.into();
        let mut decoded = Vec::with_capacity(insns.len());
        let mut pc = 0;
        for insn in insns {
            let item = match insn.check() {
                Ok(def) => asm::insn::Lenient::Valid(asm::insn::Decoded {
                    pc,
                    insn: *insn,
                    def,
                }),
                // Fields wider than their encoding cannot come from bytecode.
                Err(kind) if insn.dst >= 16 || insn.src >= 16 => {
                    return Err(LoadError::Insn { pc, kind })
                }
                Err(kind) if insn.slots() == 1 && i32::try_from(insn.imm).is_err() => {
                    return Err(LoadError::Insn { pc, kind })
                }
                // Otherwise as the kernel reads its bytes (one instruction, one item).
                Err(_) => match asm::insn::decode_lenient(&insn.encode())
                    .map_err(|e| LoadError::Insn { pc, kind: e.kind })?
                    .remove(0)
                {
                    asm::insn::Lenient::Valid(d) => {
                        asm::insn::Lenient::Valid(asm::insn::Decoded { pc, ..d })
                    }
                    asm::insn::Lenient::Invalid {
                        insn, slots, kind, ..
                    } => asm::insn::Lenient::Invalid {
                        pc,
                        insn,
                        slots,
                        kind,
                    },
                },
            };
            pc += item.slots();
            decoded.push(item);
        }
        self.add(&decoded, prog_type)
    }

    /// Creates a map of a loaded object ([`obj::Map`]): its spec, then, for global data,
    /// its initial value. Create an object's maps in order, before its programs: their
    /// `lddw` map references are indexes into [`obj::Object::maps`].
    /// A `perf_event_array` without `max_entries` gets [`Env::ncpus`] entries, as libbpf's
    /// `map_set_def_max_entries` gives it the number of possible CPUs. A map of a type the
    /// VM does not implement, or one the kernel would refuse to create, is an inert
    /// placeholder ([`Map::inert`]) unless it was declared for the program
    /// ([`obj::MapSource::Declared`]): loading an object never fails because of a map its
    /// program does not use.
    pub fn create_object_map(&mut self, map: &obj::Map) -> Result<u32, MapError> {
        let ncpus = self.machine.env.ncpus;
        let index = if map.source == obj::MapSource::Declared {
            self.create_map(map.spec_for(ncpus))?
        } else {
            let mut spec = map.spec_for(ncpus);
            adjust_ringbuf_size(&mut spec);
            let m = Map::inert(spec, ncpus as usize);
            self.machine.maps.push(m);
            self.machine.maps.len() as u32 - 1
        };
        if let Some(data) = &map.data {
            let m = &mut self.machine.maps[index as usize];
            if !m.is_inert() {
                m.update(&0u32.to_le_bytes(), data, BPF_ANY)?;
            }
        }
        Ok(index)
    }

    /// Puts map `inner` into the map of maps `outer` at `key` (`BPF_MAP_UPDATE_ELEM` with
    /// the inner map's fd): the kernel's checks against the outer map's template
    /// ([`MapSpec::inner`]) and update flags. A program's `bpf_map_lookup_elem` on `outer`
    /// then answers `inner`.
    pub fn set_inner_map(
        &mut self,
        outer: u32,
        key: &[u8],
        inner: u32,
        flags: u64,
    ) -> Result<(), MapError> {
        let maps = &mut self.machine.maps;
        let inner_spec = maps
            .get(inner as usize)
            .filter(|m| !m.is_inert())
            .map(|m| m.spec().clone())
            .ok_or_else(|| MapError::BadFd(format!("no map {inner}")))?;
        let outer = maps
            .get_mut(outer as usize)
            .ok_or_else(|| MapError::BadFd(format!("no map {outer}")))?;
        outer.set_inner(key, inner, &inner_spec, flags)
    }

    /// Fills the maps of maps of an object, created in order ([`Vm::create_object_map`]),
    /// from their `.values` initialisers ([`obj::Map::slots`], which name other maps), as
    /// libbpf does after creating the maps. An outer map whose initialiser names no map, or
    /// a map that does not fit the template, becomes a placeholder that refuses the programs
    /// using it ([`LoadError::MapNotCreated`], naming the slot and the inner map): the
    /// object's other programs still load.
    pub fn fill_inner_maps(&mut self, maps: &[obj::Map]) {
        for (outer, m) in maps.iter().enumerate() {
            if !matches!(m.spec.map_type, MapType::ArrayOfMaps | MapType::HashOfMaps)
                || self.machine.maps.get(outer).map_or(true, Map::is_inert)
            {
                continue;
            }
            for (index, name) in &m.slots {
                let mut key = vec![0u8; m.spec.key_size as usize];
                let n = key.len().min(4);
                key[..n].copy_from_slice(&index.to_le_bytes()[..n]);
                let set = match maps.iter().position(|x| &x.spec.name == name) {
                    Some(inner) => self.set_inner_map(outer as u32, &key, inner as u32, BPF_ANY),
                    None => Err(MapError::BadFd(format!("no map named `{name}`"))),
                };
                if let Err(e) = set {
                    let why = MapError::Invalid(format!("slot {index} = `{name}`: {e}"));
                    self.machine.maps[outer] = Map::refused(m.spec.clone(), why);
                    break;
                }
            }
        }
    }

    /// Loads a program of a loaded object ([`obj::Program`]) into a VM that holds the
    /// object's maps, created in order ([`Vm::create_object_map`]), as type `prog_type`
    /// (its section's, [`obj::Program::type_or`]), which must be one of
    /// [`SUPPORTED_PROG_TYPES`].
    pub fn load_program(
        &mut self,
        prog: &obj::Program,
        prog_type: ProgType,
    ) -> Result<ProgId, LoadError> {
        // The object numbers maps by index, as the VM does.
        let insns: Vec<Insn> = prog
            .insns
            .iter()
            .copied()
            .map(obj::map_ref_by_index)
            .collect();
        self.load_insns(&insns, Some(prog_type))
    }

    /// A VM with a loaded object's maps and one of its programs: the way to run one
    /// program of an object. Program arrays' initial slots ([`obj::Map::slots`]) need the
    /// other programs; [`testing::Test`] loads a whole object and fills them.
    pub fn from_program(
        prog: &obj::Program,
        prog_type: ProgType,
        maps: &[obj::Map],
        env: Env,
    ) -> Result<(Vm, ProgId), RunError> {
        let mut vm = Vm::new();
        vm.machine.env = env;
        for m in maps {
            vm.create_object_map(m).map_err(|source| RunError::Map {
                map: m.spec.name.clone(),
                source,
            })?;
        }
        vm.fill_inner_maps(maps);
        let id = vm.load_program(prog, prog_type)?;
        Ok((vm, id))
    }

    fn add(
        &mut self,
        decoded: &[asm::insn::Lenient],
        prog_type: Option<ProgType>,
    ) -> Result<ProgId, LoadError> {
        if let Some(t) = prog_type.filter(|t| !SUPPORTED_PROG_TYPES.contains(t)) {
            return Err(LoadError::UnsupportedProgType(t));
        }
        if decoded.len() > MAX_INSNS {
            return Err(LoadError::TooLarge {
                insns: decoded.len(),
                limit: MAX_INSNS,
            });
        }
        let p = program::compile(decoded, prog_type, &MapsView(&self.machine.maps))?;
        self.programs.push(p);
        Ok(ProgId(self.programs.len() as u32 - 1))
    }

    /// A loaded program.
    pub fn program(&self, id: ProgId) -> Option<&Program> {
        self.programs.get(id.0 as usize)
    }

    /// The environment (clock, task, CPU, seed, memory images).
    pub fn env(&self) -> &Env {
        &self.machine.env
    }

    /// The environment, to change between runs.
    pub fn env_mut(&mut self) -> &mut Env {
        &mut self.machine.env
    }

    /// Sets the user memory (r1/r2 for plain programs).
    pub fn set_mem(&mut self, mem: Vec<u8>) {
        self.machine.mem = mem;
    }

    /// The user memory (after a run: as the program left it).
    pub fn mem(&self) -> &[u8] {
        &self.machine.mem
    }

    /// Sets the packet for socket filters, tc and XDP programs.
    pub fn set_packet(&mut self, packet: Vec<u8>) {
        self.machine.set_packet(packet);
    }

    /// The packet (after a run: as the program left it).
    pub fn packet(&self) -> &[u8] {
        self.machine.packet()
    }

    /// Sets the raw context bytes for kprobe (`pt_regs`), tracepoint, raw tracepoint and
    /// syscall programs. Socket filter, tc and XDP contexts are built from the packet and
    /// [`Env::skb`].
    pub fn set_ctx(&mut self, ctx: Vec<u8>) {
        self.ctx_input = ctx;
    }

    /// The context of the last run, as the program left it.
    pub fn ctx(&self) -> &[u8] {
        &self.machine.ctx
    }

    /// `bpf_trace_printk` output of all runs so far.
    pub fn trace_lines(&self) -> &[TraceLine] {
        &self.machine.trace
    }

    /// Takes the `bpf_trace_printk` output.
    pub fn take_trace_lines(&mut self) -> Vec<TraceLine> {
        std::mem::take(&mut self.machine.trace)
    }

    /// The machine (what helpers see).
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.machine
    }

    /// Registers at the end of the last run (or at its fault).
    pub fn last_regs(&self) -> [u64; 11] {
        let mut r = [0; 11];
        r.copy_from_slice(&self.last_regs[..11]);
        r
    }

    fn prepare(&mut self, id: ProgId) -> Result<[u64; 16], VmError> {
        let prog_type = self
            .programs
            .get(id.0 as usize)
            .map(|p| p.prog_type)
            .ok_or(VmError {
                pc: 0,
                kind: ErrorKind::FellOffEnd,
            })?;
        let m = &mut self.machine;
        m.prog_type = prog_type;
        m.layout = ctx::layout(prog_type);
        m.rng = m.env.seed | 1;
        m.start_packet(prog_type);
        // Clear the frames the last run used (the kernel does not, but the verifier would
        // refuse reads of uninitialised stack; zeroes make runs reproducible).
        let used = (m.stack_dirty - mem::R_STACK0 + 1) as usize * STACK_SIZE;
        m.stack[..used].fill(0);
        m.stack_dirty = mem::R_STACK0;
        let mut r = [0u64; 16];
        let ctx_addr = Region::Ctx.addr(0);
        match prog_type {
            None => {
                r[1] = if m.mem.is_empty() {
                    0
                } else {
                    mem::addr(R_MEM, 0)
                };
                r[2] = m.mem.len() as u64;
                m.ctx.clear();
            }
            Some(t) => {
                m.ctx = self.ctx_input.clone();
                if let Some(size) = ctx::fixed_size(t) {
                    m.ctx.resize(size.max(m.ctx.len()), 0);
                }
                ctx::fill(t, m);
                r[1] = ctx_addr;
            }
        }
        Ok(r)
    }

    /// Runs a program once.
    pub fn run(&mut self, id: ProgId) -> Result<Outcome, VmError> {
        let r = self.prepare(id)?;
        let out = self.exec::<false>(id.0, 0, r, &mut Vec::new());
        ctx::finish(self.machine.prog_type, &mut self.machine);
        out
    }

    /// Runs a program once, recording every executed instruction and the registers it
    /// changed.
    pub fn run_traced(&mut self, id: ProgId) -> (Result<Outcome, VmError>, Vec<Step>) {
        let mut steps = Vec::new();
        let res = self
            .prepare(id)
            .and_then(|r| self.exec::<true>(id.0, 0, r, &mut steps));
        ctx::finish(self.machine.prog_type, &mut self.machine);
        (res, steps)
    }
}

/// libbpf's `adjust_ringbuf_sz` for an object's ring buffers (and a map of maps' ring
/// buffer template): `max_entries` becomes the smallest power-of-2 multiple of the page size
/// that holds it (0, and sizes past 2^31, are left for the kernel to refuse).
fn adjust_ringbuf_size(spec: &mut MapSpec) {
    const PAGE_SIZE: u32 = 4096;
    if matches!(spec.map_type, MapType::Ringbuf | MapType::UserRingbuf) && spec.max_entries != 0 {
        let pages = spec.max_entries.div_ceil(PAGE_SIZE).next_power_of_two();
        spec.max_entries = pages.checked_mul(PAGE_SIZE).unwrap_or(0);
    }
    if let Some(inner) = spec.inner.as_deref_mut() {
        adjust_ringbuf_size(inner);
    }
}

/// Runs a plain program (bytes) over user memory, the bpf_conformance way: r1 = memory,
/// r2 = its length. Returns r0.
pub fn run_plain(prog: &[u8], mem: &[u8]) -> Result<u64, RunError> {
    let mut vm = Vm::new();
    let id = vm.load(prog, None)?;
    vm.set_mem(mem.to_vec());
    Ok(vm.run(id)?.r0)
}

/// Loading or running failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The program could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The run faulted.
    #[error(transparent)]
    Run(#[from] VmError),
    /// A map could not be created.
    #[error("map `{map}`: {source}")]
    Map {
        /// The map's name.
        map: String,
        /// Why.
        source: MapError,
    },
}
