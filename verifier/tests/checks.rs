//! One small program per check, with the message and errno kernel 6.18 gives for it
//! (`../shared/verifier/kernel_msgs_6.18.json` lists the kernel's answers for these checks).

use asm::types::{MapType, ProgType};
use asm::Insn;
use verifier::{verify, verify_bytes, MapSpec, Options, EACCES, EBADF, EINVAL};

fn i(code: u8, dst: u8, src: u8, off: i16, imm: i64) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}
fn mov(d: u8, imm: i64) -> Insn {
    i(0xb7, d, 0, 0, imm)
}
fn movr(d: u8, s: u8) -> Insn {
    i(0xbf, d, s, 0, 0)
}
fn add(d: u8, imm: i64) -> Insn {
    i(0x07, d, 0, 0, imm)
}
fn exit() -> Insn {
    i(0x95, 0, 0, 0, 0)
}
fn call(id: i64) -> Insn {
    i(0x85, 0, 0, 0, id)
}
fn ldxw(d: u8, s: u8, off: i16) -> Insn {
    i(0x61, d, s, off, 0)
}
fn ldxb(d: u8, s: u8, off: i16) -> Insn {
    i(0x71, d, s, off, 0)
}
fn ldxdw(d: u8, s: u8, off: i16) -> Insn {
    i(0x79, d, s, off, 0)
}
fn stdw(d: u8, off: i16, imm: i64) -> Insn {
    i(0x7a, d, 0, off, imm)
}
fn stxdw(d: u8, s: u8, off: i16) -> Insn {
    i(0x7b, d, s, off, 0)
}
fn map_fd(d: u8, idx: i64) -> Insn {
    i(0x18, d, 1, 0, idx)
}

/// `key = 0 on the stack; r0 = lookup(map 0, &key)`
fn lookup() -> Vec<Insn> {
    vec![
        stdw(10, -8, 0),
        movr(2, 10),
        add(2, -8),
        map_fd(1, 0),
        call(1),
    ]
}

fn hash8() -> MapSpec {
    MapSpec::new(MapType::Hash, 8, 8, 1).named("m")
}

enum Want {
    Accept,
    Reject(&'static str, i32),
}

fn check(name: &str, pt: ProgType, maps: Vec<MapSpec>, prog: Vec<Insn>, want: Want) {
    let mut opts = Options::new(pt);
    opts.maps = maps;
    let got = verify(&prog, &opts);
    match (want, got) {
        (Want::Accept, Ok(_)) => {}
        (Want::Accept, Err(e)) => panic!("{name}: expected accept, got {e:?}"),
        (Want::Reject(msg, errno), Err(e)) => {
            assert_eq!(e.message, msg, "{name}");
            assert_eq!(e.errno, errno, "{name}: errno");
        }
        (Want::Reject(msg, _), Ok(a)) => panic!("{name}: expected `{msg}`, accepted {a:?}"),
    }
}

use ProgType::*;
use Want::*;

#[test]
fn control_flow() {
    let jeq = |off: i16| i(0x15, 1, 0, off, 0);
    check(
        "jump out of range",
        SocketFilter,
        vec![],
        vec![jeq(5), mov(0, 0), exit()],
        Reject("jump out of range from insn 0 to 6", EINVAL),
    );
    check(
        "unreachable",
        SocketFilter,
        vec![],
        vec![mov(0, 0), exit(), mov(0, 1), exit()],
        Reject("unreachable insn 2", EINVAL),
    );
    check(
        "last insn",
        SocketFilter,
        vec![],
        vec![mov(0, 0)],
        Reject("last insn is not an exit or jmp", EINVAL),
    );
    check(
        "infinite loop",
        SocketFilter,
        vec![],
        vec![mov(0, 0), jeq(-1), exit()],
        Reject("old state: R0=0 R1=ctx() R10=fp0", EINVAL),
    );
    check(
        "bounded loop",
        SocketFilter,
        vec![],
        vec![mov(0, 0), add(0, 1), i(0xa5, 0, 0, -2, 10), exit()],
        Accept,
    );
    check(
        "jump into lddw",
        SocketFilter,
        vec![],
        vec![jeq(1), i(0x18, 0, 0, 0, 1), exit()],
        Reject("jump into the middle of ldimm64 insn 1", EINVAL),
    );
}

#[test]
fn complexity_limit() {
    // r0 += 1 while r0 < 2,000,000: two instructions per iteration, each state differs.
    let prog = vec![mov(0, 0), add(0, 1), i(0xa5, 0, 0, -2, 2_000_000), exit()];
    let e = verify(&prog, &Options::new(SocketFilter)).unwrap_err();
    assert_eq!(
        e.message,
        "BPF program is too large. Processed 1000001 insn"
    );
    assert_eq!(e.errno, verifier::E2BIG);
    assert_eq!(e.processed, Some(1_000_001));
}

#[test]
fn decoding() {
    let e = verify_bytes(
        &[0xff, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0],
        &Options::new(SocketFilter),
    )
    .unwrap_err();
    assert_eq!((e.message.as_str(), e.errno), ("unknown opcode ff", EINVAL));
    check(
        "exit reserved",
        SocketFilter,
        vec![],
        vec![mov(0, 0), i(0x95, 1, 0, 0, 0)],
        Reject("BPF_EXIT uses reserved fields", EINVAL),
    );
    check(
        "bad map fd",
        SocketFilter,
        vec![],
        vec![map_fd(1, 9999), mov(0, 0), exit()],
        Reject("fd 9999 is not pointing to valid bpf_map", EBADF),
    );
    let e = verify_bytes(
        &[0x18, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0],
        &Options::new(SocketFilter),
    )
    .unwrap_err();
    assert_eq!(e.message, "invalid bpf_ld_imm64 insn");
}

#[test]
fn registers() {
    check(
        "uninit",
        SocketFilter,
        vec![],
        vec![movr(0, 2), exit()],
        Reject("R2 !read_ok", EACCES),
    );
    check(
        "r0 at exit",
        SocketFilter,
        vec![],
        vec![exit()],
        Reject("R0 !read_ok", EACCES),
    );
    check(
        "invalid reg",
        SocketFilter,
        vec![],
        vec![mov(15, 0), exit()],
        Reject("R15 is invalid", EINVAL),
    );
    check(
        "fp read only",
        SocketFilter,
        vec![],
        vec![mov(10, 0), exit()],
        Reject("frame pointer is read only", EACCES),
    );
    check(
        "deref scalar",
        SocketFilter,
        vec![],
        vec![mov(0, 0), ldxw(0, 0, 0), exit()],
        Reject("R0 invalid mem access 'scalar'", EACCES),
    );
}

#[test]
fn stack() {
    check(
        "above fp",
        SocketFilter,
        vec![],
        vec![stdw(10, 8, 0), mov(0, 0), exit()],
        Reject("invalid write to stack R10 off=8 size=8", EACCES),
    );
    check(
        "beyond 512",
        SocketFilter,
        vec![],
        vec![stdw(10, -520, 0), mov(0, 0), exit()],
        Reject("invalid write to stack R10 off=-520 size=8", EACCES),
    );
    check(
        "misaligned",
        SocketFilter,
        vec![],
        vec![mov(1, 0), stxdw(10, 1, -4), mov(0, 0), exit()],
        Reject("misaligned stack access off 0+0+-4 size 8", EACCES),
    );
    check(
        "uninit read allowed when privileged",
        SocketFilter,
        vec![],
        vec![ldxdw(0, 10, -8), exit()],
        Accept,
    );
    // A spilled pointer comes back as a pointer: reading through it is a ctx access.
    check(
        "spill keeps type",
        SocketFilter,
        vec![],
        vec![stxdw(10, 1, -8), ldxdw(2, 10, -8), ldxw(0, 2, 1000), exit()],
        Reject("invalid bpf_context access off=1000 size=4", EACCES),
    );
}

#[test]
fn pointer_arithmetic() {
    check(
        "scalar - pointer",
        SocketFilter,
        vec![],
        vec![mov(0, 0), i(0x1f, 0, 10, 0, 0), exit()],
        Reject("R0 tried to subtract pointer from scalar", EACCES),
    );
    check(
        "ptr *=",
        SocketFilter,
        vec![],
        vec![i(0x27, 1, 0, 0, 2), mov(0, 0), exit()],
        Reject("R1 pointer arithmetic with *= operator prohibited", EACCES),
    );
    check(
        "32-bit",
        SocketFilter,
        vec![],
        vec![i(0x04, 1, 0, 0, 1), mov(0, 0), exit()],
        Reject("R1 32-bit pointer arithmetic prohibited", EACCES),
    );
    // fp - 32 + (prandom & 0x18) stays inside the frame: a bounded, aligned variable offset.
    check(
        "bounded variable stack offset",
        SocketFilter,
        vec![],
        vec![
            call(7),
            i(0x57, 0, 0, 0, 0x18),
            movr(3, 10),
            add(3, -32),
            i(0x0f, 3, 0, 0, 0),
            stdw(3, 0, 0),
            mov(0, 0),
            exit(),
        ],
        Accept,
    );
}

#[test]
fn context_and_packet() {
    check(
        "bad ctx offset",
        SocketFilter,
        vec![],
        vec![ldxw(0, 1, 1000), exit()],
        Reject("invalid bpf_context access off=1000 size=4", EACCES),
    );
    check(
        "read-only field",
        SocketFilter,
        vec![],
        vec![i(0x62, 1, 0, 0, 0), mov(0, 0), exit()],
        Reject("invalid bpf_context access off=0 size=4", EACCES),
    );
    check(
        "modified ctx",
        SocketFilter,
        vec![],
        vec![add(1, 4), ldxw(0, 1, 0), exit()],
        Reject(
            "dereference of modified ctx ptr R1 off=4 disallowed",
            EACCES,
        ),
    );
    check(
        "socket filter cannot read data",
        SocketFilter,
        vec![],
        vec![ldxw(2, 1, 76), mov(0, 0), exit()],
        Reject("invalid bpf_context access off=76 size=4", EACCES),
    );
    check(
        "no bounds check",
        SchedCls,
        vec![],
        vec![ldxw(2, 1, 76), ldxb(0, 2, 0), exit()],
        Reject("R2 offset is outside of the packet", EACCES),
    );
    // data + 8 <= data_end proves bytes 0..8.
    let checked = |read_off: i16| {
        vec![
            ldxw(2, 1, 76),
            ldxw(3, 1, 80),
            movr(4, 2),
            add(4, 8),
            i(0x2d, 4, 3, 2, 0), // if r4 > r3 goto +2
            ldxb(0, 2, read_off),
            exit(),
            mov(0, 0),
            exit(),
        ]
    };
    check("checked", SchedCls, vec![], checked(7), Accept);
    check(
        "off by one",
        SchedCls,
        vec![],
        checked(8),
        Reject("R2 offset is outside of the packet", EACCES),
    );
}

#[test]
fn maps_and_helpers() {
    check(
        "missing null check",
        SocketFilter,
        vec![hash8()],
        [lookup(), vec![ldxdw(0, 0, 0), exit()]].concat(),
        Reject("R0 invalid mem access 'map_value_or_null'", EACCES),
    );
    check(
        "value out of bounds",
        SocketFilter,
        vec![hash8()],
        [
            lookup(),
            vec![i(0x15, 0, 0, 1, 0), ldxdw(0, 0, 8), mov(0, 0), exit()],
        ]
        .concat(),
        Reject(
            "R0 min value is outside of the allowed memory range",
            EACCES,
        ),
    );
    check(
        "unbounded index",
        SocketFilter,
        vec![hash8()],
        [
            lookup(),
            vec![
                i(0x15, 0, 0, 4, 0),
                movr(6, 0),
                call(7),
                i(0x0f, 6, 0, 0, 0),
                ldxb(0, 6, 0),
                mov(0, 0),
                exit(),
            ],
        ]
        .concat(),
        Reject(
            "math between map_value pointer and register with unbounded min value is not allowed",
            EINVAL,
        ),
    );
    check(
        "wrong arg type",
        SocketFilter,
        vec![],
        vec![mov(1, 0), mov(2, 0), call(1), mov(0, 0), exit()],
        Reject("R1 type=scalar expected=map_ptr", EACCES),
    );
    check(
        "unknown helper",
        SocketFilter,
        vec![],
        vec![call(9999), mov(0, 0), exit()],
        Reject("invalid func unknown#9999", EINVAL),
    );
    check(
        "helper not for this type",
        SocketFilter,
        vec![],
        vec![call(9), mov(0, 0), exit()],
        Reject(
            "program of this type cannot use helper bpf_skb_store_bytes#9",
            EINVAL,
        ),
    );
    check(
        "stack variable offset",
        SocketFilter,
        vec![],
        vec![
            call(7),
            movr(3, 10),
            i(0x0f, 3, 0, 0, 0),
            stdw(3, 0, 0),
            mov(0, 0),
            exit(),
        ],
        Reject(
            "math between fp pointer and register with unbounded min value is not allowed",
            EINVAL,
        ),
    );
}

#[test]
fn map_pointers_are_read_only() {
    check(
        "write through a map pointer",
        SocketFilter,
        vec![MapSpec::new(MapType::Array, 4, 8, 1).named("a")],
        vec![map_fd(1, 0), i(0x62, 1, 0, 0, 0), mov(0, 0), exit()],
        Reject("only read from bpf_array is supported", EACCES),
    );
}

#[test]
fn return_values_and_calls() {
    check(
        "cgroup/sock return range",
        CgroupSock,
        vec![],
        vec![mov(0, 2), exit()],
        Reject(
            "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]",
            EINVAL,
        ),
    );
    check(
        "pointer returned",
        CgroupSock,
        vec![],
        vec![movr(0, 1), exit()],
        Reject(
            "At program exit the register R0 is not a known value (ctx)",
            EINVAL,
        ),
    );
    // main calls itself: frames pile up to the limit of 8.
    check(
        "recursion",
        SocketFilter,
        vec![],
        vec![
            i(0x85, 0, 1, 0, 2),
            mov(0, 0),
            exit(),
            i(0x85, 0, 1, 0, -1),
            exit(),
        ],
        Reject("the call stack of 9 frames is too deep", verifier::E2BIG),
    );
    check(
        "combined stack",
        SocketFilter,
        vec![],
        vec![
            stdw(10, -512, 0),
            i(0x85, 0, 1, 0, 2),
            mov(0, 0),
            exit(),
            stdw(10, -512, 0),
            mov(0, 0),
            exit(),
        ],
        Reject("combined stack size of 2 calls is 1024. Too large", EACCES),
    );
    check(
        "leaked reference",
        SchedCls,
        vec![],
        vec![
            stdw(10, -8, 0),
            stdw(10, -16, 0),
            stdw(10, -24, 0),
            stdw(10, -32, 0),
            stdw(10, -40, 0),
            movr(2, 10),
            add(2, -40),
            mov(3, 36),
            mov(4, 0),
            mov(5, 0),
            call(84),
            mov(0, 0),
            exit(),
        ],
        Reject(
            "BPF_EXIT instruction in main prog would lead to reference leak",
            EINVAL,
        ),
    );
}

#[test]
fn one_store_insn_cannot_see_ctx_and_stack() {
    // fp-8 holds either fp-16 or the ctx pointer; insn 10 stores through what it holds.
    let prog = vec![
        mov(3, 42),
        movr(6, 10),
        add(6, -8),
        i(0x15, 1, 0, 3, 0),
        movr(2, 10),
        add(2, -16),
        stxdw(6, 2, 0),
        i(0x55, 1, 0, 1, 0),
        stxdw(6, 1, 0),
        ldxdw(1, 6, 0),
        i(0x63, 1, 3, 8, 0),
        mov(0, 0),
        exit(),
    ];
    let e = verify(&prog, &Options::new(SchedCls)).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.errno, e.insn),
        (
            "same insn cannot be used with different pointers",
            EINVAL,
            10
        )
    );
}

#[test]
fn linked_scalars_share_branch_knowledge() {
    // r1 = r0 + 4; a bound on r0 bounds r1 too, so fp - 16 + r1 stays in the frame.
    let prog = |bound: i64| {
        vec![
            call(7),
            movr(1, 0),
            add(1, 4),
            i(0x25, 0, 0, 4, bound),
            movr(2, 10),
            add(2, -16),
            i(0x0f, 2, 1, 0, 0),
            i(0x72, 2, 0, 0, 0),
            mov(0, 0),
            exit(),
        ]
    };
    assert!(verify(&prog(8), &Options::new(SocketFilter)).is_ok());
    let e = verify(&prog(12), &Options::new(SocketFilter)).unwrap_err();
    assert_eq!(
        e.message,
        "invalid variable-offset write to stack R2 var_off=(0x0; 0x1f) off=-16 size=1"
    );
}

#[test]
fn unprivileged_rules() {
    let unpriv = |pt: ProgType| {
        let mut o = Options::new(pt);
        o.privileged = false;
        o
    };
    let loop_prog = vec![mov(0, 0), add(0, 1), i(0xa5, 0, 0, -2, 10), exit()];
    assert!(verify(&loop_prog, &Options::new(SocketFilter)).is_ok());
    let e = verify(&loop_prog, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.errno),
        ("back-edge from insn 2 to 1", EINVAL)
    );
    let leak = vec![movr(0, 10), exit()];
    let e = verify(&leak, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(e.message, "R0 leaks addr as return value");
    let unallocated = vec![ldxdw(0, 10, -8), exit()];
    let e = verify(&unallocated, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(e.message, "invalid read from stack R10 off=-8 size=8");
    let uninit = vec![stdw(10, -16, 0), ldxdw(0, 10, -8), exit()];
    let e = verify(&uninit, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(e.message, "invalid read from stack off -8+0 size 8");
    let printk = vec![
        stdw(10, -8, 0),
        movr(1, 10),
        add(1, -8),
        mov(2, 8),
        call(6),
        mov(0, 0),
        exit(),
    ];
    assert!(verify(&printk, &Options::new(SocketFilter)).is_ok());
    let e = verify(&printk, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(
        e.message,
        "program of this type cannot use helper bpf_trace_printk#6"
    );
    let fp_oob = vec![movr(1, 10), add(1, 8), mov(0, 0), exit()];
    assert!(verify(&fp_oob, &Options::new(SocketFilter)).is_ok());
    let e = verify(&fp_oob, &unpriv(SocketFilter)).unwrap_err();
    assert_eq!(
        e.message,
        "R1 stack pointer arithmetic goes out of range, prohibited for !root, off=8"
    );
    let e = verify(&[mov(0, 0), exit()], &unpriv(Xdp)).unwrap_err();
    assert_eq!(e.errno, verifier::EPERM);
}

#[test]
fn ld_abs_in_a_subprogram_may_return_zero() {
    // main: call f; if r0 != 0 goto +1; r0 = r9 (never written); r0 = 0; exit
    // f:    r6 = r1; r0 = *(u8 *)skb[0]; r0 = 1; exit
    let prog = vec![
        i(0x85, 0, 1, 0, 4),
        i(0x55, 0, 0, 1, 0),
        movr(0, 9),
        mov(0, 0),
        exit(),
        movr(6, 1),
        i(0x30, 0, 0, 0, 0),
        mov(0, 1),
        exit(),
    ];
    let e = verify(&prog, &Options::new(SocketFilter)).unwrap_err();
    assert_eq!((e.message.as_str(), e.insn), ("R9 !read_ok", 2));
}

#[test]
fn rejection_carries_path_and_log() {
    // if r1 == 0 goto +1; r0 = 0; exit  -- the taken branch reaches exit with r0 unset.
    let prog = vec![i(0x15, 1, 0, 1, 0), mov(0, 0), exit()];
    let mut opts = Options::new(SocketFilter);
    opts.log_level = 2;
    let e = verify(&prog, &opts).unwrap_err();
    assert_eq!(e.message, "R0 !read_ok");
    assert_eq!(e.insn, 2);
    assert_eq!(
        e.path,
        vec![verifier::Branch {
            insn: 0,
            taken: true
        }]
    );
    assert!(
        e.log.contains("0: (15) if r1 == 0x0 goto pc+1"),
        "{}",
        e.log
    );
    assert!(e.log.contains("1: (b7) r0 = 0"), "{}", e.log);
    let ok = verify(&[mov(0, 0), exit()], &opts).unwrap();
    assert!(ok.log.contains("; R0=0 R1=ctx() R10=fp0"), "{}", ok.log);
}

#[test]
fn too_many_pending_branches_fail_as_the_kernel_does() {
    // 9,000 undecided branches in a row: the kernel's push_stack gives up at the 8,193rd
    // pending state and check_cond_jmp_op reports EFAULT (measured on 6.18).
    let mut prog = vec![call(7)]; // bpf_get_prandom_u32: r0 unknown
    for k in 0..9000 {
        prog.push(i(0x15, 0, 0, 0, k)); // if r0 == k goto +0
    }
    prog.push(mov(0, 0));
    prog.push(exit());
    let r = verify(&prog, &Options::new(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(r.message, "The sequence of 8193 jumps is too complex.");
    assert_eq!(r.errno, verifier::EFAULT);
}
