//! Soundness: every program the verifier accepts runs in the VM without a memory fault
//! (only the instruction budget may stop it). Programs are random mixes of stack, context,
//! map-value and pointer-arithmetic accesses, branches and helper calls, so that many are
//! accepted and many are rejected near the edges (offsets just in and just out of bounds).

use asm::isa::{AluOp, Cond, Form, Size};
use asm::types::ProgType;
use asm::Insn;
use proptest::prelude::*;
use verifier::{MapSpec, Options};

#[derive(Clone, Debug)]
enum Op {
    MovImm(u8, i32),
    MovReg(u8, u8),
    AluImm(AluOp, u8, i32),
    AluReg(AluOp, u8, u8),
    StackStore(u8, i16, Size),
    StackLoad(u8, i16, Size),
    CtxLoad(u8, i16, Size),
    FpAdd(u8, i32),
    LoadVia(u8, u8, i16, Size),
    StoreVia(u8, i16, u8, Size),
    Lookup,
    NullCheck(u8),
    Prandom,
    CondJmp(Cond, u8, i32, u8),
    Exit,
}

fn reg() -> impl Strategy<Value = u8> {
    0u8..10
}

// The arms' order is the generator's: reordering them changes the programs a seed makes.
fn size() -> impl Strategy<Value = Size> {
    prop_oneof![Just(Size::W), Just(Size::H), Just(Size::B), Just(Size::DW)]
}

fn op() -> impl Strategy<Value = Op> {
    let alu = prop_oneof![
        Just(AluOp::Add),
        Just(AluOp::Sub),
        Just(AluOp::Mul),
        Just(AluOp::Or),
        Just(AluOp::And),
        Just(AluOp::Lsh),
        Just(AluOp::Rsh),
        Just(AluOp::Xor),
        Just(AluOp::Arsh)
    ];
    prop_oneof![
        (reg(), -20i32..600).prop_map(|(r, i)| Op::MovImm(r, i)),
        (reg(), reg()).prop_map(|(a, b)| Op::MovReg(a, b)),
        (alu.clone(), reg(), -8i32..64).prop_map(|(o, r, i)| Op::AluImm(o, r, i)),
        (alu, reg(), reg()).prop_map(|(o, a, b)| Op::AluReg(o, a, b)),
        (reg(), -9i16..1, size()).prop_map(|(r, o, s)| Op::StackStore(r, o * 8, s)),
        (reg(), -9i16..1, size()).prop_map(|(r, o, s)| Op::StackLoad(r, o * 8, s)),
        // Context offsets around __sk_buff; 168 (`sk`, a sock_common_or_null pointer the
        // kernel hands out) is skipped because the VM models no sockets.
        (reg(), -1i16..50, size()).prop_map(|(r, o, s)| {
            let o = if o == 42 || o == 43 { 40 } else { o };
            Op::CtxLoad(r, o * 4, s)
        }),
        (reg(), -70i32..2).prop_map(|(r, i)| Op::FpAdd(r, i * 8)),
        (reg(), reg(), -4i16..20, size()).prop_map(|(d, s, o, z)| Op::LoadVia(d, s, o * 4, z)),
        (reg(), -4i16..20, reg(), size()).prop_map(|(d, o, s, z)| Op::StoreVia(d, o * 4, s, z)),
        Just(Op::Lookup),
        (1u8..6).prop_map(Op::NullCheck),
        Just(Op::Prandom),
        (
            prop_oneof![
                Just(Cond::Eq),
                Just(Cond::Gt),
                Just(Cond::Lt),
                Just(Cond::Ne),
                Just(Cond::Sgt),
                Just(Cond::Slt)
            ],
            reg(),
            -4i32..70,
            1u8..6
        )
            .prop_map(|(c, r, i, k)| Op::CondJmp(c, r, i, k)),
        Just(Op::Exit),
    ]
}

/// Lays the ops out as a program that ends in `r0 = 0; exit`; forward jumps only, so runs
/// terminate.
fn compile(ops: &[Op]) -> Vec<Insn> {
    let mut blocks: Vec<Vec<Insn>> = Vec::new();
    for op in ops {
        let b = match *op {
            Op::MovImm(r, v) => vec![Insn::mov64_imm(r, v)],
            Op::MovReg(a, b) => vec![Insn::mov64_reg(a, b)],
            Op::AluImm(o, r, v) => vec![Insn::alu64_imm(o, r, v)],
            Op::AluReg(o, a, b) => vec![Insn::alu64_reg(o, a, b)],
            Op::StackStore(r, off, s) => vec![Insn::stx(s, 10, r, off)],
            Op::StackLoad(r, off, s) => vec![Insn::ldx(s, r, 10, off)],
            Op::CtxLoad(r, off, s) => vec![Insn::ldx(s, r, 6, off)],
            Op::FpAdd(r, v) => vec![Insn::mov64_reg(r, 10), Insn::alu64_imm(AluOp::Add, r, v)],
            Op::LoadVia(d, s, off, z) => vec![Insn::ldx(z, d, s, off)],
            Op::StoreVia(d, off, s, z) => vec![Insn::stx(z, d, s, off)],
            Op::Lookup => vec![
                Insn::st(Size::DW, 10, -8, 1),
                Insn::mov64_reg(2, 10),
                Insn::alu64_imm(AluOp::Add, 2, -8),
                Insn::ld_map_fd(1, 0),
                Insn::call_helper(1),
                Insn::mov64_reg(7, 0),
            ],
            Op::NullCheck(k) => vec![Insn::jmp_imm(Cond::Eq, 7, 0, k as i16)],
            Op::Prandom => vec![Insn::call_helper(7)],
            Op::CondJmp(c, r, v, k) => vec![Insn::jmp_imm(c, r, v, k as i16)],
            Op::Exit => vec![Insn::exit()],
        };
        blocks.push(b);
    }
    // Start with every register holding something, so that uninitialised reads are not
    // the only way to fail: r6 = ctx, r8 = fp - 16, the rest small numbers.
    let mut prog = vec![
        Insn::mov64_reg(6, 1),
        Insn::mov64_reg(8, 10),
        Insn::alu64_imm(AluOp::Add, 8, -16),
    ];
    for r in [0u8, 1, 2, 3, 4, 5, 7, 9] {
        prog.push(Insn::mov64_imm(r, i32::from(r) * 4));
    }
    for b in blocks {
        prog.extend(b);
    }
    prog.push(Insn::mov64_imm(0, 0));
    prog.push(Insn::exit());
    // Clamp jumps so they stay inside the program (the verifier checks range anyway, but
    // in-range jumps exercise more paths).
    let slots: Vec<usize> = prog
        .iter()
        .scan(0, |pc, insn| {
            let at = *pc;
            *pc += insn.slots();
            Some(at)
        })
        .collect();
    let total: usize = prog.iter().map(|x| x.slots()).sum();
    for (k, insn) in prog.iter_mut().enumerate() {
        if matches!(insn.form(), Some(Form::Jump { .. })) {
            let max = (total - slots[k] - 2) as i16;
            insn.off = insn.off.min(max).max(0);
        }
    }
    prog
}

fn vm_map() -> vm::MapSpec {
    vm::MapSpec::hash(8, 16, 4)
}

fn run_in_vm(prog: &[Insn]) -> Result<(), String> {
    let mut v = vm::Vm::new();
    v.set_budget(100_000);
    // The VM and the verifier name maps alike (`map_fd 0` is the first), so the program
    // runs unchanged.
    let fd = v.create_map(vm_map()).map_err(|e| e.to_string())?;
    assert_eq!(fd, 0);
    let vm_prog = prog.to_vec();
    // Put a value under key 1 so lookups sometimes succeed.
    if let Some(m) = v.map_mut(fd) {
        let _ = m.update(&1u64.to_le_bytes(), &[7u8; 16], 0);
    }
    v.set_packet(vec![0x5a; 64]);
    let id = v
        .load_insns(&vm_prog, vm::ProgType::SocketFilter)
        .map_err(|e| format!("load: {e}"))?;
    match v.run(id) {
        Ok(_) => Ok(()),
        Err(e) => match e.kind {
            vm::ErrorKind::Budget { .. } => Ok(()),
            _ => Err(e.to_string()),
        },
    }
}

fn options() -> Options {
    let mut o = Options::new(ProgType::SocketFilter);
    o.maps
        .push(MapSpec::new(asm::types::MapType::Hash, 8, 16, 4).named("m"));
    o
}

proptest! {
    // PROPTEST_CASES raises the count for longer local runs.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        .. ProptestConfig::default()
    })]

    #[test]
    fn accepted_programs_do_not_fault(ops in proptest::collection::vec(op(), 1..24)) {
        let prog = compile(&ops);
        if verifier::verify(&prog, &options()).is_ok() {
            if let Err(e) = run_in_vm(&prog) {
                let text: Vec<String> = prog.iter().map(asm::text::kernel::print).collect();
                prop_assert!(false, "accepted program faulted: {e}\n{}", text.join("\n"));
            }
        }
    }
}

#[test]
fn generator_reaches_both_verdicts() {
    // Guard against a generator that only produces rejected programs (which would make the
    // property vacuous).
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut bad) = (0, 0);
    let strat = proptest::collection::vec(op(), 1..24);
    for _ in 0..500 {
        let ops = strat.new_tree(&mut runner).expect("tree").current();
        match verifier::verify(&compile(&ops), &options()) {
            Ok(_) => ok += 1,
            Err(_) => bad += 1,
        }
    }
    assert!(ok >= 25 && bad >= 25, "accepted {ok}, rejected {bad}");
}

/// XDP programs that read and write the packet after (or without) `data_end` checks,
/// with fixed and variable offsets: accepted ones must stay inside any packet length.
#[derive(Clone, Debug)]
enum PktOp {
    Check(i32),
    Load(Size, i16),
    Store(Size, i16),
    VarAdd(i32),
    Reset,
}

fn pkt_op() -> impl Strategy<Value = PktOp> {
    prop_oneof![
        4 => (0i32..40).prop_map(PktOp::Check),
        3 => (size(), -2i16..24).prop_map(|(s, o)| PktOp::Load(s, o)),
        2 => (size(), -2i16..24).prop_map(|(s, o)| PktOp::Store(s, o)),
        1 => prop_oneof![Just(1i32), Just(3), Just(7), Just(15), Just(255)].prop_map(PktOp::VarAdd),
        1 => Just(PktOp::Reset),
    ]
}

/// r2 = data, r3 = data_end; every failed check jumps to the final `r0 = XDP_PASS; exit`.
fn compile_pkt(ops: &[PktOp]) -> Vec<Insn> {
    let mut body: Vec<(Insn, bool)> = vec![
        (Insn::ldx(Size::W, 2, 1, 0), false),
        (Insn::ldx(Size::W, 3, 1, 4), false),
    ];
    for op in ops {
        match *op {
            PktOp::Check(k) => {
                body.push((Insn::mov64_reg(4, 2), false));
                body.push((Insn::alu64_imm(AluOp::Add, 4, k), false));
                body.push((Insn::jmp_reg(Cond::Gt, 4, 3, 0), true)); // if r4 > r3 goto out
            }
            PktOp::Load(s, o) => body.push((Insn::ldx(s, 0, 2, o), false)),
            PktOp::Store(s, o) => body.push((Insn::stx(s, 2, 0, o), false)),
            PktOp::VarAdd(m) => {
                body.push((Insn::ldx(Size::B, 5, 2, 0), false));
                body.push((Insn::alu64_imm(AluOp::And, 5, m), false));
                body.push((Insn::alu64_reg(AluOp::Add, 2, 5), false));
            }
            PktOp::Reset => body.push((Insn::ldx(Size::W, 2, 1, 0), false)),
        }
    }
    let out = body.len() + 2;
    let mut prog: Vec<Insn> = body
        .iter()
        .enumerate()
        .map(|(k, (insn, to_out))| {
            let mut insn = *insn;
            if *to_out {
                insn.off = (out - k - 1) as i16;
            }
            insn
        })
        .collect();
    prog.push(Insn::mov64_imm(0, 2));
    prog.push(Insn::exit());
    prog.push(Insn::mov64_imm(0, 2));
    prog.push(Insn::exit());
    prog
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        .. ProptestConfig::default()
    })]

    #[test]
    fn accepted_packet_programs_stay_in_the_packet(
        ops in proptest::collection::vec(pkt_op(), 1..10),
        len in 0usize..48,
    ) {
        let prog = compile_pkt(&ops);
        if verifier::verify(&prog, &Options::new(ProgType::Xdp)).is_ok() {
            let mut v = vm::Vm::new();
            v.set_budget(100_000);
            v.set_packet(vec![0xa5; len]);
            let id = v.load_insns(&prog, vm::ProgType::Xdp).expect("loads");
            if let Err(e) = v.run(id) {
                let text: Vec<String> = prog.iter().map(asm::text::kernel::print).collect();
                prop_assert!(
                    matches!(e.kind, vm::ErrorKind::Budget { .. }),
                    "accepted program faulted on a {len}-byte packet: {e}\n{}",
                    text.join("\n")
                );
            }
        }
    }
}

#[test]
fn packet_generator_reaches_both_verdicts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut bad) = (0, 0);
    let strat = proptest::collection::vec(pkt_op(), 1..10);
    for _ in 0..500 {
        let ops = strat.new_tree(&mut runner).expect("tree").current();
        match verifier::verify(&compile_pkt(&ops), &Options::new(ProgType::Xdp)) {
            Ok(_) => ok += 1,
            Err(_) => bad += 1,
        }
    }
    assert!(ok >= 25 && bad >= 25, "accepted {ok}, rejected {bad}");
}
