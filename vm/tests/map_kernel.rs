//! The VM's maps against the running kernel's: the same map created in both, the same
//! random sequence of user-space operations (update with each flag, lookup, delete,
//! get_next_key) applied to both, every answer and errno compared. Per type: LPM trie,
//! devmap, devmap_hash, cpumap, queue, stack, bloom filter (also a program's
//! `bpf_map_peek_elem` under `BPF_PROG_TEST_RUN`, with `BPF_F_ZERO_SEED` so that the
//! kernel's hash bits are reproducible), sockmap/sockhash (error paths, with real sockets in
//! the kernel), array of maps, stack trace maps, and a matrix of creation attributes.
//!
//! Proptest seeds are fixed (replay or vary them with `PROPTEST_RNG_SEED`,
//! `PROPTEST_CASES`).

use asm::types::MapType;
use kernel::map::{Map as KMap, UpdateFlags};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};
use vm::map_flags::{NO_PREALLOC, ZERO_SEED};
use vm::{Map, MapError, MapSpec};

/// A user-space operation.
#[derive(Clone, Debug)]
enum Op {
    Update(Vec<u8>, Vec<u8>, u64),
    Lookup(Vec<u8>),
    Delete(Vec<u8>),
    NextKey(Option<Vec<u8>>),
}

/// What an operation answered: the value or key read (empty for update/delete), or the
/// errno (`ENOENT` for an absent element, as bpf(2) reports it).
type Answer = Result<Vec<u8>, i32>;

const ENOENT: i32 = 2;

fn vm_errno(e: MapError) -> i32 {
    e.errno()
}

fn vm_apply(m: &mut Map, op: &Op) -> Answer {
    match op {
        Op::Update(k, v, f) => m.update(k, v, *f).map(|()| Vec::new()).map_err(vm_errno),
        // A bloom filter's lookup tests the value buffer, which kernel::map passes zeroed.
        Op::Lookup(_) if m.spec().map_type == MapType::BloomFilter => m
            .bloom_contains(&vec![0; m.spec().value_size as usize])
            .map(|()| vec![0; m.spec().value_size as usize])
            .map_err(vm_errno),
        Op::Lookup(k) => m.lookup(k).map_err(vm_errno)?.ok_or(ENOENT),
        Op::Delete(k) => m.delete(k).map(|()| Vec::new()).map_err(vm_errno),
        Op::NextKey(k) => m.next_key(k.as_deref()).map_err(vm_errno),
    }
}

fn k_errno(e: kernel::Error) -> i32 {
    e.errno().map_or(-1, |e| e.0)
}

fn k_apply(m: &KMap, op: &Op) -> Answer {
    match op {
        Op::Update(k, v, f) => {
            let flags = match f {
                0 => UpdateFlags::Any,
                1 => UpdateFlags::NoExist,
                _ => UpdateFlags::Exist,
            };
            m.update(k, v, flags).map(|()| Vec::new()).map_err(k_errno)
        }
        Op::Lookup(k) => m.lookup(k).map_err(k_errno)?.ok_or(ENOENT),
        Op::Delete(k) => match m.delete(k).map_err(k_errno)? {
            true => Ok(Vec::new()),
            false => Err(ENOENT),
        },
        Op::NextKey(k) => m.next_key(k.as_deref()).map_err(k_errno)?.ok_or(ENOENT),
    }
}

fn possible_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap_or_default();
    text.trim()
        .split(',')
        .map(|part| {
            let mut ends = part.split('-').filter_map(|s| s.parse::<usize>().ok());
            match (ends.next(), ends.next()) {
                (Some(a), Some(b)) => b - a + 1,
                (Some(_), None) => 1,
                _ => 0,
            }
        })
        .sum::<usize>()
        .max(1)
}

fn config(name: &str, seed: u64, default_cases: u32) -> Config {
    let var = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
    let cases = var("PROPTEST_CASES")
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    let seed = var("PROPTEST_RNG_SEED")
        .map(|s| s.parse().expect("PROPTEST_RNG_SEED is a u64"))
        .unwrap_or(seed);
    println!("{name}: {cases} cases, seed {seed} (replay: PROPTEST_RNG_SEED={seed})");
    Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    }
}

/// Runs random operation sequences on a map of `spec` in the VM and in the kernel, and
/// compares every answer; returns the number of operations compared.
fn compare_sequences(
    name: &str,
    seed: u64,
    spec: &MapSpec,
    ops: impl Strategy<Value = Vec<Op>>,
) -> usize {
    let compared = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config(name, seed, 48));
    runner
        .run(&ops, |ops| {
            let kmap = KMap::create(spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut vmap = Map::new(spec.clone(), possible_cpus())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (i, op) in ops.iter().enumerate() {
                let k = k_apply(&kmap, op);
                let v = vm_apply(&mut vmap, op);
                prop_assert_eq!(&v, &k, "op {} {:?} (vm vs kernel)", i, op);
                compared.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let n = compared.load(Ordering::Relaxed);
    println!("{name}: {n} operations agree with the kernel");
    n
}

fn flags() -> impl Strategy<Value = u64> {
    0u64..=2
}

fn value4() -> impl Strategy<Value = Vec<u8>> + Clone {
    prop::collection::vec(any::<u8>(), 4)
}

fn ops_of(
    key: impl Strategy<Value = Vec<u8>> + Clone + 'static,
    value: impl Strategy<Value = Vec<u8>> + Clone + 'static,
    len: usize,
) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (key.clone(), value, flags()).prop_map(|(k, v, f)| Op::Update(k, v, f)),
        2 => key.clone().prop_map(Op::Lookup),
        2 => key.clone().prop_map(Op::Delete),
        2 => prop::option::of(key).prop_map(Op::NextKey),
    ];
    prop::collection::vec(op, 1..len)
}

fn u32_key(max: u32) -> impl Strategy<Value = Vec<u8>> + Clone {
    (0..max).prop_map(|k| k.to_le_bytes().to_vec())
}

#[test]
fn lpm_trie_agrees_with_the_kernel() {
    if !test_support::kernel_available("lpm_trie_agrees_with_the_kernel") {
        return;
    }
    // Prefixes over a few interesting bytes, lengths 0..=34 (33 and 34 are too long).
    let byte = prop::sample::select(vec![0x00u8, 0x0a, 0x80, 0xc0, 0xc8, 0xff]);
    let key = (0u32..=34, prop::collection::vec(byte, 4)).prop_map(|(p, d)| {
        let mut k = p.to_ne_bytes().to_vec();
        k.extend(d);
        k
    });
    let spec = MapSpec::new(MapType::LpmTrie, 8, 4, 6).with_flags(NO_PREALLOC);
    let n = compare_sequences("lpm_trie", 0x1b1_0001, &spec, ops_of(key, value4(), 40));
    assert!(n > 500, "{n}");
    // One data byte: prefixes of 0..=8 bits.
    let key1 = (0u32..=9, any::<u8>()).prop_map(|(p, d)| {
        let mut k = p.to_ne_bytes().to_vec();
        k.push(d);
        k
    });
    let spec = MapSpec::new(MapType::LpmTrie, 5, 8, 4).with_flags(NO_PREALLOC);
    compare_sequences(
        "lpm_trie_1byte",
        0x1b1_0002,
        &spec,
        ops_of(key1, prop::collection::vec(any::<u8>(), 8), 40),
    );
}

#[test]
fn devmaps_agree_with_the_kernel() {
    if !test_support::kernel_available("devmaps_agree_with_the_kernel") {
        return;
    }
    // ifindex 1 is the loopback device in every network namespace; 0 clears an entry. The
    // program fd half is 0 or -1 (no program).
    let val8 = (
        prop::sample::select(vec![0u32, 1]),
        prop::sample::select(vec![0u32, u32::MAX]),
    )
        .prop_map(|(i, p)| [i.to_le_bytes(), p.to_le_bytes()].concat());
    let val4 = prop::sample::select(vec![0u32, 1]).prop_map(|i| i.to_le_bytes().to_vec());
    let mut n = 0;
    let spec = MapSpec::new(MapType::Devmap, 4, 8, 4);
    n += compare_sequences(
        "devmap",
        0xde0_0001,
        &spec,
        ops_of(u32_key(6), val8.clone(), 30),
    );
    let spec = MapSpec::new(MapType::Devmap, 4, 4, 4);
    n += compare_sequences("devmap4", 0xde0_0002, &spec, ops_of(u32_key(6), val4, 30));
    // Hash keys collide in the 4 buckets: the iteration order is the kernel's.
    let hkey = prop::sample::select(vec![0u32, 1, 4, 5, 8, 13, 1000, u32::MAX])
        .prop_map(|k| k.to_le_bytes().to_vec());
    let spec = MapSpec::new(MapType::DevmapHash, 4, 8, 4);
    n += compare_sequences("devmap_hash", 0xde0_0003, &spec, ops_of(hkey, val8, 40));
    assert!(n > 800, "{n}");
}

#[test]
fn cpumap_agrees_with_the_kernel() {
    if !test_support::kernel_available("cpumap_agrees_with_the_kernel") {
        return;
    }
    let cpus = possible_cpus() as u32;
    // Queue sizes: 0 clears, 16385 is past the limit; keys past the CPUs are ENODEV.
    let val = prop::sample::select(vec![0u32, 1, 192, 16384, 16385])
        .prop_map(|q| [q.to_le_bytes(), 0u32.to_le_bytes()].concat());
    let spec = MapSpec::new(MapType::Cpumap, 4, 8, cpus + 2);
    let n = compare_sequences(
        "cpumap",
        0xc9_0001,
        &spec,
        ops_of(u32_key(cpus + 3), val, 24),
    );
    assert!(n > 300, "{n}");
}

#[test]
fn queue_and_stack_agree_with_the_kernel() {
    if !test_support::kernel_available("queue_and_stack_agree_with_the_kernel") {
        return;
    }
    // User space pushes with update and peeks with lookup (the key is empty).
    let mut n = 0;
    for (i, t) in [MapType::Queue, MapType::Stack].into_iter().enumerate() {
        let spec = MapSpec::new(t, 0, 4, 3);
        n += compare_sequences(
            t.name(),
            0x9_0001 + i as u64,
            &spec,
            ops_of(Just(Vec::new()), value4(), 30),
        );
    }
    assert!(n > 600, "{n}");
}

#[test]
fn bloom_filter_user_space_agrees_with_the_kernel() {
    if !test_support::kernel_available("bloom_filter_user_space_agrees_with_the_kernel") {
        return;
    }
    // Pushes (update) with every flag; lookups peek the all-zero value; no delete or keys.
    let spec = MapSpec::new(MapType::BloomFilter, 0, 4, 8).with_flags(ZERO_SEED);
    let value = prop::sample::select(vec![vec![0u8; 4], vec![1, 0, 0, 0], vec![0xff; 4]]);
    let n = compare_sequences(
        "bloom",
        0xb10_0001,
        &spec,
        ops_of(Just(Vec::new()), value, 20),
    );
    assert!(n > 300, "{n}");
}

/// An XDP program that peeks (89) or pushes (87) the packet's first `size` bytes in map 0
/// and returns what the helper returned.
fn bloom_prog(size: usize, helper: u32) -> Vec<asm::Insn> {
    let mut src = String::from("r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\n");
    src += &format!("r4 += {size}\nif r4 > r3 goto LBB0_2\n");
    for i in 0..size {
        src += &format!("r5 = *(u8 *)(r2 + {i})\n*(u8 *)(r10 - {}) = r5\n", 32 - i);
    }
    src += &format!(
        "r1 = map_fd(0) ll\nr2 = r10\nr2 += -32\nr3 = 0\ncall {helper}\nexit\nLBB0_2:\nr0 = 99\nexit\n"
    );
    asm::text::assemble(&src, asm::text::Dialect::Llvm)
        .unwrap()
        .insns
}

#[test]
fn bloom_filter_programs_agree_with_the_kernel_bit_for_bit() {
    if !test_support::kernel_available("bloom_filter_programs_agree_with_the_kernel_bit_for_bit") {
        return;
    }
    let mut compared = 0;
    let mut positives = 0;
    // 4-byte values hash with jhash2, 6-byte ones with jhash. A small filter (64 bits)
    // gives false positives, which must be the kernel's.
    for (size, max_entries) in [(4usize, 4u32), (6, 4), (4, 200)] {
        let spec =
            MapSpec::new(MapType::BloomFilter, 0, size as u32, max_entries).with_flags(ZERO_SEED);
        let kmap = KMap::create(&spec).unwrap();
        let mut vm = vm::Vm::new();
        let idx = vm.create_map(spec.clone()).unwrap();
        let mut rng = test_support::Rng::new(0xb10 + size as u64 + max_entries as u64);
        let value = |rng: &mut test_support::Rng| -> Vec<u8> {
            (0..size).map(|_| rng.below(256) as u8).collect()
        };
        let push = bloom_prog(size, 87);
        let peek = bloom_prog(size, 89);
        let mut opts = kernel::prog::LoadOptions::new(asm::types::ProgType::Xdp);
        opts.maps = vec![&kmap];
        let kpush = kernel::prog::Program::load(&push, &opts).unwrap();
        let kpeek = kernel::prog::Program::load(&peek, &opts).unwrap();
        let vpush = vm.load_insns(&push, asm::types::ProgType::Xdp).unwrap();
        let vpeek = vm.load_insns(&peek, asm::types::ProgType::Xdp).unwrap();
        let run = |vm: &mut vm::Vm, id, kp: &kernel::prog::Program, v: &[u8]| {
            let mut packet = v.to_vec();
            packet.resize(64, 0);
            let k = kp
                .test_run(&kernel::prog::TestRun {
                    data: &packet,
                    ctx: &[],
                    repeat: 1,
                    flags: 0,
                    cpu: None,
                })
                .unwrap()
                .retval;
            vm.set_packet(packet);
            let v = vm.run(id).unwrap().r0 as u32;
            (v, k)
        };
        // Half the pushes from programs, half from user space.
        let mut pushed = Vec::new();
        for i in 0..6 {
            let v = value(&mut rng);
            if i % 2 == 0 {
                let (a, b) = run(&mut vm, vpush, &kpush, &v);
                assert_eq!((a, b), (0, 0));
            } else {
                kmap.update(&[], &v, UpdateFlags::Any).unwrap();
                vm.map_mut(idx).unwrap().update(&[], &v, 0).unwrap();
            }
            pushed.push(v);
        }
        for i in 0..200 {
            let v = if i < pushed.len() {
                pushed[i].clone()
            } else {
                value(&mut rng)
            };
            let (ours, theirs) = run(&mut vm, vpeek, &kpeek, &v);
            assert_eq!(
                ours, theirs,
                "peek {v:02x?} (size {size}, max_entries {max_entries})"
            );
            compared += 1;
            positives += (theirs == 0) as usize;
        }
    }
    println!("bloom peeks: {compared} agree with the kernel ({positives} positive)");
    // The pushed values, and some false positives of the 64-bit filters.
    assert!(positives > 18 + 3, "{positives}");
}

#[test]
fn sockmaps_agree_with_the_kernel_on_errors() {
    if !test_support::kernel_available("sockmaps_agree_with_the_kernel_on_errors") {
        return;
    }
    // Listening TCP sockets can go in a sockmap. The kernel's value is the fd, the VM's a
    // cookie the test declares: here the same number, so the answers compare (a lookup
    // answers the kernel's cookie, which only the kernel knows: compared as present/absent).
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    use std::os::fd::AsRawFd;
    let fds: Vec<u64> = listeners.iter().map(|l| l.as_raw_fd() as u64).collect();
    let mut total = 0;
    for (t, value_size) in [
        (MapType::Sockmap, 8),
        (MapType::Sockmap, 4),
        (MapType::Sockhash, 8),
        (MapType::Sockhash, 4),
    ] {
        let spec = MapSpec::new(t, 4, value_size, 3);
        let kmap = KMap::create(&spec).unwrap();
        let mut vmap = Map::new(spec.clone(), 1).unwrap();
        let mut rng = test_support::Rng::new(0x50c + value_size as u64);
        for i in 0..200 {
            let key = (rng.below(5) as u32).to_le_bytes().to_vec();
            let fd = fds[rng.below(3) as usize];
            let value = fd.to_le_bytes()[..value_size as usize].to_vec();
            let op = match rng.below(4) {
                0 | 1 => Op::Update(key, value, rng.below(3)),
                2 => Op::Lookup(key),
                _ => Op::Delete(key),
            };
            let k = k_apply(&kmap, &op).map(|v| !v.is_empty());
            let v = vm_apply(&mut vmap, &op).map(|v| !v.is_empty());
            assert_eq!(v, k, "{t} value_size {value_size}, op {i} {op:?}");
            total += 1;
        }
    }
    println!("sockmap/sockhash: {total} operations agree with the kernel");
}

#[test]
fn array_of_maps_agrees_with_the_kernel() {
    if !test_support::kernel_available("array_of_maps_agrees_with_the_kernel") {
        return;
    }
    let inner = MapSpec::array(8, 2);
    let other = MapSpec::array(8, 3);
    let outer_spec = |t| {
        let mut s = MapSpec::new(t, 4, 4, 3);
        s.inner = Some(Box::new(inner.clone()));
        s
    };
    let mut compared = 0;
    for t in [MapType::ArrayOfMaps, MapType::HashOfMaps] {
        let k_inner = [KMap::create(&inner).unwrap(), KMap::create(&other).unwrap()];
        let kouter = KMap::create_of_maps(&outer_spec(t), &k_inner[0]).unwrap();
        let mut vm = vm::Vm::new();
        let v_inner = [
            vm.create_map(inner.clone()).unwrap(),
            vm.create_map(other.clone()).unwrap(),
        ];
        let vouter = vm.create_map(outer_spec(t)).unwrap();
        let mut rng = test_support::Rng::new(0xa0f + t.number() as u64);
        for i in 0..150 {
            let key = (rng.below(5) as u32).to_le_bytes();
            let which = rng.below(2) as usize;
            let flags = rng.below(3);
            let (ours, theirs) = match rng.below(3) {
                0 => {
                    use std::os::fd::{AsFd, AsRawFd};
                    let fd = k_inner[which].as_fd().as_raw_fd() as u32;
                    let f = [UpdateFlags::Any, UpdateFlags::NoExist, UpdateFlags::Exist]
                        [flags as usize];
                    let k = kouter.update(&key, &fd.to_le_bytes(), f).map_err(k_errno);
                    let v = vm
                        .set_inner_map(vouter, &key, v_inner[which], flags)
                        .map_err(vm_errno);
                    (v.map(|_| true), k.map(|_| true))
                }
                // Lookups answer an id in the kernel, an index in the VM: compared as
                // present/absent.
                1 => (
                    vm.map(vouter)
                        .unwrap()
                        .lookup(&key)
                        .map(|v| v.is_some())
                        .map_err(vm_errno),
                    kouter.lookup(&key).map(|v| v.is_some()).map_err(k_errno),
                ),
                _ => (
                    vm.map_mut(vouter)
                        .unwrap()
                        .delete(&key)
                        .map(|()| true)
                        .map_err(vm_errno),
                    match kouter.delete(&key).map_err(k_errno) {
                        Ok(false) => Err(ENOENT),
                        other => other,
                    },
                ),
            };
            assert_eq!(ours, theirs, "{t} op {i}");
            compared += 1;
        }
    }
    println!("maps of maps: {compared} operations agree with the kernel");
}

#[test]
fn stack_trace_map_user_space_agrees_with_the_kernel() {
    if !test_support::kernel_available("stack_trace_map_user_space_agrees_with_the_kernel") {
        return;
    }
    // Without programs the map stays empty: lookups, deletes (E2BIG past the buckets),
    // get_next_key and updates (EINVAL) answer as the kernel does.
    let spec = MapSpec::new(MapType::StackTrace, 4, 16, 5);
    let ops = ops_of(u32_key(10), prop::collection::vec(any::<u8>(), 16), 20);
    let n = compare_sequences("stack_trace", 0x57a_0001, &spec, ops);
    assert!(n > 200, "{n}");
}

/// Creation attributes for every type the VM and `kernel::map` can both create.
fn creation_specs() -> Vec<MapSpec> {
    use vm::map_flags::*;
    let mut specs = Vec::new();
    let types = [
        MapType::Array,
        MapType::Hash,
        MapType::PercpuArray,
        MapType::PercpuHash,
        MapType::LruHash,
        MapType::LpmTrie,
        MapType::BloomFilter,
        MapType::Devmap,
        MapType::DevmapHash,
        MapType::Cpumap,
        MapType::Xskmap,
        MapType::Sockmap,
        MapType::Sockhash,
        MapType::Queue,
        MapType::Stack,
        MapType::StackTrace,
        MapType::PerfEventArray,
        MapType::CgroupStorage,
        MapType::PercpuCgroupStorage,
        MapType::Ringbuf,
        MapType::UserRingbuf,
        MapType::ProgArray,
    ];
    let sizes = [
        (0, 4),
        (4, 0),
        (4, 4),
        (4, 8),
        (8, 8),
        (16, 8),
        (12, 8),
        (5, 16),
        (0, 8),
    ];
    let flag_sets = [
        0,
        NO_PREALLOC,
        ZERO_SEED,
        RDONLY_PROG,
        WRONLY_PROG,
        RDONLY_PROG | WRONLY_PROG,
        MMAPABLE,
        INNER_MAP,
        NUMA_NODE >> 2 << 11, // BPF_F_PRESERVE_ELEMS
        NO_COMMON_LRU,
        STACK_BUILD_ID,
        1 << 9, // BPF_F_CLONE
    ];
    for t in types {
        for &(k, v) in &sizes {
            for &f in &flag_sets {
                for max in [0u32, 1, 4] {
                    specs.push(MapSpec::new(t, k, v, max).with_flags(f));
                }
            }
        }
    }
    specs
}

#[test]
fn creation_checks_agree_with_the_kernel() {
    if !test_support::kernel_available("creation_checks_agree_with_the_kernel") {
        return;
    }
    let cpus = possible_cpus();
    let mut agree = 0;
    let mut disagree = Vec::new();
    for spec in creation_specs() {
        // Ring buffers want a page-sized max_entries.
        let spec = if matches!(spec.map_type, MapType::Ringbuf | MapType::UserRingbuf)
            && spec.max_entries == 4
        {
            MapSpec {
                max_entries: 4096,
                ..spec
            }
        } else {
            spec
        };
        let k = KMap::create(&spec).map(drop).map_err(k_errno);
        let v = Map::new(spec.clone(), cpus).map(drop).map_err(vm_errno);
        if k == v {
            agree += 1;
        } else {
            disagree.push(format!(
                "{} {}:{}:{} flags {:#x}: vm {v:?}, kernel {k:?}",
                spec.map_type, spec.key_size, spec.value_size, spec.max_entries, spec.flags
            ));
        }
    }
    println!("map creation: {agree} attribute sets agree with the kernel");
    assert!(
        disagree.is_empty(),
        "{} differ:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}

/// Runs `prog` (XDP, maps `kmaps` in the kernel, the VM's maps by the same indexes) on
/// `packet` in both; returns (VM r0 as u32, kernel retval).
fn run_both(
    vm: &mut vm::Vm,
    vid: vm::ProgId,
    kprog: &kernel::prog::Program,
    packet: &[u8],
) -> (u32, u32) {
    let mut p = packet.to_vec();
    p.resize(64, 0);
    let k = kprog
        .test_run(&kernel::prog::TestRun {
            data: &p,
            ctx: &[],
            repeat: 1,
            flags: 0,
            cpu: None,
        })
        .unwrap()
        .retval;
    vm.set_packet(p);
    (vm.run(vid).unwrap().r0 as u32, k)
}

fn load_both(vm: &mut vm::Vm, src: &str, kmaps: Vec<&KMap>) -> (vm::ProgId, kernel::prog::Program) {
    let insns = asm::text::assemble(src, asm::text::Dialect::Llvm)
        .unwrap()
        .insns;
    let mut opts = kernel::prog::LoadOptions::new(asm::types::ProgType::Xdp);
    opts.maps = kmaps;
    let k = kernel::prog::Program::load(&insns, &opts).unwrap_or_else(|e| panic!("{e}"));
    (vm.load_insns(&insns, asm::types::ProgType::Xdp).unwrap(), k)
}

#[test]
fn programs_through_maps_of_maps_agree_with_the_kernel() {
    if !test_support::kernel_available("programs_through_maps_of_maps_agree_with_the_kernel") {
        return;
    }
    // lookup(outer, 0), then lookup(inner, 1): its u64, or 1000 / 2000 for NULL.
    let src = "
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
    let inner = MapSpec::array(8, 2);
    let mut compared = 0;
    for t in [MapType::ArrayOfMaps, MapType::HashOfMaps] {
        let mut outer = MapSpec::new(t, 4, 4, 2);
        outer.inner = Some(Box::new(inner.clone()));
        let ka = KMap::create(&inner).unwrap();
        let kb = KMap::create(&inner).unwrap();
        let kouter = KMap::create_of_maps(&outer, &ka).unwrap();
        let mut vm = vm::Vm::new();
        let vouter = vm.create_map(outer).unwrap();
        let va = vm.create_map(inner.clone()).unwrap();
        let vb = vm.create_map(inner.clone()).unwrap();
        let (vid, kprog) = load_both(&mut vm, src, vec![&kouter]);
        let one = 1u32.to_le_bytes();
        for (k, v, x) in [(&ka, va, 7u64), (&kb, vb, 9)] {
            k.update(&one, &x.to_le_bytes(), UpdateFlags::Any).unwrap();
            vm.map_mut(v)
                .unwrap()
                .update(&one, &x.to_le_bytes(), 0)
                .unwrap();
        }
        let zero = 0u32.to_le_bytes();
        use std::os::fd::{AsFd, AsRawFd};
        let mut answers = vec![run_both(&mut vm, vid, &kprog, &[])];
        for (k, v) in [(&ka, va), (&kb, vb)] {
            let fd = k.as_fd().as_raw_fd() as u32;
            kouter
                .update(&zero, &fd.to_le_bytes(), UpdateFlags::Any)
                .unwrap();
            vm.set_inner_map(vouter, &zero, v, 0).unwrap();
            answers.push(run_both(&mut vm, vid, &kprog, &[]));
        }
        for (i, (ours, theirs)) in answers.iter().enumerate() {
            assert_eq!(ours, theirs, "{t} run {i}");
            compared += 1;
        }
        assert_eq!(
            answers.iter().map(|a| a.1).collect::<Vec<_>>(),
            [1000, 7, 9]
        );
    }
    println!("maps of maps from programs: {compared} runs agree with the kernel");
}

#[test]
fn lpm_lookups_from_programs_agree_with_the_kernel() {
    if !test_support::kernel_available("lpm_lookups_from_programs_agree_with_the_kernel") {
        return;
    }
    // The packet's first byte is the prefix length, the next four the address: the value
    // the longest matching prefix holds, or 1000.
    let src = "
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 5
if r4 > r3 goto LBB0_2
r5 = *(u8 *)(r2 + 0)
*(u32 *)(r10 - 8) = r5
r5 = *(u32 *)(r2 + 1)
*(u32 *)(r10 - 4) = r5
r1 = map_fd(0) ll
r2 = r10
r2 += -8
call 1
if r0 == 0 goto LBB0_2
r0 = *(u32 *)(r0 + 0)
exit
LBB0_2:
r0 = 1000
exit
";
    let spec = MapSpec::new(MapType::LpmTrie, 8, 4, 32).with_flags(NO_PREALLOC);
    let kmap = KMap::create(&spec).unwrap();
    let mut vm = vm::Vm::new();
    let v = vm.create_map(spec).unwrap();
    let (vid, kprog) = load_both(&mut vm, src, vec![&kmap]);
    let mut rng = test_support::Rng::new(0x1b1_0100);
    let byte =
        |rng: &mut test_support::Rng| [0x00u8, 0x0a, 0x80, 0xc0, 0xff][rng.below(5) as usize];
    for i in 0..24u32 {
        let mut key = (rng.below(33) as u32).to_ne_bytes().to_vec();
        key.extend((0..4).map(|_| byte(&mut rng)));
        kmap.update(&key, &i.to_le_bytes(), UpdateFlags::Any)
            .unwrap();
        vm.map_mut(v)
            .unwrap()
            .update(&key, &i.to_le_bytes(), 0)
            .unwrap();
    }
    let mut found = 0;
    for _ in 0..300 {
        let mut packet = vec![rng.below(35) as u8];
        packet.extend((0..4).map(|_| byte(&mut rng)));
        let (ours, theirs) = run_both(&mut vm, vid, &kprog, &packet);
        assert_eq!(ours, theirs, "packet {packet:02x?}");
        found += (theirs != 1000) as usize;
    }
    println!("LPM lookups from programs: 300 agree with the kernel ({found} found)");
    assert!(found > 30, "{found}");
}

#[test]
fn queue_and_stack_from_programs_agree_with_the_kernel() {
    if !test_support::kernel_available("queue_and_stack_from_programs_agree_with_the_kernel") {
        return;
    }
    // The packet's first byte picks push (0, with the flags in the second byte), pop (1) or
    // peek (2) of the u32 at bytes 4..8; the answer is (helper's r0 << 8 | popped value's
    // low byte), truncated to u32.
    let src = "
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto LBB0_9
r6 = *(u8 *)(r2 + 0)
r3 = *(u8 *)(r2 + 1)
r5 = *(u32 *)(r2 + 4)
*(u32 *)(r10 - 4) = r5
r1 = 0
*(u32 *)(r10 - 8) = r1
r1 = map_fd(0) ll
r2 = r10
r2 += -4
if r6 != 0 goto LBB0_2
call 87
goto LBB0_8
LBB0_2:
r2 = r10
r2 += -8
if r6 != 1 goto LBB0_3
call 88
goto LBB0_8
LBB0_3:
call 89
LBB0_8:
r0 <<= 8
r1 = *(u8 *)(r10 - 8)
r0 |= r1
exit
LBB0_9:
r0 = 99999
exit
";
    let mut compared = 0;
    for t in [MapType::Queue, MapType::Stack] {
        let spec = MapSpec::new(t, 0, 4, 3);
        let kmap = KMap::create(&spec).unwrap();
        let mut vm = vm::Vm::new();
        vm.create_map(spec).unwrap();
        let (vid, kprog) = load_both(&mut vm, src, vec![&kmap]);
        let mut rng = test_support::Rng::new(0x9_0100 + t.number() as u64);
        for i in 0..300 {
            let op = rng.below(3) as u8;
            let flags = rng.below(4) as u8;
            let value = (rng.below(200) as u32 + 1).to_le_bytes();
            let packet = [op, flags, 0, 0, value[0], value[1], value[2], value[3]];
            let (ours, theirs) = run_both(&mut vm, vid, &kprog, &packet);
            assert_eq!(ours, theirs, "{t} op {i}: {packet:?}");
            compared += 1;
        }
    }
    println!("queue/stack from programs: {compared} runs agree with the kernel");
}

#[test]
fn rdonly_and_wronly_prog_maps_refuse_what_the_verifier_refuses() {
    if !test_support::kernel_available(
        "rdonly_and_wronly_prog_maps_refuse_what_the_verifier_refuses",
    ) {
        return;
    }
    use vm::map_flags::{RDONLY_PROG, WRONLY_PROG};
    let lookup = "
r1 = 0
*(u32 *)(r10 - 4) = r1
r2 = r10
r2 += -4
r1 = map_fd(0) ll
call 1
if r0 == 0 goto LBB0_2
ACCESS
LBB0_2:
r0 = 0
exit
";
    let write = lookup.replace("ACCESS", "r1 = 5\n*(u64 *)(r0 + 0) = r1");
    let read = lookup.replace("ACCESS", "r1 = *(u64 *)(r0 + 0)");
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
    for (flags, src, refused) in [
        (RDONLY_PROG, write.as_str(), "write into map forbidden"),
        (RDONLY_PROG, update, "write into map forbidden"),
        (WRONLY_PROG, read.as_str(), "read from map forbidden"),
        (RDONLY_PROG, read.as_str(), ""),
        (WRONLY_PROG, write.as_str(), ""),
    ] {
        let spec = MapSpec::array(8, 1).with_flags(flags);
        let kmap = KMap::create(&spec).unwrap();
        let insns = asm::text::assemble(src, asm::text::Dialect::Llvm)
            .unwrap()
            .insns;
        let mut opts = kernel::prog::LoadOptions::new(asm::types::ProgType::Xdp);
        opts.maps = vec![&kmap];
        let k = kernel::prog::Program::load(&insns, &opts);
        let mut vm = vm::Vm::new();
        vm.create_map(spec).unwrap();
        let id = vm.load_insns(&insns, asm::types::ProgType::Xdp).unwrap();
        vm.set_packet(vec![0; 64]);
        let v = vm.run(id);
        if refused.is_empty() {
            assert!(k.is_ok() && v.is_ok(), "flags {flags:#x}: {src}");
        } else {
            let log = k.expect_err(refused).to_string();
            assert!(log.contains(refused), "kernel: {log}");
            let e = v.expect_err(refused).to_string();
            assert!(e.contains(refused), "vm: {e}");
        }
    }
}

#[test]
fn devmap_lookups_from_programs_agree_with_the_kernel() {
    if !test_support::kernel_available("devmap_lookups_from_programs_agree_with_the_kernel") {
        return;
    }
    // lookup(devmap, packet[0]): the entry's ifindex, or 1000 for NULL.
    let src = "
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 4
if r4 > r3 goto LBB0_2
r5 = *(u32 *)(r2 + 0)
*(u32 *)(r10 - 4) = r5
r1 = map_fd(0) ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto LBB0_2
r0 = *(u32 *)(r0 + 0)
exit
LBB0_2:
r0 = 1000
exit
";
    let mut compared = 0;
    for t in [MapType::Devmap, MapType::DevmapHash] {
        let spec = MapSpec::new(t, 4, 8, 4);
        let kmap = KMap::create(&spec).unwrap();
        let mut vm = vm::Vm::new();
        let v = vm.create_map(spec).unwrap();
        let (vid, kprog) = load_both(&mut vm, src, vec![&kmap]);
        for key in [1u32, 3] {
            let value = [1u32.to_le_bytes(), 0u32.to_le_bytes()].concat();
            kmap.update(&key.to_le_bytes(), &value, UpdateFlags::Any)
                .unwrap();
            vm.map_mut(v)
                .unwrap()
                .update(&key.to_le_bytes(), &value, 0)
                .unwrap();
        }
        for key in 0u32..6 {
            let (ours, theirs) = run_both(&mut vm, vid, &kprog, &key.to_le_bytes());
            assert_eq!(ours, theirs, "{t} key {key}");
            compared += 1;
        }
    }
    println!("devmap lookups from programs: {compared} agree with the kernel");
}

#[test]
fn inner_map_templates_match_as_the_kernels() {
    if !test_support::kernel_available("inner_map_templates_match_as_the_kernels") {
        return;
    }
    use vm::map_flags::INNER_MAP;
    // (template, inner): BPF_F_INNER_MAP lets array sizes differ; other types never
    // compare max_entries; type, sizes and flags must match.
    let cases = [
        (MapSpec::array(8, 2), MapSpec::array(8, 2)),
        (MapSpec::array(8, 2), MapSpec::array(8, 3)),
        (
            MapSpec::array(8, 2).with_flags(INNER_MAP),
            MapSpec::array(8, 3).with_flags(INNER_MAP),
        ),
        (
            MapSpec::array(8, 2).with_flags(INNER_MAP),
            MapSpec::array(8, 3),
        ),
        (MapSpec::hash(4, 8, 2), MapSpec::hash(4, 8, 9)),
        (MapSpec::hash(4, 8, 2), MapSpec::hash(4, 16, 2)),
        (MapSpec::hash(4, 8, 2), MapSpec::array(8, 2)),
        (
            MapSpec::hash(4, 8, 2),
            MapSpec::hash(4, 8, 2).with_flags(NO_PREALLOC),
        ),
        (
            MapSpec::new(MapType::Queue, 0, 4, 2),
            MapSpec::new(MapType::Queue, 0, 4, 7),
        ),
    ];
    for (i, (template, inner)) in cases.iter().enumerate() {
        let mut outer = MapSpec::new(MapType::ArrayOfMaps, 4, 4, 1);
        outer.inner = Some(Box::new(template.clone()));
        let ktemplate = KMap::create(template).unwrap();
        let kinner = KMap::create(inner).unwrap();
        let kouter = KMap::create_of_maps(&outer, &ktemplate).unwrap();
        use std::os::fd::{AsFd, AsRawFd};
        let fd = kinner.as_fd().as_raw_fd() as u32;
        let k = kouter
            .update(&0u32.to_le_bytes(), &fd.to_le_bytes(), UpdateFlags::Any)
            .map_err(k_errno);
        let mut vm = vm::Vm::new();
        let vouter = vm.create_map(outer).unwrap();
        let vinner = vm.create_map(inner.clone()).unwrap();
        let v = vm
            .set_inner_map(vouter, &0u32.to_le_bytes(), vinner, 0)
            .map_err(vm_errno);
        assert_eq!(v, k, "case {i}: template {template:?}, inner {inner:?}");
    }
}
