//! The checker: the entry points, the environment one verification runs in, and the
//! failure type every check returns. The work is split by concern like the kernel's newer
//! layout (`log.c`, `states.c`, `cfg.c`, `liveness.c` next to `verifier.c`):
//!
//! - [`prepass`]: passes before exploration (ldimm64 resolution, subprograms, CFG, liveness);
//! - [`explore`]: the `do_check` walk and pruning;
//! - [`states`]: state equivalence (`regsafe`, `stacksafe`, `check_ids`);
//! - [`insn`]: one instruction's effect, by class;
//! - [`verdict`]: the verifier log's trailer and the verdicts built from it;
//! - [`opcode`]: how the checks read an opcode, through `asm::isa`'s [`asm::isa::Form`].
//!
//! [`Env`] keeps the three kinds of data apart: [`Prog`] (what the pre-passes learn about the
//! program, read-only afterwards), the exploration state (checkpoints, counters, ids, stack
//! depths) and [`Trace`] (the log and where the checker is, for the verdict).

mod explore;
mod insn;
mod opcode;
mod prepass;
mod states;
mod verdict;

use self::verdict::Path;
use crate::state::{Reg, State, Ty};
use crate::{
    Accepted, MapSpec, Options, RejectKind, Rejection, COMPLEXITY_LIMIT, E2BIG, EACCES, EINVAL,
    ENOTSUPP,
};
use asm::types::ProgType;
use asm::Insn;
use std::collections::HashMap;

const MAX_BPF_STACK: i64 = 512;

const MAX_VAR_OFF: i64 = 1 << 29;

const MAX_CALL_FRAMES: usize = 8;

const MAX_PACKET_OFF: u64 = 0xffff;

const JMP_SEQ_LIMIT: usize = 8192;

/// Marks a scalar id whose register holds "linked value + off" (`BPF_ADD_CONST`).
const ADD_CONST: u32 = 1 << 31;

/// A failure while checking: the log lines that end with the kernel's message.
#[derive(Debug)]
struct Fail {
    lines: Vec<String>,
    errno: i32,
    kind: RejectKind,
}

type R<T> = Result<T, Fail>;

fn fail<T>(errno: i32, msg: impl Into<String>) -> R<T> {
    Err(Fail {
        lines: vec![msg.into()],
        errno,
        kind: RejectKind::Kernel,
    })
}

fn fail2<T>(errno: i32, first: String, last: String) -> R<T> {
    Err(Fail {
        lines: vec![first, last],
        errno,
        kind: RejectKind::Kernel,
    })
}

fn unsupported<T>(msg: impl Into<String>) -> R<T> {
    Err(Fail {
        lines: vec![msg.into()],
        errno: ENOTSUPP,
        kind: RejectKind::Unsupported,
    })
}

/// Verifies instructions by way of their binary form, so checks see exactly the slots the
/// kernel would.
pub fn verify_insns(insns: &[Insn], opts: &Options) -> Result<Accepted, Rejection> {
    let mut pc = 0;
    for i in insns {
        for (reg, _) in [(i.dst, "dst"), (i.src, "src")] {
            if reg > 15 {
                return Err(simple_reject(
                    format!("R{reg} is invalid"),
                    EINVAL,
                    pc,
                    opts,
                ));
            }
        }
        if !opcode::is_lddw(i) && i32::try_from(i.imm).is_err() {
            return Err(simple_reject(
                format!("immediate {} of insn {pc} does not fit in 32 bits", i.imm),
                EINVAL,
                pc,
                opts,
            ));
        }
        pc += i.slots();
    }
    verify_bytes(&asm::encode(insns), opts)
}

fn simple_reject(message: String, errno: i32, insn: usize, opts: &Options) -> Rejection {
    Rejection {
        log: if opts.log_level > 0 {
            format!("{message}\n")
        } else {
            String::new()
        },
        message,
        errno,
        insn,
        path: Vec::new(),
        processed: None,
        kind: RejectKind::Kernel,
    }
}

/// Verifies a program in its binary form.
pub fn verify_bytes(bytes: &[u8], opts: &Options) -> Result<Accepted, Rejection> {
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        // bpf_prog_load refuses these before the verifier runs.
        return Err(simple_reject(
            format!(
                "program length {} is not a positive multiple of 8 bytes",
                bytes.len()
            ),
            EINVAL,
            0,
            opts,
        ));
    }
    // Slot by slot and unchecked, as the kernel holds them: every field is judged later, in
    // the kernel's order (`resolve_pseudo_ldimm64`, `check_cfg`, `do_check`).
    let slots: Vec<Insn> = bytes.chunks(8).map(Insn::from_slot).collect();
    if slots.len() > COMPLEXITY_LIMIT as usize {
        return Err(simple_reject(
            format!("program of {} insns is too long", slots.len()),
            E2BIG,
            0,
            opts,
        ));
    }
    let mut env = Env::new(slots, opts);
    match env.run() {
        Ok(()) => Ok(env.accepted()),
        Err(f) => Err(env.rejection(f)),
    }
}

/// A function of the program: `[start, end)` in slots.
#[derive(Clone, Debug)]
struct Sub {
    start: usize,
    end: usize,
}

/// What is known about the program before exploration starts: written by the pre-passes
/// only (the kernel's `env->prog`, `env->subprog_info` and the static parts of
/// `insn_aux_data`), read by everything after.
struct Prog<'a> {
    opts: &'a Options,
    /// The maps given, then each map-in-map's inner template (`inner_of` indexes these).
    maps: Vec<MapSpec>,
    inner_of: Vec<Option<u32>>,
    /// The program in 8-byte slots (`lddw` is two).
    insns: Vec<Insn>,
    subs: Vec<Sub>,
    /// The function each slot belongs to.
    sub_of: Vec<usize>,
    /// Registers live before each slot (bit per register).
    live: Vec<u16>,
    /// Prune points: where `is_state_visited` may store or compare checkpoints.
    prune: Vec<bool>,
    /// Calls of helpers that call back synchronously (`mark_calls_callback`): a checkpoint
    /// is always stored there (`mark_force_checkpoint`), and a repeated state ends the
    /// callback's iteration.
    calls_callback: Vec<bool>,
}

struct Ckpt {
    st: State,
    branches: u32,
    parent: Option<usize>,
    hits: u32,
    misses: u32,
}

struct Work {
    st: State,
    pc: usize,
    parent: Option<usize>,
    path: Path,
}

/// One verification: the program's facts, the exploration state and the log.
struct Env<'a> {
    prog: Prog<'a>,
    /// Deepest stack use seen per function (`subprog_info[].stack_depth`).
    stack_depth: Vec<u32>,
    /// The pointer type each load/store saw first (`insn_aux_data[].ptr_type`).
    ptr_types: HashMap<usize, (Ty, bool)>,
    /// Check the next access with strict alignment (the atomic's load half).
    strict_once: bool,
    /// Stored checkpoints (`explored_states`), indexed by `visited`.
    ckpts: Vec<Ckpt>,
    /// The checkpoints stored at each instruction.
    visited: HashMap<usize, Vec<usize>>,
    /// Instructions processed (`insn_processed`).
    processed: u64,
    /// Jumps processed (`jmps_processed`).
    jmps: u64,
    /// `prev_jmps_processed` / `prev_insn_processed`: the counters when the last
    /// checkpoint was stored, for `is_state_visited`'s when-to-store heuristic.
    prev_jmps: u64,
    prev_insns: u64,
    /// The last id handed out (`id_gen`).
    id_gen: u32,
    /// A callback visit the helper call being checked queued (`push_callback_call`).
    pending_callback: Option<insn::callback::PendingCallback>,
    /// Functions some path passed to `bpf_timer_set_callback` (`is_async_cb`): their stack
    /// does not add to the caller's unless they are also called directly.
    async_subs: std::collections::BTreeSet<usize>,
    /// Log and position, for the verdict.
    trace: Trace,
}

/// What the verdict reports besides the message: the log so far and where the checker is
/// (the instruction and branch path a rejection names).
struct Trace {
    /// The verifier log at the requested level.
    log: String,
    /// The instruction being checked.
    pc: usize,
    /// Branch decisions from the entry to `pc`.
    path: Path,
    /// Whether exploration (`do_check`) has started: only then does the log end with
    /// `processed N insns`.
    started: bool,
}

/// What happens after one instruction.
enum Next {
    Go(usize),
    Exit,
}

fn st_lock(st: &State) -> bool {
    st.lock.is_some()
}

fn reg_width(r: &Reg) -> u32 {
    64 - r.s.umax.leading_zeros()
}

fn expect_type(regno: u8, reg: &Reg, ok: &[Ty], expected: &str) -> R<()> {
    if !reg.maybe_null && ok.contains(&reg.ty) {
        return Ok(());
    }
    fail(
        EACCES,
        format!("R{regno} type={} expected={expected}", reg.type_name()),
    )
}

impl<'a> Env<'a> {
    pub(crate) fn new(insns: Vec<Insn>, opts: &'a Options) -> Env<'a> {
        let n = insns.len();
        let mut maps = opts.maps.clone();
        let mut inner_of = Vec::new();
        for m in &opts.maps {
            inner_of.push(m.inner.as_ref().map(|i| {
                maps.push((**i).clone());
                (maps.len() - 1) as u32
            }));
        }
        Env {
            prog: Prog {
                opts,
                maps,
                inner_of,
                insns,
                subs: Vec::new(),
                sub_of: vec![0; n],
                live: vec![0xffff; n],
                prune: vec![false; n],
                calls_callback: vec![false; n],
            },
            stack_depth: Vec::new(),
            ptr_types: HashMap::new(),
            strict_once: false,
            ckpts: Vec::new(),
            visited: HashMap::new(),
            processed: 0,
            jmps: 0,
            prev_jmps: 0,
            prev_insns: 0,
            id_gen: 0,
            pending_callback: None,
            async_subs: Default::default(),
            trace: Trace {
                log: String::new(),
                pc: 0,
                path: None,
                started: false,
            },
        }
    }

    /// Whether the slot at `pc` starts an `lddw`.
    pub(crate) fn is_lddw(&self, pc: usize) -> bool {
        opcode::is_lddw(&self.prog.insns[pc])
    }

    pub(crate) fn lddw_imm(&self, pc: usize) -> i64 {
        let lo = self.prog.insns[pc].imm as u32 as i64;
        let hi = self.prog.insns.get(pc + 1).map(|i| i.imm).unwrap_or(0);
        lo | (hi << 32)
    }

    /// The passes in `bpf_check`'s order.
    pub(crate) fn run(&mut self) -> R<()> {
        if !self.prog.opts.privileged
            && !matches!(
                self.prog.opts.prog_type,
                ProgType::SocketFilter | ProgType::CgroupSkb
            )
        {
            // bpf_prog_load: only these two types load without CAP_BPF (no log message).
            return fail(
                crate::EPERM,
                format!(
                    "loading {} programs needs CAP_BPF",
                    self.prog.opts.prog_type
                ),
            );
        }
        self.resolve_ldimm64()?;
        self.check_subprogs()?;
        self.check_cfg()?;
        self.compute_liveness();
        self.trace.started = true;
        self.do_check()?;
        self.check_max_stack_depth()
    }

    /// The instruction at `pc` with an `lddw`'s full 64-bit immediate.
    pub(crate) fn insn_at(&self, pc: usize) -> Insn {
        let mut i = self.prog.insns[pc];
        if self.is_lddw(pc) {
            i.imm = self.lddw_imm(pc);
        }
        i
    }

    /// Register `r` of the current frame.
    pub(crate) fn reg(&self, st: &State, r: u8) -> Reg {
        st.cur().regs[r as usize]
    }

    /// `check_reg_arg(SRC_OP)`: the register exists and was written.
    pub(crate) fn check_reg_read(&self, st: &State, r: u8) -> R<Reg> {
        if r > 10 {
            return fail(EINVAL, format!("R{r} is invalid"));
        }
        let reg = st.cur().regs[r as usize];
        if reg.ty == Ty::NotInit {
            return fail(EACCES, format!("R{r} !read_ok"));
        }
        Ok(reg)
    }

    /// `check_reg_arg(DST_OP)`: the register exists and is not r10.
    pub(crate) fn check_reg_write(&self, r: u8) -> R<()> {
        if r > 10 {
            return fail(EINVAL, format!("R{r} is invalid"));
        }
        if r == 10 {
            return fail(EACCES, "frame pointer is read only");
        }
        Ok(())
    }

    /// Writes register `r` of the current frame.
    pub(crate) fn set(&self, st: &mut State, r: u8, v: Reg) {
        st.cur_mut().regs[r as usize] = v;
    }
}
