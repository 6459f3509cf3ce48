//! Loading: instructions are decoded once into [`Op`]s, a 16-byte form built for dispatch —
//! the operation, width and operand source are one tag; jump and call targets are op
//! indexes; `lddw` (with its map or function reference resolved) is a single move.

use crate::error::LoadError;
use crate::mem::{Region, R_MAPVAL0};
use crate::ProgType;
use asm::insn::Lenient;
use asm::isa::{
    AluOp, AtomicOp, ByteOrder, CallKind, Cond, Form, PacketMode, Pseudo, Size, Source, Width,
};
use asm::Insn;

/// The operation of an [`Op`]. `I`/`X` suffixes: immediate or register operand.
#[allow(missing_docs, non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum K {
    Add64I,
    Sub64I,
    Mul64I,
    Div64I,
    SDiv64I,
    Or64I,
    And64I,
    Lsh64I,
    Rsh64I,
    Mod64I,
    SMod64I,
    Xor64I,
    Mov64I,
    Arsh64I,
    Add64X,
    Sub64X,
    Mul64X,
    Div64X,
    SDiv64X,
    Or64X,
    And64X,
    Lsh64X,
    Rsh64X,
    Mod64X,
    SMod64X,
    Xor64X,
    Mov64X,
    Arsh64X,
    Add32I,
    Sub32I,
    Mul32I,
    Div32I,
    SDiv32I,
    Or32I,
    And32I,
    Lsh32I,
    Rsh32I,
    Mod32I,
    SMod32I,
    Xor32I,
    Mov32I,
    Arsh32I,
    Add32X,
    Sub32X,
    Mul32X,
    Div32X,
    SDiv32X,
    Or32X,
    And32X,
    Lsh32X,
    Rsh32X,
    Mod32X,
    SMod32X,
    Xor32X,
    Mov32X,
    Arsh32X,
    Neg64,
    Neg32,
    MovSx64_8,
    MovSx64_16,
    MovSx64_32,
    MovSx32_8,
    MovSx32_16,
    Le16,
    Le32,
    Be16,
    Be32,
    Be64,
    Swap16,
    Swap32,
    Swap64,
    Nop,
    Ldx8,
    Ldx16,
    Ldx32,
    Ldx64,
    LdxS8,
    LdxS16,
    LdxS32,
    St8,
    St16,
    St32,
    St64,
    Stx8,
    Stx16,
    Stx32,
    Stx64,
    Atomic32,
    Atomic64,
    LdAbs8,
    LdAbs16,
    LdAbs32,
    LdInd8,
    LdInd16,
    LdInd32,
    Ja,
    Jeq64I,
    Jgt64I,
    Jge64I,
    Jset64I,
    Jne64I,
    Jsgt64I,
    Jsge64I,
    Jlt64I,
    Jle64I,
    Jslt64I,
    Jsle64I,
    Jeq64X,
    Jgt64X,
    Jge64X,
    Jset64X,
    Jne64X,
    Jsgt64X,
    Jsge64X,
    Jlt64X,
    Jle64X,
    Jslt64X,
    Jsle64X,
    Jeq32I,
    Jgt32I,
    Jge32I,
    Jset32I,
    Jne32I,
    Jsgt32I,
    Jsge32I,
    Jlt32I,
    Jle32I,
    Jslt32I,
    Jsle32I,
    Jeq32X,
    Jgt32X,
    Jge32X,
    Jset32X,
    Jne32X,
    Jsgt32X,
    Jsge32X,
    Jlt32X,
    Jle32X,
    Jslt32X,
    Jsle32X,
    MayGoto,
    Call,
    CallLocal,
    Callx,
    TailCall,
    Exit,
    FellOff,
    /// An encoding the kernel loads but rejects where its verifier reaches it
    /// ([`asm::insn::Lenient::Invalid`]): faults if run.
    Trap,
    // Fused pairs (see `fuse`).
    MovAddI,
    MovAddX,
    LdxBe16,
    LdxBe32,
    AddJltI,
    AddJneI,
    AddJleI,
    AddJgtI,
}

/// One decoded instruction in dispatch form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    pub k: K,
    pub dst: u8,
    pub src: u8,
    /// Memory offset, or the target op index of a jump or local call.
    pub off: i32,
    /// Immediate (sign-extended, or the folded 64-bit `lddw` value); atomics: the op code.
    pub imm: u64,
}

/// A loaded program: ops plus the mapping back to slot indexes.
#[derive(Clone, Debug)]
pub struct Program {
    /// Ops with common pairs fused (for plain runs).
    pub(crate) ops: Vec<Op>,
    /// One op per instruction (for traced runs).
    pub(crate) plain: Vec<Op>,
    /// Slot index of each op (one extra entry for the end sentinel).
    pub(crate) slots: Vec<u32>,
    /// Op index of each slot (`u32::MAX` inside an `lddw`), one extra for the end.
    pub(crate) index_of_slot: Vec<u32>,
    /// For each op of `ops`: the instructions run from it to the end of its straight-line
    /// block (see [`block_rem`]); the interpreter charges the budget once per block.
    pub(crate) rem: Vec<u32>,
    /// Whether `ops` carry their successors' block lengths (see [`embed_rem`]), so the
    /// block-wise interpreter can run them; if not, runs go step by step.
    pub(crate) blockwise: bool,
    pub(crate) insns: Vec<Insn>,
    pub(crate) prog_type: Option<ProgType>,
}

impl Program {
    /// The program type it was loaded as.
    pub fn prog_type(&self) -> Option<ProgType> {
        self.prog_type
    }

    /// The instructions, as decoded.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// Slot index of op `i`.
    pub(crate) fn slot(&self, i: usize) -> usize {
        self.slots.get(i).copied().unwrap_or(0) as usize
    }
}

/// Resolves map references of `lddw`: `(fd or index, by_index) -> (map index, map)`.
pub(crate) trait MapLookup {
    fn by_fd(&self, fd: i64) -> Option<(u32, &crate::maps::Map)>;
    fn by_index(&self, idx: i64) -> Option<(u32, &crate::maps::Map)>;
}

const ALU_ORDER: [AluOp; 14] = [
    AluOp::Add,
    AluOp::Sub,
    AluOp::Mul,
    AluOp::Div,
    AluOp::SDiv,
    AluOp::Or,
    AluOp::And,
    AluOp::Lsh,
    AluOp::Rsh,
    AluOp::Mod,
    AluOp::SMod,
    AluOp::Xor,
    AluOp::Mov,
    AluOp::Arsh,
];
const COND_ORDER: [Cond; 11] = [
    Cond::Eq,
    Cond::Gt,
    Cond::Ge,
    Cond::Set,
    Cond::Ne,
    Cond::Sgt,
    Cond::Sge,
    Cond::Lt,
    Cond::Le,
    Cond::Slt,
    Cond::Sle,
];

fn kind_from(base: K, n: usize) -> K {
    // The ALU and jump tags are laid out in blocks in `ALU_ORDER`/`COND_ORDER`; indexing a
    // table of all tags keeps this safe without transmute.
    ALL_KINDS[base as usize + n]
}

macro_rules! all_kinds {
    ($($k:ident),* $(,)?) => { const ALL_KINDS: &[K] = &[$(K::$k),*]; };
}
all_kinds!(
    Add64I, Sub64I, Mul64I, Div64I, SDiv64I, Or64I, And64I, Lsh64I, Rsh64I, Mod64I, SMod64I,
    Xor64I, Mov64I, Arsh64I, Add64X, Sub64X, Mul64X, Div64X, SDiv64X, Or64X, And64X, Lsh64X,
    Rsh64X, Mod64X, SMod64X, Xor64X, Mov64X, Arsh64X, Add32I, Sub32I, Mul32I, Div32I, SDiv32I,
    Or32I, And32I, Lsh32I, Rsh32I, Mod32I, SMod32I, Xor32I, Mov32I, Arsh32I, Add32X, Sub32X,
    Mul32X, Div32X, SDiv32X, Or32X, And32X, Lsh32X, Rsh32X, Mod32X, SMod32X, Xor32X, Mov32X,
    Arsh32X, Neg64, Neg32, MovSx64_8, MovSx64_16, MovSx64_32, MovSx32_8, MovSx32_16, Le16, Le32,
    Be16, Be32, Be64, Swap16, Swap32, Swap64, Nop, Ldx8, Ldx16, Ldx32, Ldx64, LdxS8, LdxS16,
    LdxS32, St8, St16, St32, St64, Stx8, Stx16, Stx32, Stx64, Atomic32, Atomic64, LdAbs8, LdAbs16,
    LdAbs32, LdInd8, LdInd16, LdInd32, Ja, Jeq64I, Jgt64I, Jge64I, Jset64I, Jne64I, Jsgt64I,
    Jsge64I, Jlt64I, Jle64I, Jslt64I, Jsle64I, Jeq64X, Jgt64X, Jge64X, Jset64X, Jne64X, Jsgt64X,
    Jsge64X, Jlt64X, Jle64X, Jslt64X, Jsle64X, Jeq32I, Jgt32I, Jge32I, Jset32I, Jne32I, Jsgt32I,
    Jsge32I, Jlt32I, Jle32I, Jslt32I, Jsle32I, Jeq32X, Jgt32X, Jge32X, Jset32X, Jne32X, Jsgt32X,
    Jsge32X, Jlt32X, Jle32X, Jslt32X, Jsle32X, MayGoto, Call, CallLocal, Callx, TailCall, Exit,
    FellOff, Trap, MovAddI, MovAddX, LdxBe16, LdxBe32, AddJltI, AddJneI, AddJleI, AddJgtI,
);

fn size_idx(size: Size) -> usize {
    match size {
        Size::B => 0,
        Size::H => 1,
        Size::W => 2,
        Size::DW => 3,
    }
}

/// Compiles decoded instructions.
pub(crate) fn compile(
    decoded: &[Lenient],
    prog_type: Option<ProgType>,
    maps: &dyn MapLookup,
) -> Result<Program, LoadError> {
    if decoded.is_empty() {
        return Err(LoadError::Empty);
    }
    let nslots: usize = decoded.iter().map(|d| d.slots()).sum();
    let mut index_of_slot = vec![u32::MAX; nslots + 1];
    let mut slots = Vec::with_capacity(decoded.len() + 1);
    for (i, d) in decoded.iter().enumerate() {
        index_of_slot[d.pc()] = i as u32;
        slots.push(d.pc() as u32);
    }
    index_of_slot[nslots] = decoded.len() as u32;
    slots.push(nslots as u32);

    let target = |pc: usize, rel: i64, what: &'static str| -> Result<i32, LoadError> {
        let t = pc as i64 + 1 + rel;
        let bad = |why: String| LoadError::BadTarget {
            pc,
            what,
            target: t,
            why,
        };
        if t < 0 || t >= nslots as i64 {
            return Err(bad(format!("outside the program ({nslots} slots)")));
        }
        match index_of_slot[t as usize] {
            u32::MAX => Err(bad("the second slot of an lddw".into())),
            i => Ok(i as i32),
        }
    };

    let mut ops = Vec::with_capacity(decoded.len() + 1);
    let mut func_targets = Vec::new();
    for item in decoded {
        let d = match item {
            Lenient::Valid(d) => d,
            Lenient::Invalid { .. } => {
                ops.push(Op {
                    k: K::Trap,
                    dst: 0,
                    src: 0,
                    off: 0,
                    imm: 0,
                });
                continue;
            }
        };
        let Insn {
            dst, src, off, imm, ..
        } = d.insn;
        let pc = d.pc;
        let mut op = Op {
            k: K::Nop,
            dst,
            src,
            off: off as i32,
            imm: imm as u64,
        };
        op.k = match d.def.form {
            Form::Alu {
                op: aop,
                width,
                source,
            } => {
                let n = ALU_ORDER.iter().position(|&o| o == aop).unwrap_or(0);
                let base = match (width, source) {
                    (Width::W64, Source::Imm) => K::Add64I,
                    (Width::W64, Source::Reg) => K::Add64X,
                    (Width::W32, Source::Imm) => K::Add32I,
                    (Width::W32, Source::Reg) => K::Add32X,
                };
                if source == Source::Imm {
                    let bits = if width == Width::W64 { 63 } else { 31 };
                    op.imm = match (aop, width) {
                        // Out-of-range constant shifts are rejected by the kernel's verifier
                        // ("invalid shift"); the VM masks them like register shifts, as the
                        // conformance suite expects.
                        (AluOp::Lsh | AluOp::Rsh | AluOp::Arsh, _) => imm as u64 & bits,
                        (_, Width::W32) => imm as u32 as u64,
                        _ => imm as u64,
                    };
                }
                kind_from(base, n)
            }
            Form::Neg { width: Width::W64 } => K::Neg64,
            Form::Neg { width: Width::W32 } => K::Neg32,
            Form::MovSx { width, from } => match (width, from) {
                (Width::W64, 8) => K::MovSx64_8,
                (Width::W64, 16) => K::MovSx64_16,
                (Width::W64, _) => K::MovSx64_32,
                (Width::W32, 8) => K::MovSx32_8,
                (Width::W32, _) => K::MovSx32_16,
            },
            Form::AddrSpaceCast => {
                return Err(LoadError::Unsupported {
                    pc,
                    name: d.def.name,
                    why: "it converts BPF arena pointers, and the VM has no arena",
                })
            }
            Form::Endian { order, bits } => match (order, bits) {
                (ByteOrder::Le, 16) => K::Le16,
                (ByteOrder::Le, 32) => K::Le32,
                (ByteOrder::Le, _) => K::Nop,
                (ByteOrder::Be, 16) => K::Be16,
                (ByteOrder::Be, 32) => K::Be32,
                (ByteOrder::Be, _) => K::Be64,
                (ByteOrder::Swap, 16) => K::Swap16,
                (ByteOrder::Swap, 32) => K::Swap32,
                (ByteOrder::Swap, _) => K::Swap64,
            },
            Form::Load {
                size,
                signed: false,
            } => [K::Ldx8, K::Ldx16, K::Ldx32, K::Ldx64][size_idx(size)],
            Form::Load { size, signed: true } => {
                [K::LdxS8, K::LdxS16, K::LdxS32, K::Ldx64][size_idx(size)]
            }
            Form::Store {
                size,
                source: Source::Imm,
            } => [K::St8, K::St16, K::St32, K::St64][size_idx(size)],
            Form::Store {
                size,
                source: Source::Reg,
            } => [K::Stx8, K::Stx16, K::Stx32, K::Stx64][size_idx(size)],
            Form::Atomic {
                size,
                op: AtomicOp::LoadAcquire,
            } => {
                // load_acquire: dst = *(size *)(src + off); one thread, so a plain load.
                [K::Ldx8, K::Ldx16, K::Ldx32, K::Ldx64][size_idx(size)]
            }
            Form::Atomic {
                size,
                op: AtomicOp::StoreRelease,
            } => [K::Stx8, K::Stx16, K::Stx32, K::Stx64][size_idx(size)],
            Form::Atomic { size, op: _ } => {
                op.imm = imm as u32 as u64;
                if size == Size::W {
                    K::Atomic32
                } else {
                    K::Atomic64
                }
            }
            Form::LoadPacket { mode, size } => {
                let i = match size {
                    Size::B => 0,
                    Size::H => 1,
                    _ => 2,
                };
                op.imm = imm as i32 as i64 as u64;
                match mode {
                    PacketMode::Abs => [K::LdAbs8, K::LdAbs16, K::LdAbs32][i],
                    PacketMode::Ind => [K::LdInd8, K::LdInd16, K::LdInd32][i],
                }
            }
            Form::LoadImm64 => {
                op.imm = match d.insn.pseudo().unwrap_or(Pseudo::None) {
                    Pseudo::None => imm as u64,
                    Pseudo::MapFd | Pseudo::MapIdx => {
                        let by_idx = d.insn.src == Pseudo::MapIdx.src();
                        let handle = imm as i32 as i64;
                        let found = if by_idx {
                            maps.by_index(handle)
                        } else {
                            maps.by_fd(handle)
                        };
                        let (idx, map) = found.ok_or(LoadError::UnknownMap {
                            pc,
                            handle,
                            how: if by_idx { "index" } else { "fd" },
                        })?;
                        if let Some(reason) = map.creation_error() {
                            return Err(LoadError::MapNotCreated {
                                pc,
                                map: map.spec().name.clone(),
                                reason: reason.clone(),
                            });
                        }
                        if map.is_inert() {
                            return Err(LoadError::UnsupportedMap {
                                pc,
                                map: map.spec().name.clone(),
                                map_type: map.spec().map_type,
                            });
                        }
                        Region::MapHandle.addr(idx)
                    }
                    Pseudo::MapValue | Pseudo::MapIdxValue => {
                        let by_idx = d.insn.src == Pseudo::MapIdxValue.src();
                        let handle = imm as i32 as i64;
                        let value_off = (imm >> 32) as u32;
                        let found = if by_idx {
                            maps.by_index(handle)
                        } else {
                            maps.by_fd(handle)
                        };
                        let (idx, map) = found.ok_or(LoadError::UnknownMap {
                            pc,
                            handle,
                            how: if by_idx { "index" } else { "fd" },
                        })?;
                        let def = map.spec();
                        // array_map_direct_value_addr: only single-element plain arrays.
                        if def.map_type != crate::MapType::Array || def.max_entries != 1 {
                            return Err(LoadError::BadMapValue {
                                pc,
                                reason: "direct value access needs an array map with max_entries 1"
                                    .into(),
                            });
                        }
                        if value_off >= def.value_size {
                            return Err(LoadError::BadMapValue {
                                pc,
                                reason: format!(
                                    "value offset {value_off} is past the value size {}",
                                    def.value_size
                                ),
                            });
                        }
                        crate::mem::addr(R_MAPVAL0 + idx, value_off as u64)
                    }
                    Pseudo::Func => {
                        // The address names the target slot, as a user reads it.
                        let rel = imm as i32 as i64;
                        func_targets.push(target(pc, rel, "function address")? as usize);
                        Region::Code.addr((pc as i64 + 1 + rel) as u32)
                    }
                    Pseudo::BtfId => {
                        return Err(LoadError::Unsupported {
                            pc,
                            name: d.def.name,
                            why: "BTF variable addresses need a running kernel",
                        })
                    }
                };
                K::Mov64I
            }
            Form::Jump {
                cond,
                width,
                source,
            } => {
                let n = COND_ORDER.iter().position(|&c| c == cond).unwrap_or(0);
                let base = match (width, source) {
                    (Width::W64, Source::Imm) => K::Jeq64I,
                    (Width::W64, Source::Reg) => K::Jeq64X,
                    (Width::W32, Source::Imm) => K::Jeq32I,
                    (Width::W32, Source::Reg) => K::Jeq32X,
                };
                if width == Width::W32 && source == Source::Imm {
                    op.imm = imm as u32 as u64;
                }
                op.off = target(pc, off as i64, "jump")?;
                kind_from(base, n)
            }
            Form::Ja | Form::MayGoto => {
                op.off = target(pc, off as i64, "jump")?;
                if d.def.form == Form::Ja {
                    K::Ja
                } else {
                    K::MayGoto
                }
            }
            Form::Gotol => {
                op.off = target(pc, imm, "jump")?;
                K::Ja
            }
            Form::Call(CallKind::Helper) if imm == 12 => K::TailCall,
            Form::Call(CallKind::Helper) => {
                op.imm = imm as u32 as u64;
                K::Call
            }
            Form::Call(CallKind::Local) => {
                op.off = target(pc, imm, "call")?;
                K::CallLocal
            }
            Form::Call(CallKind::Kfunc) => {
                return Err(LoadError::Unsupported {
                    pc,
                    name: d.def.name,
                    why: "kfuncs are kernel functions found through BTF",
                })
            }
            Form::Callx => K::Callx,
            Form::Exit => K::Exit,
        };
        ops.push(op);
    }
    ops.push(Op {
        k: K::FellOff,
        dst: 0,
        src: 0,
        off: 0,
        imm: 0,
    });
    check_subprogs(&ops, &slots, &func_targets)?;
    let mut fused = fuse(&ops, &func_targets);
    let rem = block_rem(&fused);
    let blockwise = embed_rem(&mut fused, &rem);
    Ok(Program {
        rem,
        blockwise,
        ops: fused,
        plain: ops,
        slots,
        index_of_slot,
        insns: decoded.iter().map(|d| d.insn()).collect(),
        prog_type,
    })
}

/// The kernel's `check_subprogs`: a subprogram (the main one, and each target of a local
/// call or function address) must end with `exit` or an unconditional jump, so execution
/// cannot fall into the next one, and no jump may leave its subprogram.
fn check_subprogs(ops: &[Op], slots: &[u32], func_targets: &[usize]) -> Result<(), LoadError> {
    let n = ops.len() - 1; // without the end sentinel
    let mut starts: Vec<usize> = ops[..n]
        .iter()
        .filter(|o| o.k == K::CallLocal)
        .map(|o| o.off as usize)
        .collect();
    starts.extend_from_slice(func_targets);
    starts.push(0);
    starts.push(n);
    starts.sort_unstable();
    starts.dedup();
    for w in starts.windows(2) {
        let (start, end) = (w[0], w[1]);
        for (i, op) in ops.iter().enumerate().take(end).skip(start) {
            let k = op.k as usize;
            if (K::Ja as usize..=K::Jsle32X as usize).contains(&k) || op.k == K::MayGoto {
                let t = op.off as usize;
                if t < start || t >= end {
                    return Err(LoadError::BadTarget {
                        pc: slots[i] as usize,
                        what: "jump",
                        target: slots[t] as i64,
                        why: format!(
                            "outside its subprogram (slots {} to {})",
                            slots[start],
                            slots[end] - 1
                        ),
                    });
                }
            }
        }
        // A trap never falls through (the kernel's check looks at the opcode byte only, and
        // an invalid `exit` or `goto` there loads when the verifier does not reach it).
        if !matches!(ops[end - 1].k, K::Exit | K::Ja | K::Trap) {
            return Err(LoadError::NoExit {
                pc: slots[end - 1] as usize,
            });
        }
    }
    Ok(())
}

/// Fuses pairs that compiled programs use all the time into one op, so they cost one
/// dispatch: `rX = rY; rX += imm|rZ` (pointer arithmetic), `ldxh/ldxw` + `be16/be32` (header
/// fields), `rX += imm; if rX <cond> imm goto` (loop counters). The second instruction stays
/// in place and no pair is fused whose second instruction is a jump target, so the same op
/// indexes work for the unfused ops, which the interpreter runs one by one when the budget
/// runs short and when tracing.
fn fuse(ops: &[Op], func_targets: &[usize]) -> Vec<Op> {
    let mut target = vec![false; ops.len()];
    for op in ops {
        let k = op.k as usize;
        if (K::Ja as usize..=K::Jsle32X as usize).contains(&k)
            || matches!(op.k, K::MayGoto | K::CallLocal)
        {
            if let Some(t) = target.get_mut(op.off as usize) {
                *t = true;
            }
        }
    }
    for &t in func_targets {
        if let Some(t) = target.get_mut(t) {
            *t = true;
        }
    }
    let mut out = ops.to_vec();
    for i in 0..ops.len().saturating_sub(1) {
        let (a, b) = (ops[i], ops[i + 1]);
        if target[i + 1] || a.dst != b.dst {
            continue;
        }
        out[i] = match (a.k, b.k) {
            (K::Mov64X, K::Add64I) => Op {
                k: K::MovAddI,
                imm: b.imm,
                ..a
            },
            (K::Mov64X, K::Add64X) => Op {
                k: K::MovAddX,
                imm: b.src as u64,
                ..a
            },
            (K::Ldx16, K::Be16) => Op { k: K::LdxBe16, ..a },
            (K::Ldx32, K::Be32) => Op { k: K::LdxBe32, ..a },
            (K::Add64I, K::Jlt64I | K::Jne64I | K::Jle64I | K::Jgt64I)
                if a.imm as i64 == a.imm as i8 as i64 =>
            {
                let k = match b.k {
                    K::Jlt64I => K::AddJltI,
                    K::Jne64I => K::AddJneI,
                    K::Jle64I => K::AddJleI,
                    _ => K::AddJgtI,
                };
                // The increment (a small constant in loops) goes in `src`, so the
                // immediate has room for the comparand and the block lengths.
                Op {
                    k,
                    dst: a.dst,
                    src: a.imm as u8,
                    off: b.off,
                    imm: b.imm,
                }
            }
            _ => continue,
        };
    }
    out
}

impl K {
    /// Instructions this op stands for (fused pairs: 2).
    pub(crate) fn len(self) -> usize {
        match self {
            K::MovAddI
            | K::MovAddX
            | K::LdxBe16
            | K::LdxBe32
            | K::AddJltI
            | K::AddJneI
            | K::AddJleI
            | K::AddJgtI => 2,
            _ => 1,
        }
    }

    /// Whether the op may transfer control anywhere but to the next op: a block ends here.
    pub(crate) fn ends_block(self) -> bool {
        let k = self as usize;
        (K::Ja as usize..=K::Jsle32X as usize).contains(&k)
            || (K::AddJltI as usize..=K::AddJgtI as usize).contains(&k)
            || matches!(
                self,
                K::MayGoto | K::CallLocal | K::Callx | K::TailCall | K::Exit | K::FellOff | K::Trap
            )
    }
}

/// For each op: how many instructions run from it through the end of its block (the next
/// op that [ends a block](K::ends_block), included), following fused ops past their second
/// half. Execution enters a block only at the op after a block end, so the interpreter can
/// check and charge the budget once on entry; an exit in mid-block (a helper's
/// `Exit`, a failed `ld_abs`) subtracts what it did not run.
pub(crate) fn block_rem(ops: &[Op]) -> Vec<u32> {
    let mut rem = vec![0u32; ops.len()];
    for i in (0..ops.len()).rev() {
        let len = ops[i].k.len();
        let rest = match rem.get(i + len) {
            Some(&r) if !ops[i].k.ends_block() => r,
            _ => 0,
        };
        rem[i] = rest.saturating_add(len as u32);
    }
    rem
}

/// Puts the block lengths of both successors of each jump into the high half of its
/// immediate (taken: bits 32..48, not taken: bits 48..64), where the interpreter reads them
/// without another lookup; immediate operands of jumps are 32-bit, so the low half keeps
/// the comparand. Returns false (and the program runs step by step) if a length or
/// comparand does not fit.
fn embed_rem(ops: &mut [Op], rem: &[u32]) -> bool {
    for (i, slot) in ops.iter_mut().enumerate() {
        let op = *slot;
        let k = op.k as usize;
        let jump = (K::Ja as usize..=K::MayGoto as usize).contains(&k)
            || (K::AddJltI as usize..=K::AddJgtI as usize).contains(&k);
        if !jump {
            continue;
        }
        let taken = rem.get(op.off as usize).copied();
        let fall = rem.get(i + op.k.len()).copied().unwrap_or(0);
        let (Some(Ok(taken)), Ok(fall)) = (taken.map(u16::try_from), u16::try_from(fall)) else {
            return false;
        };
        if op.imm as i32 as i64 as u64 != op.imm && op.imm >> 32 != 0 {
            return false;
        }
        slot.imm = (op.imm as u32 as u64) | (taken as u64) << 32 | (fall as u64) << 48;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_table_matches_enum_order() {
        for (i, k) in ALL_KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
        assert_eq!(kind_from(K::Add32X, 13), K::Arsh32X);
        assert_eq!(kind_from(K::Jeq32X, 10), K::Jsle32X);
    }

    #[test]
    fn op_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 16);
    }
}
