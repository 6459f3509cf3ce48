//! Round trips: every valid encoding printed in the LLVM dialect (and in the kernel's
//! spelling) reassembles to the same instruction.

use asm::isa::{self, Form, OpDef, Pseudo};
use asm::text::{assemble, kernel, llvm, Dialect};
use asm::Insn;
use proptest::prelude::*;

/// A valid instruction for `def` built from arbitrary field values: fields the form does
/// not use are zeroed and the others are brought into their valid ranges.
fn valid(def: &'static OpDef, dst: u8, src: u8, off: i16, imm: i64) -> Insn {
    let f = def.fields();
    let mut imm = if def.slots() == 2 {
        imm
    } else {
        imm as i32 as i64
    };
    let mut src = if f.src { src % 11 } else { 0 };
    match def.form {
        Form::AddrSpaceCast => imm = if imm & 1 == 0 { 1 } else { 1 << 16 },
        Form::LoadImm64 => src %= Pseudo::ALL.len() as u8,
        _ => {}
    }
    if !f.imm {
        imm = 0;
    }
    let insn = Insn::new(
        def,
        if f.dst { dst % 11 } else { 0 },
        src,
        if f.off { off } else { 0 },
        imm,
    );
    insn.check()
        .unwrap_or_else(|e| panic!("{}: {e} ({insn})", def.name));
    insn
}

fn reassemble(text: &str) -> Vec<Insn> {
    match assemble(text, Dialect::Llvm) {
        Ok(a) => a.insns,
        Err(e) => panic!("{text:?} does not assemble: {e:?}"),
    }
}

fn check(insn: &Insn) {
    let text = llvm::print(insn);
    assert_eq!(reassemble(&text), [*insn], "llvm text {text:?}");
    let text = kernel::print(insn);
    assert_eq!(reassemble(&text), [*insn], "kernel text {text:?}");
}

#[test]
fn every_table_entry_round_trips_at_the_field_extremes() {
    let values: &[(u8, u8, i16, i64)] = &[
        (0, 0, 0, 0),
        (10, 10, i16::MAX, i32::MAX as i64),
        (1, 2, i16::MIN, i32::MIN as i64),
        (5, 9, -1, -1),
        (3, 4, 1, 1),
        (7, 1, 0x100, 0x7fff_ffff_ffff_ffff),
        (9, 3, -0x100, i64::MIN),
        (2, 6, 77, 0x1_0000_0000),
        (4, 5, -77, 0xffff_ffff),
    ];
    let mut n = 0;
    for def in isa::table() {
        for &(d, s, o, i) in values {
            for src in [s, 1, 2, 3, 4, 5, 6] {
                check(&valid(def, d, src, o, i));
                n += 1;
            }
        }
    }
    assert!(n > 1000, "{n} cases");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn random_encodings_round_trip(
        idx in 0..isa::table().len(),
        dst in 0u8..16,
        src in 0u8..16,
        off in any::<i16>(),
        imm in any::<i64>(),
    ) {
        check(&valid(&isa::table()[idx], dst, src, off, imm));
    }
}
