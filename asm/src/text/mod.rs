//! Text forms of eBPF: the dialects' parsers produce [`Stmt`]s, [`resolve`] turns them into
//! instructions (labels, constants and helper names are resolved here, once, for every
//! dialect), and each dialect's printer turns instructions back into text.

use crate::diag::{Diagnostic, Span};
use crate::insn::Insn;
use crate::isa::{CallKind, Form, OpDef};
use std::collections::HashMap;

pub mod data_file;
pub mod helpers;
pub mod kernel;
pub mod llvm;
pub mod ubpf;

/// Assembles a source text in a dialect (`Dialect::Kernel` text is parsed by the LLVM
/// parser, which accepts the verifier log's spellings). Reports every error in the text.
pub fn assemble(src: &str, dialect: Dialect) -> Result<Assembled, Vec<Diagnostic>> {
    let stmts = match dialect {
        Dialect::Llvm | Dialect::Kernel => llvm::parse(src)?,
        Dialect::Ubpf => ubpf::parse(src)?,
    };
    resolve(stmts)
}

/// Prints one instruction in a dialect, without a trailing newline. Jump and call targets
/// are printed relative (`goto +3`), so the text reassembles to the same bytes anywhere.
pub fn print_insn(insn: &Insn, dialect: Dialect) -> String {
    match dialect {
        Dialect::Llvm => llvm::print(insn),
        Dialect::Ubpf => ubpf::print(insn),
        Dialect::Kernel => kernel::print(insn),
    }
}

/// Prints a program, one instruction per line.
pub fn disassemble(insns: &[Insn], dialect: Dialect) -> String {
    let mut out = String::new();
    for insn in insns {
        out.push_str(&print_insn(insn, dialect));
        out.push('\n');
    }
    out
}

/// The text dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// LLVM's BPF assembly (`r0 = *(u32 *)(r1 + 4)`), as llvm-mc and llvm-objdump use it.
    #[default]
    Llvm,
    /// The ubpf / bpf_conformance mnemonics (`ldxw %r0, [%r1+4]`).
    Ubpf,
    /// The spelling of the kernel's verifier log and bpftool (print only; parsed as `Llvm`).
    Kernel,
}

/// A value in an operand that may need resolving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A literal number (wide enough for any `u64` or `i64` spelling).
    Num(i128),
    /// A name: a label (for jump targets and local calls), an `.equ` constant, or a helper.
    Name(String),
    /// A pc-relative jump written as a number (`+3`, `-1`, `pc+3`).
    Rel(i128),
}

/// An operand value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    /// The value.
    pub value: Value,
    /// Its place in the source.
    pub span: Span,
}

impl Operand {
    /// A literal number.
    pub fn num(n: i128, span: Span) -> Operand {
        Operand {
            value: Value::Num(n),
            span,
        }
    }
}

/// An instruction whose operands may still name labels or constants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingInsn {
    /// The table entry (for `call` by name, the parser picks the helper entry; a label
    /// target turns it into a local call during resolution).
    pub def: &'static OpDef,
    /// `dst` field.
    pub dst: u8,
    /// `src` field (register or pseudo source).
    pub src: u8,
    /// `off` field: a memory offset or a jump target.
    pub off: Option<Operand>,
    /// `imm` field: an immediate, a call target or a `gotol` target.
    pub imm: Option<Operand>,
    /// The whole instruction.
    pub span: Span,
}

/// One statement of a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// `name:`
    Label {
        /// The label.
        name: String,
        /// Where it is defined.
        span: Span,
    },
    /// `.equ NAME, value` (also `.set`, `NAME = value` where a dialect allows it).
    Equ {
        /// The constant's name.
        name: String,
        /// Its value.
        value: Operand,
        /// The whole directive.
        span: Span,
    },
    /// An instruction.
    Insn(PendingInsn),
}

/// The result of assembling a text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assembled {
    /// The instructions, in order.
    pub insns: Vec<Insn>,
    /// The source span of each instruction (same length as `insns`).
    pub spans: Vec<Span>,
    /// Labels and the slot index they name.
    pub labels: Vec<(String, usize)>,
    /// Non-fatal findings.
    pub warnings: Vec<Diagnostic>,
}

impl Assembled {
    /// The binary form.
    pub fn bytes(&self) -> Vec<u8> {
        crate::insn::encode(&self.insns)
    }

    /// The instruction index whose slot is `pc`, if an instruction starts there.
    pub fn index_of_pc(&self, pc: usize) -> Option<usize> {
        let mut slot = 0;
        for (i, insn) in self.insns.iter().enumerate() {
            if slot == pc {
                return Some(i);
            }
            slot += insn.slots();
        }
        None
    }
}

/// Ranges that operand fields accept.
pub mod range {
    /// `off`: a signed 16-bit field.
    pub const OFF: std::ops::RangeInclusive<i128> = i16::MIN as i128..=i16::MAX as i128;
    /// `imm`: llvm-mc accepts any value that fits 32 bits, signed or unsigned
    /// (`r0 = 0xffffffff` is `r0 = -1`).
    pub const IMM: std::ops::RangeInclusive<i128> = i32::MIN as i128..=u32::MAX as i128;
    /// A 64-bit immediate, signed or unsigned.
    pub const IMM64: std::ops::RangeInclusive<i128> = i64::MIN as i128..=u64::MAX as i128;
}

/// Adds to a dialect's syntax errors what [`resolve`] finds in the statements that did parse
/// (values out of range, unknown names), so one pass shows every problem. Jump distances are
/// left out: with the bad lines missing they would be measured wrongly.
pub(crate) fn with_resolution_errors(
    stmts: Vec<Stmt>,
    mut errors: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    if let Err(more) = resolve(stmts) {
        errors.extend(
            more.into_iter()
                .filter(|d| !d.message.starts_with("jump offset")),
        );
    }
    errors.sort_by_key(|d| (d.span.start, d.span.end));
    errors
}

/// Resolves labels, constants and helper names, checks ranges, and produces instructions.
/// Reports every error found, not only the first.
pub fn resolve(stmts: Vec<Stmt>) -> Result<Assembled, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut labels: HashMap<String, (usize, Span)> = HashMap::new();
    let mut consts: HashMap<String, (i128, Span)> = HashMap::new();
    let mut label_list = Vec::new();

    // Pass 1: slot index of every label, values of constants (which may use earlier ones).
    let mut pc = 0usize;
    for stmt in &stmts {
        match stmt {
            Stmt::Label { name, span } => {
                if let Some((_, first)) = labels.get(name) {
                    errors.push(
                        Diagnostic::error(*span, format!("label `{name}` is defined twice"))
                            .with_note(format!("first defined at byte {}", first.start)),
                    );
                } else {
                    labels.insert(name.clone(), (pc, *span));
                    label_list.push((name.clone(), pc));
                }
            }
            Stmt::Equ { name, value, span } => {
                let v = match &value.value {
                    Value::Num(n) => Some(*n),
                    Value::Name(other) => match consts.get(other) {
                        Some((n, _)) => Some(*n),
                        None => {
                            errors.push(Diagnostic::error(
                                value.span,
                                format!("unknown constant `{other}`"),
                            ));
                            None
                        }
                    },
                    Value::Rel(_) => {
                        errors.push(Diagnostic::error(value.span, "a constant must be a number"));
                        None
                    }
                };
                if let Some(v) = v {
                    if consts.insert(name.clone(), (v, *span)).is_some() {
                        errors.push(Diagnostic::error(
                            *span,
                            format!("constant `{name}` is defined twice"),
                        ));
                    }
                }
            }
            Stmt::Insn(p) => pc += p.def.slots(),
        }
    }

    // Pass 2: operands.
    let mut insns = Vec::new();
    let mut spans = Vec::new();
    let mut pc = 0usize;
    for stmt in stmts {
        let Stmt::Insn(p) = stmt else { continue };
        let here = pc;
        pc += p.def.slots();
        match resolve_insn(&p, here, &labels, &consts) {
            Ok(insn) => {
                insns.push(insn);
                spans.push(p.span);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Assembled {
            insns,
            spans,
            labels: label_list,
            warnings: Vec::new(),
        })
    } else {
        errors.sort_by_key(|d| d.span.start);
        Err(errors)
    }
}

/// The table entry and `src` of a bpf-to-bpf call, which a `call` to a label becomes.
fn call_local() -> (&'static OpDef, u8) {
    let call = Insn::call_local(0);
    (call.def().expect("call local is in the table"), call.src)
}

fn resolve_insn(
    p: &PendingInsn,
    pc: usize,
    labels: &HashMap<String, (usize, Span)>,
    consts: &HashMap<String, (i128, Span)>,
) -> Result<Insn, Diagnostic> {
    let mut def = p.def;
    // A jump target as a relative slot count; labels are relative to the next instruction.
    let target = |op: &Operand| -> Result<Option<i128>, Diagnostic> {
        match &op.value {
            Value::Rel(n) => Ok(Some(*n)),
            Value::Name(name) => match labels.get(name) {
                Some((t, _)) => Ok(Some(*t as i128 - (pc as i128 + 1))),
                None if consts.contains_key(name) => Ok(None),
                None => Ok(None),
            },
            Value::Num(_) => Ok(None),
        }
    };
    let constant = |op: &Operand| -> Result<i128, Diagnostic> {
        match &op.value {
            Value::Num(n) | Value::Rel(n) => Ok(*n),
            Value::Name(name) => consts.get(name).map(|(v, _)| *v).ok_or_else(|| {
                Diagnostic::error(op.span, format!("unknown name `{name}`"))
                    .with_help("define it with `.equ NAME, value`, or as a label `NAME:`")
            }),
        }
    };

    let mut off: i128 = 0;
    if let Some(op) = &p.off {
        off = if def.is_jump() {
            match target(op)? {
                Some(t) => t,
                None => match &op.value {
                    Value::Name(name) if !consts.contains_key(name) => {
                        return Err(
                            Diagnostic::error(op.span, format!("unknown label `{name}`"))
                                .with_help(format!(
                                    "define it with `{name}:` before an instruction"
                                )),
                        );
                    }
                    _ => constant(op)?,
                },
            }
        } else {
            constant(op)?
        };
        if !range::OFF.contains(&off) {
            let what = if def.is_jump() {
                "jump offset"
            } else {
                "offset"
            };
            return Err(Diagnostic::error(
                op.span,
                format!("{what} {off} is out of range: it must fit in 16 bits (-32768 to 32767)"),
            )
            .with_help(if def.is_jump() {
                "use `gotol` for a jump farther than 32767 instructions"
            } else {
                "compute the address in a register first"
            }));
        }
    }

    let mut imm: i128 = 0;
    let mut src = p.src;
    if let Some(op) = &p.imm {
        match def.form {
            Form::Gotol => {
                imm = match target(op)? {
                    Some(t) => t,
                    None => match &op.value {
                        Value::Name(name) if !consts.contains_key(name) => {
                            return Err(Diagnostic::error(
                                op.span,
                                format!("unknown label `{name}`"),
                            ));
                        }
                        _ => constant(op)?,
                    },
                };
                if !(i32::MIN as i128..=i32::MAX as i128).contains(&imm) {
                    return Err(Diagnostic::error(
                        op.span,
                        format!("jump offset {imm} does not fit in 32 bits"),
                    ));
                }
            }
            Form::Call(_) => match &op.value {
                Value::Name(name) if labels.contains_key(name) => {
                    (def, src) = call_local();
                    imm = labels[name].0 as i128 - (pc as i128 + 1);
                }
                Value::Rel(n) => {
                    (def, src) = call_local();
                    imm = *n;
                }
                Value::Name(name) if !consts.contains_key(name) => match helpers::by_name(name) {
                    Some(id) if def.form == Form::Call(CallKind::Helper) => imm = id as i128,
                    _ => {
                        return Err(Diagnostic::error(
                            op.span,
                            format!("`{name}` is neither a label nor a known helper function"),
                        )
                        .with_help(match helpers::suggest(name) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "define the label, or call a helper by its number".into(),
                        }));
                    }
                },
                _ => imm = constant(op)?,
            },
            _ => imm = constant(op)?,
        }
        let fits = if def.slots() == 2 {
            range::IMM64.contains(&imm)
        } else {
            range::IMM.contains(&imm)
        };
        if !fits {
            let mut d = Diagnostic::error(
                op.span,
                if def.slots() == 2 {
                    format!("immediate {imm:#x} does not fit in 64 bits")
                } else {
                    format!("immediate {imm:#x} does not fit in 32 bits (llvm-mc would silently truncate it)")
                },
            );
            if matches!(
                def.form,
                Form::Alu {
                    op: crate::isa::AluOp::Mov,
                    width: crate::isa::Width::W64,
                    ..
                }
            ) {
                d = d.with_help("load a 64-bit constant with `ll`, e.g. `r0 = 0x123456789 ll`");
            }
            return Err(d);
        }
        if def.slots() == 1 && imm > i32::MAX as i128 {
            // 0x80000000..=0xffffffff are written unsigned but stored as their 32-bit pattern.
            imm = imm as u32 as i32 as i128;
        }
    }
    let insn = Insn {
        code: def.code,
        dst: p.dst,
        src,
        off: off as i16,
        imm: if def.slots() == 2 {
            imm as u64 as i64
        } else {
            imm as i64
        },
    };
    let insn = Insn::new(def, insn.dst, insn.src, insn.off, insn.imm);
    insn.check()
        .map_err(|e| Diagnostic::error(p.span, e.to_string()))?;
    Ok(insn)
}
