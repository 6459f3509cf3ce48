//! Regressions of issue #18 items 4–5: raw tracepoints and syscall programs test-run, map
//! creation errors name the map, ring buffer records and trace lines are read back,
//! per-CPU values of every CPU, a run on a chosen CPU. Each prints `skipped:` where bpf()
//! is not usable.

mod common;

use asm::isa::Size;
use asm::Insn;
use common::kernel_available;
use kernel::map::UpdateFlags;
use kernel::ringbuf::RingBuf;
use kernel::{Error, LoadOptions, Map, MapSpec, MapType, ProgType, Program, TestRun};

const EXIT: Insn = Insn::exit();

#[test]
fn raw_tracepoint_runs_through_its_arguments() {
    if !kernel_available("raw_tracepoint_runs_through_its_arguments") {
        return;
    }
    // r0 = args[1]
    let p = Program::load(
        &[Insn::ldx(Size::DW, 0, 1, 8), EXIT],
        &LoadOptions::new(ProgType::RawTracepoint),
    )
    .unwrap();
    let mut args = [0u8; 16];
    args[8] = 42;
    let out = p
        .test_run(&TestRun {
            ctx: &args,
            repeat: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 42);
    // A packet is refused by name, not as EINVAL.
    let e = p
        .test_run(&TestRun {
            data: &[0; 14],
            ctx: &args,
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("take no packet"), "{e}");
    // On each CPU through BPF_F_TEST_RUN_ON_CPU; a CPU that does not exist is named.
    for cpu in 0..kernel::cpu::possible() as u32 {
        let out = p
            .test_run(&TestRun {
                ctx: &args,
                cpu: Some(cpu),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.retval, 42);
    }
    let e = p
        .test_run(&TestRun {
            ctx: &args,
            cpu: Some(4000),
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("CPU 4000"), "{e}");
}

#[test]
fn syscall_programs_load_sleepable_and_give_the_context_back() {
    if !kernel_available("syscall_programs_load_sleepable_and_give_the_context_back") {
        return;
    }
    // ctx[0] = 7; r0 = 3
    let p = Program::load(
        &[Insn::st(Size::DW, 1, 0, 7), Insn::mov64_imm(0, 3), EXIT],
        &LoadOptions::new(ProgType::Syscall),
    )
    .unwrap();
    let out = p
        .test_run(&TestRun {
            ctx: &[0; 8],
            ..Default::default()
        })
        .unwrap();
    assert_eq!((out.retval, out.ctx), (3, vec![7, 0, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn other_types_refuse_the_cpu_flag_so_the_thread_is_pinned() {
    if !kernel_available("other_types_refuse_the_cpu_flag_so_the_thread_is_pinned") {
        return;
    }
    // r0 = bpf_get_smp_processor_id()
    let prog = [Insn::call_helper(8), EXIT];
    let p = Program::load(&prog, &LoadOptions::new(ProgType::Xdp)).unwrap();
    // Measured on 6.18: bpf_prog_test_run_xdp refuses BPF_F_TEST_RUN_ON_CPU (EINVAL).
    let e = p
        .test_run(&TestRun {
            data: &[0; 14],
            flags: kernel::prog::BPF_F_TEST_RUN_ON_CPU,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.errno().map(|e| e.0), Some(libc::EINVAL));
    for cpu in 0..kernel::cpu::possible() as u32 {
        let out = p
            .test_run(&TestRun {
                data: &[0; 14],
                cpu: Some(cpu),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.retval, cpu);
    }
}

#[test]
fn a_refused_map_is_named_with_the_rule() {
    if !kernel_available("a_refused_map_is_named_with_the_rule") {
        return;
    }
    let e = Map::create(&MapSpec::new(MapType::Ringbuf, 0, 8, 4096).named("events")).unwrap_err();
    assert!(matches!(e, Error::MapCreate { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("map `events` (ringbuf): BPF_MAP_CREATE: EINVAL"),
        "{text}"
    );
    assert!(text.contains("no key or value"), "{text}");
    let e = Map::create(&MapSpec::new(MapType::LpmTrie, 8, 8, 4).named("routes")).unwrap_err();
    assert!(e.to_string().contains("BPF_F_NO_PREALLOC"), "{e}");
    // With the flag it is created; a map-in-map gets its inner map.
    Map::create(&MapSpec::new(MapType::LpmTrie, 8, 8, 4).with_flags(1)).unwrap();
    let mut outer = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 2).named("outer");
    outer.inner = Some(Box::new(MapSpec::array(8, 1)));
    Map::create(&outer).unwrap();
}

#[test]
fn ring_buffer_records_are_read_through_mmap() {
    if !kernel_available("ring_buffer_records_are_read_through_mmap") {
        return;
    }
    let rb = Map::create(&MapSpec::new(MapType::Ringbuf, 0, 0, 4096).named("rb")).unwrap();
    let mut reader = RingBuf::new(&rb).unwrap();
    // *(u64 *)(fp - 8) = 0x1122334455667788; bpf_ringbuf_output(map 0, fp - 8, 5, 0);
    // then a 16-byte record reserved and discarded.
    let prog = [
        Insn::lddw(1, 0x1122_3344_5566_7788),
        Insn::stx(Size::DW, 10, 1, -8),
        Insn::ld_map_fd(1, 0),
        Insn::mov64_reg(2, 10),
        Insn::alu64_imm(asm::isa::AluOp::Add, 2, -8),
        Insn::mov64_imm(3, 5),
        Insn::mov64_imm(4, 0),
        Insn::call_helper(130),
        Insn::ld_map_fd(1, 0),
        Insn::mov64_imm(2, 16),
        Insn::mov64_imm(3, 0),
        Insn::call_helper(131),
        Insn::jmp_imm(asm::isa::Cond::Eq, 0, 0, 3),
        Insn::mov64_reg(1, 0),
        Insn::mov64_imm(2, 0),
        Insn::call_helper(133),
        Insn::mov64_imm(0, 2),
        EXIT,
    ];
    let mut opts = LoadOptions::new(ProgType::Xdp);
    opts.maps = vec![&rb];
    let p = Program::load(&prog, &opts).unwrap();
    assert!(reader.take().is_empty());
    for _ in 0..2 {
        p.test_run(&TestRun {
            data: &[0; 14],
            ..Default::default()
        })
        .unwrap();
    }
    let want = vec![0x88, 0x77, 0x66, 0x55, 0x44];
    assert_eq!(reader.take(), vec![want.clone(), want]);
    assert!(reader.take().is_empty());
}

#[test]
fn per_cpu_values_come_for_every_cpu() {
    if !kernel_available("per_cpu_values_come_for_every_cpu") {
        return;
    }
    let n = kernel::cpu::possible();
    let m = Map::create(&MapSpec::new(MapType::PercpuArray, 4, 4, 1)).unwrap();
    assert_eq!(m.value_len(), 8 * n);
    let all: Vec<u8> = (0..n)
        .flat_map(|c| [c as u8 + 1, 0, 0, 0, 0, 0, 0, 0])
        .collect();
    m.update(&0u32.to_le_bytes(), &all, UpdateFlags::Any)
        .unwrap();
    assert_eq!(m.lookup(&0u32.to_le_bytes()).unwrap(), Some(all));
}

#[test]
fn trace_printk_lines_are_read_from_an_instance() {
    if !kernel_available("trace_printk_lines_are_read_from_an_instance") {
        return;
    }
    let capture = match kernel::trace::Capture::new() {
        Ok(c) => c,
        Err(e) => {
            println!("skipped: {e} [trace_printk_lines_are_read_from_an_instance]");
            return;
        }
    };
    // "hi %d\n" with r3 = 5
    let prog = [
        Insn::st(Size::W, 10, -8, i32::from_le_bytes(*b"hi %")),
        Insn::st(Size::W, 10, -4, i32::from_le_bytes(*b"d\n\0\0")),
        Insn::mov64_reg(1, 10),
        Insn::alu64_imm(asm::isa::AluOp::Add, 1, -8),
        Insn::mov64_imm(2, 7),
        Insn::mov64_imm(3, 5),
        Insn::call_helper(6),
        Insn::mov64_imm(0, 2),
        EXIT,
    ];
    let p = Program::load(&prog, &LoadOptions::new(ProgType::Xdp)).unwrap();
    capture.clear().unwrap();
    p.test_run(&TestRun {
        data: &[0; 14],
        ..Default::default()
    })
    .unwrap();
    let lines = capture.take(kernel::trace::Whose::this_thread()).unwrap();
    assert_eq!(lines, ["hi 5"]);
}

#[test]
fn perf_event_output_samples_are_read_back() {
    if !kernel_available("perf_event_output_samples_are_read_back") {
        return;
    }
    let n = kernel::cpu::possible() as u32;
    let events =
        Map::create(&MapSpec::new(MapType::PerfEventArray, 4, 4, n).named("events")).unwrap();
    let mut bufs = kernel::perf::PerfBuffers::new(&events).unwrap();
    // *(u64 *)(fp - 8) = 0x0807060504030201;
    // bpf_perf_event_output(ctx, map 0, BPF_F_CURRENT_CPU, fp - 8, 8)
    let prog = [
        Insn::lddw(2, 0x0807_0605_0403_0201),
        Insn::stx(Size::DW, 10, 2, -8),
        Insn::ld_map_fd(2, 0),
        Insn::lddw(3, 0xffff_ffff),
        Insn::mov64_reg(4, 10),
        Insn::alu64_imm(asm::isa::AluOp::Add, 4, -8),
        Insn::mov64_imm(5, 8),
        Insn::call_helper(25),
        EXIT,
    ];
    let mut opts = LoadOptions::new(ProgType::Xdp);
    opts.maps = vec![&events];
    let p = Program::load(&prog, &opts).unwrap();
    for cpu in [0, n - 1] {
        let out = p
            .test_run(&TestRun {
                data: &[0; 14],
                cpu: Some(cpu),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.retval, 0, "bpf_perf_event_output failed");
    }
    // The 8 bytes, padded by the kernel to 12 so that the u32 size and the data end on 8.
    let want = vec![1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0];
    assert_eq!(bufs.take(), vec![want.clone(), want]);
    assert!(bufs.take().is_empty());
    assert_eq!(bufs.lost(), 0);
}

#[test]
fn local_storage_maps_are_created_with_btf() {
    if !kernel_available("local_storage_maps_are_created_with_btf") {
        return;
    }
    for t in [
        MapType::SkStorage,
        MapType::TaskStorage,
        MapType::InodeStorage,
        MapType::CgrpStorage,
    ] {
        let spec = MapSpec::new(t, 4, 16, 0).with_flags(1).named("store");
        Map::create(&spec).unwrap_or_else(|e| panic!("{t}: {e}"));
    }
    // Without BPF_F_NO_PREALLOC: named, with the rule.
    let e = Map::create(&MapSpec::new(MapType::TaskStorage, 4, 16, 0).named("tasks")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("map `tasks` (task_storage): BPF_MAP_CREATE: EINVAL"),
        "{text}"
    );
    assert!(text.contains("BPF_F_NO_PREALLOC"), "{text}");
}

/// Measured on 6.18: which test-runnable types take `BPF_F_TEST_RUN_ON_CPU`. Only raw
/// tracepoints do (bpf_prog_test_run_raw_tp); the others answer EINVAL, so
/// `TestRun::cpu` pins the calling thread for them instead.
#[test]
fn only_raw_tracepoints_take_the_cpu_flag() {
    if !kernel_available("only_raw_tracepoints_take_the_cpu_flag") {
        return;
    }
    let packet = [0u8; 64];
    // struct bpf_sk_lookup with family AF_INET and protocol TCP (the kernel refuses others).
    let mut sk_lookup = [0u8; 72];
    sk_lookup[8] = 2;
    sk_lookup[12] = 6;
    let mut accepted = Vec::new();
    for &t in ProgType::ALL.iter().filter(|t| t.can_test_run()) {
        let p = match Program::load(
            &[Insn::mov64_imm(0, 0), EXIT],
            &kernel::probe::probe_options(t),
        ) {
            Ok(p) => p,
            Err(e) => {
                println!("{t}: does not load here ({e})");
                continue;
            }
        };
        let (data, ctx): (&[u8], &[u8]) = match t {
            ProgType::SkLookup => (&[], &sk_lookup),
            _ if kernel::prog::takes_packet(t) => (&packet, &[]),
            _ => (&[], &[]),
        };
        let plain = TestRun {
            data,
            ctx,
            ..Default::default()
        };
        if p.test_run(&plain).is_err() {
            println!("{t}: no plain test run here");
            continue;
        }
        let flagged = TestRun {
            flags: kernel::prog::BPF_F_TEST_RUN_ON_CPU,
            ..plain
        };
        // Raw tracepoints go through `cpu` (the flag set by test_run); the others get the
        // flag raw.
        let r = if t == ProgType::RawTracepoint {
            p.test_run(&TestRun {
                cpu: Some(0),
                ..plain
            })
        } else {
            p.test_run(&flagged)
        };
        match r {
            Ok(_) => accepted.push(t),
            Err(e) => {
                assert_eq!(e.errno().map(|e| e.0), Some(libc::EINVAL), "{t}: {e}");
                // Pinned instead: runs.
                p.test_run(&TestRun {
                    cpu: Some(0),
                    ..plain
                })
                .unwrap_or_else(|e| panic!("{t} pinned to CPU 0: {e}"));
            }
        }
    }
    assert_eq!(accepted, [ProgType::RawTracepoint]);
}

/// Every map type is created from a `MapSpec` of its usual shape, or refused with the map's
/// name and the reason.
#[test]
fn every_map_type_is_created_or_refused_by_name() {
    if !kernel_available("every_map_type_is_created_or_refused_by_name") {
        return;
    }
    let page = kernel::map_rules::page_size();
    let no_prealloc = kernel::map_rules::BPF_F_NO_PREALLOC;
    let mut refused = Vec::new();
    for &t in MapType::ALL {
        let (k, v, n, flags) = match t {
            MapType::Ringbuf | MapType::UserRingbuf => (0, 0, page, 0),
            MapType::LpmTrie => (8, 8, 16, no_prealloc),
            MapType::SkStorage
            | MapType::InodeStorage
            | MapType::TaskStorage
            | MapType::CgrpStorage => (4, 8, 0, no_prealloc),
            MapType::CgroupStorage | MapType::PercpuCgroupStorage => (16, 8, 0, 0),
            MapType::BloomFilter | MapType::Queue | MapType::Stack => (0, 8, 16, 0),
            MapType::StackTrace => (4, 8 * 127, 16, 0),
            MapType::Arena => (0, 0, 1, kernel::map_rules::BPF_F_MMAPABLE),
            MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::LruPercpuHash => {
                (8, 8, 16, 0)
            }
            _ => (4, 4, 4, 0),
        };
        let mut spec = MapSpec::new(t, k, v, n).with_flags(flags).named("m");
        if matches!(t, MapType::ArrayOfMaps | MapType::HashOfMaps) {
            spec.inner = Some(Box::new(MapSpec::array(8, 1)));
        }
        match Map::create(&spec) {
            Ok(_) => {}
            // 6.18 refuses an arena with EPERM even to root here (map_extra, the user address
            // range, is not given by MapSpec).
            Err(e) if t == MapType::Arena => refused.push(format!("arena: {e}")),
            Err(e) => {
                let text = e.to_string();
                assert!(text.starts_with(&format!("map `m` ({t}): ")), "{t}: {text}");
                refused.push(format!("{t}: {text}"));
            }
        }
    }
    for r in &refused {
        println!("refused: {r}");
    }
    // struct_ops needs a kernel struct's BTF type; arena needs map_extra (its address).
    let names: Vec<&str> = refused
        .iter()
        .map(|r| r.split(':').next().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| ["struct_ops", "arena"].contains(n)),
        "{refused:#?}"
    );
}
