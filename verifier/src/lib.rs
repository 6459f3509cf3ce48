//! A static checker that answers as the Linux 6.18 BPF verifier does: accept, or reject with
//! the kernel's message, errno, the instruction and the path of branch decisions that led
//! there.
//!
//! The checker explores every path of the program with abstract register and stack states
//! (scalars as known bits plus signed/unsigned 64/32-bit ranges; typed pointers to the
//! context, stack, map values, packets ...), prunes paths whose state is covered by one
//! already proven safe, and stops at the first violation, like `do_check` in
//! `kernel/bpf/verifier.c`.
//!
//! ```
//! use asm::text::{assemble, Dialect};
//! use asm::types::ProgType;
//! use verifier::{verify, Options};
//!
//! // r2 was never written
//! let prog = assemble("r0 = r2\nexit\n", Dialect::Llvm).unwrap();
//! let err = verify(&prog.insns, &Options::new(ProgType::SocketFilter)).unwrap_err();
//! assert_eq!(err.message, "R2 !read_ok");
//! assert_eq!((err.insn, err.errno), (0, verifier::EACCES));
//!
//! let ok = assemble("r0 = 0\nexit\n", Dialect::Llvm).unwrap();
//! let stats = verify(&ok.insns, &Options::new(ProgType::SocketFilter)).unwrap();
//! assert_eq!(stats.processed, 2);
//! ```
//!
//! Maps are passed in [`Options::maps`]; a program refers to map `i` with
//! `lddw rX, i` and `src = 1` (`BPF_PSEUDO_MAP_FD`, the "fd" is the index) or `src = 5`
//! (`BPF_PSEUDO_MAP_IDX`), and to a map value with `src = 2`/`6` (index in the low 32 bits
//! of the immediate, offset in the high 32 bits).
#![deny(missing_docs)]

mod check;
mod ctx;
pub mod helpers;
mod log;
pub mod scalar;
mod state;
pub mod tnum;

use asm::types::ProgType;
use serde::Serialize;

pub use check::verify_insns;

/// `EPERM`
pub const EPERM: i32 = 1;
/// `EBADF`
pub const EBADF: i32 = 9;
/// `EACCES`
pub const EACCES: i32 = 13;
/// `EFAULT`
pub const EFAULT: i32 = 14;
/// `EINVAL`
pub const EINVAL: i32 = 22;
/// `E2BIG`
pub const E2BIG: i32 = 7;
/// `ENOSPC`
pub const ENOSPC: i32 = 28;
/// `ENOTSUPP` (the kernel-internal 524)
pub const ENOTSUPP: i32 = 524;

/// The kernel's limit on processed instructions (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const COMPLEXITY_LIMIT: u64 = 1_000_000;

pub use asm::types::{MapSpec, ValueFields, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG};

/// What is being verified and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Program type.
    pub prog_type: ProgType,
    /// `expected_attach_type` (the kernel's `enum bpf_attach_type` number), if any.
    pub expected_attach_type: Option<u32>,
    /// Maps, referred to by index from `lddw` (see the crate docs).
    pub maps: Vec<MapSpec>,
    /// Privileged (CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN, the default) or not.
    pub privileged: bool,
    /// 0: no log; 1: the path to an error; 2: every instruction with its state.
    pub log_level: u32,
    /// `BPF_F_STRICT_ALIGNMENT`: check packet and map value alignment too.
    pub strict_alignment: bool,
    /// `BPF_F_ANY_ALIGNMENT`: do not check alignment (the stack is still checked).
    pub any_alignment: bool,
    /// `BPF_F_TEST_STATE_FREQ`: a checkpoint at every instruction.
    pub test_state_freq: bool,
    /// The program's licence (an object's `license` section); "GPL" by default. A licence
    /// that is not GPL-compatible may not call `gpl_only` helpers.
    pub license: String,
    /// `BPF_F_SLEEPABLE` (a `.s` section): helpers that might sleep are allowed.
    pub sleepable: bool,
    /// Whether the program comes with BTF `func_info` (as clang-built objects do). The
    /// kernel refuses a function pointer (`lddw` with `BPF_PSEUDO_FUNC`, a callback)
    /// without it: "missing btf func_info".
    pub btf_func_info: bool,
    /// With `btf_func_info`: the first instruction of each function whose BTF linkage is
    /// global (callbacks must be static: "callback function not static").
    pub global_funcs: Vec<usize>,
}

impl Options {
    /// Privileged defaults for a program type, no maps, no log.
    pub fn new(prog_type: ProgType) -> Options {
        Options {
            prog_type,
            expected_attach_type: None,
            maps: Vec::new(),
            privileged: true,
            log_level: 0,
            strict_alignment: false,
            any_alignment: false,
            test_state_freq: false,
            license: "GPL".to_string(),
            sleepable: false,
            btf_func_info: false,
            global_funcs: Vec::new(),
        }
    }
}

/// One branch decision on the path to a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// The conditional jump's instruction index.
    pub insn: usize,
    /// Whether the jump was taken (`false`: fell through).
    pub taken: bool,
}

/// Why bpfx gave up without an answer the kernel would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RejectKind {
    /// The kernel rejects the program this way.
    Kernel,
    /// The program uses something bpfx does not model (BTF, kfuncs, a context type); the
    /// message says what. The kernel's answer is unknown.
    Unsupported,
}

/// A rejected program: the kernel's message and where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("insn {insn}: {message}")]
pub struct Rejection {
    /// The kernel's message text (the first error line of its log).
    pub message: String,
    /// The errno `bpf(BPF_PROG_LOAD)` returns.
    pub errno: i32,
    /// Instruction index (in 8-byte slots) of the offending instruction.
    pub insn: usize,
    /// Branch decisions from the entry to `insn`, in order.
    pub path: Vec<Branch>,
    /// Instructions processed before the rejection (`None` for checks before exploration).
    pub processed: Option<u64>,
    /// Whether this is the kernel's answer or bpfx declining.
    pub kind: RejectKind,
    /// The verifier log at the requested log level.
    pub log: String,
}

/// Per-function statistics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubprogStats {
    /// First instruction.
    pub start: usize,
    /// Deepest stack use in bytes (rounded up to 8 as the kernel does).
    pub stack_depth: u32,
}

/// An accepted program's statistics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// Instructions processed (the kernel's `processed N insns`).
    pub processed: u64,
    /// Checkpoints stored for pruning.
    pub total_states: u64,
    /// Largest stack depth over all functions.
    pub max_stack_depth: u32,
    /// Each function.
    pub subprogs: Vec<SubprogStats>,
    /// The verifier log at the requested log level.
    pub log: String,
}

/// Verifies a program given as instructions (`lddw` as one [`asm::Insn`]).
pub fn verify(insns: &[asm::Insn], opts: &Options) -> Result<Accepted, Rejection> {
    check::verify_insns(insns, opts)
}

/// Verifies a program given as bytes; decoding errors become the kernel's messages
/// ("unknown opcode %02x", "invalid bpf_ld_imm64 insn", "BPF_ALU uses reserved fields" ...).
pub fn verify_bytes(bytes: &[u8], opts: &Options) -> Result<Accepted, Rejection> {
    check::verify_bytes(bytes, opts)
}
