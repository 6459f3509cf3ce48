//! Socket filters see the same packet in the VM and in the kernel: the bytes the user gives
//! are what the program finds at `skb->data`, in `skb->len`, through `ld_abs`, and the
//! Ethertype they carry is `skb->protocol` (the kernel backend adds the Ethernet header
//! `BPF_PROG_TEST_RUN` pulls off for these types, see `kernel::run`).

mod common;

use asm::isa::Size;
use asm::Insn;
use common::diff::compare_packet;
use kernel::ProgType;

const EXIT: Insn = Insn::exit();

/// Packets of every interesting length: empty, shorter than an Ethernet header, exactly
/// one, and IPv4/ARP/802.3 frames.
fn packets() -> Vec<Vec<u8>> {
    let frame = |len: usize, ethertype: [u8; 2], b14: [u8; 2]| {
        let mut p: Vec<u8> = (0..len)
            .map(|x| (x as u8).wrapping_mul(37) ^ 0x5a)
            .collect();
        if len >= 14 {
            p[12..14].copy_from_slice(&ethertype);
        }
        if len >= 16 {
            p[14..16].copy_from_slice(&b14);
        }
        p
    };
    vec![
        vec![],
        vec![0x42],
        frame(13, [0, 0], [0, 0]),
        // (not IPv4: the kernel refuses an IPv4 frame without room for an IP header)
        frame(14, [0x88, 0xcc], [0, 0]),
        frame(60, [0x08, 0x00], [0x45, 0x00]),
        frame(42, [0x08, 0x06], [0x00, 0x01]),
        frame(64, [0x86, 0xdd], [0x60, 0x00]),
        // an 802.3 length field: LLC
        frame(50, [0x00, 0x24], [0x42, 0x42]),
    ]
}

fn check_all(what: &str, prog: &[Insn], packets: &[Vec<u8>]) {
    let mut failures = Vec::new();
    for p in packets {
        match compare_packet(prog, ProgType::SocketFilter, p) {
            Ok(o) => println!("{what}: {} bytes -> r0 {:#x}", p.len(), o.r0),
            Err(e) => failures.push(format!("{what}, {} byte packet {p:02x?}: {e}", p.len())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn skb_len_is_the_packet_length() {
    if !common::kernel_available("skb_len_is_the_packet_length") {
        return;
    }
    // r0 = skb->len
    check_all("skb->len", &[Insn::ldx(Size::W, 0, 1, 0), EXIT], &packets());
}

#[test]
fn ld_abs_starts_at_the_first_byte() {
    if !common::kernel_available("ld_abs_starts_at_the_first_byte") {
        return;
    }
    // r6 = r1; r0 = skb[0]; r0 <<= 8; r0 |= skb[0] again through ld_abs b[0]
    let prog = [Insn::mov64_reg(6, 1), Insn::ld_abs(Size::B, 0), EXIT];
    // ld_abs past the end ends the program with r0 = 0 in both: the empty packet included.
    check_all("ld_abs b[0]", &prog, &packets());
    // ld_abs h[12]: the Ethertype, big-endian
    let prog = [Insn::mov64_reg(6, 1), Insn::ld_abs(Size::H, 12), EXIT];
    check_all("ld_abs h[12]", &prog, &packets());
}

#[test]
fn skb_protocol_is_the_ethertype() {
    if !common::kernel_available("skb_protocol_is_the_ethertype") {
        return;
    }
    // r0 = skb->protocol (offset 16). Left out, as known harness differences (see
    // kernel::run): packets shorter than a header (the kernel's eth_type_trans never yields
    // 0, the VM says 0) and raw 802.3 frames (payload `ff ff` after a length field), which the
    // kernel recognises by the two bytes after the header it pulled, i.e. the packet's
    // first two.
    let prog = [Insn::ldx(Size::W, 0, 1, 16), EXIT];
    let frames: Vec<_> = packets().into_iter().filter(|p| p.len() >= 14).collect();
    check_all("skb->protocol", &prog, &frames);
    // and the value is the Ethertype as the frame holds it
    let o = compare_packet(&prog, ProgType::SocketFilter, &frames[1]).unwrap();
    assert_eq!(o.r0, u16::from_le_bytes([0x08, 0x00]) as u64);
    // an 802.3 length field gives ETH_P_802_2 (LLC)
    let o = compare_packet(&prog, ProgType::SocketFilter, frames.last().unwrap()).unwrap();
    assert_eq!(o.r0, u16::from_le_bytes([0x00, 0x04]) as u64);
}

#[test]
fn sched_cls_sees_the_same_packet_too() {
    if !common::kernel_available("sched_cls_sees_the_same_packet_too") {
        return;
    }
    // tc programs were already layer 2 in the kernel's test run: no header is added.
    let frames: Vec<_> = packets().into_iter().filter(|p| p.len() >= 14).collect();
    let mut failures = Vec::new();
    for prog in [
        vec![Insn::ldx(Size::W, 0, 1, 0), EXIT],
        vec![Insn::ldx(Size::W, 0, 1, 16), EXIT],
        vec![Insn::mov64_reg(6, 1), Insn::ld_abs(Size::B, 0), EXIT],
    ] {
        for p in &frames {
            if let Err(e) = compare_packet(&prog, ProgType::SchedCls, p) {
                failures.push(format!("{} bytes: {e}", p.len()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refused_packets_are_predicted() {
    if !common::kernel_available("refused_packets_are_predicted") {
        return;
    }
    use kernel::run::{refused_packet, run, RunInput};
    // r0 = 0; exit
    let prog = [Insn::mov64_imm(0, 0), EXIT];
    let mut checked = 0;
    for t in [ProgType::SocketFilter, ProgType::SchedCls, ProgType::Xdp] {
        for ethertype in [[0x08, 0x00], [0x86, 0xdd], [0x08, 0x06]] {
            for len in [0usize, 13, 14, 19, 20, 33, 34, 39, 40, 53, 54, 60] {
                let mut p = vec![0u8; len];
                if len >= 14 {
                    p[12..14].copy_from_slice(&ethertype);
                }
                let predicted = refused_packet(t, &p);
                let got = run(
                    &prog,
                    &RunInput {
                        prog_type: Some(t),
                        packet: &p,
                        ..Default::default()
                    },
                );
                match (&predicted, &got) {
                    (None, Ok(_)) => {}
                    (Some(_), Err(e)) if e.errno().map(|e| e.0) == Some(libc::EINVAL) => {}
                    _ => panic!("{t}, {len} bytes, {ethertype:02x?}: predicted {predicted:?}, kernel {got:?}"),
                }
                checked += 1;
            }
        }
    }
    println!("{checked} packets: refusals predicted");
}
