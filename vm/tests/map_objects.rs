//! A clang-built object with the new map types (`testdata/elf/map_types.bpf.c`): a map of
//! maps filled by its `.values` initialiser, an LPM trie, a bloom filter and a perf event
//! array used by one program, and maps the program does not use (a sockhash, a cgroup array
//! the VM does not implement, an LPM trie the kernel would refuse), which do not stop it.

use asm::types::{MapType, ProgType};
use obj::Object;
use vm::{Env, LoadError, RunError, Vm};

fn object() -> Object {
    let path = format!(
        "{}/../testdata/elf/map_types.bpf.o",
        env!("CARGO_MANIFEST_DIR")
    );
    Object::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn program<'a>(o: &'a Object, name: &str) -> &'a obj::Program {
    o.programs.iter().find(|p| p.name == name).unwrap()
}

fn index(o: &Object, name: &str) -> u32 {
    o.map_index(name).unwrap() as u32
}

#[test]
fn the_object_describes_every_map() {
    let o = object();
    let spec = |n: &str| o.maps[o.map_index(n).unwrap()].spec.clone();
    let outer = spec("outer");
    assert_eq!(outer.map_type, MapType::ArrayOfMaps);
    assert_eq!(outer.inner.as_deref().unwrap().map_type, MapType::Array);
    let outer_map = &o.maps[o.map_index("outer").unwrap()];
    assert_eq!(
        outer_map.slots,
        vec![(0, "inner_a".to_string()), (1, "inner_b".to_string())]
    );
    assert_eq!(spec("routes").key_size, 8);
    assert_eq!(spec("seen").map_type, MapType::BloomFilter);
}

#[test]
fn a_program_routes_through_lpm_bloom_and_inner_maps() {
    let o = object();
    let (mut vm, id) =
        Vm::from_program(program(&o, "route"), ProgType::Xdp, &o.maps, Env::default()).unwrap();
    // The unused maps: placeholders (one the VM lacks, one the kernel refuses), and a real
    // sockhash.
    assert!(vm.map(index(&o, "unused_cgroups")).unwrap().is_inert());
    let refused = vm.map(index(&o, "refused_routes")).unwrap();
    assert!(refused.is_inert() && refused.creation_error().is_some());
    assert!(!vm.map(index(&o, "unused_socks")).unwrap().is_inert());
    // The outer map holds the inner maps its initialiser names.
    let outer = vm.map(index(&o, "outer")).unwrap();
    assert_eq!(
        outer.inner_maps(),
        vec![
            (0u32.to_le_bytes().to_vec(), index(&o, "inner_a")),
            (1u32.to_le_bytes().to_vec(), index(&o, "inner_b"))
        ]
    );
    // 10.0.0.0/8 selects inner map 1, whose value at 1 is 77; the bloom filter has 1.
    let mut key = 8u32.to_ne_bytes().to_vec();
    key.extend([10, 0, 0, 0]);
    let routes = index(&o, "routes");
    vm.map_mut(routes)
        .unwrap()
        .update(&key, &1u32.to_le_bytes(), 0)
        .unwrap();
    vm.map_mut(index(&o, "inner_b"))
        .unwrap()
        .update(&1u32.to_le_bytes(), &77u64.to_le_bytes(), 0)
        .unwrap();
    let events = index(&o, "events");
    // The perf event array has one entry per CPU; event 0 is open on CPU 0.
    assert_eq!(vm.map(events).unwrap().spec().max_entries, 1);
    vm.map_mut(events)
        .unwrap()
        .update(&0u32.to_le_bytes(), &0u32.to_le_bytes(), 0)
        .unwrap();
    vm.set_packet(vec![10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        vm.run(id).unwrap().r0,
        2,
        "not in the bloom filter yet: XDP_PASS"
    );
    vm.map_mut(index(&o, "seen"))
        .unwrap()
        .push(&1u32.to_le_bytes(), 0)
        .unwrap();
    assert_eq!(vm.run(id).unwrap().r0, 1, "XDP_DROP");
    let records = vm.map_mut(events).unwrap().take_perf_records();
    assert_eq!(records.len(), 1);
    let mut sample = 1u64.to_le_bytes().to_vec();
    sample.extend(77u64.to_le_bytes());
    // Padded as perf pads raw samples.
    sample.extend([0; 4]);
    assert_eq!(records[0].data, sample);
    // No route for 11.0.0.1.
    vm.set_packet(vec![11, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(vm.run(id).unwrap().r0, 2);
}

#[test]
fn only_the_program_that_uses_the_refused_map_is_refused() {
    let o = object();
    let e = Vm::from_program(
        program(&o, "uses_refused"),
        ProgType::Xdp,
        &o.maps,
        Env::default(),
    )
    .unwrap_err();
    let RunError::Load(LoadError::MapNotCreated { map, reason, .. }) = &e else {
        panic!("{e}");
    };
    assert_eq!(map, "refused_routes");
    assert_eq!(reason.errno(), 22, "{e}");
}

#[test]
fn the_testing_api_loads_the_whole_object() {
    let o = object();
    let mut t = vm::testing::Test::from_object(&o).unwrap();
    t.select("route").unwrap();
    assert_eq!(
        t.run_packet(&[1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
            .unwrap()
            .ret,
        2
    );
}
