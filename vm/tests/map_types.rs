//! One source of truth for types: the VM's map types are the kernel's
//! (`asm::types::MapType`: one enum for the assembler, the VM and the kernel backend), types
//! the VM does not implement are a typed error at creation that names the type, and the VM's
//! program types convert to and from the kernel's by value, not by name.

use asm::types::MapType;
use asm::{encode, Insn};
use vm::{MapError, MapSpec, Vm, SUPPORTED_MAP_TYPES, SUPPORTED_PROG_TYPES};

fn def(map_type: MapType) -> MapSpec {
    MapSpec::new(map_type, 4, 8, 4)
}

/// A shape each supported type accepts.
fn valid(t: MapType) -> MapSpec {
    use vm::map_flags::NO_PREALLOC;
    let d = def(t);
    match t {
        MapType::Ringbuf | MapType::UserRingbuf => MapSpec::new(t, 0, 0, 4096),
        MapType::Queue | MapType::Stack | MapType::BloomFilter => MapSpec { key_size: 0, ..d },
        MapType::ProgArray | MapType::PerfEventArray | MapType::Xskmap => {
            MapSpec { value_size: 4, ..d }
        }
        MapType::LpmTrie => MapSpec::new(t, 8, 8, 4).with_flags(NO_PREALLOC),
        MapType::ArrayOfMaps | MapType::HashOfMaps => {
            let mut s = MapSpec { value_size: 4, ..d };
            s.inner = Some(Box::new(MapSpec::array(8, 2)));
            s
        }
        MapType::CgroupStorage | MapType::PercpuCgroupStorage => MapSpec::new(t, 8, 8, 0),
        MapType::SkStorage
        | MapType::TaskStorage
        | MapType::InodeStorage
        | MapType::CgrpStorage => MapSpec::new(t, 4, 8, 0).with_flags(NO_PREALLOC),
        MapType::StackTrace => MapSpec::new(t, 4, 16, 4),
        _ => d,
    }
}

#[test]
fn unsupported_types_are_a_typed_error_naming_the_type() {
    let mut vm = Vm::new();
    let mut refused = 0;
    for &t in MapType::ALL {
        if SUPPORTED_MAP_TYPES.contains(&t) {
            continue;
        }
        let e = vm.create_map(def(t)).unwrap_err();
        assert_eq!(e, MapError::Unsupported(t));
        assert_eq!(e.errno(), 22);
        assert!(e.to_string().contains(&format!("{} maps", t.name())), "{e}");
        refused += 1;
    }
    // reuseport_sockarray, cgroup_array, struct_ops, arena and the like.
    assert!(refused >= 4, "{refused}");
    // The supported ones are created (with shapes each accepts).
    for t in SUPPORTED_MAP_TYPES {
        let fd = vm
            .create_map(valid(t))
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        // The kernel's numbering comes with the type.
        assert_eq!(vm.map(fd).unwrap().spec().map_type.number(), t.number());
    }
}

#[test]
fn testing_api_names_the_map_and_type() {
    let maps = [obj::Map::declared(
        MapSpec::new(MapType::CgroupArray, 4, 4, 16).named("filter"),
    )];
    let e = vm::testing::Test::asm(
        "r0 = 0\nexit\n",
        asm::Dialect::Llvm,
        asm::types::ProgType::Xdp,
        &maps,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`filter`") && msg.contains("cgroup_array"),
        "{msg}"
    );
}

#[test]
fn program_types_are_the_kernels_and_plain_is_none() {
    use asm::types::ProgType;
    // Every supported type loads; the others are a typed error naming the type.
    for &t in ProgType::ALL {
        let mut vm = Vm::new();
        let r = vm.load(&encode(&[Insn::mov64_imm(0, 0), Insn::exit()]), t);
        if SUPPORTED_PROG_TYPES.contains(&t) {
            let id = r.unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(vm.program(id).unwrap().prog_type(), Some(t));
        } else {
            assert_eq!(r.unwrap_err(), vm::LoadError::UnsupportedProgType(t));
        }
    }
    assert_eq!(SUPPORTED_PROG_TYPES[0].number(), 1);
    // `plain`: no kernel context.
    assert_eq!(vm::parse_prog_type("plain"), Ok(None));
    assert_eq!(vm::parse_prog_type("tc"), Ok(Some(ProgType::SchedCls)));
    assert_eq!(
        vm::parse_prog_type("socket"),
        Ok(Some(ProgType::SocketFilter))
    );
    assert_eq!(vm::parse_prog_type("XDP"), Ok(Some(ProgType::Xdp)));
    assert_eq!(vm::parse_prog_type("lsm"), Ok(Some(ProgType::Lsm)));
    assert!(vm::parse_prog_type("nope").is_err());
    assert_eq!(vm::prog_type_name(None), "plain");
    assert_eq!(vm::prog_type_name(Some(ProgType::Xdp)), "xdp");
    let mut vm = Vm::new();
    let id = vm.load(&Insn::exit().encode(), None).unwrap();
    assert_eq!(vm.program(id).unwrap().prog_type(), None);
}

// ---- programs using the new map types (VM semantics; tests/map_kernel.rs compares the maps
// themselves with the kernel) -------------------------------------------------------------

use asm::types::ProgType;
use vm::map_flags::{NO_PREALLOC, RDONLY_PROG};

fn load(vm: &mut Vm, src: &str, t: ProgType) -> vm::ProgId {
    let insns = asm::text::assemble(src, asm::Dialect::Llvm).unwrap().insns;
    vm.load_insns(&insns, t).unwrap()
}

/// `lookup(outer, 0)` then `lookup(inner, 1)`: the inner value's first u64, or 1000/2000
/// when a lookup answers NULL.
const MAP_IN_MAP: &str = "
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto LBB0_3
r1 = 1
*(u32 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r1 = r0
call 1
if r0 == 0 goto LBB0_4
r0 = *(u64 *)(r0 + 0)
exit
LBB0_3:
r0 = 1000
exit
LBB0_4:
r0 = 2000
exit
";

#[test]
fn a_program_uses_the_map_an_outer_map_answers() {
    for t in [MapType::ArrayOfMaps, MapType::HashOfMaps] {
        let mut vm = Vm::new();
        let mut outer = MapSpec::new(t, 4, 4, 2);
        outer.inner = Some(Box::new(MapSpec::array(8, 2)));
        assert_eq!(vm.create_map(outer).unwrap(), 0);
        let a = vm.create_map(MapSpec::array(8, 2)).unwrap();
        let b = vm.create_map(MapSpec::array(8, 2)).unwrap();
        let wrong = vm.create_map(MapSpec::array(8, 3)).unwrap();
        let id = load(&mut vm, MAP_IN_MAP, ProgType::Xdp);
        vm.set_packet(vec![0; 64]);
        assert_eq!(vm.run(id).unwrap().r0, 1000, "{t}: empty outer map");
        vm.map_mut(a)
            .unwrap()
            .update(&1u32.to_le_bytes(), &7u64.to_le_bytes(), 0)
            .unwrap();
        vm.map_mut(b)
            .unwrap()
            .update(&1u32.to_le_bytes(), &9u64.to_le_bytes(), 0)
            .unwrap();
        vm.set_inner_map(0, &0u32.to_le_bytes(), a, 0).unwrap();
        assert_eq!(vm.run(id).unwrap().r0, 7, "{t}");
        vm.set_inner_map(0, &0u32.to_le_bytes(), b, 0).unwrap();
        assert_eq!(vm.run(id).unwrap().r0, 9, "{t}");
        // User space reads the inner map's index back.
        assert_eq!(
            vm.map(0).unwrap().lookup(&0u32.to_le_bytes()).unwrap(),
            Some(b.to_le_bytes().to_vec())
        );
        // An array inner map must have the template's max_entries (array_map_meta_equal).
        let e = vm
            .set_inner_map(0, &1u32.to_le_bytes(), wrong, 0)
            .unwrap_err();
        assert_eq!(e.errno(), 22, "{e}");
        assert!(e.to_string().contains("template"), "{e}");
        // Nor can a map of maps hold itself.
        assert_eq!(
            vm.set_inner_map(0, &1u32.to_le_bytes(), 0, 0)
                .unwrap_err()
                .errno(),
            22
        );
    }
}

#[test]
fn maps_of_maps_need_a_template_and_cannot_nest() {
    let mut vm = Vm::new();
    let bare = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 2);
    assert_eq!(vm.create_map(bare.clone()).unwrap_err().errno(), 9);
    let mut nested = bare.clone();
    let mut inner = bare.clone();
    inner.inner = Some(Box::new(MapSpec::array(4, 1)));
    nested.inner = Some(Box::new(inner));
    assert_eq!(vm.create_map(nested).unwrap_err().errno(), 22);
    let mut progs = bare;
    progs.inner = Some(Box::new(MapSpec::new(MapType::ProgArray, 4, 4, 1)));
    assert_eq!(vm.create_map(progs).unwrap_err().errno(), 524);
}

/// `perf_event_output(ctx, map 0, flags in r3 from the packet's first u64, &u64 on stack, 8)`.
const PERF_OUTPUT: &str = "
r6 = r1
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto LBB0_2
r3 = *(u64 *)(r2 + 0)
r1 = 0x1122334455667788 ll
*(u64 *)(r10 - 8) = r1
r4 = r10
r4 += -8
r5 = 8
r1 = r6
r2 = map_fd(0) ll
call 25
exit
LBB0_2:
r0 = 99
exit
";

#[test]
fn perf_event_output_writes_records_per_event() {
    let mut vm = Vm::new();
    vm.env_mut().ncpus = 2;
    let events = vm
        .create_map(MapSpec::new(MapType::PerfEventArray, 4, 4, 2))
        .unwrap();
    let id = load(&mut vm, PERF_OUTPUT, ProgType::Xdp);
    let run = |vm: &mut Vm, flags: u64| {
        let mut p = flags.to_le_bytes().to_vec();
        p.extend([0xaa, 0xbb, 0xcc, 0xdd]);
        p.resize(32, 0);
        vm.set_packet(p);
        vm.run(id).unwrap().r0 as i64
    };
    const CURRENT_CPU: u64 = 0xffff_ffff;
    // No event at the index yet: -ENOENT.
    assert_eq!(run(&mut vm, CURRENT_CPU), -2);
    // The test declares event 0 open on CPU 0 and event 1 on CPU 1.
    let m = vm.map_mut(events).unwrap();
    m.update(&0u32.to_le_bytes(), &0u32.to_le_bytes(), 0)
        .unwrap();
    m.update(&1u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .unwrap();
    assert_eq!(run(&mut vm, CURRENT_CPU), 0);
    // With BPF_F_CTXLEN_MASK: the packet's first 12 bytes follow the data.
    assert_eq!(run(&mut vm, CURRENT_CPU | 12 << 32), 0);
    // Event 1 is open on CPU 1, the program runs on CPU 0: -EOPNOTSUPP.
    assert_eq!(run(&mut vm, 1), -95);
    // Past the array: -E2BIG; unknown flags: -EINVAL; more packet than there is: -EFAULT.
    assert_eq!(run(&mut vm, 2), -7);
    assert_eq!(run(&mut vm, 1 << 60), -22);
    assert_eq!(run(&mut vm, CURRENT_CPU | 100 << 32), -14);
    let records = vm.map(events).unwrap().perf_records().to_vec();
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].index, records[0].cpu), (0, 0));
    // 8 bytes of data and 4 of padding (the u32 size and the sample make 16).
    let mut padded = 0x1122334455667788u64.to_le_bytes().to_vec();
    padded.extend([0; 4]);
    assert_eq!(records[0].data, padded);
    let mut with_packet = 0x1122334455667788u64.to_le_bytes().to_vec();
    with_packet.extend((CURRENT_CPU | 12 << 32).to_le_bytes());
    with_packet.extend([0xaa, 0xbb, 0xcc, 0xdd]);
    assert_eq!(records[1].data, with_packet);
    // As records, as for ring buffers.
    assert_eq!(vm.map_mut(events).unwrap().take_records().len(), 2);
    assert!(vm.map(events).unwrap().perf_records().is_empty());
}

/// `task_storage_get(map 0, owner = pt_regs->di, NULL, flags = pt_regs->si)`; adds 1 to the
/// value's first u64 and returns it, or 1000 for NULL; with `pt_regs->dx` != 0 deletes
/// instead and returns the helper's answer.
const TASK_STORAGE: &str = "
r6 = *(u64 *)(r1 + 112)
r7 = *(u64 *)(r1 + 104)
r8 = *(u64 *)(r1 + 96)
if r8 != 0 goto LBB0_3
r1 = map_fd(0) ll
r2 = r6
r3 = 0
r4 = r7
call 156
if r0 == 0 goto LBB0_2
r1 = *(u64 *)(r0 + 0)
r1 += 1
*(u64 *)(r0 + 0) = r1
r0 = r1
exit
LBB0_2:
r0 = 1000
exit
LBB0_3:
r1 = map_fd(0) ll
r2 = r6
call 157
exit
";

#[test]
fn local_storage_is_per_owner_and_created_on_demand() {
    let mut vm = Vm::new();
    let spec = MapSpec::new(MapType::TaskStorage, 4, 8, 0).with_flags(NO_PREALLOC);
    let m = vm.create_map(spec).unwrap();
    let id = load(&mut vm, TASK_STORAGE, ProgType::Kprobe);
    let run = |vm: &mut Vm, owner: u64, flags: u64, delete: u64| {
        let mut regs = vec![0u8; 168];
        regs[112..120].copy_from_slice(&owner.to_le_bytes());
        regs[104..112].copy_from_slice(&flags.to_le_bytes());
        regs[96..104].copy_from_slice(&delete.to_le_bytes());
        vm.set_ctx(regs);
        vm.run(id).unwrap().r0 as i64
    };
    const CREATE: u64 = 1;
    assert_eq!(
        run(&mut vm, 42, 0, 0),
        1000,
        "absent without F_CREATE: NULL"
    );
    assert_eq!(run(&mut vm, 42, CREATE, 0), 1);
    assert_eq!(run(&mut vm, 42, 0, 0), 2);
    assert_eq!(
        run(&mut vm, 7, CREATE, 0),
        1,
        "another owner, another value"
    );
    assert_eq!(run(&mut vm, 0, CREATE, 0), 1000, "a NULL owner: NULL");
    assert_eq!(run(&mut vm, 42, 2, 0), 1000, "unknown flags: NULL");
    // User space reads the value with the owner's id as the key.
    let map = vm.map(m).unwrap();
    assert_eq!(
        map.lookup(&42u32.to_le_bytes()).unwrap(),
        Some(2u64.to_le_bytes().to_vec())
    );
    assert_eq!(
        map.next_key(None).unwrap_err().errno(),
        524,
        "notsupp_get_next_key"
    );
    assert_eq!(run(&mut vm, 42, 0, 1), 0, "deleted");
    assert_eq!(run(&mut vm, 42, 0, 1), -2, "-ENOENT");
    assert_eq!(run(&mut vm, 0, 0, 1), -22, "-EINVAL for a NULL owner");
    assert_eq!(
        vm.map(m).unwrap().lookup(&42u32.to_le_bytes()).unwrap(),
        None
    );
    // Creation: BPF_F_NO_PREALLOC and max_entries 0 are required.
    let e = Vm::new().create_map(MapSpec::new(MapType::SkStorage, 4, 8, 0));
    assert_eq!(e.unwrap_err().errno(), 22);
    let e =
        Vm::new().create_map(MapSpec::new(MapType::InodeStorage, 4, 8, 1).with_flags(NO_PREALLOC));
    assert_eq!(e.unwrap_err().errno(), 22);
}

/// Adds 1 to the first u64 of `get_local_storage(map 0, 0)` and returns it.
const CGROUP_COUNTER: &str = "
r1 = map_fd(0) ll
r2 = 0
call 81
r1 = *(u64 *)(r0 + 0)
r1 += 1
*(u64 *)(r0 + 0) = r1
r0 = r1
exit
";

#[test]
fn get_local_storage_answers_the_attachments_storage() {
    for t in [MapType::CgroupStorage, MapType::PercpuCgroupStorage] {
        let mut vm = Vm::new();
        vm.env_mut().ncpus = 2;
        let m = vm.create_map(MapSpec::new(t, 16, 8, 0)).unwrap();
        let key: Vec<u8> = [5u64.to_le_bytes(), 3u64.to_le_bytes()].concat();
        vm.map_mut(m).unwrap().attach_cgroup_storage(&key).unwrap();
        let id = load(&mut vm, CGROUP_COUNTER, ProgType::SchedCls);
        vm.set_packet(vec![0; 64]);
        assert_eq!(vm.run(id).unwrap().r0, 1);
        assert_eq!(vm.run(id).unwrap().r0, 2);
        vm.env_mut().cpu = 1;
        let on_cpu1 = vm.run(id).unwrap().r0;
        // Per-CPU storage counts per CPU; shared storage counts once.
        assert_eq!(
            on_cpu1,
            if t == MapType::CgroupStorage { 3 } else { 1 },
            "{t}"
        );
        // User space reads CPU 0's value (per-CPU: every CPU's, CPU 0 first).
        let v = vm.map(m).unwrap().lookup(&key).unwrap().unwrap();
        let cpu0: u64 = if t == MapType::CgroupStorage { 3 } else { 2 };
        assert_eq!(v[..8], cpu0.to_le_bytes()[..], "{t}");
        // Updates need an attached storage; deletes are refused.
        let other = [9u8; 16];
        assert_eq!(
            vm.map_mut(m)
                .unwrap()
                .update(&other, &[0; 8], 0)
                .unwrap_err()
                .errno(),
            2
        );
        assert_eq!(vm.map_mut(m).unwrap().delete(&key).unwrap_err().errno(), 22);
        assert_eq!(vm.map(m).unwrap().next_key(None).unwrap(), key);
        assert_eq!(
            vm.map(m)
                .unwrap()
                .next_key(Some(&other))
                .unwrap_err()
                .errno(),
            2
        );
    }
    // Flags other than 0 are the verifier's refusal.
    let mut vm = Vm::new();
    vm.create_map(MapSpec::new(MapType::CgroupStorage, 8, 8, 0))
        .unwrap();
    let id = load(
        &mut vm,
        &CGROUP_COUNTER.replace("r2 = 0", "r2 = 1"),
        ProgType::SchedCls,
    );
    let e = vm.run(id).unwrap_err().to_string();
    assert!(e.contains("doesn't support non-zero flags"), "{e}");
}

/// `get_stackid(ctx, map 0, flags = pt_regs->di)`.
const STACKID: &str = "
r3 = *(u64 *)(r1 + 112)
r2 = map_fd(0) ll
call 27
exit
";

#[test]
fn get_stackid_buckets_the_tests_call_chain() {
    let mut vm = Vm::new();
    let m = vm
        .create_map(MapSpec::new(MapType::StackTrace, 4, 24, 4))
        .unwrap();
    let id = load(&mut vm, STACKID, ProgType::Kprobe);
    let run = |vm: &mut Vm, flags: u64| {
        let mut regs = vec![0u8; 168];
        regs[112..120].copy_from_slice(&flags.to_le_bytes());
        vm.set_ctx(regs);
        vm.run(id).unwrap().r0 as i64
    };
    assert_eq!(run(&mut vm, 0), -14, "no call chain: -EFAULT");
    vm.env_mut().kernel_stack = vec![
        0xffff_ffff_8100_0010,
        0xffff_ffff_8100_0020,
        0xffff_ffff_8100_0030,
        0xffff_ffff_8100_0040,
    ];
    let first = run(&mut vm, 0);
    assert!((0..4).contains(&first), "{first}");
    assert_eq!(run(&mut vm, 0), first, "the same chain, the same id");
    // value_size 24 keeps 3 frames; a lookup answers them.
    let v = vm
        .map(m)
        .unwrap()
        .lookup(&(first as u32).to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(v[..8], 0xffff_ffff_8100_0010u64.to_le_bytes()[..]);
    assert_eq!(v[16..24], 0xffff_ffff_8100_0030u64.to_le_bytes()[..]);
    // Skipping frames changes the chain; skipping all of them is -EFAULT.
    let skipped = run(&mut vm, 1);
    assert!(skipped >= 0 || skipped == -17, "{skipped}");
    assert_eq!(run(&mut vm, 5), -14);
    assert_eq!(run(&mut vm, 1 << 8), -14, "no user stack");
    assert_eq!(run(&mut vm, 1 << 20), -22, "unknown flags");
    // Deletes: E2BIG past the buckets.
    assert_eq!(
        vm.map_mut(m)
            .unwrap()
            .delete(&9u32.to_le_bytes())
            .unwrap_err()
            .errno(),
        7
    );
}

#[test]
fn rdonly_prog_maps_and_map_helper_types_are_the_verifiers_rules() {
    let mut vm = Vm::new();
    vm.create_map(MapSpec::array(8, 1).with_flags(RDONLY_PROG).named("ro"))
        .unwrap();
    let write = "
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto LBB0_2
r1 = 5
*(u64 *)(r0 + 0) = r1
LBB0_2:
r0 = 0
exit
";
    let id = load(&mut vm, write, ProgType::Xdp);
    vm.set_packet(vec![0; 64]);
    let e = vm.run(id).unwrap_err().to_string();
    assert!(e.contains("write into map forbidden"), "{e}");
    // A read is fine.
    let read = write.replace("r1 = 5\n*(u64 *)(r0 + 0) = r1", "r1 = *(u64 *)(r0 + 0)");
    let id = load(&mut vm, &read, ProgType::Xdp);
    assert_eq!(vm.run(id).unwrap().r0, 0);
    // bpf_map_update_elem on it: record_func_map's refusal.
    let update = "
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r3 = r10
r3 += -8
r4 = 0
r1 = map_fd(0) ll
call 2
exit
";
    let id = load(&mut vm, update, ProgType::Xdp);
    let e = vm.run(id).unwrap_err().to_string();
    assert!(e.contains("write into map forbidden"), "{e}");
    // A cpumap only takes bpf_redirect_map.
    let mut vm = Vm::new();
    vm.create_map(MapSpec::new(MapType::Cpumap, 4, 4, 1))
        .unwrap();
    let id = load(&mut vm, &read, ProgType::Xdp);
    vm.set_packet(vec![0; 64]);
    let e = vm.run(id).unwrap_err().to_string();
    assert!(
        e.contains("cannot pass map_type 16 into func bpf_map_lookup_elem#1"),
        "{e}"
    );
}

#[test]
fn redirect_targets_are_what_the_test_declared() {
    let mut m = vm::Map::new(MapSpec::new(MapType::Devmap, 4, 8, 4), 1).unwrap();
    m.update(
        &2u32.to_le_bytes(),
        &[7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        0,
    )
    .unwrap();
    assert_eq!(
        m.redirect_target(2).unwrap(),
        Some(vm::RedirectTarget::Device { ifindex: 7 })
    );
    assert_eq!(m.redirect_target(1).unwrap(), None);
    assert_eq!(m.redirect_target(9).unwrap(), None);
    // An attached devmap program is not modelled, and says so.
    let e = m
        .update(&1u32.to_le_bytes(), &[7, 0, 0, 0, 3, 0, 0, 0], 0)
        .unwrap_err();
    assert!(e.to_string().contains("not modelled"), "{e}");
    let mut c = vm::Map::new(MapSpec::new(MapType::Cpumap, 4, 4, 2), 2).unwrap();
    c.update(&1u32.to_le_bytes(), &64u32.to_le_bytes(), 0)
        .unwrap();
    assert_eq!(
        c.redirect_target(1).unwrap(),
        Some(vm::RedirectTarget::Cpu { cpu: 1, qsize: 64 })
    );
    let mut x = vm::Map::new(MapSpec::new(MapType::Xskmap, 4, 4, 2), 1).unwrap();
    x.update(&0u32.to_le_bytes(), &3u32.to_le_bytes(), 0)
        .unwrap();
    assert_eq!(
        x.redirect_target(0).unwrap(),
        Some(vm::RedirectTarget::XdpSocket { queue_id: 3 })
    );
    assert_eq!(x.lookup(&0u32.to_le_bytes()).unwrap_err().errno(), 95);
    let h = vm::Map::new(MapSpec::array(4, 1), 1).unwrap();
    assert!(h.redirect_target(0).is_err());
}

#[test]
fn an_objects_map_that_cannot_be_created_only_stops_programs_that_use_it() {
    // An LPM trie without BPF_F_NO_PREALLOC: the kernel refuses to create it.
    let bad = obj::Map::with_source(
        MapSpec::new(MapType::LpmTrie, 8, 8, 4).named("routes"),
        obj::MapSource::Btf,
    );
    let good = obj::Map::with_source(MapSpec::array(8, 1).named("counts"), obj::MapSource::Btf);
    let mut vm = Vm::new();
    vm.create_object_map(&bad).unwrap();
    vm.create_object_map(&good).unwrap();
    assert!(vm.map(0).unwrap().is_inert());
    assert_eq!(vm.map(0).unwrap().creation_error().unwrap().errno(), 22);
    let uses = |i: u32| {
        asm::text::assemble(
            &format!("r1 = map_fd({i}) ll\nr0 = 0\nexit\n"),
            asm::Dialect::Llvm,
        )
        .unwrap()
        .insns
    };
    vm.load_insns(&uses(1), ProgType::Xdp).unwrap();
    let e = vm.load_insns(&uses(0), ProgType::Xdp).unwrap_err();
    assert!(matches!(e, vm::LoadError::MapNotCreated { .. }), "{e}");
    assert!(
        e.to_string().contains("`routes`") && e.to_string().contains("BPF_F_NO_PREALLOC"),
        "{e}"
    );
}

#[test]
fn a_map_of_maps_whose_initialiser_does_not_fit_only_stops_its_users() {
    let mut outer = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 2).named("outer");
    outer.inner = Some(Box::new(MapSpec::array(8, 2)));
    let mut outer = obj::Map::with_source(outer, obj::MapSource::Btf);
    outer.slots = vec![(0, "wrong".to_string())];
    let wrong = obj::Map::with_source(MapSpec::array(8, 3).named("wrong"), obj::MapSource::Btf);
    let maps = [outer, wrong];
    let mut vm = Vm::new();
    for m in &maps {
        vm.create_object_map(m).unwrap();
    }
    vm.fill_inner_maps(&maps);
    let e = vm.map(0).unwrap().creation_error().unwrap().to_string();
    assert!(
        e.contains("slot 0 = `wrong`") && e.contains("template"),
        "{e}"
    );
    let uses = |i: u32| {
        asm::text::assemble(
            &format!("r1 = map_fd({i}) ll\nr0 = 0\nexit\n"),
            asm::Dialect::Llvm,
        )
        .unwrap()
        .insns
    };
    vm.load_insns(&uses(1), ProgType::Xdp).unwrap();
    let e = vm.load_insns(&uses(0), ProgType::Xdp).unwrap_err();
    assert!(matches!(e, vm::LoadError::MapNotCreated { .. }), "{e}");
}

#[test]
fn an_objects_ring_buffers_get_libbpfs_size() {
    // libbpf's adjust_ringbuf_sz: a power-of-2 multiple of the page size, also for a map of
    // maps' template (test_ringbuf_multi.bpf.c declares max_entries 1000).
    let rb = MapSpec::new(MapType::Ringbuf, 0, 0, 1000).named("ringbuf1");
    let mut outer = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 1).named("ringbuf_arr");
    outer.inner = Some(Box::new(rb.clone()));
    let mut outer = obj::Map::with_source(outer, obj::MapSource::Btf);
    outer.slots = vec![(0, "ringbuf1".to_string())];
    let maps = [obj::Map::with_source(rb, obj::MapSource::Btf), outer];
    let mut vm = Vm::new();
    for m in &maps {
        vm.create_object_map(m).unwrap();
    }
    vm.fill_inner_maps(&maps);
    assert_eq!(vm.map(0).unwrap().spec().max_entries, 4096);
    assert!(!vm.map(1).unwrap().is_inert());
    assert_eq!(
        vm.map(1).unwrap().inner_maps(),
        vec![(0u32.to_le_bytes().to_vec(), 0)]
    );
    // A declared map keeps its size, and the kernel's check.
    let e = vm
        .create_map(MapSpec::new(MapType::Ringbuf, 0, 0, 1000))
        .unwrap_err();
    assert_eq!(e.errno(), 22);
}

#[test]
fn an_xskmap_lookup_answers_the_sockets_queue_id_read_only() {
    let mut vm = Vm::new();
    vm.create_map(MapSpec::new(MapType::Xskmap, 4, 4, 2))
        .unwrap();
    // lookup(xskmap, 1): struct bpf_xdp_sock's queue_id, or 1000 for NULL.
    let src = "
r1 = 1
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto LBB0_2
r0 = *(u32 *)(r0 + 0)
exit
LBB0_2:
r0 = 1000
exit
";
    let id = load(&mut vm, src, ProgType::Xdp);
    vm.set_packet(vec![0; 64]);
    assert_eq!(vm.run(id).unwrap().r0, 1000);
    vm.map_mut(0)
        .unwrap()
        .update(&1u32.to_le_bytes(), &5u32.to_le_bytes(), 0)
        .unwrap();
    assert_eq!(vm.run(id).unwrap().r0, 5);
    let write = src.replace("r0 = *(u32 *)(r0 + 0)", "*(u32 *)(r0 + 0) = r1\nr0 = 0");
    let id = load(&mut vm, &write, ProgType::Xdp);
    let e = vm.run(id).unwrap_err().to_string();
    assert!(e.contains("write into map forbidden"), "{e}");
    // A sockmap's lookup from a program answers a socket the VM does not model: said so.
    let mut vm = Vm::new();
    vm.create_map(MapSpec::new(MapType::Sockmap, 4, 8, 2))
        .unwrap();
    let id = load(&mut vm, src, ProgType::Xdp);
    vm.set_packet(vec![0; 64]);
    let e = vm.run(id).unwrap_err().to_string();
    assert!(e.contains("does not model"), "{e}");
}
