//! Contexts of the program types beyond packets and kprobes (issue 18, item 3), built from
//! `asm::types::ctx`: stores the kernel allows are observable after the run, the pointer
//! fields point into VM regions, stores it refuses fault with the field's name — and, where
//! the kernel can `BPF_PROG_TEST_RUN` the type, the same program and input run in both.

use asm::text::{assemble, Dialect};
use asm::types::ctx::layout;
use asm::Insn;
use vm::{ProgType, Vm};

fn insns(src: &str) -> Vec<Insn> {
    assemble(src, Dialect::Ubpf)
        .unwrap_or_else(|d| panic!("{src}: {d:?}"))
        .insns
}

fn load(m: &mut Vm, src: &str, t: ProgType) -> vm::ProgId {
    m.load_insns(&insns(src), t)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// A context of type `t` with the named fields set (offsets from the table).
fn ctx(t: ProgType, fields: &[(&str, u64)]) -> Vec<u8> {
    let l = layout(t).unwrap();
    let mut c = vec![0u8; l.size as usize];
    for (name, v) in fields {
        let f = l
            .field(name)
            .unwrap_or_else(|| panic!("{t}: no field {name}"));
        let n = (f.len as usize).min(8);
        c[f.off as usize..f.off as usize + n].copy_from_slice(&v.to_le_bytes()[..n]);
    }
    c
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

/// An IPv4/TCP packet from its network header on (what cgroup_skb and lwt programs see).
fn ipv4_tcp() -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x45;
    p[3] = 40;
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&[10, 0, 0, 1]);
    p[16..20].copy_from_slice(&[10, 0, 0, 2]);
    p[20..22].copy_from_slice(&1234u16.to_be_bytes());
    p[22..24].copy_from_slice(&80u16.to_be_bytes());
    p
}

/// The same packet behind an Ethernet header.
fn eth_ipv4_tcp() -> Vec<u8> {
    let mut p = vec![0u8; 12];
    p.extend_from_slice(&[0x08, 0x00]);
    p.extend(ipv4_tcp());
    p
}

#[test]
fn sock_ops_reply_is_written_back_and_args_are_read_only() {
    let mut m = Vm::new();
    m.set_ctx(ctx(ProgType::SockOps, &[("op", 4), ("remote_port", 80)]));
    let id = load(
        &mut m,
        "ldxw %r2, [%r1+0]\nadd %r2, 100\nstxw [%r1+4], %r2\nmov %r0, 1\nexit",
        ProgType::SockOps,
    );
    assert_eq!(m.run(id).unwrap().r0, 1);
    assert_eq!(u32_at(m.ctx(), 4), 104, "reply");
    let id = load(
        &mut m,
        "mov %r2, 1\nstxw [%r1+8], %r2\nexit",
        ProgType::SockOps,
    );
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("sock_ops context offset 8 (`args`) is not writable with size 4"),
        "{e}"
    );
    // sk may be NULL: the VM has no socket, so it is.
    let id = load(&mut m, "ldxdw %r0, [%r1+184]\nexit", ProgType::SockOps);
    assert_eq!(m.run(id).unwrap().r0, 0);
    assert_eq!(
        ProgType::SockOps.r0_meaning(1).as_deref(),
        Some("1: success")
    );
}

#[test]
fn cgroup_sockopt_optval_is_the_packet_and_optlen_is_written_back() {
    let mut m = Vm::new();
    m.set_packet(vec![1, 2, 3, 4]);
    m.set_ctx(ctx(
        ProgType::CgroupSockopt,
        &[("level", 1), ("optname", 2), ("optlen", 4)],
    ));
    let src = "ldxdw %r2, [%r1+8]\nldxdw %r3, [%r1+16]\nmov %r4, %r2\nadd %r4, 1\n\
               jgt %r4, %r3, out\nstb [%r2+0], 9\nmov %r5, 1\nstxw [%r1+32], %r5\n\
               out:\nmov %r0, 1\nexit";
    let id = load(&mut m, src, ProgType::CgroupSockopt);
    assert_eq!(m.run(id).unwrap().r0, 1);
    assert_eq!(m.packet(), &[9, 2, 3, 4]);
    assert_eq!(u32_at(m.ctx(), 32), 1, "optlen");
    // sk is a socket the VM does not have.
    let id = load(&mut m, "ldxdw %r0, [%r1+0]\nexit", ProgType::CgroupSockopt);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("`sk` points at a kernel object the VM does not have"),
        "{e}"
    );
}

#[test]
fn flow_dissector_keys_are_started_written_and_clamped() {
    let mut m = Vm::new();
    m.set_packet(eth_ipv4_tcp());
    let src = "ldxdw %r2, [%r1+144]\nldxh %r3, [%r2+0]\nadd %r3, 20\nstxh [%r2+2], %r3\n\
               mov %r4, 6\nstxb [%r2+9], %r4\nmov %r0, 0\nexit";
    let id = load(&mut m, src, ProgType::FlowDissector);
    assert_eq!(m.run(id).unwrap().r0, 0);
    let keys = &m.ctx()[192..248];
    assert_eq!(&keys[0..4], &[14, 0, 34, 0], "nhoff, thoff");
    assert_eq!(&keys[10..12], &[0x08, 0x00], "n_proto as in the frame");
    assert_eq!(keys[9], 6, "ip_proto");
    // thoff past the packet is clamped to its length.
    let id = load(
        &mut m,
        "ldxdw %r2, [%r1+144]\nmov %r3, 1000\nstxh [%r2+2], %r3\nmov %r0, 0\nexit",
        ProgType::FlowDissector,
    );
    m.run(id).unwrap();
    assert_eq!(m.ctx()[194], 54);
    assert_eq!(
        ProgType::FlowDissector.r0_meaning(2).as_deref(),
        Some("BPF_DROP")
    );
}

#[test]
fn socket_and_cgroup_contexts_read_the_test_fields() {
    let mut m = Vm::new();
    // sk_lookup: no socket selected yet; the 2-byte remote port.
    m.set_ctx(ctx(
        ProgType::SkLookup,
        &[("family", 2), ("remote_port", 0x5000)],
    ));
    let id = load(&mut m, "ldxdw %r0, [%r1+0]\nexit", ProgType::SkLookup);
    assert_eq!(m.run(id).unwrap().r0, 0);
    let id = load(&mut m, "ldxh %r0, [%r1+36]\nexit", ProgType::SkLookup);
    assert_eq!(m.run(id).unwrap().r0, 0x5000);
    // cgroup_sock_addr: the user address is rewritten.
    m.set_ctx(ctx(ProgType::CgroupSockAddr, &[("user_ip4", 0x0100_007f)]));
    let id = load(
        &mut m,
        "ldxb %r0, [%r1+4]\nmov %r2, 0x0200007f\nstxw [%r1+4], %r2\nexit",
        ProgType::CgroupSockAddr,
    );
    assert_eq!(m.run(id).unwrap().r0, 0x7f);
    assert_eq!(u32_at(m.ctx(), 4), 0x0200_007f);
    // cgroup_sysctl: file_pos is writable, write is not.
    m.set_ctx(ctx(
        ProgType::CgroupSysctl,
        &[("write", 1), ("file_pos", 3)],
    ));
    let id = load(
        &mut m,
        "ldxw %r0, [%r1+0]\nmov %r2, 9\nstxw [%r1+4], %r2\nexit",
        ProgType::CgroupSysctl,
    );
    assert_eq!(m.run(id).unwrap().r0, 1);
    assert_eq!(u32_at(m.ctx(), 4), 9);
    let id = load(
        &mut m,
        "mov %r2, 0\nstxw [%r1+0], %r2\nexit",
        ProgType::CgroupSysctl,
    );
    assert!(m.run(id).is_err());
    // perf_event: a narrow read of sample_period.
    m.set_ctx(ctx(
        ProgType::PerfEvent,
        &[("sample_period", 0x1_0000_0002)],
    ));
    let id = load(&mut m, "ldxw %r0, [%r1+168]\nexit", ProgType::PerfEvent);
    assert_eq!(m.run(id).unwrap().r0, 2);
    // sk_msg: data and data_end bound the message.
    m.set_packet(vec![7; 10]);
    m.set_ctx(ctx(ProgType::SkMsg, &[("size", 10)]));
    let id = load(
        &mut m,
        "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nsub %r3, %r2\nmov %r0, %r3\nexit",
        ProgType::SkMsg,
    );
    assert_eq!(m.run(id).unwrap().r0, 10);
    assert_eq!(ProgType::SkMsg.r0_meaning(1).as_deref(), Some("SK_PASS"));
    // cgroup_device: a narrow read of access_type.
    m.set_ctx(ctx(
        ProgType::CgroupDevice,
        &[("access_type", 0x0002_0001), ("major", 1)],
    ));
    let id = load(&mut m, "ldxh %r0, [%r1+2]\nexit", ProgType::CgroupDevice);
    assert_eq!(m.run(id).unwrap().r0, 2);
}

// ---- the VM against the kernel's BPF_PROG_TEST_RUN ----

struct Kernel {
    retval: u32,
    data: Vec<u8>,
    ctx: Vec<u8>,
}

struct Both {
    vm_r0: u32,
    vm_packet: Vec<u8>,
    vm_ctx: Vec<u8>,
    kernel: Kernel,
}

/// Runs `src` in the VM and in the kernel (`kernel::run`, which puts back the Ethernet
/// header the kernel's skb test run pulls) with the same packet and context; `None` when
/// the kernel is unavailable (after printing why).
fn both(t: ProgType, src: &str, packet: &[u8], ctx_in: &[u8]) -> Option<Both> {
    if !test_support::kernel_available("contexts") {
        return None;
    }
    let prog = insns(src);
    let out = kernel::run::run(
        &prog,
        &kernel::run::RunInput {
            prog_type: Some(t),
            packet,
            ctx: ctx_in,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{t}: kernel: {e}\n{:?}", e.verifier_log()));
    let kernel = Kernel {
        retval: out.r0 as u32,
        data: out.data,
        ctx: out.ctx,
    };
    let mut m = Vm::new();
    m.set_packet(packet.to_vec());
    m.set_ctx(ctx_in.to_vec());
    let id = m.load_insns(&prog, t).unwrap();
    let r0 = m.run(id).unwrap_or_else(|e| panic!("{t}: {e}")).r0 as u32;
    Some(Both {
        vm_r0: r0,
        vm_packet: m.packet().to_vec(),
        vm_ctx: m.ctx().to_vec(),
        kernel,
    })
}

/// Reads `len`, `protocol` and `data_end - data`, stores mark and cb[0] = cb[1] + 1.
const SKB_PROG: &str = "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+16]\nldxw %r4, [%r1+76]\n\
    ldxw %r5, [%r1+80]\nsub %r5, %r4\nstxw [%r1+8], %r3\nldxw %r6, [%r1+52]\nadd %r6, 1\n\
    stxw [%r1+48], %r6\nlsh %r2, 16\nor %r2, %r5\nmov %r0, %r2\nexit";

#[test]
fn lwt_and_cgroup_skb_match_the_kernel() {
    let mut skb = vec![0u8; 192];
    skb[52..56].copy_from_slice(&41u32.to_le_bytes());
    for t in [ProgType::LwtIn, ProgType::LwtOut, ProgType::LwtXmit] {
        let Some(b) = both(t, SKB_PROG, &ipv4_tcp(), &skb) else {
            return;
        };
        assert_eq!(b.vm_r0, b.kernel.retval, "{t}: len << 16 | data_end - data");
        assert_eq!(b.vm_packet, b.kernel.data, "{t}: packet");
        // mark (the protocol) and cb[0..2] come back in the context.
        assert_eq!(&b.vm_ctx[8..12], &b.kernel.ctx[8..12], "{t}: mark");
        assert_eq!(&b.vm_ctx[48..56], &b.kernel.ctx[48..56], "{t}: cb");
        assert_eq!(u32_at(&b.vm_ctx, 48), 42);
    }
    // cgroup_skb returns 0 or 1: the same stores, then allow.
    let src = SKB_PROG.replace("mov %r0, %r2\nexit", "mov %r0, 1\nexit");
    let Some(b) = both(ProgType::CgroupSkb, &src, &ipv4_tcp(), &skb) else {
        return;
    };
    assert_eq!((b.vm_r0, b.kernel.retval), (1, 1));
    assert_eq!(&b.vm_ctx[8..12], &b.kernel.ctx[8..12], "cgroup_skb: mark");
    assert_eq!(&b.vm_ctx[48..56], &b.kernel.ctx[48..56], "cgroup_skb: cb");
}

#[test]
fn flow_dissector_keys_match_the_kernel() {
    // Parse the IPv4 header: nhoff from the keys, thoff = nhoff + ihl * 4, ip_proto,
    // addresses and ports, as a real dissector does.
    let src = "ldxdw %r6, [%r1+144]\nldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\n\
        mov %r4, %r2\nadd %r4, 54\njgt %r4, %r3, drop\n\
        ldxh %r5, [%r6+0]\nmov %r7, %r2\nadd %r7, 14\n\
        ldxb %r8, [%r7+0]\nand %r8, 15\nlsh %r8, 2\nadd %r8, %r5\nstxh [%r6+2], %r8\n\
        ldxb %r9, [%r7+9]\nstxb [%r6+9], %r9\nldxw %r9, [%r7+12]\nstxw [%r6+16], %r9\n\
        ldxw %r9, [%r7+16]\nstxw [%r6+20], %r9\nmov %r9, 0x0008\nstxh [%r6+4], %r9\n\
        ldxh %r9, [%r2+34]\nstxh [%r6+12], %r9\nldxh %r9, [%r2+36]\nstxh [%r6+14], %r9\n\
        mov %r0, 0\nexit\ndrop:\nmov %r0, 2\nexit";
    for packet in [eth_ipv4_tcp(), vec![0u8; 20]] {
        let Some(b) = both(ProgType::FlowDissector, src, &packet, &[]) else {
            return;
        };
        assert_eq!(b.vm_r0, b.kernel.retval);
        // The kernel's test run returns the flow keys as its data out.
        assert_eq!(&b.vm_ctx[192..248], &b.kernel.data[..], "bpf_flow_keys");
    }
}

#[test]
fn raw_tracepoint_and_syscall_match_the_kernel() {
    let mut args = Vec::new();
    for v in [5u64, 7] {
        args.extend_from_slice(&v.to_le_bytes());
    }
    let src = "ldxdw %r2, [%r1+0]\nldxdw %r3, [%r1+8]\nmul %r2, %r3\nmov %r0, %r2\nexit";
    let Some(b) = both(ProgType::RawTracepoint, src, &[], &args) else {
        return;
    };
    assert_eq!((b.vm_r0, b.kernel.retval), (35, 35));
    // A syscall program's context is read and written back.
    let src = "ldxw %r2, [%r1+4]\nmul %r2, 3\nstxw [%r1+0], %r2\nmov %r0, %r2\nexit";
    let mut c = vec![0u8; 8];
    c[4] = 5;
    let mut opts = kernel::LoadOptions::new(ProgType::Syscall);
    opts.flags |= kernel::object::BPF_F_SLEEPABLE;
    let k = kernel::Program::load(&insns(src), &opts).unwrap();
    let out = k
        .test_run(&kernel::TestRun {
            data: &[],
            ctx: &c,
            repeat: 1,
            flags: 0,
            cpu: None,
        })
        .unwrap();
    let mut m = Vm::new();
    m.set_ctx(c);
    let id = load(&mut m, src, ProgType::Syscall);
    assert_eq!((m.run(id).unwrap().r0 as u32, out.retval), (15, 15));
    assert_eq!(m.ctx(), &out.ctx[..]);
}

#[test]
fn sk_lookup_matches_the_kernel() {
    if !test_support::kernel_available("contexts") {
        return;
    }
    // Pass lookups for local port 80 (host order), drop the others; no socket is selected,
    // so `sk` reads NULL in both.
    let src = "ldxdw %r3, [%r1+0]\nldxw %r2, [%r1+60]\nmov %r0, 0\njne %r3, 0, out\n\
               jne %r2, 80, out\nmov %r0, 1\nout:\nexit";
    let mut opts = kernel::LoadOptions::new(ProgType::SkLookup);
    opts.expected_attach_type = Some(asm::types::AttachType::SkLookup);
    let k = kernel::Program::load(&insns(src), &opts).unwrap();
    for port in [80u64, 81] {
        // AF_INET, IPPROTO_TCP.
        let c = ctx(
            ProgType::SkLookup,
            &[("family", 2), ("protocol", 6), ("local_port", port)],
        );
        let out = k
            .test_run(&kernel::TestRun {
                data: &[],
                ctx: &c,
                repeat: 1,
                flags: 0,
                cpu: None,
            })
            .unwrap();
        let mut m = Vm::new();
        m.set_ctx(c);
        let id = load(&mut m, src, ProgType::SkLookup);
        let r0 = m.run(id).unwrap().r0 as u32;
        assert_eq!(r0, out.retval, "local_port {port}");
        assert_eq!(r0, (port == 80) as u32);
    }
}
