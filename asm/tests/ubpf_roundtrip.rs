//! Every valid encoding prints in the ubpf dialect and assembles back to the same bytes.

use asm::insn::Insn;
use asm::isa::{table, Form};
use asm::text::{assemble, disassemble, ubpf, Dialect};
use proptest::prelude::*;

/// Builds a valid instruction from a table entry and raw field values, keeping only the
/// fields the entry uses (and values the checks accept).
fn build(index: usize, dst: u8, src: u8, off: i16, imm: i64, pick: bool) -> Insn {
    let def = &table()[index % table().len()];
    let f = def.fields();
    let dst = if f.dst { dst % 11 } else { 0 };
    let src = match def.form {
        Form::LoadImm64 => src % 7,
        _ if f.src => src % 11,
        _ => 0,
    };
    let off = if f.off { off } else { 0 };
    let imm = match def.form {
        _ if !f.imm => 0,
        Form::LoadImm64 => imm,
        // Linux accepts only casts between address spaces 0 and 1.
        Form::AddrSpaceCast => {
            if pick {
                1 << 16
            } else {
                1
            }
        }
        _ => imm as i32 as i64,
    };
    Insn::new(def, dst, src, off, imm)
}

fn roundtrip(insn: &Insn) -> Result<(), String> {
    insn.check()
        .map_err(|e| format!("generator made an invalid insn {insn}: {e}"))?;
    let text = ubpf::print(insn);
    let a =
        assemble(&text, Dialect::Ubpf).map_err(|e| format!("`{text}` does not parse: {e:?}"))?;
    if a.insns != [*insn] {
        return Err(format!(
            "`{text}` parsed as {:?}, printed from {insn}",
            a.insns
        ));
    }
    if a.bytes() != insn.encode() {
        return Err(format!("`{text}` assembled to other bytes"));
    }
    Ok(())
}

#[test]
fn every_table_entry_with_extreme_fields() {
    let mut checked = 0;
    for index in 0..table().len() {
        for &(off, imm) in &[
            (0i16, 0i64),
            (-1, -1),
            (i16::MIN, i32::MIN as i64),
            (i16::MAX, i32::MAX as i64),
            (1, i64::MIN),
            (-2, i64::MAX),
            (3, 0xffff_ffff),
        ] {
            for (dst, src) in [(0, 0), (10, 10), (3, 6)] {
                for pick in [false, true] {
                    let insn = build(index, dst, src, off, imm, pick);
                    roundtrip(&insn).unwrap_or_else(|e| panic!("{}: {e}", table()[index].name));
                    checked += 1;
                }
            }
        }
    }
    println!(
        "ubpf round trip: {checked} instructions over {} table entries",
        table().len()
    );
}

#[test]
fn programs_disassemble_and_reassemble() {
    let src = "mov %r0, 0\nL: add %r0, 1\njlt %r0, 10, L\nlddw %r1, 0xfeedface\ncall local f\nexit\nf: ja32 +0\nexit\n";
    let a = assemble(src, Dialect::Ubpf).unwrap();
    let text = disassemble(&a.insns, Dialect::Ubpf);
    let b = assemble(&text, Dialect::Ubpf).unwrap();
    assert_eq!(a.insns, b.insns, "{text}");
    assert_eq!(
        text,
        "mov %r0, 0\nadd %r0, 1\njlt %r0, 10, -2\nlddw %r1, 0xfeedface\ncall local +1\nexit\nja32 +0\nexit\n"
    );
}

#[test]
fn invalid_instructions_print_as_unparsable_text() {
    for insn in [
        Insn {
            code: 0x8e, // BPF_JMP32 | BPF_CALL | BPF_X: not an instruction
            ..Insn::default()
        },
        Insn {
            dst: 1,
            ..Insn::exit()
        },
        Insn {
            dst: 11,
            ..Insn::mov64_imm(0, 0)
        },
    ] {
        let text = ubpf::print(&insn);
        assert!(text.starts_with("<invalid "), "{text}");
        assert!(assemble(&text, Dialect::Ubpf).is_err(), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_encodings_round_trip(
        index in 0usize..1000,
        dst in any::<u8>(),
        src in any::<u8>(),
        off in any::<i16>(),
        imm in any::<i64>(),
        pick in any::<bool>(),
    ) {
        let insn = build(index, dst, src, off, imm, pick);
        if let Err(e) = roundtrip(&insn) {
            prop_assert!(false, "{}", e);
        }
    }

    /// Any bytes that decode print as text that assembles back to the same bytes. The
    /// opcode bytes come from the table so that most programs decode.
    #[test]
    fn decodable_bytes_round_trip(
        words in proptest::collection::vec((0usize..1000, any::<[u8; 7]>(), any::<bool>()), 1..5),
    ) {
        let mut bytes = Vec::new();
        for (i, rest, zero_fields) in words {
            bytes.push(table()[i % table().len()].code);
            // Often clear off and imm so that instructions with unused fields decode.
            let rest = if zero_fields { [rest[0], 0, 0, 0, 0, 0, 0] } else { rest };
            bytes.extend_from_slice(&rest);
        }
        if let Ok(decoded) = asm::decode(&bytes) {
            let insns: Vec<Insn> = decoded.iter().map(|d| d.insn).collect();
            let text = disassemble(&insns, Dialect::Ubpf);
            let a = assemble(&text, Dialect::Ubpf);
            prop_assert!(a.is_ok(), "{}: {:?}", text, a);
            prop_assert_eq!(a.unwrap().bytes(), bytes);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text never panics: it assembles or yields diagnostics with spans inside it.
    #[test]
    fn arbitrary_text_is_handled(src in "([a-z0-9%\\[\\]+,:# x\n-]|lock |call |ldxw |%r1|0x|exit|\u{e9})*") {
        match assemble(&src, Dialect::Ubpf) {
            Ok(_) => {}
            Err(ds) => {
                prop_assert!(!ds.is_empty());
                for d in ds {
                    prop_assert!(d.span.start <= d.span.end && d.span.end <= src.len(), "{:?}", d);
                    prop_assert!(src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end));
                }
            }
        }
    }
}
