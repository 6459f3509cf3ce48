//! Arbitrary bytecode never panics the VM: it loads and runs, or returns an error.

use asm::isa::table;
use asm::Insn;
use proptest::prelude::*;
use vm::{MapSpec, MapType, ProgType, Vm};

/// Instructions from the table with arbitrary operands (registers 0-10, small jump offsets
/// so that many programs load), or arbitrary raw slots.
fn insn() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        30 => (0..table().len(), 0u8..11, 0u8..11, -4i16..6, any::<i32>(), any::<bool>()).prop_map(|(i, dst, src, off, imm, small)| {
            let def = &table()[i];
            let f = def.fields();
            let imm = if small { (imm % 16) as i64 } else { imm as i64 };
            let src = if def.form == asm::isa::Form::LoadImm64 { src % 3 } else { src };
            let pick = |used: bool, v: i64| if used { v } else { 0 };
            Insn::new(def, pick(f.dst, dst as i64) as u8, pick(f.src, src as i64) as u8, pick(f.off, off as i64) as i16, pick(f.imm, imm))
                .encode()
        }),
        1 => proptest::collection::vec(any::<u8>(), 8),
    ]
}

fn setup(t: ProgType) -> Vm {
    let mut m = Vm::new();
    m.set_budget(10_000);
    for (ty, k, v, n) in [
        (MapType::Array, 4, 8, 4),
        (MapType::Hash, 4, 8, 4),
        (MapType::Ringbuf, 0, 0, 4096),
        (MapType::ProgArray, 4, 4, 2),
    ] {
        m.create_map(MapSpec::new(ty, k, v, n)).unwrap();
    }
    m.set_mem((0..64).collect());
    m.set_packet((0..60).collect());
    m.set_ctx(vec![1; 32]);
    let _ = t;
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_programs_run_or_fail_cleanly(
        slots in proptest::collection::vec(insn(), 1..24),
        ty in 0..ProgType::ALL.len(),
        exit in any::<bool>(),
    ) {
        let t = ProgType::ALL[ty];
        let mut bytes: Vec<u8> = slots.concat();
        if exit {
            bytes.extend_from_slice(&Insn::exit().encode());
        }
        let mut m = setup(t);
        if let Ok(id) = m.load(&bytes, t) {
            // Tail calls may land in the program itself.
            m.map_mut(3).unwrap().set_prog(0, Some(id.0)).unwrap();
            let res = m.run(id);
            match &res {
                Ok(out) => prop_assert!(out.insns <= 10_000),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            // The traced run executes one op per instruction (no fused pairs): same answer.
            let mut m2 = setup(t);
            let id2 = m2.load(&bytes, t).unwrap();
            m2.map_mut(3).unwrap().set_prog(0, Some(id2.0)).unwrap();
            let (res2, steps) = m2.run_traced(id2);
            prop_assert_eq!(&res, &res2);
            prop_assert!(steps.len() as u64 <= 10_000);
            if let Ok(out) = res2 {
                prop_assert_eq!(out.insns as usize, steps.len());
            }
            prop_assert_eq!(m.mem(), m2.mem());
        }
    }
}
