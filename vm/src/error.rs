//! Errors: loading ([`LoadError`]) and running ([`VmError`]) are typed data; the CLI renders them.

use crate::mem::Region;

/// Why a program could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The program type has no context in the VM (see [`crate::SUPPORTED_PROG_TYPES`]).
    #[error("the VM cannot run {0} programs (it runs {list} programs, and plain ones)", list = crate::SUPPORTED_PROG_TYPES.map(|t| t.name()).join(", "))]
    UnsupportedProgType(asm::types::ProgType),
    /// The bytes are not valid instructions.
    #[error(transparent)]
    Decode(#[from] asm::DecodeError),
    /// An instruction (given as [`asm::Insn`]) is not valid.
    #[error("instruction {pc}: {kind}")]
    Insn {
        /// Slot index.
        pc: usize,
        /// What is wrong.
        kind: asm::insn::DecodeErrorKind,
    },
    /// More instructions than the kernel accepts.
    #[error("the program has {insns} instructions; the limit is {limit}")]
    TooLarge {
        /// Its length.
        insns: usize,
        /// The limit.
        limit: usize,
    },
    /// The program has no instructions.
    #[error("the program is empty")]
    Empty,
    /// A jump or call lands outside the program or inside an `lddw`.
    #[error("instruction {pc}: {what} target {target} is {why}")]
    BadTarget {
        /// Slot index of the jump.
        pc: usize,
        /// `jump`, `call` or `function address`.
        what: &'static str,
        /// The target slot (may be negative).
        target: i64,
        /// `outside the program (N slots)` or `the second slot of an lddw`.
        why: String,
    },
    /// A subprogram's last instruction could fall through into the next one or off the end
    /// (the kernel's "last insn is not an exit or jmp").
    #[error("instruction {pc}: last instruction of a subprogram is not an exit or jump")]
    NoExit {
        /// Slot index of that instruction.
        pc: usize,
    },
    /// `lddw` names a map the VM does not have.
    #[error("instruction {pc}: lddw refers to map {handle}, but the VM has no such map (maps are numbered 0, 1, ... in creation order)")]
    UnknownMap {
        /// Slot index.
        pc: usize,
        /// The fd or index.
        handle: i64,
        /// `fd` or `index`.
        how: &'static str,
    },
    /// `lddw` names a map of a type the VM does not implement (an object's map, created
    /// as an inert placeholder so that the object's other programs still load).
    #[error("instruction {pc}: the program uses map `{map}` of type {map_type}, which the VM does not implement")]
    UnsupportedMap {
        /// Slot index.
        pc: usize,
        /// The map's name.
        map: String,
        /// Its type.
        map_type: asm::types::MapType,
    },
    /// `lddw` names an object's map that the kernel would refuse to create (kept as an
    /// inert placeholder so that the object's other programs still load).
    #[error("instruction {pc}: the program uses map `{map}`, which cannot be created: {reason}")]
    MapNotCreated {
        /// Slot index.
        pc: usize,
        /// The map's name.
        map: String,
        /// The creation error.
        reason: crate::MapError,
    },
    /// `lddw map_value` on a map that has no direct value address, or offset out of range.
    #[error("instruction {pc}: {reason}")]
    BadMapValue {
        /// Slot index.
        pc: usize,
        /// Why.
        reason: String,
    },
    /// The instruction is valid BPF but needs something the VM does not model.
    #[error("instruction {pc}: `{name}` is not supported by the VM: {why}")]
    Unsupported {
        /// Slot index.
        pc: usize,
        /// The instruction's name.
        name: &'static str,
        /// What is missing.
        why: &'static str,
    },
}

/// A faulting memory access.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} of {size} bytes at {addr:#x}: {why}", if *.write { "write" } else { "read" })]
pub struct MemFault {
    /// The VM address.
    pub addr: u64,
    /// Bytes accessed.
    pub size: usize,
    /// Store (true) or load.
    pub write: bool,
    /// The region the address is in, if any.
    pub region: Option<Region>,
    /// Human explanation (`out of bounds of stack frame 0 (512 bytes)`, `null pointer` ...).
    pub why: String,
}

/// What went wrong during a run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// A bad load or store.
    #[error("{0}")]
    Memory(#[from] MemFault),
    /// The instruction budget ran out.
    #[error("instruction budget of {limit} executed instructions exhausted (infinite loop?)")]
    Budget {
        /// The budget.
        limit: u64,
    },
    /// Too many nested bpf-to-bpf calls.
    #[error("call depth limit of {limit} frames exceeded")]
    CallDepth {
        /// The limit (8, `MAX_CALL_FRAMES`).
        limit: usize,
    },
    /// A helper id with no implementation in this VM.
    #[error("unknown helper {id}{}", name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())]
    UnknownHelper {
        /// The id.
        id: u32,
        /// The kernel's name for it, if the id is known.
        name: Option<String>,
    },
    /// A helper failed in a way the kernel's verifier would have prevented.
    #[error("helper {id} ({name}): {message}")]
    Helper {
        /// The id.
        id: u32,
        /// Its name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// `callx` through a value that is not a function address.
    #[error("callx to {target:#x}, which is not a function address or helper id")]
    BadCallx {
        /// The register value.
        target: u64,
    },
    /// Execution ran past the last instruction.
    #[error("execution fell off the end of the program")]
    FellOffEnd,
    /// Execution reached an invalid encoding, which the kernel loads only where its verifier
    /// never goes (see [`asm::insn::decode_lenient`]).
    #[error("reached an invalid instruction: {kind}")]
    InvalidInsn {
        /// What the strict decoder says about it.
        kind: asm::insn::DecodeErrorKind,
    },
}

/// A run-time error: what and at which instruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("instruction {pc}: {kind}")]
pub struct VmError {
    /// Slot index of the faulting instruction (in the program running when it happened).
    pub pc: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// An error from a helper function (built-in or user-registered).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    /// A memory access by the helper failed.
    #[error(transparent)]
    Memory(#[from] MemFault),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
    /// Not a failure: end the whole program now with this r0 (uBPF's "unwind" helpers).
    #[error("the helper ended the program with r0 = {0:#x}")]
    Exit(u64),
}
