//! How the checks see an instruction's opcode: by its entry in the one instruction table
//! (`asm::isa`, dispatching on [`Form`]) when the encoding is known, and by the kernel's
//! opcode fields (`BPF_CLASS`, `BPF_OP`, `BPF_MODE`) where the kernel looks at invalid
//! encodings too. The kernel walks every slot in `check_subprogs`/`check_cfg` and reports an
//! invalid encoding only when `do_check` reaches it, so a slot the table does not know must
//! still be classified the way those passes classify it.

use asm::isa::{self, CallKind, Form, Pseudo};
use asm::Insn;

/// `BPF_CLASS(code)`.
pub(crate) fn class(code: u8) -> u8 {
    code & 0b111
}

/// Whether the class is `BPF_JMP` or `BPF_JMP32`.
pub(crate) fn is_jmp_class(code: u8) -> bool {
    matches!(class(code), isa::class::JMP | isa::class::JMP32)
}

/// The table's form of a slot, if the opcode and its selector field are known.
pub(crate) fn form(insn: &Insn) -> Option<Form> {
    insn.def().map(|d| d.form)
}

/// `lddw` (`BPF_LD | BPF_IMM | BPF_DW`), whatever its pseudo source.
pub(crate) fn is_lddw(insn: &Insn) -> bool {
    form(insn) == Some(Form::LoadImm64)
}

/// `lddw` of a subprogram's address (`BPF_PSEUDO_FUNC`).
pub(crate) fn is_lddw_func(insn: &Insn) -> bool {
    is_lddw(insn) && Pseudo::from_src(insn.src) == Some(Pseudo::Func)
}

/// A call of the given kind (`BPF_JMP | BPF_CALL` with `src` selecting it).
pub(crate) fn is_call(insn: &Insn, kind: CallKind) -> bool {
    form(insn) == Some(Form::Call(kind))
}

/// What a `BPF_JMP`/`BPF_JMP32` slot does to control flow, as `check_cfg`'s `visit_insn`
/// switches on `BPF_OP` alone: any class-JMP slot whose operation is a call or exit counts as
/// one (even `BPF_JMP32 | BPF_CALL`, which `do_check` rejects later), every other operation
/// the table does not know counts as a conditional jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Not a jump-class instruction.
    Straight,
    /// `BPF_CALL` (any source) or `callx`.
    Call,
    /// `BPF_EXIT`.
    Exit,
    /// `goto` with a 16-bit offset (`BPF_JA`).
    Ja,
    /// `gotol`: `BPF_JMP32 | BPF_JA`, 32-bit offset in `imm`.
    Gotol,
    /// A conditional jump, `may_goto`, or an operation the table does not know.
    Cond,
}

/// See [`Flow`].
pub(crate) fn flow(insn: &Insn) -> Flow {
    if !is_jmp_class(insn.code) {
        return Flow::Straight;
    }
    // The operation as `BPF_JMP` with the source bit clear: the classification does not
    // depend on the class or the source bit, only on `BPF_OP`.
    let op_as_jmp = (insn.code & !0b1111) | isa::class::JMP;
    let op_form = isa::by_code(op_as_jmp).first().map(|d| d.form);
    match op_form {
        Some(Form::Call(_) | Form::Callx) => Flow::Call,
        Some(Form::Exit) => Flow::Exit,
        Some(Form::Ja) if form(insn) == Some(Form::Gotol) => Flow::Gotol,
        Some(Form::Ja) => Flow::Ja,
        _ => Flow::Cond,
    }
}

/// The form of the table's first instruction with this slot's class and `BPF_MODE` (and a
/// 32-bit size): `Load`, `Atomic`, `LoadPacket` ... This is how the kernel's mode checks see
/// a slot, including encodings whose size or selector the table rejects.
pub(crate) fn mode_form(code: u8) -> Option<Form> {
    let canonical = (code & 0b1110_0000) | class(code);
    isa::by_code(canonical).first().map(|d| d.form)
}

/// The form of the table's first instruction with this slot's `BPF_OP` in the 64-bit class
/// of its kind (`BPF_ALU64` for ALU, `BPF_JMP` for jumps) and an immediate source: how the
/// kernel's `switch (BPF_OP(code))` sees a slot.
pub(crate) fn op_form(code: u8) -> Option<Form> {
    let wide = match class(code) {
        isa::class::ALU | isa::class::ALU64 => isa::class::ALU64,
        isa::class::JMP | isa::class::JMP32 => isa::class::JMP,
        other => other,
    };
    isa::by_code((code & 0b1111_0000) | wide)
        .first()
        .map(|d| d.form)
}

/// `BPF_SRC(code) == BPF_X`: the operand is a register.
pub(crate) fn src_is_reg(code: u8) -> bool {
    code & 0b1000 != 0
}

/// `BPF_OP(code)`, for the kernel's "invalid ... opcode %x" messages.
pub(crate) fn op_bits(code: u8) -> u8 {
    code & 0b1111_0000
}

/// `BPF_SIZE(code)` in bytes.
pub(crate) fn size_bytes(code: u8) -> i64 {
    let bits = code & 0b1_1000;
    isa::Size::ALL
        .iter()
        .find(|s| s.code() == bits)
        .map_or(8, |s| s.bytes() as i64)
}

/// What `check_alu_op` switches on: the operation of an ALU-class slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AluKind {
    /// A two-operand operation or `mov` (`div`/`mod` stand for their signed forms too).
    Op(isa::AluOp),
    /// `BPF_NEG`.
    Neg,
    /// `BPF_END`.
    End,
    /// An operation no ALU instruction has.
    Invalid,
}

/// See [`AluKind`].
pub(crate) fn alu_kind(code: u8) -> AluKind {
    match op_form(code) {
        Some(Form::Alu { op, .. }) => AluKind::Op(op),
        Some(Form::Neg { .. }) => AluKind::Neg,
        Some(Form::Endian { .. }) => AluKind::End,
        _ => AluKind::Invalid,
    }
}

/// The kernel's spelling of an ALU operation in messages (`alu_op_str`... as
/// `adjust_ptr_min_max_vals` prints it).
pub(crate) fn alu_str(kind: AluKind) -> &'static str {
    use isa::AluOp::*;
    match kind {
        AluKind::Op(Add) => "+=",
        AluKind::Op(Sub) => "-=",
        AluKind::Op(Mul) => "*=",
        AluKind::Op(Div | SDiv) => "/=",
        AluKind::Op(Or) => "|=",
        AluKind::Op(And) => "&=",
        AluKind::Op(Lsh) => "<<=",
        AluKind::Op(Rsh) => ">>=",
        AluKind::Neg => "neg",
        AluKind::Op(Mod | SMod) => "%=",
        AluKind::Op(Xor) => "^=",
        AluKind::Op(Mov) => "=",
        AluKind::Op(Arsh) => "s>>=",
        AluKind::End | AluKind::Invalid => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm::text::{assemble, Dialect};

    fn one(text: &str) -> Insn {
        assemble(text, Dialect::Llvm).unwrap().insns[0]
    }

    #[test]
    fn flow_follows_bpf_op_alone() {
        assert_eq!(flow(&one("r0 = 1")), Flow::Straight);
        assert_eq!(flow(&one("exit")), Flow::Exit);
        assert_eq!(flow(&one("call 1")), Flow::Call);
        assert_eq!(flow(&one("goto +1")), Flow::Ja);
        assert_eq!(flow(&one("gotol +1")), Flow::Gotol);
        assert_eq!(flow(&one("if w1 > 3 goto +1")), Flow::Cond);
        assert_eq!(flow(&one("may_goto +1")), Flow::Cond);
        // JMP32 | CALL is no instruction, but check_cfg still sees a call.
        let mut call32 = one("call 1");
        call32.code = (call32.code & !0b111) | isa::class::JMP32;
        assert_eq!(form(&call32), None);
        assert_eq!(flow(&call32), Flow::Call);
        // An unknown jump operation is visited as a conditional jump.
        let mut unknown = one("if r1 > 3 goto +1");
        unknown.code |= 0b1111_0000;
        assert_eq!(flow(&unknown), Flow::Cond);
    }

    #[test]
    fn lddw_and_calls_by_form() {
        assert!(is_lddw(&one("r1 = 5 ll")));
        assert!(!is_lddw_func(&one("r1 = 5 ll")));
        assert!(is_lddw_func(&one("r1 = func(+3) ll")));
        assert!(is_call(&one("call pc+2"), CallKind::Local));
        assert!(is_call(&one("call 7"), CallKind::Helper));
        assert!(!is_call(&one("exit"), CallKind::Helper));
    }

    #[test]
    fn mode_and_op_forms_ignore_size_and_source() {
        assert!(matches!(
            mode_form(one("r0 = *(u8 *)(r1 + 0)").code),
            Some(Form::Load { signed: false, .. })
        ));
        assert!(matches!(
            mode_form(one("lock *(u64 *)(r1 + 0) += r2").code),
            Some(Form::Atomic { .. })
        ));
        assert!(matches!(
            op_form(one("w0 = w1").code),
            Some(Form::Alu {
                op: isa::AluOp::Mov,
                ..
            })
        ));
        assert!(src_is_reg(one("r0 += r1").code));
        assert_eq!(alu_kind(one("w1 /= 3").code), AluKind::Op(isa::AluOp::Div));
        assert_eq!(alu_kind(one("r1 s/= 3").code), AluKind::Op(isa::AluOp::Div));
        assert_eq!(alu_kind(one("r1 = -r1").code), AluKind::Neg);
        assert_eq!(alu_kind(one("r1 = be16 r1").code), AluKind::End);
        assert_eq!(alu_kind(one("r1 = 0").code | 0b0100_0000), AluKind::Invalid);
        assert_eq!(alu_str(alu_kind(one("r1 s>>= 3").code)), "s>>=");
        assert_eq!(size_bytes(one("r0 = *(u16 *)(r1 + 0)").code), 2);
        assert_eq!(size_bytes(one("r0 = *(u64 *)(r1 + 0)").code), 8);
        assert!(!src_is_reg(one("r0 += 1").code));
    }
}
