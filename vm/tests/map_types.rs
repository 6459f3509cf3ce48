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
    assert!(refused > 20, "{refused}");
    // The supported ones are created (with shapes each accepts).
    for t in SUPPORTED_MAP_TYPES {
        let d = match t {
            MapType::Ringbuf => MapSpec {
                key_size: 0,
                value_size: 0,
                max_entries: 4096,
                ..def(t)
            },
            MapType::Queue | MapType::Stack => MapSpec {
                key_size: 0,
                ..def(t)
            },
            MapType::ProgArray => MapSpec {
                value_size: 4,
                ..def(t)
            },
            _ => def(t),
        };
        let fd = vm.create_map(d).unwrap_or_else(|e| panic!("{t}: {e}"));
        // The kernel's numbering comes with the type.
        assert_eq!(vm.map(fd).unwrap().spec().map_type.number(), t.number());
    }
}

#[test]
fn testing_api_names_the_map_and_type() {
    let maps = [obj::Map::declared(
        MapSpec::new(MapType::BloomFilter, 0, 4, 16).named("filter"),
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
        msg.contains("`filter`") && msg.contains("bloom_filter"),
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
