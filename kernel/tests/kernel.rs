//! The kernel backend against the running kernel. Every test prints `skipped: ...` and
//! passes where bpf() is not usable (unprivileged user, seccomp, old kernel).

mod common;

use asm::isa::{AluOp, Cond, Size};
use asm::Insn;
use common::kernel_available;
use kernel::map::UpdateFlags;
use kernel::run::{prepare, run, RunInput};
use kernel::{Error, LoadOptions, LogLevel, Map, MapSpec, MapType, ProgType, Program, TestRun};

const EXIT: Insn = Insn::exit();

#[test]
fn array_map_crud() {
    if !kernel_available("array_map_crud") {
        return;
    }
    let m = Map::create(&MapSpec::array(8, 4)).unwrap();
    let k = 2u32.to_le_bytes();
    assert_eq!(
        m.lookup(&k).unwrap(),
        Some(vec![0; 8]),
        "array slots start zeroed"
    );
    m.update(&k, &7u64.to_le_bytes(), UpdateFlags::Any).unwrap();
    assert_eq!(m.lookup(&k).unwrap(), Some(7u64.to_le_bytes().to_vec()));
    assert_eq!(
        m.lookup(&9u32.to_le_bytes()).unwrap(),
        None,
        "out of range index"
    );
    let e = m.update(&k, &[0; 4], UpdateFlags::Any).unwrap_err();
    assert_eq!(
        e,
        Error::Size {
            what: "value",
            expected: 8,
            got: 4
        }
    );
    let e = m.update(&k, &[0; 8], UpdateFlags::NoExist).unwrap_err();
    assert_eq!(
        e.errno().map(|e| e.0),
        Some(libc::EEXIST),
        "array elements always exist"
    );
    let entries = m.entries().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[2], (k.to_vec(), 7u64.to_le_bytes().to_vec()));
    let e = m.delete(&k).unwrap_err();
    assert_eq!(
        e.errno().map(|e| e.0),
        Some(libc::EINVAL),
        "arrays cannot delete"
    );
}

#[test]
fn hash_map_crud_and_iteration() {
    if !kernel_available("hash_map_crud_and_iteration") {
        return;
    }
    let m = Map::create(&MapSpec::hash(2, 4, 8)).unwrap();
    assert_eq!(m.spec().map_type, MapType::Hash);
    assert_eq!(
        m.next_key(None).unwrap(),
        None,
        "empty map has no first key"
    );
    for k in [1u16, 5, 9] {
        m.update(
            &k.to_le_bytes(),
            &(k as u32 * 10).to_le_bytes(),
            UpdateFlags::NoExist,
        )
        .unwrap();
    }
    let e = m
        .update(&5u16.to_le_bytes(), &[0; 4], UpdateFlags::NoExist)
        .unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::EEXIST));
    m.update(&5u16.to_le_bytes(), &[1, 0, 0, 0], UpdateFlags::Exist)
        .unwrap();
    let e = m
        .update(&6u16.to_le_bytes(), &[0; 4], UpdateFlags::Exist)
        .unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::ENOENT));
    let mut entries = m.entries().unwrap();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            (1u16.to_le_bytes().to_vec(), 10u32.to_le_bytes().to_vec()),
            (5u16.to_le_bytes().to_vec(), 1u32.to_le_bytes().to_vec()),
            (9u16.to_le_bytes().to_vec(), 90u32.to_le_bytes().to_vec()),
        ]
    );
    assert!(m.delete(&5u16.to_le_bytes()).unwrap());
    assert!(!m.delete(&5u16.to_le_bytes()).unwrap());
    assert_eq!(m.lookup(&5u16.to_le_bytes()).unwrap(), None);
    let e = m.lookup(&[0; 3]).unwrap_err();
    assert_eq!(
        e,
        Error::Size {
            what: "key",
            expected: 2,
            got: 3
        }
    );
}

#[test]
fn percpu_values_cover_every_cpu() {
    if !kernel_available("percpu_values_cover_every_cpu") {
        return;
    }
    let spec = MapSpec {
        map_type: MapType::PercpuArray,
        ..MapSpec::array(4, 1)
    };
    let m = Map::create(&spec).unwrap();
    assert_eq!(m.value_len() % 8, 0);
    let v = m.lookup(&0u32.to_le_bytes()).unwrap().unwrap();
    assert_eq!(v.len(), m.value_len());
}

#[test]
fn rejected_program_carries_the_verifier_log() {
    if !kernel_available("rejected_program_carries_the_verifier_log") {
        return;
    }
    // exit without setting r0
    let e = Program::load(&[EXIT], &LoadOptions::new(ProgType::Xdp)).unwrap_err();
    let Error::Verifier { errno, log } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(errno.0, libc::EACCES);
    assert!(log.contains("R0 !read_ok"), "{log}");
    assert!(e.to_string().ends_with("R0 !read_ok"), "{e}");
    // an invalid opcode: EINVAL, still with a log. The byte is what is under test: 0x8e
    // (BPF_JMP32 | BPF_CALL | BPF_X) is no instruction, so no builder makes it.
    let unknown = Insn {
        code: 0x8e,
        ..Insn::default()
    };
    let e = Program::load(&[unknown, EXIT], &LoadOptions::new(ProgType::Xdp)).unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::EINVAL));
    assert!(
        e.verifier_log().unwrap().contains("unknown opcode 8e"),
        "{e:?}"
    );
}

#[test]
fn log_on_request_and_bigger_buffers() {
    if !kernel_available("log_on_request_and_bigger_buffers") {
        return;
    }
    // 3,000 instructions at log level 2 produce far more than the first 64 KiB buffer:
    // the load must still succeed and return the whole log.
    let mut prog = vec![Insn::mov64_imm(0, 0)];
    prog.extend(std::iter::repeat(Insn::alu64_imm(AluOp::Add, 0, 1)).take(3000));
    prog.push(EXIT);
    let mut opts = LoadOptions::new(ProgType::Xdp);
    opts.log_level = LogLevel::Full;
    let p = Program::load(&prog, &opts).unwrap();
    assert!(p.log().len() > 1 << 16, "{}", p.log().len());
    assert!(p.log().contains("3001: (95) exit"), "log is complete");
    let p = Program::load(&prog, &LoadOptions::new(ProgType::Xdp)).unwrap();
    assert_eq!(p.log(), "", "no log unless asked");
}

#[test]
fn test_run_xdp_packet_and_duration() {
    if !kernel_available("test_run_xdp_packet_and_duration") {
        return;
    }
    // r2 = data; r3 = data_end; if data + 1 > data_end goto drop; *(u8 *)data = 0xaa; XDP_TX
    let prog = [
        Insn::ldx(Size::W, 2, 1, 0),
        Insn::ldx(Size::W, 3, 1, 4),
        Insn::mov64_reg(4, 2),
        Insn::alu64_imm(AluOp::Add, 4, 1),
        Insn::jmp_reg(Cond::Gt, 4, 3, 3),
        Insn::st(Size::B, 2, 0, 0xaa),
        Insn::mov64_imm(0, 3),
        EXIT,
        Insn::mov64_imm(0, 1),
        EXIT,
    ];
    let p = Program::load(&prog, &LoadOptions::new(ProgType::Xdp)).unwrap();
    let out = p
        .test_run(&TestRun {
            data: &[0x11; 20],
            repeat: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 3);
    assert_eq!(
        ProgType::Xdp.r0_meaning(out.retval as u64).as_deref(),
        Some("XDP_TX")
    );
    let mut want = vec![0x11; 20];
    want[0] = 0xaa;
    assert_eq!(out.data, want);
    // Below ETH_HLEN the kernel refuses the packet.
    let e = p
        .test_run(&TestRun {
            data: &[0; 4],
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::EINVAL));
}

#[test]
fn test_run_socket_filter_reads_skb_len() {
    if !kernel_available("test_run_socket_filter_reads_skb_len") {
        return;
    }
    // r0 = skb->len (offset 0 of struct __sk_buff)
    let prog = [Insn::ldx(Size::W, 0, 1, 0), EXIT];
    let p = Program::load(&prog, &LoadOptions::new(ProgType::SocketFilter)).unwrap();
    let out = p
        .test_run(&TestRun {
            data: &[0; 60],
            ..Default::default()
        })
        .unwrap();
    // bpf_prog_test_run_skb() passes the packet through eth_type_trans(), which pulls the
    // 14-byte Ethernet header: the program sees the rest.
    assert_eq!(out.retval, 60 - 14);
}

#[test]
fn full_r0_through_the_wrapper() {
    if !kernel_available("full_r0_through_the_wrapper") {
        return;
    }
    let prog = [Insn::lddw(0, -2), EXIT];
    let out = run(&prog, &RunInput::default()).unwrap();
    assert_eq!((out.r0, out.r0_bits), (u64::MAX - 1, 64));
    // memory mode: r0 = *(u64 *)(r1 + 8) + r2, and the program writes the memory
    let prog = [
        Insn::ldx(Size::DW, 0, 1, 8),
        Insn::alu64_reg(AluOp::Add, 0, 2),
        Insn::st(Size::B, 1, 0, 0x5a),
        EXIT,
    ];
    let mem: Vec<u8> = (0..16).collect();
    let out = run(
        &prog,
        &RunInput {
            mem: &mem,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        out.r0,
        u64::from_le_bytes(mem[8..16].try_into().unwrap()) + 16
    );
    let mut after = mem.clone();
    after[0] = 0x5a;
    assert_eq!(out.data, after);
    // reading past the memory is the verifier's business
    let prog = [Insn::ldx(Size::DW, 0, 1, 16), EXIT];
    let e = run(
        &prog,
        &RunInput {
            mem: &mem,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.verifier_log()
            .unwrap()
            .contains("invalid access to packet"),
        "{e}"
    );
    // typed mode keeps 64 bits too
    let prog = [Insn::lddw(0, 0x7_0000_0002), EXIT];
    let out = run(
        &prog,
        &RunInput {
            prog_type: Some(ProgType::Xdp),
            packet: &[0; 14],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((out.r0, out.r0_bits), (0x7_0000_0002, 64));
}

#[test]
fn ld_abs_falls_back_to_a_direct_run() {
    if !kernel_available("ld_abs_falls_back_to_a_direct_run") {
        return;
    }
    // r6 = r1; r0 = *(u8 *)skb[0]  (ld_abs needs the context in r6 and no subprograms)
    let prog = [Insn::mov64_reg(6, 1), Insn::ld_abs(Size::B, 0), EXIT];
    let mut pkt = vec![0u8; 20];
    // run() adds the Ethernet header the test run pulls: ld_abs 0 is the packet's byte 0.
    pkt[0] = 0x42;
    let input = RunInput {
        prog_type: Some(ProgType::SocketFilter),
        packet: &pkt,
        ..Default::default()
    };
    let out = run(&prog, &input).unwrap();
    assert_eq!((out.r0, out.r0_bits), (0x42, 32));
}

#[test]
fn programs_use_maps_by_index() {
    if !kernel_available("programs_use_maps_by_index") {
        return;
    }
    let a = Map::create(&MapSpec::array(8, 1)).unwrap();
    let b = Map::create(&MapSpec::array(8, 1)).unwrap();
    b.update(&0u32.to_le_bytes(), &41u64.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    // r1 = &map[1][0]; r0 = *r1 + 1; r2 = &map[0][0]; *r2 = r0
    let prog = [
        Insn::ld_map_value(1, 1, 0),
        Insn::ldx(Size::DW, 0, 1, 0),
        Insn::alu64_imm(AluOp::Add, 0, 1),
        Insn::ld_map_value(2, 0, 0),
        Insn::stx(Size::DW, 2, 0, 0),
        EXIT,
    ];
    let out = run(
        &prog,
        &RunInput {
            maps: vec![&a, &b],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.r0, 42);
    assert_eq!(
        a.lookup(&0u32.to_le_bytes()).unwrap(),
        Some(42u64.to_le_bytes().to_vec())
    );
    // The wrapper's own result map is not addressable by the program.
    let e = run(
        &prog,
        &RunInput {
            maps: vec![&a],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::MapIndex {
            index: 0,
            map: 1,
            count: 1
        }
    );
}

#[test]
fn probe_finds_test_runnable_types() {
    if !kernel_available("probe_finds_test_runnable_types") {
        return;
    }
    use kernel::probe::{report, TypeProbe};
    let r = report();
    assert!(r.usable.is_ok());
    assert_eq!(r.release.as_deref().map(|s| s.is_empty()), Some(false));
    let get = |t: ProgType| {
        r.types
            .iter()
            .find(|(x, _)| *x == t)
            .map(|(_, p)| p.clone())
            .unwrap()
    };
    for t in [
        ProgType::SocketFilter,
        ProgType::Xdp,
        ProgType::SchedCls,
        ProgType::SkLookup,
        ProgType::Syscall,
    ] {
        assert_eq!(get(t), TypeProbe::Runs, "{t}");
    }
    // kprobes load but the kernel has no test_run for them: ENOTSUPP (524)
    match get(ProgType::Kprobe) {
        TypeProbe::Loads(e) => assert_eq!(e.errno().map(|e| e.0), Some(524)),
        other => panic!("{other:?}"),
    }
    // fentry/fexit programs need a BTF attach target
    assert!(matches!(get(ProgType::Tracing), TypeProbe::Unloadable(_)));
}

#[test]
fn large_memory_lives_in_a_map_value() {
    if !kernel_available("large_memory_lives_in_a_map_value") {
        return;
    }
    let mut mem = vec![0u8; 4096];
    mem[4088..].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    // r0 = *(u64 *)(r1 + 4088) + r2; *(u8 *)(r1 + 0) = 9
    let prog = [
        Insn::ldx(Size::DW, 0, 1, 4088),
        Insn::alu64_reg(AluOp::Add, 0, 2),
        Insn::st(Size::B, 1, 0, 9),
        EXIT,
    ];
    let out = run(
        &prog,
        &RunInput {
            mem: &mem,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.r0, 0x1122_3344_5566_7788 + 4096);
    assert_eq!(out.data.len(), 4096);
    assert_eq!(out.data[0], 9);
    assert_eq!(out.data[4088..], mem[4088..]);
    // Past the end is refused by the verifier, as for a packet.
    let prog = [Insn::ldx(Size::DW, 0, 1, 4090), EXIT];
    let e = run(
        &prog,
        &RunInput {
            mem: &mem,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.verifier_log()
            .unwrap()
            .contains("invalid access to map value"),
        "{e}"
    );
    // Small memory in a map value on request: a variable offset bounded only by its value
    // range (r3 = *(u8 *)r1 & 15; r0 = *(u8 *)(r1 + r3)) loads there, not in a packet.
    let prog = [
        Insn::ldx(Size::B, 3, 1, 0),
        Insn::alu64_imm(AluOp::And, 3, 15),
        Insn::alu64_reg(AluOp::Add, 1, 3),
        Insn::ldx(Size::B, 0, 1, 0),
        EXIT,
    ];
    let mut small = vec![0u8; 16];
    small[0] = 5;
    small[5] = 0x77;
    let e = run(
        &prog,
        &RunInput {
            mem: &small,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.verifier_log()
            .unwrap()
            .contains("invalid access to packet"),
        "{e}"
    );
    let out = run(
        &prog,
        &RunInput {
            mem: &small,
            mem_in_map: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.r0, 0x77);
    assert_eq!(out.data, small);
    let huge = vec![0u8; kernel::run::MAX_MEM + 1];
    let e = run(
        &prog,
        &RunInput {
            mem: &huge,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            what: "memory",
            got: kernel::run::MAX_MEM + 1,
            max: kernel::run::MAX_MEM
        }
    );
}

#[test]
fn prepared_runs_start_from_the_input() {
    if !kernel_available("prepared_runs_start_from_the_input") {
        return;
    }
    // *(u8 *)r1 += 1; r0 = *(u8 *)r1
    let prog = [
        Insn::ldx(Size::B, 0, 1, 0),
        Insn::alu64_imm(AluOp::Add, 0, 1),
        Insn::stx(Size::B, 1, 0, 0),
        EXIT,
    ];
    for (mem, in_map) in [
        (vec![0u8; 16], false),
        (vec![0u8; 16], true),
        (vec![0u8; 4000], false),
    ] {
        let p = prepare(
            &prog,
            &RunInput {
                mem: &mem,
                mem_in_map: in_map,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.run(1).unwrap().r0, 1);
        assert_eq!(p.run(1).unwrap().r0, 1, "each call starts from the input");
        let out = p.run(5).unwrap();
        assert_eq!(out.r0, 5, "repetitions within a call carry over");
        assert_eq!(out.data[0], 5);
        assert_eq!(out.data.len(), mem.len());
    }
    // No memory: no bytes come back (the kernel's minimum packet is bpfx's padding).
    let prog = [Insn::mov64_imm(0, 1), EXIT];
    assert_eq!(
        run(&prog, &RunInput::default()).unwrap().data,
        Vec::<u8>::new()
    );
}

#[test]
fn too_large_reports_e2big_with_the_verdict() {
    if !kernel_available("too_large_reports_e2big_with_the_verdict") {
        return;
    }
    // r0 = 0; do { r0 += 1 } while (r0 != 2000000): the verifier walks every iteration and
    // gives up after a million instructions. The log (level 1) outgrows every buffer; the
    // error must still name E2BIG and the verifier's last words.
    let prog = [
        Insn::mov64_imm(0, 0),
        Insn::alu64_imm(AluOp::Add, 0, 1),
        Insn::jmp_imm(Cond::Ne, 0, 2_000_000, -2),
        EXIT,
    ];
    let e = Program::load(&prog, &LoadOptions::new(ProgType::Xdp)).unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::E2BIG), "{e}");
    assert!(e.to_string().contains("BPF program is too large"), "{e}");
}

#[test]
fn test_runnable_types_match_the_table() {
    // `asm::types::ProgType::can_test_run` is data the VM and CLI rely on; the running kernel
    // is the oracle for it.
    if !kernel_available("test_runnable_types_match_the_table") {
        return;
    }
    for &t in ProgType::ALL {
        let runs = matches!(kernel::probe::probe_type(t), kernel::probe::TypeProbe::Runs);
        assert_eq!(runs, t.can_test_run(), "{t}: kernel test-runs it: {runs}");
    }
}

#[test]
fn efault_from_the_verifier_carries_its_log() {
    // The verifier answers EFAULT when too many branches are pending; the load is repeated
    // with a log so the reason is not lost.
    if !kernel_available("efault_from_the_verifier_carries_its_log") {
        return;
    }
    let mut prog = vec![Insn::call_helper(7)];
    for k in 0..9000 {
        prog.push(Insn::jmp_imm(Cond::Eq, 0, k, 0));
    }
    prog.push(Insn::mov64_imm(0, 0));
    prog.push(EXIT);
    let e = Program::load(&prog, &LoadOptions::new(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(e.errno().map(|n| n.0), Some(libc::EFAULT), "{e}");
    assert_eq!(
        e.verifier_log().and_then(kernel::error::first_error_line),
        Some("The sequence of 8193 jumps is too complex.")
    );
}

#[test]
fn an_object_program_with_its_maps() {
    if !kernel_available("an_object_program_with_its_maps") {
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/globals.bpf.o");
    let o = obj::Object::parse(&std::fs::read(path).unwrap()).unwrap();
    let p = &o.programs[0];
    let opts = LoadOptions::for_program(p, p.type_or(None).unwrap(), o.license.as_deref(), &[]);
    assert_eq!(opts.prog_type, ProgType::Xdp);
    assert_eq!(opts.expected_attach_type, Some(kernel::AttachType::Xdp));
    assert_eq!(opts.name, p.name);
    let maps = kernel::object::create_maps(&o).unwrap();
    assert_eq!(maps.len(), o.maps.len());
    let prog = kernel::object::load_program(&o, p, ProgType::Xdp, &maps).unwrap();
    // As in the VM: 150 bytes is above the threshold of 100 (XDP_DROP), 60 below.
    let big = [0u8; 150];
    let run = |data: &[u8]| {
        prog.test_run(&TestRun {
            data,
            ..TestRun::default()
        })
        .unwrap()
        .retval
    };
    assert_eq!(run(&big), 1);
    assert_eq!(run(&[0u8; 60]), 2);
    // The global counter started at the object's 7.
    let g = o.global("packets").unwrap();
    let v = maps[g.map].lookup(&0u32.to_le_bytes()).unwrap().unwrap();
    let off = g.offset as usize;
    assert_eq!(v[off..off + 8], 9u64.to_le_bytes());
}
