//! The exploration: pre-passes (`resolve_pseudo_ldimm64`, `check_subprogs`, `check_cfg`)
//! and the path-by-path abstract interpretation of `do_check`, with state pruning.

use crate::ctx::{self, Field};
use crate::helpers::{self, Arg, Ret};
use crate::log;
use crate::scalar::{self, AluOp, Cmp, Scalar};
use crate::state::{Frame, RefState, Reg, Slot, StackSlot, State, Ty};
use crate::tnum::Tnum;
use crate::{
    Accepted, Branch, MapDef, Options, RejectKind, Rejection, SubprogStats, BPF_F_RDONLY_PROG,
    BPF_F_WRONLY_PROG, COMPLEXITY_LIMIT, E2BIG, EACCES, EBADF, EFAULT, EINVAL, ENOTSUPP,
};
use asm::types::{MapType, ProgType};
use asm::Insn;
use std::collections::HashMap;
use std::rc::Rc;

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

fn read_slot(b: &[u8]) -> Insn {
    Insn {
        code: b[0],
        dst: b[1] & 0x0f,
        src: b[1] >> 4,
        off: i16::from_le_bytes([b[2], b[3]]),
        imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]) as i64,
    }
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
        if i.code != 0x18 && i32::try_from(i.imm).is_err() {
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
    let slots: Vec<Insn> = bytes.chunks(8).map(read_slot).collect();
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

#[derive(Clone, Debug)]
struct Sub {
    start: usize,
    end: usize,
    stack_depth: u32,
}

struct PathNode {
    b: Branch,
    up: Option<Rc<PathNode>>,
}

impl Drop for PathNode {
    // Paths through long loops are deep lists: free them iteratively, not recursively.
    fn drop(&mut self) {
        let mut next = self.up.take();
        while let Some(n) = next {
            match Rc::try_unwrap(n) {
                Ok(mut node) => next = node.up.take(),
                Err(_) => break,
            }
        }
    }
}

type Path = Option<Rc<PathNode>>;

fn push_path(p: &Path, insn: usize, taken: bool) -> Path {
    Some(Rc::new(PathNode {
        b: Branch { insn, taken },
        up: p.clone(),
    }))
}

fn path_vec(p: &Path) -> Vec<Branch> {
    let mut v = Vec::new();
    let mut cur = p.clone();
    while let Some(n) = cur {
        v.push(n.b);
        cur = n.up.clone();
    }
    v.reverse();
    v
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

struct Env<'a> {
    opts: &'a Options,
    maps: Vec<MapDef>,
    inner_of: Vec<Option<u32>>,
    ptr_types: HashMap<usize, (Ty, bool)>,
    strict_once: bool,
    insns: Vec<Insn>,
    subs: Vec<Sub>,
    sub_of: Vec<usize>,
    live: Vec<u16>,
    prune: Vec<bool>,
    ckpts: Vec<Ckpt>,
    visited: HashMap<usize, Vec<usize>>,
    processed: u64,
    jmps: u64,
    prev_jmps: u64,
    prev_insns: u64,
    id_gen: u32,
    log: String,
    cur_pc: usize,
    cur_path: Path,
    started: bool,
}

/// What happens after one instruction.
enum Next {
    Go(usize),
    Exit,
}

impl<'a> Env<'a> {
    fn new(insns: Vec<Insn>, opts: &'a Options) -> Env<'a> {
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
            opts,
            maps,
            inner_of,
            ptr_types: HashMap::new(),
            strict_once: false,
            insns,
            subs: Vec::new(),
            sub_of: vec![0; n],
            live: vec![0xffff; n],
            prune: vec![false; n],
            ckpts: Vec::new(),
            visited: HashMap::new(),
            processed: 0,
            jmps: 0,
            prev_jmps: 0,
            prev_insns: 0,
            id_gen: 0,
            log: String::new(),
            cur_pc: 0,
            cur_path: None,
            started: false,
        }
    }

    fn accepted(&self) -> Accepted {
        let subprogs: Vec<SubprogStats> = self
            .subs
            .iter()
            .map(|s| SubprogStats {
                start: s.start,
                stack_depth: s.stack_depth.div_ceil(8) * 8,
            })
            .collect();
        let mut log = self.log.clone();
        if self.opts.log_level > 0 {
            log.push_str(&format!(
                "processed {} insns (limit {}) total_states {}\n",
                self.processed,
                COMPLEXITY_LIMIT,
                self.ckpts.len()
            ));
        }
        Accepted {
            processed: self.processed,
            total_states: self.ckpts.len() as u64,
            max_stack_depth: subprogs.iter().map(|s| s.stack_depth).max().unwrap_or(0),
            subprogs,
            log,
        }
    }

    fn rejection(&mut self, f: Fail) -> Rejection {
        let message = f.lines.last().cloned().unwrap_or_default();
        if self.opts.log_level > 0 {
            for l in &f.lines {
                self.log.push_str(l);
                self.log.push('\n');
            }
            if self.started {
                self.log.push_str(&format!(
                    "processed {} insns (limit {}) total_states {}\n",
                    self.processed,
                    COMPLEXITY_LIMIT,
                    self.ckpts.len()
                ));
            }
        }
        Rejection {
            message,
            errno: f.errno,
            insn: self.cur_pc,
            path: path_vec(&self.cur_path),
            processed: self.started.then_some(self.processed),
            kind: f.kind,
            log: std::mem::take(&mut self.log),
        }
    }

    fn is_lddw(&self, pc: usize) -> bool {
        self.insns[pc].code == 0x18
    }

    fn lddw_imm(&self, pc: usize) -> i64 {
        let lo = self.insns[pc].imm as u32 as i64;
        let hi = self.insns.get(pc + 1).map(|i| i.imm).unwrap_or(0);
        lo | (hi << 32)
    }

    fn run(&mut self) -> R<()> {
        if !self.opts.privileged
            && !matches!(
                self.opts.prog_type,
                ProgType::SocketFilter | ProgType::CgroupSkb
            )
        {
            // bpf_prog_load: only these two types load without CAP_BPF (no log message).
            return fail(
                crate::EPERM,
                format!("loading {} programs needs CAP_BPF", self.opts.prog_type),
            );
        }
        self.resolve_ldimm64()?;
        self.check_subprogs()?;
        self.check_cfg()?;
        self.compute_liveness();
        self.started = true;
        self.do_check()?;
        self.check_max_stack_depth()
    }

    // ---- pre-passes -------------------------------------------------------------------

    fn resolve_ldimm64(&mut self) -> R<()> {
        let n = self.insns.len();
        let mut i = 0;
        while i < n {
            self.cur_pc = i;
            let insn = self.insns[i];
            let class = insn.code & 7;
            let mode = insn.code & 0xe0;
            if class == 1 && ((mode != 0x60 && mode != 0x80) || insn.imm != 0) {
                return fail(EINVAL, "BPF_LDX uses reserved fields");
            }
            if insn.code == 0x18 {
                let next = self.insns.get(i + 1);
                let bad = match next {
                    None => true,
                    Some(h) => h.code != 0 || h.dst != 0 || h.src != 0 || h.off != 0,
                };
                if bad {
                    return fail(EINVAL, "invalid bpf_ld_imm64 insn");
                }
                let hi = next.map(|h| h.imm).unwrap_or(0);
                match insn.src {
                    0 | 4 => {}
                    3 => return unsupported("BPF_PSEUDO_BTF_ID needs kernel BTF"),
                    1 | 5 | 2 | 6 => {
                        if matches!(insn.src, 1 | 5) && hi != 0 {
                            return fail(EINVAL, "unrecognized bpf_ld_imm64 insn");
                        }
                        let fd = insn.imm as i32;
                        let Some(map) =
                            usize::try_from(fd).ok().and_then(|f| self.opts.maps.get(f))
                        else {
                            return fail(
                                EBADF,
                                format!("fd {fd} is not pointing to valid bpf_map"),
                            );
                        };
                        if matches!(insn.src, 2 | 6) {
                            let off = hi as u32;
                            if off as i64 >= MAX_VAR_OFF {
                                return fail(
                                    EINVAL,
                                    format!("direct value offset of {off} is not allowed"),
                                );
                            }
                            if !matches!(map.map_type, MapType::Array) {
                                return fail(
                                    EINVAL,
                                    "no direct value access support for this map type",
                                );
                            }
                            if off >= map.value_size {
                                return fail(
                                    EACCES,
                                    format!(
                                        "invalid access to map value pointer, value_size={} off={off}",
                                        map.value_size
                                    ),
                                );
                            }
                        }
                        self.check_map_prog_compat(map)?;
                    }
                    _ => return fail(EINVAL, "unrecognized bpf_ld_imm64 insn"),
                }
                i += 2;
                continue;
            }
            if asm::isa::table().iter().all(|d| d.code != insn.code) {
                return fail(EINVAL, format!("unknown opcode {:02x}", insn.code));
            }
            i += 1;
        }
        Ok(())
    }

    fn check_map_prog_compat(&self, map: &MapDef) -> R<()> {
        let pt = self.opts.prog_type;
        if map.spin_lock_off.is_some() {
            if pt == ProgType::SocketFilter {
                return fail(EINVAL, "socket filter progs cannot use bpf_spin_lock yet");
            }
            if helpers::is_tracing(pt) {
                return fail(EINVAL, "tracing progs cannot use bpf_spin_lock yet");
            }
        }
        if map.timer_off.is_some() && helpers::is_tracing(pt) {
            return fail(EINVAL, "tracing progs cannot use bpf_timer yet");
        }
        Ok(())
    }

    fn jump_target(&self, pc: usize) -> Option<i64> {
        let insn = self.insns[pc];
        let class = insn.code & 7;
        if class != 5 && class != 6 {
            return None;
        }
        let op = insn.code & 0xf0;
        if op == 0x80 || op == 0x90 {
            return None;
        }
        if insn.code == 0x06 {
            Some(pc as i64 + insn.imm + 1)
        } else {
            Some(pc as i64 + insn.off as i64 + 1)
        }
    }

    fn is_pseudo_call(&self, pc: usize) -> bool {
        let i = self.insns[pc];
        i.code == 0x85 && i.src == 1
    }

    fn check_subprogs(&mut self) -> R<()> {
        let n = self.insns.len();
        let mut starts = vec![0usize];
        let mut i = 0;
        while i < n {
            let insn = self.insns[i];
            let target = if self.is_pseudo_call(i) || (insn.code == 0x18 && insn.src == 4) {
                Some(i as i64 + insn.imm + 1)
            } else {
                None
            };
            if let Some(t) = target {
                if t < 0 || t >= n as i64 {
                    self.cur_pc = i;
                    return fail(EINVAL, format!("function offset {} is out of range", t));
                }
                starts.push(t as usize);
            }
            if insn.code == 0x85 && insn.src == 2 {
                self.cur_pc = i;
                return unsupported("kfunc calls need kernel BTF");
            }
            i += if insn.code == 0x18 { 2 } else { 1 };
        }
        starts.sort_unstable();
        starts.dedup();
        self.subs = starts
            .iter()
            .enumerate()
            .map(|(k, &s)| Sub {
                start: s,
                end: starts.get(k + 1).copied().unwrap_or(n),
                stack_depth: 0,
            })
            .collect();
        for (k, s) in self.subs.clone().iter().enumerate() {
            for pc in s.start..s.end {
                self.sub_of[pc] = k;
                self.cur_pc = pc;
                if let Some(t) = self.jump_target(pc) {
                    if t < s.start as i64 || t >= s.end as i64 {
                        return fail(EINVAL, format!("jump out of range from insn {pc} to {t}"));
                    }
                }
                if pc == s.end - 1 {
                    let c = self.insns[pc].code;
                    if c != 0x95 && c != 0x05 && c != 0x06 {
                        return fail(EINVAL, "last insn is not an exit or jmp");
                    }
                }
            }
        }
        Ok(())
    }

    fn successors(&self, pc: usize) -> Vec<usize> {
        let insn = self.insns[pc];
        let class = insn.code & 7;
        let size = if insn.code == 0x18 { 2 } else { 1 };
        if class == 5 || class == 6 {
            let op = insn.code & 0xf0;
            match op {
                0x90 => return vec![],
                0x80 => {
                    let mut v = vec![pc + 1];
                    if self.is_pseudo_call(pc) {
                        v.push((pc as i64 + insn.imm + 1) as usize);
                    }
                    return v;
                }
                0x00 => return vec![self.jump_target(pc).unwrap_or(0) as usize],
                _ => {
                    return vec![pc + 1, self.jump_target(pc).unwrap_or(0) as usize];
                }
            }
        }
        let mut v = vec![pc + size];
        if insn.code == 0x18 && insn.src == 4 {
            v.push((pc as i64 + insn.imm + 1) as usize);
        }
        v
    }

    fn check_cfg(&mut self) -> R<()> {
        let n = self.insns.len();
        // 0 unseen, 1 on the DFS stack, 2 done (`insn_state` DISCOVERED / EXPLORED).
        let mut state = vec![0u8; n];
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        state[0] = 1;
        while let Some(&mut (t, ref mut k)) = stack.last_mut() {
            let succ = self.successors(t);
            if *k >= succ.len() {
                state[t] = 2;
                stack.pop();
                continue;
            }
            let w = succ[*k];
            *k += 1;
            let insn = self.insns[t];
            let class = insn.code & 7;
            let is_branch = (class == 5 || class == 6)
                && (insn.code & 0xf0 != 0x80)
                && (w != t + 1 || insn.code & 0xf0 == 0);
            if (is_branch || (class == 5 && insn.code & 0xf0 == 0x80 && self.is_pseudo_call(t)))
                && w < n
            {
                self.prune[w] = true;
            }
            if (class == 5 || class == 6) && !matches!(insn.code & 0xf0, 0x00 | 0x80 | 0x90) {
                self.prune[t] = true;
            }
            if class == 5 && insn.code & 0xf0 == 0x80 && t + 1 < n {
                self.prune[t + 1] = true;
            }
            if w >= n {
                self.cur_pc = t;
                return fail(EINVAL, format!("jump out of range from insn {t} to {w}"));
            }
            match state[w] {
                0 => {
                    state[w] = 1;
                    stack.push((w, 0));
                }
                1 if !self.opts.privileged => {
                    self.cur_pc = t;
                    return fail(EINVAL, format!("back-edge from insn {t} to {w}"));
                }
                _ => {}
            }
        }
        let mut i = 0;
        while i < n {
            if state[i] != 2 {
                self.cur_pc = i;
                return fail(EINVAL, format!("unreachable insn {i}"));
            }
            if self.is_lddw(i) {
                if i + 1 < n && state[i + 1] != 0 {
                    self.cur_pc = i;
                    return fail(EINVAL, format!("jump into the middle of ldimm64 insn {i}"));
                }
                i += 1;
            }
            i += 1;
        }
        Ok(())
    }

    /// Registers live on entry to each instruction, within its function (a static
    /// approximation of the kernel's read marks, used to ignore dead registers when
    /// comparing states).
    fn compute_liveness(&mut self) {
        let n = self.insns.len();
        let mut uses = vec![0u16; n];
        let mut defs = vec![0u16; n];
        for pc in 0..n {
            let i = self.insns[pc];
            let (d, s) = (1u16 << (i.dst & 15), 1u16 << (i.src & 15));
            let class = i.code & 7;
            let x = i.code & 8 != 0;
            let op = i.code & 0xf0;
            let (u, df) = match class {
                4 | 7 => {
                    if op == 0xb0 {
                        (if x { s } else { 0 }, d)
                    } else {
                        (d | if x { s } else { 0 }, d)
                    }
                }
                0 if i.code == 0x18 => (0, d),
                0 => (1 << 6 | if i.code & 0xe0 == 0x40 { s } else { 0 }, 0x3f),
                1 => (s, d),
                2 => (d, 0),
                3 => {
                    if i.code & 0xe0 == 0xc0 {
                        (d | s | 1, s | 1)
                    } else {
                        (d | s, 0)
                    }
                }
                _ => match op {
                    0x00 => (0, 0),
                    0x80 => {
                        let nargs = if i.src == 0 {
                            helpers::proto(i.imm as u32)
                                .map(|p| p.args.len())
                                .unwrap_or(5)
                        } else {
                            5
                        };
                        (((1u16 << (nargs + 1)) - 2), 0x3f)
                    }
                    0x90 => (1, 0),
                    _ => (d | if x { s } else { 0 }, 0),
                },
            };
            uses[pc] = u | 1 << 10;
            defs[pc] = df;
        }
        let mut live = vec![0u16; n];
        let mut changed = true;
        while changed {
            changed = false;
            for pc in (0..n).rev() {
                let i = self.insns[pc];
                let mut out = 0u16;
                if i.code != 0x95 {
                    for s in self.successors(pc) {
                        if s < n && self.sub_of.get(s) == self.sub_of.get(pc) {
                            out |= live[s];
                        }
                    }
                }
                let inn = uses[pc] | (out & !defs[pc]);
                if inn != live[pc] {
                    live[pc] = inn;
                    changed = true;
                }
            }
        }
        self.live = live;
    }

    // ---- exploration ------------------------------------------------------------------

    fn initial_state(&self) -> State {
        let mut f = Frame::new(usize::MAX, 0, 0);
        f.regs[1] = Reg::ptr(Ty::Ctx);
        State {
            frames: vec![f],
            refs: Vec::new(),
            lock: None,
            may_goto_depth: 0,
        }
    }

    fn do_check(&mut self) -> R<()> {
        let mut stack: Vec<Work> = vec![Work {
            st: self.initial_state(),
            pc: 0,
            parent: None,
            path: None,
        }];
        let mut first_path = true;
        while let Some(mut w) = stack.pop() {
            let mut first = true;
            if self.opts.log_level >= 2 && !first_path {
                let from = w
                    .path
                    .as_ref()
                    .map(|p| p.b.insn.to_string())
                    .unwrap_or_default();
                let s = log::state(&w.st, &self.maps);
                self.log
                    .push_str(&format!("from {from} to {}: {s}\n", w.pc));
            }
            first_path = false;
            loop {
                self.cur_pc = w.pc;
                self.cur_path = w.path.clone();
                self.processed += 1;
                if self.processed > COMPLEXITY_LIMIT {
                    return fail(
                        E2BIG,
                        format!(
                            "BPF program is too large. Processed {} insn",
                            self.processed
                        ),
                    );
                }
                if (self.prune[w.pc] || self.opts.test_state_freq)
                    && !(first && w.pc == 0)
                    && self.is_state_visited(&mut w)?
                {
                    if self.opts.log_level >= 2 {
                        self.log.push_str(&format!("{}: safe\n", w.pc));
                    }
                    self.finish(w.parent);
                    break;
                }
                first = false;
                let line = (self.opts.log_level >= 1)
                    .then(|| format!("{}: {}", w.pc, log::insn(&self.insn_at(w.pc))));
                let next = match self.step(&mut w, &mut stack) {
                    Ok(n) => n,
                    Err(e) => {
                        if let Some(l) = line {
                            self.log.push_str(&l);
                            self.log.push('\n');
                        }
                        return Err(e);
                    }
                };
                if let Some(l) = line {
                    if self.opts.log_level >= 2 && matches!(next, Next::Go(_)) {
                        let s = log::state(&w.st, &self.maps);
                        self.log.push_str(&format!("{l:<37}; {s}\n"));
                    } else {
                        self.log.push_str(&l);
                        self.log.push('\n');
                    }
                }
                match next {
                    Next::Go(pc) => {
                        w.pc = pc;
                    }
                    Next::Exit => {
                        self.finish(w.parent);
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn insn_at(&self, pc: usize) -> Insn {
        let mut i = self.insns[pc];
        if i.code == 0x18 {
            i.imm = self.lddw_imm(pc);
        }
        i
    }

    fn finish(&mut self, parent: Option<usize>) {
        let mut p = parent;
        while let Some(i) = p {
            let c = &mut self.ckpts[i];
            c.branches = c.branches.saturating_sub(1);
            if c.branches > 0 {
                break;
            }
            p = c.parent;
        }
    }

    fn is_state_visited(&mut self, w: &mut Work) -> R<bool> {
        let pc = w.pc;
        let may_goto = self.insns[pc].code == 0xe5;
        let force = self.opts.test_state_freq || may_goto;
        let mut add =
            force || (self.jmps - self.prev_jmps >= 2 && self.processed - self.prev_insns >= 8);
        let list = self.visited.get(&pc).cloned().unwrap_or_default();
        let mut evict = Vec::new();
        for ci in list {
            let c = &self.ckpts[ci];
            if c.branches > 0 {
                if may_goto
                    && c.st.may_goto_depth != w.st.may_goto_depth
                    && self.states_safe(&c.st, &w.st, pc)
                {
                    self.ckpts[ci].hits += 1;
                    return Ok(true);
                }
                if c.st.may_goto_depth == w.st.may_goto_depth && looping_equal(&c.st, &w.st) {
                    let cur = log::state(&w.st, &self.maps);
                    let old = log::state(&c.st, &self.maps);
                    return Err(Fail {
                        lines: vec![
                            format!("infinite loop detected at insn {pc}"),
                            format!("cur state: {cur}"),
                            format!("old state: {old}"),
                        ],
                        errno: EINVAL,
                        kind: RejectKind::Kernel,
                    });
                }
                if !force
                    && self.jmps - self.prev_jmps < 20
                    && self.processed - self.prev_insns < 100
                {
                    add = false;
                }
            } else if self.states_safe(&c.st, &w.st, pc) {
                self.ckpts[ci].hits += 1;
                return Ok(true);
            }
            // A state that keeps missing is dropped from the list, as the kernel does
            // (`miss_cnt > hit_cnt * n + n` in is_state_visited).
            let c = &mut self.ckpts[ci];
            c.misses += 1;
            let n = if force { 64 } else { 3 };
            if c.misses > c.hits * n + n {
                evict.push(ci);
            }
        }
        if !evict.is_empty() {
            if let Some(l) = self.visited.get_mut(&pc) {
                l.retain(|c| !evict.contains(c));
            }
        }
        if add {
            self.prev_jmps = self.jmps;
            self.prev_insns = self.processed;
            let idx = self.ckpts.len();
            self.ckpts.push(Ckpt {
                st: w.st.clone(),
                branches: 1,
                parent: w.parent,
                hits: 0,
                misses: 0,
            });
            w.parent = Some(idx);
            self.visited.entry(pc).or_default().push(idx);
        }
        Ok(false)
    }

    fn states_safe(&self, old: &State, cur: &State, pc: usize) -> bool {
        if old.frames.len() != cur.frames.len()
            || old.refs.len() != cur.refs.len()
            || old.lock.is_some() != cur.lock.is_some()
        {
            return false;
        }
        let mut idmap = IdMap::default();
        let nf = old.frames.len();
        for (fi, (of, cf)) in old.frames.iter().zip(&cur.frames).enumerate() {
            if of.callsite != cf.callsite {
                return false;
            }
            let live = if fi == nf - 1 {
                self.live[pc]
            } else {
                let ret = old.frames[fi + 1].callsite + 1;
                self.live.get(ret).copied().unwrap_or(0xffff) & !1
            };
            for r in 0..11 {
                if live & (1 << r) == 0 {
                    continue;
                }
                if !regsafe(&of.regs[r], &cf.regs[r], &mut idmap) {
                    return false;
                }
            }
            if !stack_safe(of, cf, &mut idmap) {
                return false;
            }
        }
        true
    }

    /// `assign_scalar_id_before_mov`: a copied scalar gets an id linking the copies; a
    /// register already linked with an added constant loses that link first.
    fn assign_id_before_mov(&mut self, st: &mut State, regno: u8) -> Reg {
        let mut r = self.reg(st, regno);
        if r.ty == Ty::Scalar {
            if r.id & ADD_CONST != 0 {
                r.id = 0;
                r.off = 0;
            }
            if r.id == 0 && !r.s.is_const() {
                r.id = self.new_id();
            }
            self.set(st, regno, r);
        }
        r
    }

    fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }

    // ---- one instruction --------------------------------------------------------------

    fn step(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.insns[pc];
        let class = insn.code & 7;
        match class {
            4 | 7 => {
                self.check_alu(&mut w.st, &insn)?;
                Ok(Next::Go(pc + 1))
            }
            1 => {
                self.check_ldx(&mut w.st, &insn)?;
                Ok(Next::Go(pc + 1))
            }
            2 | 3 => {
                if class == 3 && insn.code & 0xe0 == 0xc0 {
                    self.check_atomic(&mut w.st, &insn)?;
                } else {
                    self.check_store(&mut w.st, &insn)?;
                }
                Ok(Next::Go(pc + 1))
            }
            0 => {
                let mode = insn.code & 0xe0;
                if insn.code == 0x18 {
                    self.check_ld_imm(&mut w.st, pc)?;
                    Ok(Next::Go(pc + 2))
                } else if mode == 0x20 || mode == 0x40 {
                    self.check_ld_abs(&mut w.st, &insn)?;
                    if w.st.frames.len() > 1 {
                        self.ld_abs_in_subprog(w, stack)?;
                        return Ok(Next::Go(w.pc));
                    }
                    Ok(Next::Go(pc + 1))
                } else {
                    fail(EINVAL, "invalid BPF_LD mode")
                }
            }
            _ => {
                self.jmps += 1;
                self.check_jmp(w, stack)
            }
        }
    }

    fn reg(&self, st: &State, r: u8) -> Reg {
        st.cur().regs[r as usize]
    }

    fn check_reg_read(&self, st: &State, r: u8) -> R<Reg> {
        if r > 10 {
            return fail(EINVAL, format!("R{r} is invalid"));
        }
        let reg = st.cur().regs[r as usize];
        if reg.ty == Ty::NotInit {
            return fail(EACCES, format!("R{r} !read_ok"));
        }
        Ok(reg)
    }

    fn check_reg_write(&self, r: u8) -> R<()> {
        if r > 10 {
            return fail(EINVAL, format!("R{r} is invalid"));
        }
        if r == 10 {
            return fail(EACCES, "frame pointer is read only");
        }
        Ok(())
    }

    fn set(&self, st: &mut State, r: u8, v: Reg) {
        st.cur_mut().regs[r as usize] = v;
    }

    // ---- ALU --------------------------------------------------------------------------

    fn check_alu(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let alu64 = insn.code & 7 == 7;
        let op = insn.code & 0xf0;
        let x = insn.code & 0x08 != 0;
        let reserved = |name: &str| fail(EINVAL, format!("{name} uses reserved fields"));
        match op {
            0x80 | 0xd0 => {
                if op == 0x80 {
                    if x || insn.src != 0 || insn.off != 0 || insn.imm != 0 {
                        return reserved("BPF_NEG");
                    }
                } else if insn.src != 0
                    || insn.off != 0
                    || !matches!(insn.imm, 16 | 32 | 64)
                    || (alu64 && x)
                {
                    return reserved("BPF_END");
                }
                let r = self.check_reg_read(st, insn.dst)?;
                self.check_reg_write(insn.dst)?;
                if !self.opts.privileged && r.is_ptr() {
                    return fail(
                        EACCES,
                        format!("R{} pointer arithmetic prohibited", insn.dst),
                    );
                }
                let mut out = Reg::unknown();
                if r.ty == Ty::Scalar {
                    if op == 0x80 {
                        let mut s = r.s;
                        scalar::neg(&mut s, !alu64);
                        out.s = s;
                    } else if r.s.is_const() {
                        out.s = Scalar::known(byte_swap(r.s.value(), insn, alu64));
                    } else if !x && !alu64 && insn.imm < 64 {
                        // `le16`/`le32` on a little-endian host truncate.
                        let mut s = r.s;
                        s.truncate(insn.imm as u32 / 8);
                        out.s = s;
                    }
                }
                self.set(st, insn.dst, out);
                Ok(())
            }
            0xb0 => self.check_mov(st, insn, alu64, x),
            0x00 | 0x10 | 0x20 | 0x30 | 0x40 | 0x50 | 0x60 | 0x70 | 0x90 | 0xa0 | 0xc0 => {
                let divmod = op == 0x30 || op == 0x90;
                if x {
                    if insn.imm != 0 || (insn.off != 0 && !(insn.off == 1 && divmod)) {
                        return reserved("BPF_ALU");
                    }
                    self.check_reg_read(st, insn.src)?;
                } else if insn.src != 0 || (insn.off != 0 && !(insn.off == 1 && divmod)) {
                    return reserved("BPF_ALU");
                }
                self.check_reg_read(st, insn.dst)?;
                if divmod && !x && insn.imm == 0 {
                    return fail(EINVAL, "div by zero");
                }
                if matches!(op, 0x60 | 0x70 | 0xc0) && !x {
                    let size = if alu64 { 64 } else { 32 };
                    if insn.imm < 0 || insn.imm >= size {
                        return fail(EINVAL, format!("invalid shift {}", insn.imm));
                    }
                }
                self.check_reg_write(insn.dst)?;
                self.adjust_reg(st, insn, alu64, x)
            }
            _ => fail(EINVAL, format!("invalid BPF_ALU opcode {:x}", op)),
        }
    }

    fn check_mov(&mut self, st: &mut State, insn: &Insn, alu64: bool, x: bool) -> R<()> {
        let reserved = || fail(EINVAL, "BPF_MOV uses reserved fields");
        if x {
            let off_ok = if alu64 {
                matches!(insn.off, 0 | 8 | 16 | 32)
            } else {
                matches!(insn.off, 0 | 8 | 16)
            };
            if insn.imm != 0 || !off_ok {
                return reserved();
            }
            self.check_reg_read(st, insn.src)?;
        } else if insn.src != 0 || insn.off != 0 {
            return reserved();
        }
        self.check_reg_write(insn.dst)?;
        if !x {
            let v = if alu64 {
                insn.imm as u64
            } else {
                insn.imm as u32 as u64
            };
            self.set(st, insn.dst, Reg::known(v));
            return Ok(());
        }
        let src = self.reg(st, insn.src);
        if alu64 {
            if insn.off == 0 {
                let s = self.assign_id_before_mov(st, insn.src);
                self.set(st, insn.dst, s);
            } else if src.ty == Ty::Scalar {
                let bits = insn.off as u32;
                let no_sext = src.s.umax < (1u64 << (bits - 1));
                let mut d = if no_sext {
                    self.assign_id_before_mov(st, insn.src)
                } else {
                    src
                };
                if !no_sext {
                    d.id = 0;
                    d.off = 0;
                }
                if !no_sext {
                    d.s.sign_extend(bits / 8);
                }
                self.set(st, insn.dst, d);
            } else {
                if !self.opts.privileged {
                    return fail(
                        EACCES,
                        format!("R{} sign-extension part of pointer", insn.src),
                    );
                }
                self.set(st, insn.dst, Reg::unknown());
            }
        } else if src.ty == Ty::Scalar {
            let mut d = src;
            if insn.off == 0 {
                let fits = src.s.umax <= u32::MAX as u64;
                if fits {
                    d = self.assign_id_before_mov(st, insn.src);
                } else {
                    d.id = 0;
                    d.off = 0;
                }
                d.s.zext32();
                d.s.sync();
            } else {
                d.id = 0;
                let mut s = d.s;
                let v = s.var_off.subreg();
                if v.is_const() {
                    let e = match insn.off {
                        8 => v.value as u8 as i8 as i32 as u32,
                        _ => v.value as u16 as i16 as i32 as u32,
                    };
                    s = Scalar::known(e as u64);
                } else {
                    s.sign_extend(insn.off as u32 / 8);
                    s.zext32();
                    s.sync();
                }
                d.s = s;
            }
            self.set(st, insn.dst, d);
        } else {
            if !self.opts.privileged {
                return fail(EACCES, format!("R{} partial copy of pointer", insn.src));
            }
            self.set(st, insn.dst, Reg::unknown());
        }
        Ok(())
    }

    fn adjust_reg(&mut self, st: &mut State, insn: &Insn, alu64: bool, x: bool) -> R<()> {
        let op = insn.code & 0xf0;
        let dst = self.reg(st, insn.dst);
        let src = if x {
            self.reg(st, insn.src)
        } else {
            Reg::known(insn.imm as u64)
        };
        if x && src.is_ptr() {
            if dst.is_ptr() {
                if op == 0x10 && self.opts.privileged {
                    self.set(st, insn.dst, Reg::unknown());
                    return Ok(());
                }
                return fail(
                    EACCES,
                    format!("R{} pointer {} pointer prohibited", insn.dst, alu_str(op)),
                );
            }
            return self.adjust_ptr(st, insn, alu64, src, dst, true);
        }
        if dst.is_ptr() {
            return self.adjust_ptr(st, insn, alu64, dst, src, false);
        }
        let mut d = dst;
        let aop = match op {
            0x00 => AluOp::Add,
            0x10 => AluOp::Sub,
            0x20 => AluOp::Mul,
            0x30 => AluOp::Div,
            0x40 => AluOp::Or,
            0x50 => AluOp::And,
            0x60 => AluOp::Lsh,
            0x70 => AluOp::Rsh,
            0x90 => AluOp::Mod,
            0xa0 => AluOp::Xor,
            _ => AluOp::Arsh,
        };
        let mut srcs = src.s;
        if !x && !alu64 {
            srcs = Scalar::known(insn.imm as u32 as u64);
            if matches!(aop, AluOp::Add | AluOp::Sub | AluOp::Mul) {
                // The 32-bit view of a sign-extended immediate is what matters.
                srcs = Scalar::known(insn.imm as u64);
            }
        }
        scalar::alu(&mut d.s, &srcs, aop, !alu64);
        d.ty = Ty::Scalar;
        // `rX += const` keeps rX linked to its copies with a known delta (BPF_ADD_CONST).
        if self.opts.privileged && aop == AluOp::Add && alu64 && dst.id != 0 && src.s.is_const() {
            let val = src.s.value();
            if dst.id & ADD_CONST != 0 || val > i32::MAX as u64 {
                d.id = 0;
                d.off = 0;
            } else {
                d.id |= ADD_CONST;
                d.off = val as i32;
            }
        } else {
            d.id = 0;
            d.off = 0;
        }
        self.set(st, insn.dst, d);
        Ok(())
    }

    fn adjust_ptr(
        &mut self,
        st: &mut State,
        insn: &Insn,
        alu64: bool,
        ptr: Reg,
        off_reg: Reg,
        scalar_is_dst: bool,
    ) -> R<()> {
        let op = insn.code & 0xf0;
        let dreg = insn.dst;
        if !alu64 {
            if op == 0x10 && self.opts.privileged {
                self.set(st, dreg, Reg::unknown());
                return Ok(());
            }
            return fail(
                EACCES,
                format!("R{dreg} 32-bit pointer arithmetic prohibited"),
            );
        }
        if ptr.maybe_null {
            return fail(
                EACCES,
                format!(
                    "R{dreg} pointer arithmetic on {} prohibited, null-check it first",
                    ptr.type_name()
                ),
            );
        }
        let o = off_reg.s;
        let known = o.is_const();
        let ok_type = match ptr.ty {
            Ty::Ctx
            | Ty::MapValue
            | Ty::MapKey
            | Ty::Stack
            | Ty::PktMeta
            | Ty::Pkt
            | Ty::TpBuffer
            | Ty::RingbufMem => true,
            Ty::FlowKeys => known,
            Ty::MapPtr => known && o.smin == 0 && op == 0x00,
            _ => false,
        };
        if !ok_type {
            return fail(
                EACCES,
                format!(
                    "R{dreg} pointer arithmetic on {} prohibited",
                    ptr.type_name()
                ),
            );
        }
        if (known && (o.smin != o.smax || o.umin != o.umax)) || o.smin > o.smax || o.umin > o.umax {
            self.set(st, dreg, Reg::unknown());
            return Ok(());
        }
        let tname = ptr.type_name();
        check_sane_offset(&off_reg, &tname)?;
        check_sane_offset(&ptr, &tname)?;
        let mut d = ptr;
        match op {
            0x00 => {
                let fixed = ptr.off as i64 + o.smin;
                if known && fixed == fixed as i32 as i64 {
                    d.off = fixed as i32;
                } else {
                    let p = ptr.s;
                    let mut s = p;
                    match (p.smin.checked_add(o.smin), p.smax.checked_add(o.smax)) {
                        (Some(a), Some(b)) => {
                            s.smin = a;
                            s.smax = b;
                        }
                        _ => {
                            s.smin = i64::MIN;
                            s.smax = i64::MAX;
                        }
                    }
                    match (p.umin.checked_add(o.umin), p.umax.checked_add(o.umax)) {
                        (Some(a), Some(b)) => {
                            s.umin = a;
                            s.umax = b;
                        }
                        _ => {
                            s.umin = 0;
                            s.umax = u64::MAX;
                        }
                    }
                    s.var_off = p.var_off.add(o.var_off);
                    d.s = s;
                    if ptr.is_pkt() {
                        d.id = self.new_id();
                        d.range = 0;
                    }
                }
            }
            0x10 => {
                if scalar_is_dst {
                    return fail(
                        EACCES,
                        format!("R{dreg} tried to subtract pointer from scalar"),
                    );
                }
                if ptr.ty == Ty::Stack {
                    return fail(
                        EACCES,
                        format!("R{dreg} subtraction from stack pointer prohibited"),
                    );
                }
                let fixed = ptr.off as i64 - o.smin;
                if known && fixed == fixed as i32 as i64 {
                    d.off = fixed as i32;
                } else {
                    let p = ptr.s;
                    let mut s = p;
                    match (p.smin.checked_sub(o.smax), p.smax.checked_sub(o.smin)) {
                        (Some(a), Some(b)) => {
                            s.smin = a;
                            s.smax = b;
                        }
                        _ => {
                            s.smin = i64::MIN;
                            s.smax = i64::MAX;
                        }
                    }
                    if p.umin < o.umax {
                        s.umin = 0;
                        s.umax = u64::MAX;
                    } else {
                        s.umin = p.umin - o.umax;
                        s.umax = p.umax - o.umin;
                    }
                    s.var_off = p.var_off.sub(o.var_off);
                    d.s = s;
                    if ptr.is_pkt() {
                        d.id = self.new_id();
                        if o.smin < 0 {
                            d.range = 0;
                        }
                    }
                }
            }
            0x40 | 0x50 | 0xa0 => {
                return fail(
                    EACCES,
                    format!(
                        "R{dreg} bitwise operator {} on pointer prohibited",
                        alu_str(op)
                    ),
                );
            }
            _ => {
                return fail(
                    EACCES,
                    format!(
                        "R{dreg} pointer arithmetic with {} operator prohibited",
                        alu_str(op)
                    ),
                );
            }
        }
        // Pointers carry no 32-bit bounds (`__mark_reg32_unbounded`).
        d.s.s32_min = i32::MIN;
        d.s.s32_max = i32::MAX;
        d.s.u32_min = 0;
        d.s.u32_max = u32::MAX;
        check_sane_offset(&d, &tname)?;
        d.s.sync();
        if !self.opts.privileged {
            // `sanitize_check_bounds`: without Spectre v1 bypass the result must stay in
            // bounds, so the access can be masked later.
            if d.ty == Ty::Stack {
                if !d.s.is_const() {
                    return fail(
                        EACCES,
                        format!(
                            "R{dreg} variable stack access prohibited for !root, var_off={} off={}",
                            d.s.var_off.kernel_fmt(),
                            d.off
                        ),
                    );
                }
                let off = d.off as i64 + d.s.value() as i64;
                if !(-MAX_BPF_STACK..0).contains(&off) {
                    return fail(
                        EACCES,
                        format!("R{dreg} stack pointer arithmetic goes out of range, prohibited for !root, off={off}"),
                    );
                }
            } else if d.ty == Ty::MapValue {
                let m = self.maps[d.aux as usize].clone();
                if self
                    .check_map_access(dreg, &d, d.off as i64, 1, &m, false)
                    .is_err()
                {
                    return fail(
                        EACCES,
                        format!("R{dreg} pointer arithmetic of map value goes out of range, prohibited for !root"),
                    );
                }
            }
        }
        self.set(st, dreg, d);
        Ok(())
    }

    // ---- loads and stores ---------------------------------------------------------------

    fn check_ldx(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = size_of(insn.code);
        let sx = insn.code & 0xe0 == 0x80;
        if sx && size == 8 {
            return fail(EINVAL, format!("unknown opcode {:02x}", insn.code));
        }
        self.check_reg_read(st, insn.src)?;
        self.check_reg_write(insn.dst)?;
        let base = self.reg(st, insn.src);
        let v = self.mem_access(st, insn.src, insn.off as i64, size, false, None, sx)?;
        if let Some(v) = v {
            self.set(st, insn.dst, v);
        }
        self.save_ptr_type(&base)
    }

    fn check_store(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = size_of(insn.code);
        let class = insn.code & 7;
        if insn.code & 0xe0 != 0x60 {
            return fail(
                EINVAL,
                if class == 3 {
                    "BPF_STX uses reserved fields"
                } else {
                    "BPF_ST uses reserved fields"
                },
            );
        }
        let val = if class == 3 {
            if insn.imm != 0 {
                return fail(EINVAL, "BPF_STX uses reserved fields");
            }
            Some(self.check_reg_read(st, insn.src)?)
        } else {
            if insn.src != 0 {
                return fail(EINVAL, "BPF_ST uses reserved fields");
            }
            None
        };
        let dst = self.check_reg_read(st, insn.dst)?;
        if class == 2 && dst.ty == Ty::Ctx {
            // `check_store_reg` lets BPF_ST into ctx through only for some types; the
            // access check below gives the kernel's message.
        }
        let stored = match val {
            Some(v) => StoreVal::Reg(insn.src, v),
            None => StoreVal::Imm(insn.imm),
        };
        self.mem_access(
            st,
            insn.dst,
            insn.off as i64,
            size,
            true,
            Some(stored),
            false,
        )?;
        self.save_ptr_type(&dst)
    }

    fn check_atomic(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        let size = size_of(insn.code);
        let imm = insn.imm as i32;
        let fetch = imm & 1 != 0;
        let base = imm & !1;
        let valid_ops = matches!(base, 0x00 | 0x40 | 0x50 | 0xa0) || imm == 0xe1 || imm == 0xf1;
        if !valid_ops {
            if imm == 0x100 || imm == 0x110 {
                return unsupported("load-acquire/store-release are not modelled");
            }
            return fail(
                EINVAL,
                format!("BPF_ATOMIC uses invalid atomic opcode {imm:02x}"),
            );
        }
        if size != 4 && size != 8 {
            return fail(EINVAL, "invalid atomic operand size");
        }
        let src = self.check_reg_read(st, insn.src)?;
        let dst = self.check_reg_read(st, insn.dst)?;
        if imm == 0xf1 {
            self.check_reg_read(st, 0)?;
        }
        if !self.opts.privileged && src.is_ptr() {
            return fail(EACCES, format!("R{} leaks addr into mem", insn.src));
        }
        if matches!(
            dst.ty,
            Ty::Ctx
                | Ty::Pkt
                | Ty::PktMeta
                | Ty::FlowKeys
                | Ty::Sock
                | Ty::SockCommon
                | Ty::TcpSock
        ) {
            return fail(
                EACCES,
                format!(
                    "BPF_ATOMIC stores into R{} {} is not allowed",
                    insn.dst,
                    dst.type_name()
                ),
            );
        }
        let load_reg = if imm == 0xf1 {
            Some(0u8)
        } else if fetch {
            Some(insn.src)
        } else {
            None
        };
        self.strict_once = true;
        let loaded = self.mem_access(st, insn.dst, insn.off as i64, size, false, None, false);
        self.strict_once = false;
        let loaded = loaded?;
        self.mem_access(
            st,
            insn.dst,
            insn.off as i64,
            size,
            true,
            Some(StoreVal::Reg(insn.src, src)),
            false,
        )?;
        if let Some(r) = load_reg {
            self.check_reg_write(r)?;
            let mut v = loaded.unwrap_or_else(Reg::unknown);
            if v.is_ptr() && !self.opts.privileged {
                return fail(EACCES, format!("R{r} leaks addr into mem"));
            }
            if size < 8 && v.ty == Ty::Scalar {
                v.s.truncate(size as u32);
            }
            self.set(st, r, v);
        }
        Ok(())
    }

    /// `check_mem_access`: returns the loaded value for reads.
    #[allow(clippy::too_many_arguments)]
    fn mem_access(
        &mut self,
        st: &mut State,
        regno: u8,
        off: i64,
        size: i64,
        write: bool,
        val: Option<StoreVal>,
        sx: bool,
    ) -> R<Option<Reg>> {
        let reg = self.reg(st, regno);
        self.check_alignment(&reg, off, size, self.strict_once)?;
        let off = off + reg.off as i64;
        let mut out: Option<Reg> = None;
        if reg.maybe_null {
            return fail(
                EACCES,
                format!("R{regno} invalid mem access '{}'", reg.type_name()),
            );
        }
        match reg.ty {
            Ty::MapKey => {
                if write {
                    return fail(EACCES, format!("write to change key R{regno} not allowed"));
                }
                let ks = self.map(&reg).key_size as i64;
                self.check_region(regno, &reg, off, size, ks, false)?;
                out = Some(Reg::unknown());
            }
            Ty::MapValue => {
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into map"));
                        }
                    }
                }
                let m = self.map(&reg).clone();
                if write && m.flags & BPF_F_RDONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "write into map forbidden, value_size={} off={off} size={size}",
                            m.value_size
                        ),
                    );
                }
                if !write && m.flags & BPF_F_WRONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "read from map forbidden, value_size={} off={off} size={size}",
                            m.value_size
                        ),
                    );
                }
                self.check_map_access(regno, &reg, off, size, &m, false)?;
                out = Some(Reg::unknown());
            }
            Ty::RingbufMem => {
                self.check_region(regno, &reg, off, size, reg.mem_size as i64, false)?;
                out = Some(Reg::unknown());
            }
            Ty::Ctx => {
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into ctx"));
                        }
                    }
                }
                check_ptr_off_reg(&reg, regno, false)?;
                if sx {
                    return fail(
                        EACCES,
                        format!("invalid bpf_context access off={off} size={size}"),
                    );
                }
                if !ctx::modelled(self.opts.prog_type) {
                    return unsupported(format!(
                        "context of {} programs is not modelled",
                        self.opts.prog_type
                    ));
                }
                match ctx::access(self.opts.prog_type, off as i32, size as i32, write) {
                    None => {
                        return fail(
                            EACCES,
                            format!("invalid bpf_context access off={off} size={size}"),
                        );
                    }
                    Some(Field::Scalar) => out = Some(Reg::unknown()),
                    Some(Field::Ptr(t, null)) => {
                        let mut r = Reg::ptr(t);
                        r.maybe_null = null;
                        if null {
                            r.id = self.new_id();
                        }
                        out = Some(r);
                    }
                }
            }
            Ty::Stack => {
                let frame = reg.aux as usize;
                self.check_stack_bounds(st, regno, &reg, off, size, write, "")?;
                if write {
                    self.stack_write(st, frame, &reg, off, size, val)?;
                } else {
                    out = Some(self.stack_read(st, frame, &reg, off, size)?);
                }
            }
            Ty::Pkt | Ty::PktMeta => {
                if write && !self.may_access_pkt(true) {
                    return fail(EACCES, "cannot write into packet");
                }
                if write {
                    if let Some(StoreVal::Reg(r, v)) = val {
                        if v.is_ptr() && !self.opts.privileged {
                            return fail(EACCES, format!("R{r} leaks addr into packet"));
                        }
                    }
                }
                check_packet_access(regno, &reg, off, size, false)?;
                out = Some(Reg::unknown());
            }
            Ty::FlowKeys => {
                if off < 0 || off + size > 56 {
                    return fail(
                        EACCES,
                        format!("invalid access to flow keys off={off} size={size}"),
                    );
                }
                out = Some(Reg::unknown());
            }
            Ty::Sock | Ty::SockCommon | Ty::TcpSock => {
                if write {
                    return fail(
                        EACCES,
                        format!("R{regno} cannot write into {}", reg.type_name()),
                    );
                }
                check_sock_access(regno, &reg, off, size)?;
                out = Some(Reg::unknown());
            }
            Ty::TpBuffer => {
                if !reg.s.is_const() || reg.s.value() != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "R{regno} invalid variable buffer offset: off={off}, var_off={}",
                            reg.s.var_off.kernel_fmt()
                        ),
                    );
                }
                if off < 0 {
                    return fail(
                        EACCES,
                        format!(
                            "R{regno} invalid tracepoint buffer access: off={off}, size={size}"
                        ),
                    );
                }
                out = Some(Reg::unknown());
            }
            Ty::BtfPtr => {
                return unsupported("BTF-typed kernel pointers are not modelled");
            }
            Ty::MapPtr => {
                // `check_ptr_to_map_access`: a map's kernel struct, read-only through BTF.
                let m = self.map(&reg);
                let tname = match m.map_type {
                    MapType::Array | MapType::PercpuArray | MapType::ProgArray => "bpf_array",
                    MapType::Hash | MapType::PercpuHash | MapType::LruHash => "bpf_htab",
                    _ => "bpf_map",
                };
                if write {
                    return fail(EACCES, format!("only read from {tname} is supported"));
                }
                return unsupported("reading map fields needs kernel BTF");
            }
            _ => {
                return fail(
                    EACCES,
                    format!("R{regno} invalid mem access '{}'", reg.type_name()),
                );
            }
        }
        if write {
            return Ok(None);
        }
        if let Some(v) = out.as_mut() {
            if size < 8 && v.ty == Ty::Scalar {
                if sx {
                    v.s.sign_extend(size as u32);
                } else {
                    v.s.truncate(size as u32);
                }
            }
        }
        Ok(out)
    }

    /// `save_aux_ptr_type`: one load/store instruction may not see the context (or a
    /// socket) on one path and another pointer type on another, because the kernel rewrites
    /// context accesses in place.
    fn save_ptr_type(&mut self, base: &Reg) -> R<()> {
        let t = (base.ty, base.maybe_null);
        let special = |t: Ty| matches!(t, Ty::Ctx | Ty::Sock | Ty::SockCommon | Ty::TcpSock);
        match self.ptr_types.get(&self.cur_pc) {
            None => {
                self.ptr_types.insert(self.cur_pc, t);
            }
            Some(&prev) => {
                if prev != t && (special(prev.0) || special(t.0)) {
                    return fail(EINVAL, "same insn cannot be used with different pointers");
                }
            }
        }
        Ok(())
    }

    fn map(&self, reg: &Reg) -> &MapDef {
        &self.maps[reg.aux as usize]
    }

    fn may_access_pkt(&self, write: bool) -> bool {
        use ProgType::*;
        match self.opts.prog_type {
            LwtIn | LwtOut | LwtSeg6local | SkReuseport | FlowDissector | CgroupSkb => !write,
            SchedCls | SchedAct | Xdp | LwtXmit | SkSkb | SkMsg => true,
            CgroupSockopt => true,
            _ => false,
        }
    }

    fn check_alignment(&self, reg: &Reg, off: i64, size: i64, once: bool) -> R<()> {
        let strict = (self.opts.strict_alignment && !self.opts.any_alignment) || once;
        let (desc, strict) = match reg.ty {
            Ty::Pkt | Ty::PktMeta => {
                if !strict || size == 1 {
                    return Ok(());
                }
                let ip_align = 2i64;
                let t = reg
                    .s
                    .var_off
                    .add(Tnum::konst((ip_align + reg.off as i64 + off) as u64));
                if !t.is_aligned(size as u64) {
                    return fail(
                        EACCES,
                        format!(
                            "misaligned packet access off {}+{}+{}+{} size {}",
                            ip_align,
                            tnum_short(reg.s.var_off),
                            reg.off,
                            off,
                            size
                        ),
                    );
                }
                return Ok(());
            }
            Ty::FlowKeys => ("flow keys ", strict),
            Ty::MapKey => ("key ", strict),
            Ty::MapValue => ("value ", strict),
            Ty::Ctx => ("context ", strict),
            Ty::Stack => ("stack ", true),
            Ty::Sock | Ty::SockCommon | Ty::TcpSock => ("sock ", strict),
            _ => ("", strict),
        };
        if !strict || size == 1 {
            return Ok(());
        }
        let t = reg
            .s
            .var_off
            .add(Tnum::konst((reg.off as i64 + off) as u64));
        if !t.is_aligned(size as u64) {
            return fail(
                EACCES,
                format!(
                    "misaligned {desc}access off {}+{}+{} size {}",
                    tnum_short(reg.s.var_off),
                    reg.off,
                    off,
                    size
                ),
            );
        }
        Ok(())
    }

    fn check_region(
        &self,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        mem_size: i64,
        zero_ok: bool,
    ) -> R<()> {
        let s = &reg.s;
        if s.smin < 0
            && (s.smin == i64::MIN
                || (off + s.smin) != (off + s.smin) as i32 as i64
                || s.smin + off < 0)
        {
            return fail(
                EACCES,
                format!("R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."),
            );
        }
        if let Err(first) = mem_ok(reg, regno, s.smin + off, size, mem_size, zero_ok) {
            return fail2(
                EACCES,
                first,
                format!("R{regno} min value is outside of the allowed memory range"),
            );
        }
        if s.umax >= MAX_VAR_OFF as u64 {
            return fail(
                EACCES,
                format!(
                    "R{regno} unbounded memory access, make sure to bounds check any such access"
                ),
            );
        }
        if let Err(first) = mem_ok(reg, regno, s.umax as i64 + off, size, mem_size, zero_ok) {
            return fail2(
                EACCES,
                first,
                format!("R{regno} max value is outside of the allowed memory range"),
            );
        }
        Ok(())
    }

    fn check_map_access(
        &self,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        m: &MapDef,
        zero_ok: bool,
    ) -> R<()> {
        self.check_region(regno, reg, off, size, m.value_size as i64, zero_ok)?;
        let lo = reg.s.smin + off;
        let hi = reg.s.umax as i64 + off + size;
        if let Some(l) = m.spin_lock_off {
            if lo < l as i64 + 4 && (l as i64) < hi {
                return fail(
                    EACCES,
                    "bpf_spin_lock cannot be accessed directly by load/store",
                );
            }
        }
        if let Some(t) = m.timer_off {
            if lo < t as i64 + 16 && (t as i64) < hi {
                return fail(
                    EACCES,
                    "bpf_timer cannot be accessed directly by load/store",
                );
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn check_stack_bounds(
        &mut self,
        st: &mut State,
        regno: u8,
        reg: &Reg,
        off: i64,
        size: i64,
        write: bool,
        helper: &str,
    ) -> R<()> {
        let _ = helper;
        let extra = if write { " write to" } else { " read from" };
        let (min_off, max_off) = if reg.s.is_const() {
            let m = reg.s.value() as i64 + off;
            (m, m + size)
        } else {
            if reg.s.smax >= MAX_VAR_OFF || reg.s.smin <= -MAX_VAR_OFF {
                return fail(
                    EACCES,
                    format!("invalid unbounded variable-offset{extra} stack R{regno}"),
                );
            }
            (reg.s.smin + off, reg.s.smax + off + size)
        };
        let frame = reg.aux as usize;
        let allocated = st.frames[frame].stack.len() as i64 * 8;
        let min_valid = if write || self.opts.privileged {
            -MAX_BPF_STACK
        } else {
            -allocated
        };
        let mut err = 0;
        if min_off < min_valid || min_off > -1 {
            err = EACCES;
        } else if max_off > 0 {
            err = EINVAL;
        } else if size < 0 {
            err = EFAULT;
        }
        if err != 0 {
            if reg.s.is_const() {
                return fail(
                    err,
                    format!("invalid{extra} stack R{regno} off={off} size={size}"),
                );
            }
            return fail(
                err,
                format!(
                    "invalid variable-offset{extra} stack R{regno} var_off={} off={off} size={size}",
                    reg.s.var_off.kernel_fmt()
                ),
            );
        }
        st.frames[frame].grow(min_off);
        let sub = st.frames[frame].subprog;
        let depth = (-min_off) as u32;
        if self.subs[sub].stack_depth < depth {
            self.subs[sub].stack_depth = depth;
        }
        Ok(())
    }

    fn stack_write(
        &mut self,
        st: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: i64,
        val: Option<StoreVal>,
    ) -> R<()> {
        let is_cur = frame == st.frames.len() - 1;
        if !reg.s.is_const() {
            // Variable-offset write: every byte it may touch becomes data.
            let lo = reg.s.smin + off;
            let hi = reg.s.smax + off + size;
            let zero = match val {
                Some(StoreVal::Reg(_, v)) => v.ty == Ty::Scalar && v.s == Scalar::known(0),
                Some(StoreVal::Imm(i)) => i == 0,
                None => false,
            };
            let f = &mut st.frames[frame];
            for a in lo..hi {
                let si = Frame::slot_index(a);
                if let Some(slot) = f.stack.get_mut(si) {
                    let bi = ((-a - 1) % 8) as usize;
                    if slot.bytes[7] == Slot::Spill || slot.bytes.contains(&Slot::Spill) {
                        for b in slot.bytes.iter_mut() {
                            if *b == Slot::Spill {
                                *b = Slot::Misc;
                            }
                        }
                        slot.spilled = Reg::NOT_INIT;
                    }
                    if !(zero && slot.bytes[bi] == Slot::Zero) {
                        slot.bytes[bi] = if zero && lo == hi - size {
                            Slot::Zero
                        } else {
                            Slot::Misc
                        };
                    }
                }
            }
            return Ok(());
        }
        let a = reg.s.value() as i64 + off;
        let si = Frame::slot_index(a);
        let aligned8 = a % 8 == 0;
        let mut stored = match val {
            Some(StoreVal::Reg(_, v)) => Some(v),
            _ => None,
        };
        if let (Some(StoreVal::Reg(r, _)), true) = (val, aligned8) {
            // A spilled scalar gets an id so a later fill stays linked.
            let cur = st.cur().regs[r as usize];
            if cur.ty == Ty::Scalar && reg_width(&cur) <= 8 * size as u32 {
                stored = Some(self.assign_id_before_mov(st, r));
            }
        }
        let f = &mut st.frames[frame];
        let slot = &mut f.stack[si];
        let privileged = self.opts.privileged;
        if !privileged && slot.bytes[7] == Slot::Spill && slot.spilled.ty != Ty::Scalar && size != 8
        {
            return fail(EACCES, "attempt to corrupt spilled pointer on stack");
        }
        match (val, stored) {
            (Some(StoreVal::Reg(_, _)), Some(v))
                if aligned8 && v.ty == Ty::Scalar && privileged =>
            {
                let mut sv = v;
                if reg_width(&v) > 8 * size as u32 {
                    sv.id = 0;
                }
                save_spill(slot, sv, size);
            }
            (Some(StoreVal::Imm(imm)), _) if aligned8 && privileged => {
                save_spill(slot, Reg::known(imm as u64), size);
            }
            (Some(StoreVal::Reg(_, _)), Some(v)) if v.is_ptr() => {
                if size != 8 {
                    return fail(EACCES, "invalid size of register spill");
                }
                if !is_cur && v.ty == Ty::Stack {
                    return fail(
                        EINVAL,
                        "cannot spill pointers to stack into stack frame of the caller",
                    );
                }
                save_spill(slot, v, size);
            }
            _ => {
                let zero = match val {
                    Some(StoreVal::Reg(_, v)) => v.ty == Ty::Scalar && v.s == Scalar::known(0),
                    Some(StoreVal::Imm(i)) => i == 0,
                    None => false,
                };
                slot.spilled = Reg::NOT_INIT;
                if slot.bytes.contains(&Slot::Spill) {
                    for b in slot.bytes.iter_mut() {
                        if *b == Slot::Spill {
                            *b = Slot::Misc;
                        }
                    }
                }
                let t = if zero { Slot::Zero } else { Slot::Misc };
                let top = (-a - 1) as usize % 8;
                for k in 0..size as usize {
                    slot.bytes[(top + 8 - k) % 8] = t;
                }
            }
        }
        Ok(())
    }

    fn stack_read(
        &mut self,
        st: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: i64,
    ) -> R<Reg> {
        if !reg.s.is_const() {
            return Ok(Reg::unknown());
        }
        let a = reg.s.value() as i64 + off;
        let si = Frame::slot_index(a);
        let f = &st.frames[frame];
        let slot = f.stack[si];
        let top = (-a - 1) as usize % 8;
        let allow_uninit = self.opts.privileged;
        if slot.bytes[7] == Slot::Spill {
            let sp = slot.spilled;
            let mut spill_size = 1;
            let mut i = 7;
            while i > 0 && slot.bytes[i - 1] == Slot::Spill {
                spill_size += 1;
                i -= 1;
            }
            if size != 8 || spill_size != 8 {
                if sp.ty != Ty::Scalar {
                    return fail(EACCES, "invalid size of register fill");
                }
                // Narrow fill from the low end of the spill keeps the value.
                let narrow_ok = size <= spill_size && a % 8 == 0 && a - (a % 8) == a;
                if narrow_ok {
                    let mut v = sp;
                    if reg_width(&sp) > size as u32 * 8 {
                        v.id = 0;
                    }
                    return Ok(v);
                }
                let mut spill_cnt = 0;
                let mut zero_cnt = 0;
                for k in 0..size as usize {
                    let t = slot.bytes[(top + 8 - k) % 8];
                    match t {
                        Slot::Spill => spill_cnt += 1,
                        Slot::Misc => {}
                        Slot::Zero => zero_cnt += 1,
                        Slot::Invalid if allow_uninit => {}
                        Slot::Invalid => {
                            return fail(
                                EACCES,
                                format!("invalid read from stack off {a}+{k} size {size}"),
                            );
                        }
                    }
                }
                if (spill_cnt == size && sp.s == Scalar::known(0)) || zero_cnt == size {
                    return Ok(Reg::known(0));
                }
                return Ok(Reg::unknown());
            }
            return Ok(sp);
        }
        let mut all_zero = true;
        for k in 0..size as usize {
            match slot.bytes[(top + 8 - k) % 8] {
                Slot::Zero => {}
                Slot::Misc | Slot::Spill => all_zero = false,
                Slot::Invalid if allow_uninit => all_zero = false,
                Slot::Invalid => {
                    return fail(
                        EACCES,
                        format!("invalid read from stack off {a}+{k} size {size}"),
                    );
                }
            }
        }
        Ok(if all_zero {
            Reg::known(0)
        } else {
            Reg::unknown()
        })
    }

    fn check_ld_imm(&mut self, st: &mut State, pc: usize) -> R<()> {
        let insn = self.insns[pc];
        if insn.off != 0 {
            return fail(EINVAL, "BPF_LD_IMM64 uses reserved fields");
        }
        self.check_reg_write(insn.dst)?;
        let imm = self.lddw_imm(pc);
        let v = match insn.src {
            0 => Reg::known(imm as u64),
            1 | 5 => {
                let mut r = Reg::ptr(Ty::MapPtr);
                r.aux = imm as u32;
                r
            }
            2 | 6 => {
                let mut r = Reg::ptr(Ty::MapValue);
                r.aux = imm as u32;
                r.off = (imm >> 32) as u32 as i32;
                r
            }
            _ => return unsupported("pseudo function pointers are not modelled"),
        };
        self.set(st, insn.dst, v);
        Ok(())
    }

    fn check_ld_abs(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        self.check_ld_abs_regs(st, insn)
    }

    /// LD_ABS/IND in a subprogram may end the program at run time; the kernel models that
    /// as the subprogram returning 0 to its caller, explored first.
    fn ld_abs_in_subprog(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<()> {
        let pc = w.pc;
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        stack.push(Work {
            st: w.st.clone(),
            pc: pc + 1,
            parent: w.parent,
            path: w.path.clone(),
        });
        let callee = w.st.frames.pop().expect("callee frame");
        w.st.cur_mut().regs[0] = Reg::known(0);
        w.pc = callee.callsite + 1;
        Ok(())
    }

    fn check_ld_abs_regs(&mut self, st: &mut State, insn: &Insn) -> R<()> {
        use ProgType::*;
        if !matches!(self.opts.prog_type, SocketFilter | SchedCls | SchedAct) {
            return fail(
                EINVAL,
                "BPF_LD_[ABS|IND] instructions not allowed for this program type",
            );
        }
        let mode = insn.code & 0xe0;
        if insn.dst != 0
            || insn.off != 0
            || size_of(insn.code) == 8
            || (mode == 0x20 && insn.src != 0)
        {
            return fail(EINVAL, "BPF_LD_[ABS|IND] uses reserved fields");
        }
        let ctx = self.check_reg_read(st, 6)?;
        if st.lock.is_some() {
            return fail(
                EINVAL,
                "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region",
            );
        }
        if !st.refs.is_empty() {
            let lines = self.ref_leak_lines(st, "BPF_LD_[ABS|IND]");
            return Err(Fail {
                lines,
                errno: EINVAL,
                kind: RejectKind::Kernel,
            });
        }
        if ctx.ty != Ty::Ctx {
            return fail(EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        }
        if mode == 0x40 {
            self.check_reg_read(st, insn.src)?;
        }
        check_ptr_off_reg(&ctx, 6, false)?;
        for r in 0..6 {
            self.set(st, r, Reg::NOT_INIT);
        }
        self.set(st, 0, Reg::unknown());
        Ok(())
    }

    fn ref_leak_lines(&self, st: &State, prefix: &str) -> Vec<String> {
        let mut lines: Vec<String> = st
            .refs
            .iter()
            .map(|r| format!("Unreleased reference id={} alloc_insn={}", r.id, r.insn))
            .collect();
        lines.push(format!("{prefix} would lead to reference leak"));
        lines
    }

    // ---- jumps, calls, exit ---------------------------------------------------------------

    fn check_jmp(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.insns[pc];
        let class = insn.code & 7;
        let op = insn.code & 0xf0;
        let x = insn.code & 8 != 0;
        match op {
            0x00 => {
                let bad = if class == 6 {
                    x || insn.src != 0 || insn.dst != 0 || insn.off != 0
                } else {
                    x || insn.src != 0 || insn.dst != 0 || insn.imm != 0
                };
                if bad {
                    return fail(EINVAL, "BPF_JA uses reserved fields");
                }
                Ok(Next::Go(self.jump_target(pc).unwrap_or(0) as usize))
            }
            0x80 => {
                if x || (insn.src != 2 && insn.off != 0)
                    || !matches!(insn.src, 0..=2)
                    || insn.dst != 0
                    || class == 6
                {
                    return fail(EINVAL, "BPF_CALL uses reserved fields");
                }
                if st_lock(&w.st) && (insn.src != 0 || insn.imm != 94) {
                    return fail(
                        EINVAL,
                        "function calls are not allowed while holding a lock",
                    );
                }
                if insn.src == 1 {
                    return self.check_func_call(w);
                }
                if insn.src == 2 {
                    return unsupported("kfunc calls need kernel BTF");
                }
                self.check_helper_call(&mut w.st, pc)?;
                Ok(Next::Go(pc + 1))
            }
            0x90 => {
                if x || insn.imm != 0 || insn.src != 0 || insn.dst != 0 || class == 6 {
                    return fail(EINVAL, "BPF_EXIT uses reserved fields");
                }
                let main = w.st.frames.len() == 1;
                if main && w.st.lock.is_some() {
                    return fail(
                        EINVAL,
                        "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
                    );
                }
                if main && !w.st.refs.is_empty() {
                    let lines = self.ref_leak_lines(&w.st, "BPF_EXIT instruction in main prog");
                    return Err(Fail {
                        lines,
                        errno: EINVAL,
                        kind: RejectKind::Kernel,
                    });
                }
                if !main {
                    return self.func_exit(w);
                }
                self.check_return_code(&w.st)?;
                Ok(Next::Exit)
            }
            0xe0 => self.check_may_goto(w, stack),
            0xf0 => fail(EINVAL, format!("invalid BPF_JMP/JMP32 opcode {op:x}")),
            _ => self.check_cond_jmp(w, stack),
        }
    }

    fn check_cond_jmp(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.insns[pc];
        let w32 = insn.code & 7 == 6;
        let x = insn.code & 8 != 0;
        let op = insn.code & 0xf0;
        let cmp = match op {
            0x10 => Cmp::Eq,
            0x20 => Cmp::Gt,
            0x30 => Cmp::Ge,
            0x40 => Cmp::Set,
            0x50 => Cmp::Ne,
            0x60 => Cmp::Sgt,
            0x70 => Cmp::Sge,
            0xa0 => Cmp::Lt,
            0xb0 => Cmp::Le,
            0xc0 => Cmp::Slt,
            _ => Cmp::Sle,
        };
        let dst = self.check_reg_read(&w.st, insn.dst)?;
        let src = if x {
            if insn.imm != 0 {
                return fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
            }
            let s = self.check_reg_read(&w.st, insn.src)?;
            if (!(dst.is_pkt() || dst.ty == Ty::PktEnd) || !(s.is_pkt() || s.ty == Ty::PktEnd))
                && s.is_ptr()
                && !self.opts.privileged
            {
                return fail(
                    EACCES,
                    format!("R{} pointer comparison prohibited", insn.src),
                );
            }
            s
        } else {
            if insn.src != 0 {
                return fail(EINVAL, "BPF_JMP/JMP32 uses reserved fields");
            }
            Reg::known(insn.imm as u64)
        };
        let target = (pc as i64 + insn.off as i64 + 1) as usize;
        let pred = branch_taken(&dst, &src, cmp, w32);
        match pred {
            Some(true) => {
                w.path = push_path(&w.path, pc, true);
                return Ok(Next::Go(target));
            }
            Some(false) => {
                w.path = push_path(&w.path, pc, false);
                return Ok(Next::Go(pc + 1));
            }
            None => {}
        }
        if stack.len() >= JMP_SEQ_LIMIT {
            // push_stack counts the state it is pushing, and check_cond_jmp_op turns its
            // failure into EFAULT (measured on 6.18: "The sequence of 8193 jumps ...", 14).
            return fail(
                EFAULT,
                format!("The sequence of {} jumps is too complex.", stack.len() + 1),
            );
        }
        let mut other = w.st.clone();
        let mut this = std::mem::replace(&mut w.st, other.clone());
        // Refine scalars on both sides.
        if dst.ty == Ty::Scalar && src.ty == Ty::Scalar {
            let (mut td, mut ts) = (dst.s, src.s);
            scalar::refine(&mut td, &mut ts, cmp, w32);
            let (mut fd, mut fs) = (dst.s, src.s);
            scalar::refine(&mut fd, &mut fs, cmp.negate(), w32);
            other.cur_mut().regs[insn.dst as usize].s = td;
            this.cur_mut().regs[insn.dst as usize].s = fd;
            if x {
                other.cur_mut().regs[insn.src as usize].s = ts;
                this.cur_mut().regs[insn.src as usize].s = fs;
                if src.id != 0 {
                    sync_linked(&mut other, &Reg { s: ts, ..src });
                    sync_linked(&mut this, &Reg { s: fs, ..src });
                }
            }
            if dst.id != 0 {
                sync_linked(&mut other, &Reg { s: td, ..dst });
                sync_linked(&mut this, &Reg { s: fd, ..dst });
            }
        }
        if !w32 && !x && insn.imm == 0 && matches!(cmp, Cmp::Eq | Cmp::Ne) && dst.maybe_null {
            mark_ptr_or_null(&mut this, &dst, cmp == Cmp::Ne);
            mark_ptr_or_null(&mut other, &dst, cmp == Cmp::Eq);
        } else if !(x && !w32 && self.match_pkt_pointers(cmp, &dst, &src, &mut this, &mut other))
            && dst.is_ptr()
            && !self.opts.privileged
        {
            return fail(
                EACCES,
                format!("R{} pointer comparison prohibited", insn.dst),
            );
        }
        w.st = this;
        let ok_other = !state_has_empty(&other);
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        let taken_path = push_path(&w.path, pc, true);
        if ok_other {
            stack.push(Work {
                st: other,
                pc: target,
                parent: w.parent,
                path: taken_path,
            });
        } else {
            self.finish(w.parent);
        }
        w.path = push_path(&w.path, pc, false);
        Ok(Next::Go(pc + 1))
    }

    /// `may_goto`: the current path leaves the loop (the jump); the loop body is explored
    /// later with a deeper count, its scalars widened against the previous visit.
    fn check_may_goto(&mut self, w: &mut Work, stack: &mut Vec<Work>) -> R<Next> {
        let pc = w.pc;
        let insn = self.insns[pc];
        if insn.src != 0 || insn.dst != 0 || insn.imm != 0 {
            return fail(EINVAL, format!("invalid may_goto imm {}", insn.imm));
        }
        if stack.len() >= JMP_SEQ_LIMIT {
            // push_stack counts the state it is pushing, and check_cond_jmp_op turns its
            // failure into EFAULT (measured on 6.18: "The sequence of 8193 jumps ...", 14).
            return fail(
                EFAULT,
                format!("The sequence of {} jumps is too complex.", stack.len() + 1),
            );
        }
        let mut queued = w.st.clone();
        queued.may_goto_depth += 1;
        let prev = self.visited.get(&pc).and_then(|l| {
            l.iter()
                .rev()
                .find(|&&c| self.ckpts[c].branches > 0 && same_callsites(&self.ckpts[c].st, &w.st))
                .copied()
        });
        if let Some(p) = prev {
            widen_scalars(&self.ckpts[p].st, &mut queued);
        }
        if let Some(p) = w.parent {
            self.ckpts[p].branches += 1;
        }
        stack.push(Work {
            st: queued,
            pc: pc + 1,
            parent: w.parent,
            path: push_path(&w.path, pc, false),
        });
        w.path = push_path(&w.path, pc, true);
        Ok(Next::Go((pc as i64 + insn.off as i64 + 1) as usize))
    }

    fn match_pkt_pointers(
        &mut self,
        cmp: Cmp,
        dst: &Reg,
        src: &Reg,
        this: &mut State,
        other: &mut State,
    ) -> bool {
        // (pointer that gets a range, whether "taken" proves it, right-open)
        let lhs_pkt = (dst.ty == Ty::Pkt && src.ty == Ty::PktEnd)
            || (dst.ty == Ty::PktMeta && src.ty == Ty::Pkt && src.off == 0 && src.s.is_const());
        let rhs_pkt = (dst.ty == Ty::PktEnd && src.ty == Ty::Pkt)
            || (dst.ty == Ty::Pkt && dst.off == 0 && dst.s.is_const() && src.ty == Ty::PktMeta);
        let (ptr, on_taken, open) = if lhs_pkt {
            match cmp {
                Cmp::Gt => (dst, false, false),
                Cmp::Lt => (dst, true, true),
                Cmp::Ge => (dst, false, true),
                Cmp::Le => (dst, true, false),
                _ => return false,
            }
        } else if rhs_pkt {
            match cmp {
                Cmp::Gt => (src, true, true),
                Cmp::Lt => (src, false, false),
                Cmp::Ge => (src, true, false),
                Cmp::Le => (src, false, true),
                _ => return false,
            }
        } else {
            return false;
        };
        let target = if on_taken { other } else { this };
        find_good_pkt_pointers(target, ptr, open);
        true
    }

    fn check_func_call(&mut self, w: &mut Work) -> R<Next> {
        let pc = w.pc;
        let insn = self.insns[pc];
        let target = (pc as i64 + insn.imm + 1) as usize;
        if w.st.frames.len() >= MAX_CALL_FRAMES {
            return fail(
                E2BIG,
                format!(
                    "the call stack of {} frames is too deep",
                    w.st.frames.len() + 1
                ),
            );
        }
        let sub = self.sub_of[target];
        let frameno = w.st.frames.len() as u32;
        let mut callee = Frame::new(pc, sub, frameno);
        for r in 1..=5 {
            callee.regs[r] = w.st.cur().regs[r];
        }
        for r in 0..=5 {
            w.st.cur_mut().regs[r] = Reg::NOT_INIT;
        }
        w.st.frames.push(callee);
        Ok(Next::Go(target))
    }

    fn func_exit(&mut self, w: &mut Work) -> R<Next> {
        let r0 = w.st.cur().regs[0];
        if r0.ty == Ty::Stack && r0.aux as usize == w.st.frames.len() - 1 {
            return fail(EINVAL, "cannot return stack pointer to the caller frame");
        }
        let callee = w.st.frames.pop().expect("callee frame");
        w.st.cur_mut().regs[0] = r0;
        Ok(Next::Go(callee.callsite + 1))
    }

    fn check_return_code(&self, st: &State) -> R<()> {
        let r0 = self.check_reg_read(st, 0)?;
        if !self.opts.privileged && r0.is_ptr() {
            return fail(EACCES, "R0 leaks addr as return value");
        }
        use ProgType::*;
        let eat = self.opts.expected_attach_type;
        let range: Option<(i64, i64)> = match self.opts.prog_type {
            CgroupSockAddr => match eat {
                Some(19 | 20 | 51 | 29 | 30 | 31 | 32 | 52 | 53) => Some((1, 1)),
                Some(8 | 9) => Some((0, 3)),
                _ => Some((0, 1)),
            },
            CgroupSkb => {
                if eat == Some(1) {
                    Some((0, 3))
                } else {
                    Some((0, 1))
                }
            }
            CgroupSock | SockOps | CgroupDevice | CgroupSysctl | CgroupSockopt => Some((0, 1)),
            SkLookup => Some((0, 1)),
            Netfilter => Some((0, 1)),
            _ => None,
        };
        let Some((lo, hi)) = range else {
            return Ok(());
        };
        if r0.ty != Ty::Scalar {
            return fail(
                EINVAL,
                format!(
                    "At program exit the register R0 is not a known value ({})",
                    r0.type_name()
                ),
            );
        }
        if !(lo <= r0.s.smin && r0.s.smax <= hi) {
            let mut m = String::from("At program exit the register R0 has");
            let mut unknown = true;
            if r0.s.smin > i64::MIN {
                m.push_str(&format!(" smin={}", r0.s.smin));
                unknown = false;
            }
            if r0.s.smax < i64::MAX {
                m.push_str(&format!(" smax={}", r0.s.smax));
                unknown = false;
            }
            if unknown {
                m.push_str(" unknown scalar value");
            }
            m.push_str(&format!(" should have been in [{lo}, {hi}]"));
            return fail(EINVAL, m);
        }
        Ok(())
    }

    // ---- helpers ----------------------------------------------------------------------------

    fn check_helper_call(&mut self, st: &mut State, pc: usize) -> R<()> {
        let insn = self.insns[pc];
        let id = insn.imm;
        if !(0..212).contains(&id) {
            return fail(EINVAL, format!("invalid func {}#{}", helpers::name(id), id));
        }
        let Some(p) = helpers::proto(id as u32) else {
            if id == 0 || asm::text::helpers::name(id as u32).is_none() {
                return fail(
                    EINVAL,
                    format!(
                        "program of this type cannot use helper {}#{}",
                        helpers::name(id),
                        id
                    ),
                );
            }
            return unsupported(format!(
                "helper {}#{} has no prototype in bpfx's table",
                helpers::name(id),
                id
            ));
        };
        // Capability-gated parts of bpf_base_func_proto (CAP_BPF / CAP_PERFMON); 14-17,
        // 112 and 114 joined the CAP_PERFMON part when they were opened to every type.
        let needs_caps = matches!(
            id,
            6 | 14..=17 | 35 | 93 | 94 | 112..=115 | 153 | 154 | 169..=172
        );
        if !helpers::available(p, self.opts.prog_type) || (needs_caps && !self.opts.privileged) {
            return fail(
                EINVAL,
                format!(
                    "program of this type cannot use helper bpf_{}#{}",
                    p.name, id
                ),
            );
        }
        if matches!(p.ret, Ret::Btf) || p.args.iter().any(|a| matches!(a, Arg::Btf | Arg::Func)) {
            return unsupported(format!("helper bpf_{}#{} needs BTF", p.name, id));
        }
        let pkt_access = matches!(id, 1 | 2 | 3 | 28 | 84 | 85 | 99 | 87 | 88 | 89);
        let mut map: Option<u32> = None;
        let mut release_reg: Option<u8> = None;
        let mut alloc_size: u32 = 0;
        let mut msize_max: u64 = 0;
        let mut prev_mem: Option<(u8, bool)> = None; // (regno, uninit)
        for (k, a) in p.args.iter().enumerate() {
            let regno = k as u8 + 1;
            let reg = self.check_reg_read(st, regno)?;
            if a == &Arg::Any {
                if reg.is_ptr() && !self.opts.privileged {
                    return fail(EACCES, format!("R{regno} leaks addr into helper function"));
                }
                continue;
            }
            if reg.is_pkt()
                && !matches!(a, Arg::Ctx)
                && !(pkt_access && self.may_access_pkt(false))
                && matches!(
                    a,
                    Arg::Mem | Arg::MemOrNull | Arg::UninitMem | Arg::MapKey | Arg::MapValue
                )
            {
                return fail(EACCES, "helper access to the packet is not allowed");
            }
            let is_null = reg.ty == Ty::Scalar && reg.s == Scalar::known(0);
            match a {
                Arg::MapPtr => {
                    expect_type(regno, &reg, &[Ty::MapPtr], "map_ptr")?;
                    map = Some(reg.aux);
                }
                Arg::MapKey | Arg::MapValue => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::Stack, Ty::Pkt, Ty::PktMeta, Ty::MapKey, Ty::MapValue],
                        // check_reg_type() prints all of map_key_value_types, including
                        // the kinds bpfx never produces here (mem, buf, trusted BTF).
                        "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    )?;
                    let Some(m) = map else {
                        return fail(EACCES, "invalid map_ptr to access map->key");
                    };
                    let md = &self.maps[m as usize];
                    let size = if matches!(a, Arg::MapKey) {
                        md.key_size
                    } else {
                        md.value_size
                    };
                    self.helper_mem(st, regno, size as i64, false, false)?;
                }
                Arg::Mem | Arg::MemOrNull | Arg::UninitMem => {
                    if is_null && matches!(a, Arg::MemOrNull) {
                        prev_mem = Some((regno, false));
                        continue;
                    }
                    expect_type(
                        regno,
                        &reg,
                        &[
                            Ty::Stack,
                            Ty::Pkt,
                            Ty::PktMeta,
                            Ty::MapKey,
                            Ty::MapValue,
                            Ty::RingbufMem,
                        ],
                        "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                    )?;
                    prev_mem = Some((regno, matches!(a, Arg::UninitMem)));
                }
                Arg::Size | Arg::SizeOrZero => {
                    expect_type(regno, &reg, &[Ty::Scalar], "scalar")?;
                    let zero_ok = matches!(a, Arg::SizeOrZero);
                    let s = reg.s;
                    if s.smin < 0 {
                        return fail(
                            EACCES,
                            format!("R{regno} min value is negative, either use unsigned or 'var &= const'"),
                        );
                    }
                    if s.umin == 0 && !zero_ok {
                        return fail(
                            EACCES,
                            format!(
                                "R{regno} invalid zero-sized read: u64=[{},{}]",
                                s.umin as i64, s.umax
                            ),
                        );
                    }
                    if s.umax >= MAX_VAR_OFF as u64 {
                        return fail(
                            EACCES,
                            format!("R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'"),
                        );
                    }
                    if let Some((mreg, uninit)) = prev_mem {
                        self.helper_mem(st, mreg, s.umax as i64, zero_ok, uninit)?;
                        if uninit {
                            self.mark_helper_written(st, mreg, s.umax as i64);
                        }
                        msize_max = s.umax;
                    }
                }
                Arg::AllocSize => {
                    expect_type(regno, &reg, &[Ty::Scalar], "scalar")?;
                    if !reg.s.is_const() {
                        return fail(EACCES, format!("R{regno} is not a known constant'"));
                    }
                    alloc_size = reg.s.value() as u32;
                }
                Arg::CtxOrNull if is_null => {}
                Arg::Ctx | Arg::CtxOrNull => {
                    expect_type(regno, &reg, &[Ty::Ctx], "ctx")?;
                    check_ptr_off_reg(&reg, regno, false)?;
                }
                Arg::SpinLock => {
                    expect_type(regno, &reg, &[Ty::MapValue], "map_value, ptr_")?;
                    self.process_spin_lock(st, regno, &reg, id == 93)?;
                }
                Arg::SockCommon => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::SockCommon, Ty::Sock, Ty::TcpSock],
                        "sock_common, sock, tcp_sock, xdp_sock",
                    )?;
                    check_ptr_off_reg(&reg, regno, false)?;
                }
                Arg::SockRelease => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::SockCommon, Ty::Sock, Ty::TcpSock],
                        "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
                    )?;
                    self.release_arg(regno, &reg)?;
                    release_reg = Some(regno);
                }
                Arg::RingbufRelease => {
                    expect_type(regno, &reg, &[Ty::RingbufMem], "ringbuf_mem")?;
                    self.release_arg(regno, &reg)?;
                    release_reg = Some(regno);
                }
                Arg::Long => {
                    expect_type(
                        regno,
                        &reg,
                        &[Ty::Stack, Ty::Pkt, Ty::PktMeta, Ty::MapKey, Ty::MapValue],
                        "fp, pkt, pkt_meta, map_key, map_value",
                    )?;
                    self.helper_mem(st, regno, 8, false, true)?;
                    self.check_alignment(&reg, 0, 8, true)?;
                    self.mark_helper_written(st, regno, 8);
                }
                Arg::Any | Arg::Btf | Arg::Func => {}
            }
        }
        if let Some(m) = map {
            self.check_map_func(m, id as u32)?;
        }
        if let Some(r) = release_reg {
            let reg = self.reg(st, r);
            let rid = reg.ref_id;
            st.refs.retain(|x| x.id != rid);
            st.for_each_reg(|x| {
                if x.ref_id == rid {
                    *x = Reg::unknown();
                    if !x.is_ptr() {
                        x.ty = Ty::Scalar;
                    }
                }
            });
            // Released pointers become unusable.
            st.for_each_reg(|x| {
                if x.ty == Ty::Scalar && x.ref_id == rid {
                    x.ref_id = 0;
                }
            });
        }
        if id == 12 && !st.refs.is_empty() {
            let lines = self.ref_leak_lines(st, "tail_call");
            return Err(Fail {
                lines,
                errno: EINVAL,
                kind: RejectKind::Kernel,
            });
        }
        if id == 81 {
            let r2 = self.reg(st, 2);
            if !(r2.ty == Ty::Scalar && r2.s == Scalar::known(0)) {
                return fail(EINVAL, "get_local_storage() doesn't support non-zero flags");
            }
        }
        let never_null = id == 1 && self.lookup_never_null(st, map);
        for r in 0..=5 {
            self.set(st, r, Reg::NOT_INIT);
        }
        let lookup_kind = match (id, map.map(|m| self.maps[m as usize].map_type)) {
            (1, Some(MapType::Sockmap | MapType::Sockhash)) => 1,
            (1, Some(MapType::ArrayOfMaps | MapType::HashOfMaps)) => 2,
            _ => 0,
        };
        let mut r0 = match p.ret {
            Ret::MapValueOrNull if lookup_kind == 1 => {
                let mut r = Reg::ptr(Ty::Sock);
                r.maybe_null = true;
                r
            }
            Ret::MapValueOrNull if lookup_kind == 2 => {
                // A map_value_or_null that becomes the inner map pointer once checked
                // (`mark_ptr_or_null_reg` with `inner_map_meta`).
                let mut r = Reg::ptr(Ty::MapValue);
                r.maybe_null = true;
                let outer = map.unwrap_or(0) as usize;
                r.mem_size = 1 + self.inner_of.get(outer).copied().flatten().unwrap_or(0);
                r
            }
            Ret::Int => Reg::unknown(),
            Ret::Void => Reg::NOT_INIT,
            Ret::MapValueOrNull | Ret::MapValue => {
                let mut r = Reg::ptr(Ty::MapValue);
                r.aux = map.unwrap_or(0);
                r.maybe_null = matches!(p.ret, Ret::MapValueOrNull) && !never_null;
                if !r.maybe_null && self.maps[r.aux as usize].spin_lock_off.is_some() {
                    r.id = self.new_id();
                }
                r
            }
            Ret::SockOrNull | Ret::SockNoRefOrNull => {
                let mut r = Reg::ptr(Ty::Sock);
                r.maybe_null = true;
                r
            }
            Ret::TcpSockOrNull => {
                let mut r = Reg::ptr(Ty::TcpSock);
                r.maybe_null = true;
                r
            }
            Ret::RingbufOrNull => {
                let mut r = Reg::ptr(Ty::RingbufMem);
                r.maybe_null = true;
                r.mem_size = alloc_size;
                r
            }
            Ret::Btf => Reg::unknown(),
        };
        if r0.maybe_null {
            r0.id = self.new_id();
        }
        if matches!(id, 67 | 141 | 45 | 115 | 114) {
            // `do_refine_retval_range`: at most the buffer size, at least -MAX_ERRNO.
            r0.s.smax = msize_max as i64;
            r0.s.s32_max = msize_max as i32;
            r0.s.smin = -4095;
            r0.s.s32_min = -4095;
            r0.s.sync();
        }
        if matches!(p.ret, Ret::SockOrNull | Ret::RingbufOrNull) || lookup_kind == 1 {
            let id = self.new_id();
            st.refs.push(RefState { id, insn: pc });
            r0.id = id;
            r0.ref_id = id;
        }
        self.set(st, 0, r0);
        if matches!(
            id,
            9 | 10 | 11 | 13 | 18 | 19 | 31 | 38 | 39 | 43 | 44 | 50 | 54 | 65
        ) {
            // `bpf_helper_changes_pkt_data`: every packet pointer is stale.
            let privileged = self.opts.privileged;
            st.for_each_reg(|x| {
                if x.is_pkt() || x.ty == Ty::PktEnd {
                    *x = if privileged {
                        Reg::unknown()
                    } else {
                        Reg::NOT_INIT
                    };
                }
            });
        }
        Ok(())
    }

    fn release_arg(&self, regno: u8, reg: &Reg) -> R<()> {
        if reg.ref_id == 0 {
            return fail(
                EINVAL,
                format!("R{regno} must be referenced when passed to release function"),
            );
        }
        if reg.off != 0 || !reg.s.is_const() || reg.s.value() != 0 {
            return fail(
                EINVAL,
                format!(
                    "R{regno} must have zero offset when passed to release func or trusted arg to kfunc"
                ),
            );
        }
        Ok(())
    }

    /// Whether `bpf_map_lookup_elem` cannot return NULL: an array (or per-CPU array)
    /// looked up with a constant key below `max_entries` that sits on the stack as known
    /// zero bytes or a spilled constant of the key's size (`can_elide_value_nullness`,
    /// `get_constant_map_key`; privileged programs only).
    fn lookup_never_null(&self, st: &State, map: Option<u32>) -> bool {
        let Some(md) = map.and_then(|m| self.maps.get(m as usize)) else {
            return false;
        };
        if !self.opts.privileged || !matches!(md.map_type, MapType::Array | MapType::PercpuArray) {
            return false;
        }
        let key = self.reg(st, 2);
        if key.ty != Ty::Stack || !key.s.is_const() {
            return false;
        }
        let off = key.off as i64 + key.s.value() as i64;
        if off >= 0 {
            return false;
        }
        let si = ((-off - 1) / 8) as usize;
        // The kernel's slot_type index (higher addresses at lower indexes).
        let k = ((-off - 1) % 8) as usize;
        let Some(slot) = st
            .frames
            .get(key.aux as usize)
            .and_then(|f| f.stack.get(si))
        else {
            return false;
        };
        // Bytes from the key's address upwards, as get_constant_map_key walks them.
        let run = |kind: Slot| {
            slot.bytes[..=k]
                .iter()
                .rev()
                .take_while(|x| **x == kind)
                .count()
        };
        let ks = md.key_size as usize;
        let value = if run(Slot::Zero) >= ks {
            0
        } else if slot.bytes[7] == Slot::Spill
            && run(Slot::Spill) == ks
            && slot.spilled.ty == Ty::Scalar
            && slot.spilled.s.is_const()
        {
            slot.spilled.s.value()
        } else {
            return false;
        };
        value < md.max_entries as u64
    }

    fn check_map_func(&self, m: u32, func: u32) -> R<()> {
        let md = &self.maps[m as usize];
        let t = md.map_type;
        let name = format!("{}#{}", helpers::name(func as i64), func);
        let bad = || {
            fail(
                EINVAL,
                format!("cannot pass map_type {} into func {}", t.number(), name),
            )
        };
        // `check_map_func_compatibility`, both directions, for the helpers in the table.
        let needs = match t {
            MapType::ProgArray => Some(&[12u32][..]),
            MapType::CgroupStorage | MapType::PercpuCgroupStorage => Some(&[81u32][..]),
            MapType::Ringbuf => Some(&[130u32, 131, 134][..]),
            MapType::Sockmap | MapType::Sockhash => {
                Some(&[1u32, 2, 3, 52, 53, 60, 70, 71, 72, 82][..])
            }
            MapType::ReuseportSockarray => Some(&[82u32, 1, 2, 3][..]),
            MapType::SkStorage => Some(&[107u32, 108][..]),
            MapType::Xskmap => Some(&[51u32, 1, 2, 3][..]),
            MapType::Devmap | MapType::DevmapHash => Some(&[51u32, 1][..]),
            MapType::Cpumap => Some(&[51u32][..]),
            _ => None,
        };
        if let Some(list) = needs {
            if !list.contains(&func) {
                return bad();
            }
        }
        let only = match func {
            12 => Some(&[MapType::ProgArray][..]),
            81 => Some(&[MapType::CgroupStorage, MapType::PercpuCgroupStorage][..]),
            130 | 131 | 134 => Some(&[MapType::Ringbuf][..]),
            107 | 108 => Some(&[MapType::SkStorage][..]),
            51 => Some(
                &[
                    MapType::Devmap,
                    MapType::DevmapHash,
                    MapType::Cpumap,
                    MapType::Xskmap,
                ][..],
            ),
            _ => None,
        };
        if let Some(list) = only {
            if !list.contains(&t) {
                return bad();
            }
        }
        Ok(())
    }

    fn process_spin_lock(&mut self, st: &mut State, regno: u8, reg: &Reg, lock: bool) -> R<()> {
        let lock_str = "bpf_spin";
        if !reg.s.is_const() {
            return fail(
                EINVAL,
                format!("R{regno} doesn't have constant offset. {lock_str}_lock has to be at the constant offset"),
            );
        }
        let m = self.map(reg).clone();
        let Some(lo) = m.spin_lock_off else {
            return fail(
                EINVAL,
                format!(
                    "map '{}' has to have BTF in order to use {lock_str}_lock",
                    m.name
                ),
            );
        };
        let val = reg.s.value() as i64 + reg.off as i64;
        if val != lo as i64 {
            return fail(
                EINVAL,
                format!("off {val} doesn't point to 'struct {lock_str}_lock' that is at {lo}"),
            );
        }
        if lock {
            if st.lock.is_some() {
                return fail(EINVAL, "Locking two bpf_spin_locks are not allowed");
            }
            st.lock = Some((reg.aux, reg.id));
        } else {
            match st.lock {
                None => return fail(EINVAL, format!("{lock_str}_unlock without taking a lock")),
                Some((mp, id)) if mp != reg.aux || id != reg.id => {
                    return fail(EINVAL, format!("{lock_str}_unlock of different lock"));
                }
                _ => st.lock = None,
            }
        }
        Ok(())
    }

    /// `check_helper_mem_access`.
    fn helper_mem(
        &mut self,
        st: &mut State,
        regno: u8,
        size: i64,
        zero_ok: bool,
        write: bool,
    ) -> R<()> {
        let reg = self.reg(st, regno);
        match reg.ty {
            Ty::Pkt | Ty::PktMeta => {
                check_packet_access(regno, &reg, reg.off as i64, size, zero_ok)
            }
            Ty::MapKey => {
                if write {
                    return fail(
                        EACCES,
                        format!("R{regno} cannot write into {}", reg.type_name()),
                    );
                }
                let ks = self.map(&reg).key_size as i64;
                self.check_region(regno, &reg, reg.off as i64, size, ks, false)
            }
            Ty::MapValue => {
                let m = self.map(&reg).clone();
                if write && m.flags & BPF_F_RDONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "write into map forbidden, value_size={} off={} size={size}",
                            m.value_size, reg.off
                        ),
                    );
                }
                if !write && m.flags & BPF_F_WRONLY_PROG != 0 {
                    return fail(
                        EACCES,
                        format!(
                            "read from map forbidden, value_size={} off={} size={size}",
                            m.value_size, reg.off
                        ),
                    );
                }
                self.check_map_access(regno, &reg, reg.off as i64, size, &m, zero_ok)
            }
            Ty::RingbufMem => self.check_region(
                regno,
                &reg,
                reg.off as i64,
                size,
                reg.mem_size as i64,
                zero_ok,
            ),
            Ty::Stack => {
                if size == 0 && !zero_ok {
                    return fail(EACCES, "invalid zero-sized read");
                }
                self.check_stack_bounds(st, regno, &reg, reg.off as i64, size, write, "helper")?;
                if write {
                    return Ok(());
                }
                let (min_off, max_off) = if reg.s.is_const() {
                    let m = reg.s.value() as i64 + reg.off as i64;
                    (m, m)
                } else {
                    (reg.s.smin + reg.off as i64, reg.s.smax + reg.off as i64)
                };
                let frame = reg.aux as usize;
                for a in min_off..max_off + size {
                    let si = Frame::slot_index(a);
                    let bi = ((-a - 1) % 8) as usize;
                    let slot = st.frames[frame]
                        .stack
                        .get(si)
                        .copied()
                        .unwrap_or(StackSlot::EMPTY);
                    let t = slot.bytes[bi];
                    let ok = match t {
                        Slot::Misc | Slot::Zero => true,
                        Slot::Invalid => self.opts.privileged,
                        Slot::Spill => slot.spilled.ty == Ty::Scalar || self.opts.privileged,
                    };
                    if !ok {
                        if reg.s.is_const() {
                            return fail(
                                EACCES,
                                format!(
                                    "invalid read from stack R{regno} off {min_off}+{} size {size}",
                                    a - min_off
                                ),
                            );
                        }
                        return fail(
                            EACCES,
                            format!(
                                "invalid read from stack R{regno} var_off {}+{} size {size}",
                                reg.s.var_off.kernel_fmt(),
                                a - min_off
                            ),
                        );
                    }
                }
                Ok(())
            }
            Ty::Ctx if self.opts.prog_type == ProgType::Syscall => {
                if size == 0 {
                    return if zero_ok {
                        Ok(())
                    } else {
                        fail(EACCES, "invalid zero-sized read")
                    };
                }
                self.mem_access(st, regno, size - 1, 1, write, None, false)
                    .map(|_| ())
            }
            _ => {
                if zero_ok && size == 0 && reg.ty == Ty::Scalar && reg.s == Scalar::known(0) {
                    return Ok(());
                }
                fail(
                    EACCES,
                    format!("R{regno} type={} expected=fp", reg.type_name()),
                )
            }
        }
    }

    fn mark_helper_written(&mut self, st: &mut State, regno: u8, size: i64) {
        let reg = self.reg(st, regno);
        if reg.ty != Ty::Stack {
            return;
        }
        let frame = reg.aux as usize;
        if !reg.s.is_const() {
            return;
        }
        let base = reg.s.value() as i64 + reg.off as i64;
        for a in base..base + size {
            let si = Frame::slot_index(a);
            let bi = ((-a - 1) % 8) as usize;
            if let Some(slot) = st.frames[frame].stack.get_mut(si) {
                if slot.bytes[7] == Slot::Spill {
                    for b in slot.bytes.iter_mut() {
                        if *b == Slot::Spill {
                            *b = Slot::Misc;
                        }
                    }
                    slot.spilled = Reg::NOT_INIT;
                }
                slot.bytes[bi] = Slot::Misc;
            }
        }
    }

    fn check_max_stack_depth(&mut self) -> R<()> {
        // Walk the static call graph from main, as `check_max_stack_depth_subprog` does.
        let n = self.insns.len();
        let round = |d: u32| d.max(1).div_ceil(16) * 16;
        let mut calls: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.subs.len()];
        for pc in 0..n {
            if self.is_pseudo_call(pc) {
                let t = (pc as i64 + self.insns[pc].imm + 1) as usize;
                calls[self.sub_of[pc]].push((pc, self.sub_of[t]));
            }
        }
        let mut best: Option<(usize, u32, usize)> = None;
        // (sub, depth so far, frames)
        let mut stack = vec![(0usize, round(self.subs[0].stack_depth), 1usize)];
        let mut steps = 0;
        while let Some((s, depth, frames)) = stack.pop() {
            steps += 1;
            if steps > 100_000 {
                break;
            }
            if depth > MAX_BPF_STACK as u32 && best.is_none() {
                best = Some((frames, depth, s));
            }
            if frames >= MAX_CALL_FRAMES {
                continue;
            }
            for &(_, callee) in &calls[s] {
                let d = depth + round(self.subs[callee].stack_depth);
                stack.push((callee, d, frames + 1));
            }
        }
        if let Some((frames, depth, _)) = best {
            return fail(
                EACCES,
                format!("combined stack size of {frames} calls is {depth}. Too large"),
            );
        }
        Ok(())
    }
}

fn same_callsites(a: &State, b: &State) -> bool {
    a.frames.len() == b.frames.len()
        && a.frames
            .iter()
            .zip(&b.frames)
            .all(|(x, y)| x.callsite == y.callsite)
}

/// `widen_imprecise_scalars`: scalars that changed since the previous visit of the loop
/// head become unknown, so the loop converges.
fn widen_scalars(old: &State, cur: &mut State) {
    for (of, cf) in old.frames.iter().zip(cur.frames.iter_mut()) {
        for (o, c) in of.regs.iter().zip(cf.regs.iter_mut()) {
            if o.ty == Ty::Scalar && c.ty == Ty::Scalar && !reg_exact(o, c) {
                *c = Reg::unknown();
            }
        }
        for (os, cs) in of.stack.iter().zip(cf.stack.iter_mut()) {
            if os.bytes[7] == Slot::Spill
                && cs.bytes[7] == Slot::Spill
                && os.spilled.ty == Ty::Scalar
                && cs.spilled.ty == Ty::Scalar
                && !reg_exact(&os.spilled, &cs.spilled)
            {
                cs.spilled = Reg::unknown();
            }
        }
    }
}

fn st_lock(st: &State) -> bool {
    st.lock.is_some()
}

#[derive(Clone, Copy, Debug)]
enum StoreVal {
    Reg(u8, Reg),
    Imm(i64),
}

fn size_of(code: u8) -> i64 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn alu_str(op: u8) -> &'static str {
    match op {
        0x00 => "+=",
        0x10 => "-=",
        0x20 => "*=",
        0x30 => "/=",
        0x40 => "|=",
        0x50 => "&=",
        0x60 => "<<=",
        0x70 => ">>=",
        0x80 => "neg",
        0x90 => "%=",
        0xa0 => "^=",
        0xb0 => "=",
        0xc0 => "s>>=",
        _ => "?",
    }
}

fn byte_swap(v: u64, insn: &Insn, alu64: bool) -> u64 {
    let x = insn.code & 8 != 0;
    let to_be = x && !alu64;
    let swap = alu64 || to_be;
    match insn.imm {
        16 => {
            let t = v as u16;
            (if swap { t.swap_bytes() } else { t }) as u64
        }
        32 => {
            let t = v as u32;
            (if swap { t.swap_bytes() } else { t }) as u64
        }
        _ => {
            if swap {
                v.swap_bytes()
            } else {
                v
            }
        }
    }
}

fn tnum_short(t: Tnum) -> String {
    if t.is_const() {
        format!("{}", t.value as i64)
    } else {
        t.kernel_fmt()
    }
}

fn reg_width(r: &Reg) -> u32 {
    64 - r.s.umax.leading_zeros()
}

fn save_spill(slot: &mut StackSlot, v: Reg, size: i64) {
    slot.spilled = v;
    for i in 0..8 {
        if i >= 8 - size as usize {
            slot.bytes[i] = Slot::Spill;
        } else if slot.bytes[i] == Slot::Spill || slot.bytes[i] == Slot::Invalid {
            slot.bytes[i] = if slot.bytes[i] == Slot::Invalid {
                Slot::Invalid
            } else {
                Slot::Misc
            };
        }
    }
}

fn check_sane_offset(r: &Reg, tname: &str) -> R<()> {
    let known = r.s.is_const();
    let val = r.s.value() as i64;
    if known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF) {
        return fail(
            EINVAL,
            format!("math between {tname} pointer and {val} is not allowed"),
        );
    }
    if r.off as i64 >= MAX_VAR_OFF || r.off as i64 <= -MAX_VAR_OFF {
        return fail(
            EINVAL,
            format!("{tname} pointer offset {} is not allowed", r.off),
        );
    }
    if r.s.smin == i64::MIN {
        return fail(
            EINVAL,
            format!(
                "math between {tname} pointer and register with unbounded min value is not allowed"
            ),
        );
    }
    if r.s.smin >= MAX_VAR_OFF || r.s.smin <= -MAX_VAR_OFF {
        return fail(
            EINVAL,
            format!("value {} makes {tname} pointer be out of bounds", r.s.smin),
        );
    }
    Ok(())
}

fn check_ptr_off_reg(reg: &Reg, regno: u8, fixed_ok: bool) -> R<()> {
    let t = reg.type_name();
    if reg.off < 0 {
        return fail(
            EACCES,
            format!(
                "negative offset {t} ptr R{regno} off={} disallowed",
                reg.off
            ),
        );
    }
    if !fixed_ok && reg.off != 0 {
        return fail(
            EACCES,
            format!(
                "dereference of modified {t} ptr R{regno} off={} disallowed",
                reg.off
            ),
        );
    }
    if !reg.s.is_const() || reg.s.value() != 0 {
        return fail(
            EACCES,
            format!(
                "variable {t} access var_off={} disallowed",
                reg.s.var_off.kernel_fmt()
            ),
        );
    }
    Ok(())
}

fn mem_ok(
    reg: &Reg,
    regno: u8,
    off: i64,
    size: i64,
    mem_size: i64,
    zero_ok: bool,
) -> Result<(), String> {
    let size_ok = size > 0 || (size == 0 && zero_ok);
    if off >= 0 && size_ok && off + size <= mem_size {
        return Ok(());
    }
    Err(match reg.ty {
        Ty::MapKey => format!("invalid access to map key, key_size={mem_size} off={off} size={size}"),
        Ty::MapValue => {
            format!("invalid access to map value, value_size={mem_size} off={off} size={size}")
        }
        Ty::Pkt | Ty::PktMeta | Ty::PktEnd => format!(
            "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={mem_size})",
            reg.id
        ),
        _ => format!("invalid access to memory, mem_size={mem_size} off={off} size={size}"),
    })
}

fn check_packet_access(regno: u8, reg: &Reg, off: i64, size: i64, zero_ok: bool) -> R<()> {
    if reg.s.smin < 0 {
        return fail(
            EACCES,
            format!("R{regno} min value is negative, either use unsigned index or do a if (index >=0) check."),
        );
    }
    let res = if reg.range < 0 {
        Err(String::new())
    } else {
        mem_ok(reg, regno, off, size, reg.range as i64, zero_ok)
    };
    if let Err(first) = res {
        let last = format!("R{regno} offset is outside of the packet");
        if first.is_empty() {
            return fail(EACCES, last);
        }
        return fail2(EACCES, first, last);
    }
    Ok(())
}

fn check_sock_access(regno: u8, reg: &Reg, off: i64, size: i64) -> R<()> {
    let (ok, name) = match reg.ty {
        Ty::TcpSock => (
            (0..112).contains(&off)
                && off % size == 0
                && if off == 80 || off == 88 {
                    size == 8
                } else {
                    size == 4
                },
            "tcp_sock",
        ),
        Ty::SockCommon => (!(8..24).contains(&off) && sock_ok(off, size), "sock_common"),
        _ => (sock_ok(off, size), "sock"),
    };
    if !reg.s.is_const() || reg.s.value() != 0 {
        return fail(
            EACCES,
            format!("R{regno} variable offset {name} access prohibited"),
        );
    }
    if !ok {
        return fail(
            EACCES,
            format!("R{regno} invalid {name} access off={off} size={size}"),
        );
    }
    Ok(())
}

/// `bpf_sock_is_valid_access` on `struct bpf_sock` (80 bytes).
fn sock_ok(off: i64, size: i64) -> bool {
    if !(0..80).contains(&off) || off % size != 0 {
        return false;
    }
    let narrow = |fsize: i64| size <= fsize && (size & (size - 1)) == 0;
    match off {
        72 | 4 | 8 | 12 | 44 | 76 | 24..=27 | 28..=43 | 52..=55 | 56..=71 => narrow(4),
        48 | 49 => {
            if size == 4 {
                true
            } else {
                narrow(2)
            }
        }
        50 | 51 => false,
        _ => size == 4,
    }
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

fn branch_taken(dst: &Reg, src: &Reg, cmp: Cmp, w32: bool) -> Option<bool> {
    if dst.is_ptr() || src.is_ptr() {
        if (dst.is_pkt() || dst.ty == Ty::PktEnd) && (src.is_pkt() || src.ty == Ty::PktEnd) {
            return None;
        }
        let (p, s, cmp) = if src.ty == Ty::Scalar && src.s.is_const_w(w32) {
            (dst, src, cmp)
        } else {
            (src, dst, cmp.flip())
        };
        // `reg_not_null`: only these pointer types are known to be non-NULL.
        let not_null = matches!(
            p.ty,
            Ty::Sock
                | Ty::TcpSock
                | Ty::MapValue
                | Ty::MapKey
                | Ty::SockCommon
                | Ty::MapPtr
                | Ty::RingbufMem
        );
        if !(s.ty == Ty::Scalar && s.s.is_const_w(w32)) || p.maybe_null || !not_null {
            return None;
        }
        if s.s.const_w(w32) != 0 {
            return None;
        }
        return match cmp {
            Cmp::Eq => Some(false),
            Cmp::Ne => Some(true),
            _ => None,
        };
    }
    scalar::branch_taken(&dst.s, &src.s, cmp, w32)
}

/// `sync_linked_regs`: copies of a refined scalar learn the same bounds, shifted by the
/// constant each one added.
fn sync_linked(st: &mut State, known: &Reg) {
    let base = known.id & !ADD_CONST;
    st.for_each_reg(|r| {
        if r.ty != Ty::Scalar || r.id == 0 || r.id & !ADD_CONST != base {
            return;
        }
        let plain = r.id & ADD_CONST == 0 && known.id & ADD_CONST == 0;
        if plain || r.off == known.off {
            *r = *known;
        } else {
            let off = r.off;
            let delta = (r.off as i64 - known.off as i64) as u64;
            let mut s = known.s;
            scalar::alu(&mut s, &Scalar::known(delta), AluOp::Add, false);
            *r = Reg { s, off, ..*known };
        }
    });
}

fn mark_ptr_or_null(st: &mut State, reg: &Reg, is_null: bool) {
    let id = reg.id;
    if id == 0 {
        return;
    }
    if is_null && reg.ref_id != 0 && reg.ref_id == id {
        st.refs.retain(|r| r.id != id);
    }
    st.for_each_reg(|r| {
        if r.maybe_null && r.id == id {
            if is_null {
                *r = Reg::known(0);
            } else if r.ty == Ty::MapValue && r.mem_size != 0 {
                let inner = r.mem_size - 1;
                *r = Reg::ptr(Ty::MapPtr);
                r.aux = inner;
            } else {
                r.maybe_null = false;
                let keep_id = r.ty == Ty::MapValue || r.ref_id != 0;
                if !keep_id {
                    r.id = 0;
                }
            }
        }
    });
}

fn find_good_pkt_pointers(st: &mut State, ptr: &Reg, open: bool) {
    if ptr.off < 0 || (ptr.off == 0 && open) {
        return;
    }
    if ptr.s.umax > MAX_PACKET_OFF || ptr.s.umax + ptr.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let new_range = ptr.off + open as i32;
    let (ty, id) = (ptr.ty, ptr.id);
    st.for_each_reg(|r| {
        if r.ty == ty && r.id == id {
            r.range = r.range.max(new_range);
        }
    });
}

fn state_has_empty(st: &State) -> bool {
    st.cur()
        .regs
        .iter()
        .any(|r| r.ty == Ty::Scalar && r.s.is_empty())
}

/// Old-to-current id correspondence; it must be a bijection (`check_ids`).
#[derive(Default)]
struct IdMap {
    pairs: Vec<(u32, u32)>,
    tmp: u32,
}

fn check_ids(a: u32, b: u32, map: &mut IdMap) -> bool {
    if (a == 0) != (b == 0) {
        return false;
    }
    if a == 0 {
        return true;
    }
    for &(o, c) in &map.pairs {
        if o == a {
            return c == b;
        }
        if c == b {
            return false;
        }
    }
    map.pairs.push((a, b));
    true
}

/// Linked scalars in the old state must stay linked in the current one
/// (`check_scalar_ids`); unlinked ones get fresh temporary ids.
fn check_scalar_ids(a: u32, b: u32, map: &mut IdMap) -> bool {
    let fresh = |map: &mut IdMap| {
        map.tmp += 1;
        (1 << 31) | map.tmp
    };
    let a = if a == 0 { fresh(map) } else { a };
    let b = if b == 0 { fresh(map) } else { b };
    check_ids(a, b, map)
}

fn regsafe(old: &Reg, cur: &Reg, idmap: &mut IdMap) -> bool {
    if old.ty == Ty::NotInit {
        return true;
    }
    if cur.ty == Ty::NotInit {
        return false;
    }
    match old.ty {
        Ty::Scalar => {
            cur.ty == Ty::Scalar
                && (old.id & ADD_CONST) == (cur.id & ADD_CONST)
                && (old.id & ADD_CONST == 0 || old.off == cur.off)
                && old.s.covers(&cur.s)
                && check_scalar_ids(old.id, cur.id, idmap)
        }
        Ty::Pkt | Ty::PktMeta => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.range <= cur.range
                && old.off == cur.off
                && check_ids(old.id, cur.id, idmap)
                && old.s.covers(&cur.s)
        }
        Ty::MapValue | Ty::MapKey | Ty::RingbufMem => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.off == cur.off
                && old.aux == cur.aux
                && old.mem_size == cur.mem_size
                && old.s.covers(&cur.s)
                && check_ids(old.id, cur.id, idmap)
                && check_ids(old.ref_id, cur.ref_id, idmap)
        }
        Ty::Stack => {
            cur.ty == Ty::Stack && old.off == cur.off && old.aux == cur.aux && old.s == cur.s
        }
        _ => {
            cur.ty == old.ty
                && old.maybe_null == cur.maybe_null
                && old.off == cur.off
                && old.aux == cur.aux
                && old.s == cur.s
                && old.range == cur.range
                && check_ids(old.id, cur.id, idmap)
                && check_ids(old.ref_id, cur.ref_id, idmap)
        }
    }
}

fn stack_safe(old: &Frame, cur: &Frame, idmap: &mut IdMap) -> bool {
    for (si, os) in old.stack.iter().enumerate() {
        let cs = cur.stack.get(si).copied().unwrap_or(StackSlot::EMPTY);
        let old_spill = os.bytes[7] == Slot::Spill;
        let cur_spill = cs.bytes[7] == Slot::Spill;
        if old_spill && os.bytes.iter().all(|b| *b == Slot::Spill) {
            if !cur_spill {
                // A spilled scalar is covered by misc bytes only if it is unknown.
                if os.spilled.ty == Ty::Scalar
                    && os.spilled.s == Scalar::UNKNOWN
                    && cs
                        .bytes
                        .iter()
                        .all(|b| matches!(b, Slot::Misc | Slot::Zero))
                {
                    continue;
                }
                return false;
            }
            if !regsafe(&os.spilled, &cs.spilled, idmap) {
                return false;
            }
            continue;
        }
        for i in 0..8 {
            let (o, c) = (os.bytes[i], cs.bytes[i]);
            match o {
                Slot::Invalid | Slot::Misc => {}
                Slot::Zero => {
                    if c != Slot::Zero && !(c == Slot::Spill && cs.spilled.s == Scalar::known(0)) {
                        return false;
                    }
                }
                Slot::Spill => {
                    if c != Slot::Spill {
                        return false;
                    }
                }
            }
        }
        if old_spill && !regsafe(&os.spilled, &cs.spilled, idmap) {
            return false;
        }
    }
    true
}

fn looping_equal(old: &State, cur: &State) -> bool {
    if old.frames.len() != cur.frames.len() || old.refs.len() != cur.refs.len() {
        return false;
    }
    for (a, b) in old.frames.iter().zip(&cur.frames) {
        if a.callsite != b.callsite {
            return false;
        }
        for (x, y) in a.regs.iter().zip(&b.regs) {
            if !reg_exact(x, y) {
                return false;
            }
        }
        let n = a.stack.len().max(b.stack.len());
        for i in 0..n {
            let sa = a.stack.get(i).copied().unwrap_or(StackSlot::EMPTY);
            let sb = b.stack.get(i).copied().unwrap_or(StackSlot::EMPTY);
            if sa.bytes != sb.bytes {
                return false;
            }
            if sa.bytes[7] == Slot::Spill && !reg_exact(&sa.spilled, &sb.spilled) {
                return false;
            }
        }
    }
    true
}

fn reg_exact(a: &Reg, b: &Reg) -> bool {
    a.ty == b.ty
        && a.maybe_null == b.maybe_null
        && a.off == b.off
        && a.s == b.s
        && a.range == b.range
        && a.aux == b.aux
        && (a.id == 0) == (b.id == 0)
}
