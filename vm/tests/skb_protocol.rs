//! `skb->protocol` for socket filters and tc programs: what `eth_type_trans` derives from the
//! frame the program sees at `skb->data`.

use asm::text::{assemble, Dialect};
use vm::{skb_protocol, ProgType, Vm};

fn frame(ethertype: [u8; 2], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0xaa; 12];
    p.extend_from_slice(&ethertype);
    p.extend_from_slice(payload);
    p
}

#[test]
fn ethertype_length_field_and_short_packets() {
    // Ethertypes (>= 0x0600) as the frame holds them (the context keeps network order).
    assert_eq!(skb_protocol(&frame([0x08, 0x00], &[0x45])), 0x0008);
    assert_eq!(skb_protocol(&frame([0x86, 0xdd], &[])), 0xdd86);
    assert_eq!(skb_protocol(&frame([0x06, 0x00], &[])), 0x0006);
    // An 802.3 length: raw 802.3 when the payload starts ff ff, else LLC.
    assert_eq!(skb_protocol(&frame([0x05, 0xff], &[0xff, 0xff])), 0x0100);
    assert_eq!(skb_protocol(&frame([0x00, 0x2e], &[0xaa, 0xaa])), 0x0400);
    assert_eq!(skb_protocol(&frame([0x00, 0x2e], &[0xff])), 0x0400);
    // Shorter than an Ethernet header.
    assert_eq!(skb_protocol(&[0x08; 13]), 0);
    assert_eq!(skb_protocol(&[]), 0);
}

#[test]
fn programs_read_it_from_the_context() {
    for t in [ProgType::SocketFilter, ProgType::SchedCls] {
        let mut vm = Vm::new();
        let id = vm
            .load_insns(
                &assemble("r0 = *(u32 *)(r1 + 16)\nexit\n", Dialect::Llvm)
                    .unwrap()
                    .insns,
                t,
            )
            .unwrap();
        for (pkt, want) in [
            (frame([0x08, 0x06], &[0; 28]), 0x0608),
            (frame([0x00, 0x10], &[0xff, 0xff]), 0x0100),
            (vec![1, 2, 3], 0),
        ] {
            vm.set_packet(pkt);
            assert_eq!(vm.run(id).unwrap().r0, want, "{t}");
        }
    }
}
