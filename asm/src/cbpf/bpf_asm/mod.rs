//! The kernel's `tools/bpf/bpf_asm` syntax, plus the listings of `bpf_dbg` and `tcpdump -d`
//! (`(000) ldh [12]`, `jeq #0x800 jt 2 jf 5`: numbers after `jt`/`jf`/`ja` are absolute
//! instruction indexes there and here).
//!
//! Comments: `;` to the end of the line, `/* ... */` within a line, and `#` when it starts a
//! line or is followed by white space (a `#` glued to a number or name is an operand:
//! `#0x800`, `#len`). Labels are `name:`. Instructions the syntax cannot express (unknown
//! opcodes, unused fields that are not zero) are written `.raw code, jt, jf, k`.
//!
//! ```
//! use asm::cbpf::bpf_asm;
//! let prog = bpf_asm::assemble("(000) ldh [12]\n(001) jeq #0x800 jt 2 jf 3\n(002) ret #262144\n(003) ret #0\n").unwrap();
//! assert_eq!(bpf_asm::disassemble(&prog), "ldh [12]\njneq #0x800, l3\nret #0x40000\nl3: ret #0\n");
//! ```

mod lexer;
#[doc(hidden)]
pub use lexer::LexError as LexErrorPub;
lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        missing_docs,
        unused_parens,
        missing_debug_implementations
    )]
    grammar,
    "/cbpf/bpf_asm/grammar.rs"
);

use super::text::{resolve, CStmt, Target};
use super::{
    ancillary, ancillary_by_name, code_of, lookup, AluOp, Form, JmpOp, Size, SockFilter, Src,
};
use crate::diag::{Diagnostic, Span};
use lalrpop_util::ParseError;

/// One parsed line (grammar output).
#[doc(hidden)]
#[derive(Debug)]
pub struct Line<'s> {
    pub label: Option<(&'s str, Span)>,
    pub insn: Option<(&'s str, Span, Vec<Operand<'s>>)>,
}

/// An operand and its span (grammar output).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Operand<'s> {
    pub opnd: Opnd<'s>,
    pub span: Span,
}

/// Operand shapes (grammar output).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Opnd<'s> {
    Imm(i128),
    Ext(&'s str),
    Reg(&'s str),
    Name(&'s str),
    Num(i128),
    Abs(i128),
    Ind(&'s str, i128),
    Mem(i128),
    Msh(u64, i128, u64),
}

/// Strips comments from one line, keeping byte positions (a `/* */` becomes spaces; an
/// unterminated `/*` is left for the lexer to report).
fn strip_comment(line: &str) -> String {
    let b = line.as_bytes();
    let first = line.find(|c: char| !c.is_whitespace());
    let mut out = String::with_capacity(line.len());
    let (mut seg, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b';' => break,
            b'#' if Some(i) == first || b.get(i + 1).map_or(true, |c| c.is_ascii_whitespace()) => {
                break
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                if let Some(e) = line[i + 2..].find("*/") {
                    let len = e + 4;
                    out.push_str(&line[seg..i]);
                    out.extend(std::iter::repeat(' ').take(len));
                    i += len;
                    seg = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // `i` stops on an ASCII byte or the end: a char boundary.
    out.push_str(&line[seg..i]);
    out
}

/// Parses bpf_asm text into statements, reporting every error.
pub fn parse(src: &str) -> Result<Vec<CStmt>, Vec<Diagnostic>> {
    let mut stmts = Vec::new();
    let mut errors = Vec::new();
    let mut base = 0;
    for raw in src.split_inclusive('\n') {
        let text = raw.trim_end_matches(['\n', '\r']);
        let line = strip_comment(text);
        let tokens = lexer::lex(&line, base);
        let line_base = base;
        base += raw.len();
        if tokens.is_empty() {
            continue;
        }
        match grammar::LineParser::new().parse(tokens) {
            Ok(l) => {
                if let Some((name, span)) = l.label {
                    stmts.push(CStmt::Label(name.to_string(), span));
                }
                if let Some((m, mspan, ops)) = l.insn {
                    match insn(m, mspan, &ops) {
                        Ok(s) => stmts.push(s),
                        Err(e) => errors.push(e),
                    }
                }
            }
            Err(e) => errors.push(parse_error(e, line_base + line.trim_end().len())),
        }
    }
    if errors.is_empty() {
        Ok(stmts)
    } else {
        Err(errors)
    }
}

/// Assembles bpf_asm text. Conditional jumps farther than 255 instructions are errors.
pub fn assemble(src: &str) -> Result<Vec<SockFilter>, Vec<Diagnostic>> {
    resolve(parse(src)?, false)
}

pub(crate) fn parse_error<T: std::fmt::Debug>(
    e: ParseError<usize, T, (usize, lexer::LexError, usize)>,
    eol: usize,
) -> Diagnostic {
    let clean = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.trim_matches('"').to_string())
            .collect()
    };
    match e {
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(location, location + 1), "invalid token")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let l = location.max(eol);
            Diagnostic::error(Span::new(l, l), "unexpected end of line")
                .with_expected(clean(expected))
        }
        ParseError::UnrecognizedToken {
            token: (l, _, r),
            expected,
        } => Diagnostic::error(Span::new(l, r), "unexpected token").with_expected(clean(expected)),
        ParseError::ExtraToken { token: (l, _, r) } => {
            Diagnostic::error(Span::new(l, r), "unexpected extra token")
        }
        ParseError::User { error: (l, err, r) } => match err {
            lexer::LexError::BadChar => Diagnostic::error(Span::new(l, r), "unexpected character"),
            lexer::LexError::TooLarge => {
                Diagnostic::error(Span::new(l, r), "number does not fit in 64 bits")
            }
        },
    }
}

/// A 32-bit `k`: accepts `-2^31 ..= 2^32-1` (negative values are stored two's complement).
fn k32(n: i128, span: Span) -> Result<u32, Diagnostic> {
    if (-(1i128 << 31)..(1i128 << 32)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(
            Diagnostic::error(span, format!("{n} does not fit in 32 bits"))
                .with_expected(["-2147483648 ..= 4294967295"]),
        )
    }
}

fn target(o: &Operand<'_>) -> Result<Target, Diagnostic> {
    match o.opnd {
        Opnd::Name(n) => Ok(Target::Label(n.to_string(), o.span)),
        Opnd::Num(n) if n >= 0 => Ok(Target::Abs(n as u64, o.span)),
        _ => Err(Diagnostic::error(o.span, "expected a jump target")
            .with_expected(["a label", "an instruction number"])),
    }
}

fn is_x(r: &str) -> bool {
    r == "x" || r == "X"
}
fn is_a(r: &str) -> bool {
    r == "a" || r == "A"
}

fn plain(code: u16, k: u32, span: Span) -> CStmt {
    CStmt::Insn {
        code,
        k,
        jt: Target::Next,
        jf: Target::Next,
        span,
    }
}

fn insn(m: &str, mspan: Span, ops: &[Operand<'_>]) -> Result<CStmt, Diagnostic> {
    let span = ops.last().map_or(mspan, |o| mspan.to(o.span));
    let lower = m.to_ascii_lowercase();
    let m = lower.as_str();
    let bad = |expected: &[&str]| -> Diagnostic {
        let sp = ops
            .first()
            .map_or(mspan, |o| o.span.to(ops.last().unwrap().span));
        Diagnostic::error(sp, format!("invalid operands for `{m}`"))
            .with_expected(expected.iter().copied())
    };
    let size = match m {
        "ld" | "ldi" => Some(Size::W),
        "ldh" => Some(Size::H),
        "ldb" => Some(Size::B),
        _ => None,
    };
    if let Some(size) = size {
        let exp: &[&str] = &[
            "#k",
            "[k]",
            "[x + k]",
            "M[k]",
            "#len",
            "#proto (or another extension)",
        ];
        let [o] = ops else { return Err(bad(exp)) };
        return Ok(match (&o.opnd, size) {
            (Opnd::Imm(n), Size::W) | (Opnd::Num(n), Size::W) => {
                plain(code_of(Form::LdImm), k32(*n, o.span)?, span)
            }
            (Opnd::Ext("len" | "pktlen"), Size::W) => plain(code_of(Form::LdLen), 0, span),
            (Opnd::Ext(e), _) => match ancillary_by_name(e) {
                Some(k) => plain(code_of(Form::LdAbs(size)), k, span),
                None => {
                    return Err(
                        Diagnostic::error(o.span, format!("unknown extension `#{e}`"))
                            .with_expected(super::ANCILLARY.iter().map(|a| format!("#{}", a.0))),
                    )
                }
            },
            (Opnd::Abs(n), _) => plain(code_of(Form::LdAbs(size)), k32(*n, o.span)?, span),
            (Opnd::Ind(x, n), _) if is_x(x) => {
                plain(code_of(Form::LdInd(size)), k32(*n, o.span)?, span)
            }
            (Opnd::Mem(n), Size::W) => plain(code_of(Form::LdMem), k32(*n, o.span)?, span),
            _ => return Err(bad(exp)),
        });
    }
    let alu = match m {
        "add" => Some(AluOp::Add),
        "sub" => Some(AluOp::Sub),
        "mul" => Some(AluOp::Mul),
        "div" => Some(AluOp::Div),
        "mod" => Some(AluOp::Mod),
        "and" => Some(AluOp::And),
        "or" => Some(AluOp::Or),
        "xor" => Some(AluOp::Xor),
        "lsh" => Some(AluOp::Lsh),
        "rsh" => Some(AluOp::Rsh),
        _ => None,
    };
    if let Some(op) = alu {
        let [o] = ops else {
            return Err(bad(&["#k", "x"]));
        };
        return match &o.opnd {
            Opnd::Imm(n) | Opnd::Num(n) => Ok(plain(
                code_of(Form::Alu(op, Src::K)),
                k32(*n, o.span)?,
                span,
            )),
            Opnd::Name(r) | Opnd::Reg(r) if is_x(r) => {
                Ok(plain(code_of(Form::Alu(op, Src::X)), 0, span))
            }
            _ => Err(bad(&["#k", "x"])),
        };
    }
    // Conditional jumps: (op, true-branch-when-written, negated pseudo-op).
    let jmp = match m {
        "jeq" => Some((JmpOp::Jeq, false)),
        "jneq" | "jne" => Some((JmpOp::Jeq, true)),
        "jgt" => Some((JmpOp::Jgt, false)),
        "jle" => Some((JmpOp::Jgt, true)),
        "jge" => Some((JmpOp::Jge, false)),
        "jlt" => Some((JmpOp::Jge, true)),
        "jset" => Some((JmpOp::Jset, false)),
        _ => None,
    };
    if let Some((op, negated)) = jmp {
        let exp: &[&str] = &[
            "#k, label",
            "#k, label, label",
            "#k jt N jf M",
            "x, label, label",
        ];
        let Some((first, rest)) = ops.split_first() else {
            return Err(bad(exp));
        };
        let (src, k) = match &first.opnd {
            Opnd::Imm(n) => (Src::K, k32(*n, first.span)?),
            Opnd::Name(r) | Opnd::Reg(r) if is_x(r) => (Src::X, 0),
            _ => return Err(bad(exp)),
        };
        let code = code_of(Form::Jmp(op, src));
        let (jt, jf) = match rest {
            [t] => (target(t)?, Target::Next),
            [t, f] => (target(t)?, target(f)?),
            [a, t, b, f] if a.opnd == Opnd::Name("jt") && b.opnd == Opnd::Name("jf") => {
                (target(t)?, target(f)?)
            }
            _ => return Err(bad(exp)),
        };
        let (jt, jf) = if negated {
            if rest.len() != 1 {
                return Err(Diagnostic::error(
                    span,
                    format!("`{m}` takes one target (it jumps when the test fails)"),
                ));
            }
            (Target::Next, jt)
        } else {
            (jt, jf)
        };
        return Ok(CStmt::Insn {
            code,
            k,
            jt,
            jf,
            span,
        });
    }
    let one = |exp: &[&str]| -> Result<&Operand<'_>, Diagnostic> {
        match ops {
            [o] => Ok(o),
            _ => Err(bad(exp)),
        }
    };
    match m {
        "ldx" | "ldxi" | "ldxb" => {
            let exp: &[&str] = &["#k", "M[k]", "#len", "4*([k]&0xf)"];
            let o = one(exp)?;
            Ok(match &o.opnd {
                Opnd::Imm(n) | Opnd::Num(n) if m != "ldxb" => {
                    plain(code_of(Form::LdxImm), k32(*n, o.span)?, span)
                }
                Opnd::Ext("len" | "pktlen") if m != "ldxb" => plain(code_of(Form::LdxLen), 0, span),
                Opnd::Mem(n) if m != "ldxb" => plain(code_of(Form::LdxMem), k32(*n, o.span)?, span),
                Opnd::Msh(4, k, 0xf) => plain(code_of(Form::LdxMsh), k32(*k, o.span)?, span),
                Opnd::Msh(..) => {
                    return Err(
                        Diagnostic::error(o.span, "the only MSH form is `4*([k]&0xf)`").with_help(
                            "BPF_MSH computes X = 4 * (P[k] & 0xf), the IPv4 header length",
                        ),
                    )
                }
                _ => return Err(bad(exp)),
            })
        }
        "st" | "stx" => {
            let o = one(&["M[k]"])?;
            match o.opnd {
                Opnd::Mem(n) => Ok(plain(
                    code_of(if m == "st" { Form::St } else { Form::Stx }),
                    k32(n, o.span)?,
                    span,
                )),
                _ => Err(bad(&["M[k]"])),
            }
        }
        "ja" | "jmp" => {
            let o = one(&["label", "instruction number"])?;
            Ok(CStmt::Insn {
                code: code_of(Form::Ja),
                k: 0,
                jt: target(o)?,
                jf: Target::Next,
                span,
            })
        }
        "neg" => match ops {
            [] => Ok(plain(code_of(Form::Alu(AluOp::Neg, Src::K)), 0, span)),
            _ => Err(bad(&["no operand"])),
        },
        "tax" | "txa" => match ops {
            [] => Ok(plain(
                code_of(if m == "tax" { Form::Tax } else { Form::Txa }),
                0,
                span,
            )),
            _ => Err(bad(&["no operand"])),
        },
        "ret" => match ops {
            [] => Ok(plain(code_of(Form::RetA), 0, span)),
            [o] => match &o.opnd {
                Opnd::Imm(n) | Opnd::Num(n) => {
                    Ok(plain(code_of(Form::RetK), k32(*n, o.span)?, span))
                }
                Opnd::Name(r) | Opnd::Reg(r) if is_a(r) => Ok(plain(code_of(Form::RetA), 0, span)),
                Opnd::Name(r) | Opnd::Reg(r) if is_x(r) => Ok(plain(code_of(Form::RetX), 0, span)),
                _ => Err(bad(&["#k", "a", "x"])),
            },
            _ => Err(bad(&["#k", "a", "x"])),
        },
        ".raw" => raw(ops, span),
        _ => Err(
            Diagnostic::error(mspan, format!("unknown mnemonic `{m}`")).with_expected([
                "ld", "ldh", "ldb", "ldx", "ldxb", "st", "stx", "add", "sub", "mul", "div", "mod",
                "and", "or", "xor", "lsh", "rsh", "neg", "ja", "jeq", "jneq", "jlt", "jle", "jgt",
                "jge", "jset", "ret", "tax", "txa", ".raw",
            ]),
        ),
    }
}

pub(crate) fn raw_fields(vals: &[(i128, Span)], span: Span) -> Result<CStmt, Diagnostic> {
    let [(c, cs), (t, ts), (f, fs), (k, ks)] = vals else {
        return Err(
            Diagnostic::error(span, "`.raw` takes four numbers").with_expected(["code, jt, jf, k"])
        );
    };
    let small = |n: i128, s: Span, max: i128, what: &str| -> Result<i128, Diagnostic> {
        if (0..=max).contains(&n) {
            Ok(n)
        } else {
            Err(Diagnostic::error(s, format!("{what} {n} is out of range"))
                .with_expected([format!("0 ..= {max}")]))
        }
    };
    let code = small(*c, *cs, 0xffff, "code")? as u16;
    let jt = small(*t, *ts, 255, "jt")? as u8;
    let jf = small(*f, *fs, 255, "jf")? as u8;
    Ok(CStmt::Raw(
        SockFilter::new(code, jt, jf, k32(*k, *ks)?),
        span,
    ))
}

fn raw(ops: &[Operand<'_>], span: Span) -> Result<CStmt, Diagnostic> {
    let mut vals = Vec::new();
    for o in ops {
        match o.opnd {
            Opnd::Num(n) => vals.push((n, o.span)),
            _ => {
                return Err(Diagnostic::error(o.span, "`.raw` takes numbers")
                    .with_expected(["code, jt, jf, k"]))
            }
        }
    }
    raw_fields(&vals, span)
}

/// Whether `f` has non-zero fields that its form does not use (so only `.raw` can print it).
pub(crate) fn has_stray_fields(f: &SockFilter) -> bool {
    let Some(def) = lookup(f.code) else {
        return true;
    };
    let jumps = f.jt != 0 || f.jf != 0;
    match def.form {
        Form::Jmp(_, Src::X) => f.k != 0,
        Form::Jmp(..) => false,
        Form::Alu(AluOp::Neg, _)
        | Form::Tax
        | Form::Txa
        | Form::RetA
        | Form::RetX
        | Form::LdLen
        | Form::LdxLen => jumps || f.k != 0,
        Form::Alu(_, Src::X) => jumps || f.k != 0,
        _ => jumps,
    }
}

fn num(k: u32) -> String {
    if k < 10 {
        k.to_string()
    } else {
        format!("{k:#x}")
    }
}

/// Prints one instruction at index `pc` of a program of `len` instructions; jump targets
/// are printed with `label(index)` when inside the program, as absolute numbers otherwise.
pub fn print_insn(
    f: &SockFilter,
    pc: usize,
    len: usize,
    label: &dyn Fn(usize) -> String,
) -> String {
    let tgt = |off: u64| -> String {
        let t = pc as u64 + 1 + off;
        if t < len as u64 {
            label(t as usize)
        } else {
            t.to_string()
        }
    };
    let def = match lookup(f.code) {
        Some(d) if !has_stray_fields(f) => d,
        _ => return format!(".raw {:#06x}, {}, {}, {:#x}", f.code, f.jt, f.jf, f.k),
    };
    let k = f.k;
    match def.form {
        Form::LdAbs(s) => match ancillary(k) {
            Some(a) => format!("ld{} #{}", s.suffix(), a.0),
            None if k < 0x10000 => format!("ld{} [{k}]", s.suffix()),
            None => format!("ld{} [{k:#x}]", s.suffix()),
        },
        Form::LdInd(s) => format!("ld{} [x + {k}]", s.suffix()),
        Form::LdLen => "ld #len".into(),
        Form::LdImm => format!("ld #{}", num(k)),
        Form::LdMem => format!("ld M[{k}]"),
        Form::LdxImm => format!("ldx #{}", num(k)),
        Form::LdxMem => format!("ldx M[{k}]"),
        Form::LdxLen => "ldx #len".into(),
        Form::LdxMsh => format!("ldxb 4*([{k}]&0xf)"),
        Form::St => format!("st M[{k}]"),
        Form::Stx => format!("stx M[{k}]"),
        Form::Alu(AluOp::Neg, _) => "neg".into(),
        Form::Alu(op, Src::K) => format!("{} #{}", op.mnemonic(), num(k)),
        Form::Alu(op, Src::X) => format!("{} x", op.mnemonic()),
        Form::Ja => format!("ja {}", tgt(k as u64)),
        Form::Jmp(op, src) => {
            let a = match src {
                Src::K => format!("#{}", num(k)),
                Src::X => "x".into(),
            };
            let (jt, jf) = (f.jt as u64, f.jf as u64);
            if jf == 0 {
                format!("{} {a}, {}", op.mnemonic(), tgt(jt))
            } else if jt == 0 && op != JmpOp::Jset {
                let neg = match op {
                    JmpOp::Jeq => "jneq",
                    JmpOp::Jgt => "jle",
                    _ => "jlt",
                };
                format!("{neg} {a}, {}", tgt(jf))
            } else {
                format!("{} {a}, {}, {}", op.mnemonic(), tgt(jt), tgt(jf))
            }
        }
        Form::RetK => format!("ret #{}", num(k)),
        Form::RetA => "ret a".into(),
        Form::RetX => "ret x".into(),
        Form::Tax => "tax".into(),
        Form::Txa => "txa".into(),
    }
}

/// Jump targets inside the program (the instructions that need a label).
pub(crate) fn targets(prog: &[SockFilter]) -> Vec<bool> {
    let mut is = vec![false; prog.len()];
    for (pc, f) in prog.iter().enumerate() {
        let mut mark = |off: u64| {
            let t = pc as u64 + 1 + off;
            if t < prog.len() as u64 {
                is[t as usize] = true;
            }
        };
        match lookup(f.code)
            .filter(|_| !has_stray_fields(f))
            .map(|d| d.form)
        {
            Some(Form::Ja) => mark(f.k as u64),
            Some(Form::Jmp(op, _)) => {
                // Mirrors print_insn: a fall-through branch of the two-operand forms
                // (`jeq #k, l`, `jneq #k, l`) needs no label.
                if f.jf == 0 {
                    mark(f.jt as u64);
                } else if f.jt == 0 && op != JmpOp::Jset {
                    mark(f.jf as u64);
                } else {
                    mark(f.jt as u64);
                    mark(f.jf as u64);
                }
            }
            _ => {}
        }
    }
    is
}

/// Disassembles to bpf_asm text that [`assemble`] turns back into the same instructions.
pub fn disassemble(prog: &[SockFilter]) -> String {
    let is_target = targets(prog);
    let label = |i: usize| format!("l{i}");
    let mut out = String::new();
    for (pc, f) in prog.iter().enumerate() {
        if is_target[pc] {
            out.push_str(&label(pc));
            out.push_str(": ");
        }
        out.push_str(&print_insn(f, pc, prog.len(), &label));
        out.push('\n');
    }
    out
}
