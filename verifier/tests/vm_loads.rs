//! The fuzz target's property, as a regular test: the VM loads (and runs without a fault)
//! every program the verifier accepts — including the encodings the kernel only rejects
//! where its verifier goes (reserved fields, registers above r10, byte-sized atomics such as
//! 0xd3) when they sit in dead code behind a constant branch, and `exit` with a non-zero
//! `off`, which the kernel never looks at.

use asm::types::ProgType;
use proptest::prelude::*;

/// `r0 = c; if r0 == c goto +n; <n dead slots>; exit(off)`.
fn program(c: i8, dead: &[[u8; 8]], exit_off: i16) -> Vec<u8> {
    use asm::isa::Cond;
    use asm::Insn;
    let mut b = Insn::mov64_imm(0, c as i32).encode();
    b.extend(Insn::jmp_imm(Cond::Eq, 0, c as i32, dead.len() as i16).encode());
    for s in dead {
        b.extend_from_slice(s);
    }
    // `exit` with an `off` the kernel ignores: built field by field on purpose.
    b.extend(
        Insn {
            off: exit_off,
            ..Insn::exit()
        }
        .encode(),
    );
    b
}

/// A slot: a known opcode byte with random other fields, or entirely random bytes.
fn slot() -> impl Strategy<Value = [u8; 8]> {
    let table = asm::isa::table();
    prop_oneof![
        (0..table.len(), any::<[u8; 7]>()).prop_map(move |(k, rest)| {
            let mut s = [0u8; 8];
            s[0] = table[k].code;
            s[1..].copy_from_slice(&rest);
            s
        }),
        any::<[u8; 8]>(),
        // 0xd3 / 0xd4 with small fields.
        (prop_oneof![Just(0xd3u8), Just(0xd4)], 0u8..0x20)
            .prop_map(|(c, r)| [c, r, 0, 0, 0, 0, 0, 0]),
    ]
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let pt = ProgType::SocketFilter;
    if verifier::verify_bytes(bytes, &verifier::Options::new(pt)).is_err() {
        return Ok(());
    }
    let mut vm = vm::Vm::new();
    vm.set_budget(10_000);
    vm.set_packet(vec![0x5a; 64]);
    let id = vm
        .load(bytes, pt)
        .map_err(|e| TestCaseError::fail(format!("verifier accepts, VM does not load: {e}")))?;
    vm.run(id)
        .map_err(|e| TestCaseError::fail(format!("accepted program faulted: {e}")))?;
    Ok(())
}

#[test]
fn reproducers_from_issue_13() {
    for hex in [
        "b700000000000000 9500010000000000",
        "b700000000000000 1500010000000000 d300000000000000 9500000000000000",
    ] {
        let s: String = hex.split_whitespace().collect();
        let b: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        assert!(
            verifier::verify_bytes(&b, &verifier::Options::new(ProgType::SocketFilter)).is_ok(),
            "{hex}"
        );
        check(&b).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        .. ProptestConfig::default()
    })]

    #[test]
    fn vm_loads_what_the_verifier_accepts(
        c in any::<i8>(),
        dead in proptest::collection::vec(slot(), 0..4),
        exit_off in prop_oneof![Just(0i16), any::<i16>()],
    ) {
        check(&program(c, &dead, exit_off))?;
    }
}
