//! Each test object run in the VM through `vm::testing`: the return value and its meaning,
//! maps, global data, trace output, ring buffer records and tail calls.

use asm::types::ProgType;
use obj::Object;
use vm::testing::{Test, TestError};
use vm::Env;

fn path(name: &str) -> String {
    format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn open(name: &str) -> Test {
    Test::open(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An Ethernet frame: IPv4 with protocol `proto` and `len` bytes in all, or another
/// ethertype.
fn frame(ethertype: u16, proto: u8, len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len.max(14)];
    p[..6].copy_from_slice(&[0xff; 6]);
    p[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    p[12..14].copy_from_slice(&ethertype.to_be_bytes());
    if len >= 34 && ethertype == 0x0800 {
        p[14] = 0x45;
        p[23] = proto;
    }
    p.truncate(len);
    p
}

#[test]
fn hello_world_prints() {
    let mut t = open("hello.bpf.o");
    assert_eq!(t.prog_type(), Some(asm::types::ProgType::Tracepoint));
    let run = t.run_ctx(&[0; 64]).unwrap();
    assert_eq!(run.ret, 0);
    assert_eq!(run.trace, ["Hello, BPF World!"]);
    let again = t.run().unwrap();
    // Each run reports its own lines.
    assert_eq!(again.trace.len(), 1);
    assert_eq!(run.insns, 5);
}

#[test]
fn socket_filter_keeps_tcp_only() {
    let mut t = open("socket_filter.bpf.o");
    let tcp = frame(0x0800, 6, 60);
    let run = t.run_packet(&tcp).unwrap();
    assert_eq!(run.ret, 60);
    assert_eq!(
        run.meaning.as_deref(),
        Some("keep the first 60 bytes of the packet")
    );
    assert_eq!(t.run_packet(&frame(0x0800, 17, 60)).unwrap().ret, 0);
    assert_eq!(t.run_packet(&frame(0x0806, 0, 42)).unwrap().ret, 0);
    // Too short for bpf_skb_load_bytes at offset 23: it fails, the filter drops.
    let short = t.run_packet(&frame(0x0800, 6, 20)).unwrap();
    assert_eq!(short.meaning.as_deref(), Some("drop the packet"));
}

#[test]
fn xdp_counts_packets_per_protocol() {
    let mut t = open("xdp_count.bpf.o");
    for _ in 0..3 {
        assert_eq!(
            t.run_packet(&frame(0x0800, 6, 60))
                .unwrap()
                .meaning
                .as_deref(),
            Some("XDP_PASS")
        );
    }
    t.run_packet(&frame(0x0800, 17, 60)).unwrap();
    t.run_packet(&frame(0x86dd, 0, 60)).unwrap();
    // Shorter than an Ethernet header, and an IPv4 frame cut inside its header: dropped,
    // not counted.
    assert_eq!(t.run_packet(&[0; 10]).unwrap().ret, 1);
    assert_eq!(t.run_packet(&frame(0x0800, 6, 30)).unwrap().ret, 1);
    let mut counts = t.map::<u32, u64>("counts").unwrap().entries().unwrap();
    counts.sort();
    assert_eq!(counts, [(0, 1), (6, 3), (17, 1)]);

    // Start from a given state.
    t.reset_maps().unwrap();
    t.map::<u32, u64>("counts").unwrap().set(&17, &41).unwrap();
    t.run_packet(&frame(0x0800, 17, 60)).unwrap();
    assert_eq!(
        t.map::<u32, u64>("counts").unwrap().get(&17).unwrap(),
        Some(42)
    );
    assert_eq!(t.map::<u32, u64>("counts").unwrap().get(&6).unwrap(), None);
    // The packet is handed back unchanged.
    let run = t.run_packet(&frame(0x0800, 17, 60)).unwrap();
    assert_eq!(run.packet, frame(0x0800, 17, 60));
}

#[test]
fn typed_maps_check_sizes_and_names() {
    let mut t = open("xdp_count.bpf.o");
    let e = t.map::<u64, u64>("counts").unwrap_err();
    assert!(
        matches!(
            e,
            TestError::Size {
                what: "key",
                expected: 4,
                got: 8,
                ..
            }
        ),
        "{e}"
    );
    let e = t.map::<u32, u32>("counts").unwrap_err();
    assert!(
        matches!(
            e,
            TestError::Size {
                what: "value",
                expected: 8,
                got: 4,
                ..
            }
        ),
        "{e}"
    );
    let e = t.map::<u32, u64>("count").unwrap_err();
    assert_eq!(e.to_string(), "no map named `count` (maps: counts)");
    let e = t.select("nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no program named `nope` (programs: count_proto in `xdp`)"
    );
    // Raw bytes work for any size.
    t.map::<Vec<u8>, Vec<u8>>("counts")
        .unwrap()
        .set(&vec![1, 0, 0, 0], &vec![5, 0, 0, 0, 0, 0, 0, 0])
        .unwrap();
    assert_eq!(
        t.map::<u32, [u8; 8]>("counts").unwrap().get(&1).unwrap(),
        Some([5, 0, 0, 0, 0, 0, 0, 0])
    );
}

#[test]
fn kprobe_counts_per_process_on_each_cpu() {
    let obj = Object::parse(&std::fs::read(path("kprobe_pid.bpf.o")).unwrap()).unwrap();
    let env = Env {
        ncpus: 2,
        ..Env::default()
    };
    let mut t = Test::from_object_env(&obj, env).unwrap();
    let pt_regs = [0u8; 168];
    t.env_mut().tgid = 42;
    t.run_ctx(&pt_regs).unwrap();
    t.run().unwrap();
    t.env_mut().cpu = 1;
    t.run().unwrap();
    t.env_mut().tgid = 7;
    let run = t.run().unwrap();
    assert_eq!(run.ret, 0);
    let mut calls = t.map::<u32, u64>("calls").unwrap();
    assert_eq!(calls.get_all_cpus(&42).unwrap(), Some(vec![2, 1]));
    // Created on CPU 1: the kernel zeroes the other CPUs' copies.
    assert_eq!(calls.get_all_cpus(&7).unwrap(), Some(vec![0, 1]));
    assert_eq!(calls.get(&7).unwrap(), Some(1));
    assert!(calls.remove(&7).unwrap());
    assert!(!calls.remove(&7).unwrap());
}

#[test]
fn tail_calls_through_the_program_array() {
    let mut t = open("tail_call.bpf.o");
    assert_eq!(t.programs(), ["dispatch", "drop_all", "bounce"]);
    t.select("dispatch").unwrap();
    t.set_tail_call("jump_table", 1, "drop_all").unwrap();
    t.set_tail_call("jump_table", 2, "bounce").unwrap();
    let ret = |t: &mut Test, first: u8| t.run_packet(&[first, 0, 0, 0]).unwrap().meaning.unwrap();
    assert_eq!(ret(&mut t, 1), "XDP_DROP");
    assert_eq!(ret(&mut t, 2), "XDP_TX");
    // An empty slot and an index past max_entries: the tail call fails, dispatch goes on.
    assert_eq!(ret(&mut t, 0), "XDP_PASS");
    assert_eq!(ret(&mut t, 9), "XDP_PASS");
    assert_eq!(
        t.run_packet(&[]).unwrap().meaning.as_deref(),
        Some("XDP_ABORTED")
    );
    let e = t.set_tail_call("jump_table", 4, "bounce").unwrap_err();
    assert!(matches!(e, TestError::Map { .. }), "{e}");
    let e = t.set_tail_call("jump_table", 0, "nope").unwrap_err();
    assert!(matches!(e, TestError::NoProgram { .. }), "{e}");
}

#[test]
fn bpf_to_bpf_calls_run() {
    let mut t = open("calls.bpf.o");
    t.select("xdp").unwrap();
    assert_eq!(t.program_name(), "xdp_calls");
    assert_eq!(
        t.run_packet(&[3, 4]).unwrap().meaning.as_deref(),
        Some("XDP_PASS")
    );
    assert_eq!(
        t.run_packet(&[5, 0]).unwrap().meaning.as_deref(),
        Some("XDP_PASS")
    );
    assert_eq!(
        t.run_packet(&[1, 1]).unwrap().meaning.as_deref(),
        Some("XDP_DROP")
    );
    t.select("socket_calls").unwrap();
    assert_eq!(t.run_packet(&[0; 7]).unwrap().ret, 49);
}

#[test]
fn global_data_and_rodata_strings() {
    let mut t = open("globals.bpf.o");
    assert_eq!(t.global::<u32>("threshold").unwrap(), 100);
    assert_eq!(t.global::<u64>("packets").unwrap(), 7);
    let run = t.run_packet(&[0; 60]).unwrap();
    assert_eq!(run.meaning.as_deref(), Some("XDP_PASS"));
    assert!(run.trace.is_empty());
    let run = t.run_packet(&[0; 150]).unwrap();
    assert_eq!(run.meaning.as_deref(), Some("XDP_DROP"));
    assert_eq!(run.trace, ["big packet: 150 bytes"]);
    assert_eq!(t.global::<u64>("packets").unwrap(), 9);
    assert_eq!(t.global::<u64>("big_packets").unwrap(), 1);
    // Configure the const as a skeleton would before loading.
    t.set_global("threshold", &200u32).unwrap();
    assert_eq!(t.run_packet(&[0; 150]).unwrap().ret, 2);
    let e = t.set_global("threshold", &1u64).unwrap_err();
    assert!(
        matches!(
            e,
            TestError::Size {
                expected: 4,
                got: 8,
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(
        t.global::<u32>("nope"),
        Err(TestError::NoGlobal { .. })
    ));
    t.reset_maps().unwrap();
    assert_eq!(t.global::<u64>("packets").unwrap(), 7);
    assert_eq!(t.global::<u32>("threshold").unwrap(), 100);
}

#[test]
fn ring_buffer_records() {
    let mut t = open("ringbuf.bpf.o");
    let mut packet = vec![0u8; 20];
    packet[0] = 0xab;
    let run = t.run_packet(&packet).unwrap();
    assert_eq!(run.meaning.as_deref(), Some("XDP_PASS"));
    let records: Vec<_> = run
        .records
        .iter()
        .map(|r| (r.map.as_str(), r.data.clone()))
        .collect();
    let mut first = 20u32.to_le_bytes().to_vec();
    first.extend_from_slice(&0xabu32.to_le_bytes());
    assert_eq!(
        records,
        [
            ("events", first),
            ("events", 0x1122334455667788u64.to_le_bytes().to_vec())
        ]
    );
    // Nothing is produced for an empty packet; records are per run.
    let run = t.run_packet(&[]).unwrap();
    assert!(run.records.is_empty());
}

#[test]
fn inline_assembly_with_a_declared_map() {
    use asm::types::{MapSpec, MapType, ProgType};
    // Count runs in an array map: value = *lookup(&0) + 1.
    let src = "
        stw [%r10-4], 0
        lddw map_idx %r1, 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, +3
        ldxdw %r1, [%r0]
        add %r1, 1
        stxdw [%r0], %r1
        mov %r0, 2
        exit
    ";
    let maps = [obj::Map::declared(MapSpec::array(8, 1).named("runs"))];
    assert_eq!(maps[0].spec.map_type, MapType::Array);
    let mut t = Test::asm(src, asm::Dialect::Ubpf, ProgType::Xdp, &maps).unwrap();
    t.run_packet(&[0; 14]).unwrap();
    let run = t.run().unwrap();
    assert_eq!(run.meaning.as_deref(), Some("XDP_PASS"));
    assert_eq!(t.map::<u32, u64>("runs").unwrap().get(&0).unwrap(), Some(2));
    let e = Test::asm("bogus %r0", asm::Dialect::Ubpf, ProgType::Xdp, &[]).unwrap_err();
    assert!(matches!(e, TestError::Asm(ref d) if !d.is_empty()), "{e}");
    let e = Test::asm("exit", asm::Dialect::Ubpf, ProgType::Lsm, &[]).unwrap_err();
    assert!(matches!(e, TestError::UnsupportedProgType { .. }), "{e}");
}

#[test]
fn callbacks_run_through_bpf_loop() {
    let mut t = open("callbacks.bpf.o");
    // The callback (a function address in .text) adds 0+1+2+3; a static .text function
    // doubles it to 12: XDP_PASS.
    let run = t.run_packet(&[0]).unwrap();
    assert_eq!(run.meaning.as_deref(), Some("XDP_PASS"));
}

#[test]
fn program_arrays_filled_by_the_object() {
    let mut t = open("prog_array_init.bpf.o");
    t.select("entry").unwrap();
    let ret = |t: &mut Test, first: u8| t.run_packet(&[first]).unwrap().meaning.unwrap();
    assert_eq!(ret(&mut t, 1), "XDP_DROP");
    assert_eq!(ret(&mut t, 3), "XDP_TX");
    assert_eq!(ret(&mut t, 2), "XDP_PASS");
    // A test can change a slot; a reset puts the object's slots back.
    t.set_tail_call("slots", 2, "to_drop").unwrap();
    assert_eq!(ret(&mut t, 2), "XDP_DROP");
    t.reset_maps().unwrap();
    assert_eq!(ret(&mut t, 2), "XDP_PASS");
    assert_eq!(ret(&mut t, 1), "XDP_DROP");
}

#[test]
fn several_maps_each_updated() {
    let mut t = open("multi_maps.bpf.o");
    assert_eq!(t.run_packet(&[0; 20]).unwrap().ret, 2);
    t.map::<u32, u32>("config").unwrap().set(&0, &1).unwrap();
    assert_eq!(
        t.run_packet(&[0; 30]).unwrap().meaning.as_deref(),
        Some("XDP_DROP")
    );
    t.run_packet(&[0; 20]).unwrap();
    let mut lengths = t.map::<u32, u64>("lengths").unwrap().entries().unwrap();
    lengths.sort();
    assert_eq!(lengths, [(20, 2), (30, 1)]);
    assert_eq!(
        t.map::<u32, u64>("byte_count").unwrap().get(&0).unwrap(),
        Some(70)
    );
    assert_eq!(
        t.map::<u32, u64>("byte_count").unwrap().get(&1).unwrap(),
        Some(0)
    );
    assert_eq!(t.global::<u64>("total").unwrap(), 3);
}

#[test]
fn an_object_with_only_text_offers_untyped_programs() {
    let mut t = open("text_only.bpf.o");
    assert_eq!(t.programs(), ["helper_only"]);
    assert_eq!(t.prog_type(), None);
    let e = t.run().unwrap_err();
    assert!(matches!(e, TestError::NotRunnable { .. }), "{e}");
    assert!(e.to_string().contains("section `.text`"), "{e}");
    assert!(e.to_string().contains("--type"), "{e}");
}

#[test]
fn programs_with_externs_or_undefined_calls_do_not_stop_the_others() {
    let mut t = open("externs.bpf.o");
    t.select("plain").unwrap();
    assert_eq!(t.run().unwrap().ret, 2);
    t.select("undefined").unwrap();
    let e = t.run().unwrap_err().to_string();
    assert!(e.contains("calls undefined function `not_a_kfunc`"), "{e}");
    t.select("kconfig").unwrap();
    let e = t.run().unwrap_err().to_string();
    assert!(e.contains("not resolved yet"), "{e}");
}

#[test]
fn unused_maps_of_types_the_vm_lacks_do_not_stop_a_load() {
    // iproute2_maps has a stack_trace map and a perf_event_array without max_entries.
    let o = Object::parse(&std::fs::read(path("iproute2_maps.bpf.o")).unwrap()).unwrap();
    let mut t = vm::testing::Test::from_object(&o).unwrap();
    t.select("slot0").unwrap();
    let e = t.run().unwrap_err().to_string();
    assert!(e.contains("--type"), "{e}");
    let p = o.program("slot0").unwrap();
    let env = Env {
        ncpus: 3,
        ..Env::default()
    };
    let (mut m, id) = vm::Vm::from_program(p, ProgType::SchedCls, &o.maps, env).unwrap();
    assert_eq!(m.run(id).unwrap().r0, 2);
    let events = o.map_index("events").unwrap() as u32;
    assert_eq!(m.map(events).unwrap().spec().max_entries, 3);
}

#[test]
fn a_vm_built_from_an_object_program_and_its_maps() {
    let o = Object::parse(&std::fs::read(path("globals.bpf.o")).unwrap()).unwrap();
    let p = &o.programs[0];
    let (mut m, id) = vm::Vm::from_program(p, ProgType::Xdp, &o.maps, Env::default()).unwrap();
    // Global data starts with the section's contents: the threshold is 100.
    m.set_packet(vec![0; 150]);
    assert_eq!(m.run(id).unwrap().r0, 1, "XDP_DROP above the threshold");
    m.set_packet(vec![0; 60]);
    assert_eq!(m.run(id).unwrap().r0, 2, "XDP_PASS below it");
    let g = o.global("packets").unwrap();
    let value = m
        .map(g.map as u32)
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    let off = g.offset as usize;
    assert_eq!(
        value.map(|v| v[off..off + 8].to_vec()),
        Some(9u64.to_le_bytes().to_vec())
    );

    // A program of a type the VM has no context for is a typed error.
    let e = vm::Vm::from_program(p, ProgType::Lsm, &o.maps, Env::default()).unwrap_err();
    assert_eq!(
        e,
        vm::RunError::Load(vm::LoadError::UnsupportedProgType(
            asm::types::ProgType::Lsm
        ))
    );
}

#[test]
fn a_btf_sockmap_is_created_and_a_program_using_it_loads() {
    let mut t = open("btf_defaults.bpf.o");
    assert_eq!(t.run().unwrap().ret, 2);
    assert_eq!(t.run().unwrap().ret, 2);
    // The VM implements sockmaps: a program that names the map loads.
    let src = "r1 = map_fd(2) ll\nr0 = 0\nexit\n";
    let insns = asm::text::assemble(src, asm::text::Dialect::Llvm)
        .unwrap()
        .insns;
    let o = Object::parse(&std::fs::read(path("btf_defaults.bpf.o")).unwrap()).unwrap();
    let mut m = vm::Vm::new();
    for map in &o.maps {
        m.create_object_map(map).unwrap();
    }
    assert_eq!(m.map(2).unwrap().spec().name, "socks");
    assert!(!m.map(2).unwrap().is_inert());
    m.load_insns(&insns, Some(ProgType::Xdp)).unwrap();
}
