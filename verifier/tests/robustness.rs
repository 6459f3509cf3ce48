//! Arbitrary input never panics or hangs the verifier: raw bytes, and instruction
//! sequences built from the opcode table with random fields, for every program type.

use asm::isa::Form;
use asm::types::{MapType, ProgType};
use asm::Insn;
use proptest::prelude::*;
use verifier::{MapSpec, Options};

fn opts(pt: u8, privileged: bool) -> Options {
    let all = ProgType::ALL;
    let mut o = Options::new(all[pt as usize % all.len()]);
    o.privileged = privileged;
    o.maps
        .push(MapSpec::new(MapType::Hash, 8, 16, 4).named("h"));
    o.maps
        .push(MapSpec::new(MapType::Array, 4, 48, 4).named("a"));
    o.maps
        .push(MapSpec::new(MapType::Ringbuf, 0, 0, 4096).named("r"));
    o
}

fn insn() -> impl Strategy<Value = Insn> {
    let table = asm::isa::table();
    (
        0..table.len(),
        0u8..12,
        0u8..12,
        prop_oneof![-8i16..8, any::<i16>()],
        prop_oneof![-16i64..600, Just(0), any::<i32>().prop_map(i64::from)],
    )
        .prop_map(move |(k, dst, src, off, imm)| {
            let def = &table[k];
            let f = def.fields();
            let mut i = Insn::new(
                def,
                if f.dst { dst.min(10) } else { 0 },
                if f.src { src.min(10) } else { 0 },
                if f.off { off } else { 0 },
                if f.imm { imm } else { 0 },
            );
            if def.form == Form::LoadImm64 {
                i.src = src % 3;
                i.imm = imm % 4;
            }
            i
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000),
        .. ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), pt in any::<u8>(), p in any::<bool>()) {
        let _ = verifier::verify_bytes(&bytes, &opts(pt, p));
    }

    #[test]
    fn random_instructions_never_panic(prog in proptest::collection::vec(insn(), 1..40), pt in any::<u8>(), p in any::<bool>()) {
        let mut prog = prog;
        prog.push(Insn::exit());
        let mut o = opts(pt, p);
        o.log_level = 2;
        let _ = verifier::verify(&prog, &o);
    }
}
