//! Packet and redirect helpers where the kernel cannot be asked (test_run has no way to
//! set the state) or where the VM must refuse clearly. The helpers' kernel-comparable
//! behaviour is in `testdata/elf/tests/net_{tc,xdp}.toml` (`bpfx test --both`).

use asm::text::{assemble, Dialect};
use vm::{IpSummed, MapSpec, MapType, ProgType, RedirectKind, Vm};

fn load(m: &mut Vm, src: &str, t: ProgType) -> vm::ProgId {
    let a = assemble(src, Dialect::Ubpf).unwrap_or_else(|d| panic!("{src}: {d:?}"));
    m.load_insns(&a.insns, t)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn frame() -> Vec<u8> {
    let mut p = vec![0u8; 54];
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    p[14] = 0x45;
    p
}

#[test]
fn xdp_headroom_is_not_the_programs() {
    // data - 1 is headroom until bpf_xdp_adjust_head gives it to the packet.
    let mut m = Vm::new();
    m.set_packet(frame());
    let id = load(
        &mut m,
        "ldxw %r2, [%r1]\nldxb %r0, [%r2-1]\nexit",
        ProgType::Xdp,
    );
    let e = m.run(id).unwrap_err().to_string();
    assert!(e.contains("in the headroom, before data_meta"), "{e}");
    let src = "mov %r6, %r1\nmov %r2, -2\ncall 44\nldxw %r2, [%r6]\nldxb %r0, [%r2]\nexit";
    let id = load(&mut m, src, ProgType::Xdp);
    assert_eq!(m.run(id).unwrap().r0, 0, "test_run's headroom is zeroed");
    assert_eq!(m.packet().len(), 56, "the output starts at the new data");
}

#[test]
fn helpers_of_another_program_type_are_refused_by_name() {
    let mut m = Vm::new();
    m.set_packet(frame());
    let id = load(&mut m, "mov %r2, 4\ncall 44\nexit", ProgType::SchedCls);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("bpf_xdp_adjust_head is not available to sched_cls programs"),
        "{e}"
    );
}

#[test]
fn redirect_map_refuses_map_types_that_are_no_redirect_target() {
    let mut m = Vm::new();
    m.create_map(MapSpec::new(MapType::Array, 4, 4, 4)).unwrap();
    m.set_packet(frame());
    let src = "lddw map_fd %r1, 0\nmov %r2, 0\nmov %r3, 0\ncall 51\nexit";
    let id = load(&mut m, src, ProgType::Xdp);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        // check_map_func_compatibility()'s message, as the kernel's verifier gives it.
        e.contains("cannot pass map_type 2 into func bpf_redirect_map#51"),
        "{e}"
    );
}

#[test]
fn redirects_are_recorded_with_their_flags() {
    let mut m = Vm::new();
    m.set_packet(frame());
    // bpf_redirect_neigh with a next hop, then bpf_redirect_peer replaces it.
    let src = "stw [%r10-20], 2\nstw [%r10-16], 0x0100000a\nmov %r1, 3\nmov %r2, %r10\nadd %r2, -20\nmov %r3, 20\nmov %r4, 0\ncall 152\nexit";
    let id = load(&mut m, src, ProgType::SchedCls);
    assert_eq!(m.run(id).unwrap().r0, 7, "TC_ACT_REDIRECT");
    let r = m.machine().redirect().cloned().unwrap();
    assert_eq!(r.target, 3);
    let RedirectKind::Neigh { nexthop: Some(nh) } = &r.kind else {
        panic!("{r:?}")
    };
    assert_eq!(nh[..8], [2, 0, 0, 0, 0x0a, 0, 0, 1]);
    assert_eq!(
        r.to_string(),
        "redirect to ifindex 3 through the neighbour of the given next hop"
    );
    let id = load(
        &mut m,
        "mov %r1, 5\nmov %r2, 0\ncall 155\nexit",
        ProgType::SchedCls,
    );
    assert_eq!(m.run(id).unwrap().r0, 7);
    assert_eq!(
        m.machine().redirect().unwrap().to_string(),
        "redirect to the peer of ifindex 5"
    );
    // A new run starts without a redirect.
    let id = load(&mut m, "mov %r0, 0\nexit", ProgType::SchedCls);
    m.run(id).unwrap();
    assert!(m.machine().redirect().is_none());
}

#[test]
fn checksum_state_the_test_sets() {
    // CHECKSUM_COMPLETE: bpf_csum_update adds to skb->csum and returns it; a store with
    // BPF_F_RECOMPUTE_CSUM keeps the sum of the packet right (csum_sub old, csum_add new).
    let mut m = Vm::new();
    m.env_mut().net.ip_summed = IpSummed::Complete;
    m.env_mut().net.csum = 0x1000;
    m.set_packet(frame());
    let src = "mov %r6, %r1\nstw [%r10-4], 0x0102\nmov %r1, %r6\nmov %r2, 20\nmov %r3, %r10\nadd %r3, -4\nmov %r4, 4\nmov %r5, 1\ncall 9\nmov %r1, %r6\nmov %r2, 0\ncall 40\nexit";
    let id = load(&mut m, src, ProgType::SchedCls);
    // The four bytes at offset 20 were zero: the sum grows by 0x0102 (little-endian word).
    assert_eq!(m.run(id).unwrap().r0, 0x1102);
    // CHECKSUM_UNNECESSARY at level 2: query, then decrement.
    m.env_mut().net.ip_summed = IpSummed::Unnecessary;
    m.env_mut().net.csum_level = 2;
    let src = "mov %r6, %r1\nmov %r2, 2\ncall 135\nmov %r1, %r6\nmov %r2, 0\ncall 135\nexit";
    let id = load(&mut m, src, ProgType::SchedCls);
    assert_eq!(m.run(id).unwrap().r0, 1);
}

#[test]
fn redirect_map_follows_the_devmap_entry() {
    // __xdp_redirect_map(): a filled slot redirects (XDP_REDIRECT = 4), an empty one gives
    // the action in the low bits of the flags (here XDP_PASS = 2).
    let mut m = Vm::new();
    m.create_map(MapSpec::new(MapType::Devmap, 4, 4, 4))
        .unwrap();
    m.map_mut(0)
        .unwrap()
        .update(&1u32.to_le_bytes(), &7u32.to_le_bytes(), 0)
        .unwrap();
    m.set_packet(frame());
    let filled = load(
        &mut m,
        "lddw map_fd %r1, 0\nmov %r2, 1\nmov %r3, 0\ncall 51\nexit",
        ProgType::Xdp,
    );
    assert_eq!(m.run(filled).unwrap().r0, 4);
    let empty = load(
        &mut m,
        "lddw map_fd %r1, 0\nmov %r2, 2\nmov %r3, 2\ncall 51\nexit",
        ProgType::Xdp,
    );
    assert_eq!(m.run(empty).unwrap().r0, 2);
}
