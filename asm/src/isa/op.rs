//! Named opcode bytes, one per opcode byte the [table](super::table) defines, generated from
//! the same list.
//!
//! Naming scheme (each constant's doc lists the table instructions it encodes):
//!
//! - Arithmetic: `{OP}{32|64}_{IMM|REG}` — the operation, the width (`BPF_ALU` is 32,
//!   `BPF_ALU64` is 64) and the operand source (`BPF_K` / `BPF_X`): [`MOV64_IMM`],
//!   [`ADD64_REG`], [`XOR32_IMM`]; [`NEG32`], [`NEG64`]. Opcodes shared by a signed or
//!   sign-extending variant carry the plain name: [`DIV64_IMM`] is also `sdiv` (`off = 1`),
//!   [`MOV64_REG`] is also `movsx` (`off = 8/16/32`) and `addr_space_cast` (`off = 1`).
//! - Byte order: [`LE`], [`BE`] (`BPF_ALU | BPF_END`) and [`BSWAP`] (`BPF_ALU64 | BPF_END`).
//! - Jumps: the ubpf mnemonic, `32` for `BPF_JMP32`, then the source: [`JEQ_IMM`],
//!   [`JSGT_REG`], [`JLT32_IMM`]; [`JA`], [`JA32`] (`gotol`), [`MAY_GOTO`] (`BPF_JCOND`),
//!   [`CALL`] (helper, local and kfunc calls, told apart by `src`), [`CALLX`], [`EXIT`].
//! - Loads and stores: the ubpf mnemonic, upper case: [`LDDW`], [`LDXW`], [`LDXSB`]
//!   (sign-extending), [`STH`] (immediate), [`STXDW`] (register), [`LDABSB`], [`LDINDW`].
//! - Atomics: `ATOMIC_{B|H|W|DW}` (`BPF_STX | BPF_ATOMIC | size`); `imm` selects the
//!   [`AtomicOp`](super::AtomicOp).
//!
//! ```
//! use asm::isa::op;
//!
//! assert_eq!(op::MOV64_IMM, 0xb7);
//! assert_eq!(asm::isa::by_code(op::CALL).len(), 3);
//! ```

use super::table::for_each_opcode;

macro_rules! define_op {
    ($( $op:ident = $code:literal => $( [$sel:expr, $name:literal, $form:expr, $isa:ident] ),+ ; )*) => {
        $(
            #[doc = concat!("`", stringify!($code), "`:", $(" `", $name, "`",)+ )]
            pub const $op: u8 = $code;
        )*

        /// Every named opcode as `(name, byte)`, in opcode order.
        pub const ALL: &[(&str, u8)] = &[ $( (stringify!($op), $code), )* ];
    };
}
for_each_opcode!(define_op);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{by_code, table};

    #[test]
    fn every_table_opcode_has_one_constant() {
        for d in table() {
            let named: Vec<_> = ALL.iter().filter(|&&(_, c)| c == d.code).collect();
            assert_eq!(named.len(), 1, "{} ({:#04x})", d.name, d.code);
        }
        for &(name, code) in ALL {
            assert!(!by_code(code).is_empty(), "{name} names no instruction");
        }
    }

    #[test]
    fn size_bits_read_back() {
        use crate::isa::Size;
        for size in Size::ALL {
            assert_eq!(Size::from_code(STXW | size.code()), size);
        }
        assert_eq!(Size::from_code(LDXDW), Size::DW);
        assert_eq!(Size::from_code(LDABSH), Size::H);
    }

    #[test]
    // The zero fields are written out so each line spells the whole encoding.
    #[allow(clippy::identity_op)]
    fn constants_match_the_uapi_encoding() {
        // BPF_CLASS | BPF_OP | BPF_SRC (or | BPF_MODE | BPF_SIZE), include/uapi/linux/bpf*.h.
        let cases = [
            (MOV64_IMM, 0x07 | 0xb0 | 0x00),
            (MOV64_REG, 0x07 | 0xb0 | 0x08),
            (ADD64_REG, 0x07 | 0x00 | 0x08),
            (MOV32_IMM, 0x04 | 0xb0),
            (LDDW, 0x00 | 0x00 | 0x18),
            (LDXW, 0x01 | 0x60 | 0x00),
            (LDXSB, 0x01 | 0x80 | 0x10),
            (STXDW, 0x03 | 0x60 | 0x18),
            (STB, 0x02 | 0x60 | 0x10),
            (ATOMIC_DW, 0x03 | 0xc0 | 0x18),
            (JA, 0x05),
            (JA32, 0x06),
            (JEQ_IMM, 0x05 | 0x10),
            (JSLE32_REG, 0x06 | 0xd0 | 0x08),
            (CALL, 0x05 | 0x80),
            (CALLX, 0x05 | 0x80 | 0x08),
            (EXIT, 0x05 | 0x90),
            (MAY_GOTO, 0x05 | 0xe0),
            (LE, 0x04 | 0xd0),
            (BE, 0x04 | 0xd0 | 0x08),
            (BSWAP, 0x07 | 0xd0),
            (LDABSH, 0x00 | 0x20 | 0x08),
            (LDINDB, 0x00 | 0x40 | 0x10),
        ];
        for (constant, code) in cases {
            assert_eq!(constant, code);
        }
    }
}
