//! `BPF_MAP_TYPE_USER_RINGBUF` and `bpf_user_ringbuf_drain` (kernel/bpf/ringbuf.c):
//! records user space pushes, drained by a program whose callback gets each one as a
//! dynptr.

use asm::text::{assemble, Dialect};
use asm::Insn;
use vm::{MapError, MapSpec, MapType, UserRecordState, Vm};

const PAGE: u32 = 4096;

fn insns(src: &str) -> Vec<Insn> {
    assemble(src, Dialect::Ubpf)
        .unwrap_or_else(|d| panic!("{src}: {d:?}"))
        .insns
}

/// `lddw func %r2, <callback>` then `main`, then the callback.
fn build(main: &str, callback: &str) -> Vec<Insn> {
    let slots = |v: &[Insn]| v.iter().map(|i| i.slots()).sum::<usize>();
    let head = |off: usize| format!("lddw func %r2, {off}\n{main}");
    let main_len = slots(&insns(&head(0)));
    let mut out = insns(&head(main_len - 1));
    out.extend(insns(callback));
    out
}

fn run(m: &mut Vm, prog: &[Insn]) -> u64 {
    let id = m.load_insns(prog, None).unwrap_or_else(|e| panic!("{e}"));
    m.run(id).unwrap_or_else(|e| panic!("{e}")).r0
}

fn user_ringbuf(m: &mut Vm, size: u32) -> u32 {
    m.create_map(MapSpec::new(MapType::UserRingbuf, 0, 0, size))
        .unwrap()
}

fn push(m: &mut Vm, map: u32, bytes: &[u8], state: UserRecordState) -> Result<(), MapError> {
    m.map_mut(map).unwrap().user_ringbuf_push(bytes, state)
}

/// `sum = 0; n = bpf_user_ringbuf_drain(map, cb, &sum, FLAGS); return n * 1000 + sum`.
fn drain_main(flags: u64) -> String {
    format!(
        "stdw [%r10-8], 0\nlddw map_fd %r1, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {flags}\n\
         call 209\nmul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit"
    )
}

/// Reads the record's first u32 with `bpf_dynptr_read` and adds it to `*ctx`; returns
/// `RET`.
fn sum_first_u32(ret: u32) -> String {
    format!(
        "mov %r6, %r2\nmov %r3, %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r4, 0\n\
         mov %r5, 0\ncall 201\njne %r0, 0, +4\nldxw %r1, [%r10-8]\nldxdw %r2, [%r6]\n\
         add %r2, %r1\nstxdw [%r6], %r2\nmov %r0, {ret}\nexit"
    )
}

const SUBMITTED: UserRecordState = UserRecordState::Submitted;

#[test]
fn drain_passes_each_record_as_a_dynptr_and_skips_discarded_ones() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    push(&mut m, rb, &1u32.to_le_bytes(), SUBMITTED).unwrap();
    push(
        &mut m,
        rb,
        &100u32.to_le_bytes(),
        UserRecordState::Discarded,
    )
    .unwrap();
    push(&mut m, rb, &[2, 0, 0, 0, 9, 9, 9], SUBMITTED).unwrap();
    push(&mut m, rb, &4u32.to_le_bytes(), SUBMITTED).unwrap();
    let prog = build(&drain_main(0), &sum_first_u32(0));
    // Three records reach the callback (1 + 2 + 4); the discarded one is not counted.
    assert_eq!(run(&mut m, &prog), 3007);
    assert!(m.map(rb).unwrap().user_ringbuf_pending().is_empty());
    // Empty: 0, not -ENODATA.
    assert_eq!(run(&mut m, &prog), 0);
}

#[test]
fn callback_returning_1_stops_after_its_record() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    for v in [5u32, 6, 7] {
        push(&mut m, rb, &v.to_le_bytes(), SUBMITTED).unwrap();
    }
    assert_eq!(run(&mut m, &build(&drain_main(0), &sum_first_u32(1))), 1005);
    let left = m.map(rb).unwrap().user_ringbuf_pending();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0].0, 6u32.to_le_bytes());
}

#[test]
fn a_busy_record_ends_the_drain() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    push(&mut m, rb, &3u32.to_le_bytes(), SUBMITTED).unwrap();
    push(&mut m, rb, &8u32.to_le_bytes(), UserRecordState::Busy).unwrap();
    push(&mut m, rb, &9u32.to_le_bytes(), SUBMITTED).unwrap();
    assert_eq!(run(&mut m, &build(&drain_main(0), &sum_first_u32(0))), 1003);
    assert_eq!(m.map(rb).unwrap().user_ringbuf_pending().len(), 2);
}

#[test]
fn flags_other_than_the_wakeup_bits_are_einval() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    push(&mut m, rb, &1u32.to_le_bytes(), SUBMITTED).unwrap();
    let main =
        |flags: u64| format!("lddw map_fd %r1, 0\nmov %r3, 0\nmov %r4, {flags}\ncall 209\nexit");
    let cb = "mov %r0, 0\nexit";
    // -EINVAL, and the record stays.
    assert_eq!(run(&mut m, &build(&main(4), cb)) as i64, -22);
    assert_eq!(m.map(rb).unwrap().user_ringbuf_pending().len(), 1);
    // BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP are accepted.
    assert_eq!(run(&mut m, &build(&main(3), cb)), 1);
}

#[test]
fn dynptr_data_and_bounds_in_the_callback() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    push(&mut m, rb, &[0x11, 0x22, 0x33, 0x44, 0x55], SUBMITTED).unwrap();
    // *ctx = bpf_dynptr_data(dynptr, 1, 4) ? *(u32 *)p : 0xdead, then (dynptr_read of 6
    // bytes == -E2BIG) << 32.
    let cb = "mov %r6, %r1\nmov %r7, %r2\nmov %r2, 1\nmov %r3, 4\ncall 203\nmov %r8, 0xdead\n\
              jeq %r0, 0, +1\nldxw %r8, [%r0]\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 6\n\
              mov %r3, %r6\nmov %r4, 0\nmov %r5, 0\ncall 201\njne %r0, -7, +2\nlddw %r1, 0x100000000\n\
              add %r8, %r1\nstxdw [%r7], %r8\nmov %r0, 0\nexit";
    let got = run(&mut m, &build(&drain_main(0), cb));
    // One record (1000) + 0x55443322 + (1 << 32).
    assert_eq!(got, 1000 + 0x5544_3322 + (1 << 32));
}

#[test]
fn creation_follows_ringbuf_map_alloc() {
    let mut m = Vm::new();
    let create =
        |m: &mut Vm, ks, vs, n| m.create_map(MapSpec::new(MapType::UserRingbuf, ks, vs, n));
    for (ks, vs, n) in [
        (4, 0, PAGE),
        (0, 8, PAGE),
        (0, 0, 0),
        (0, 0, PAGE + 8),
        (0, 0, 3 * PAGE),
        (0, 0, 2048),
    ] {
        assert!(
            matches!(create(&mut m, ks, vs, n), Err(MapError::Invalid(_))),
            "key {ks} value {vs} max_entries {n}"
        );
    }
    assert!(create(&mut m, 0, 0, 4 * PAGE).is_ok());
}

#[test]
fn push_checks_room_like_libbpf() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, PAGE);
    // Larger than the data area less one header: never fits.
    assert_eq!(push(&mut m, rb, &[0; 4089], SUBMITTED), Err(MapError::Full));
    // 4088 + 8 = the whole ring; then nothing fits until a drain.
    push(&mut m, rb, &[0; 4088], SUBMITTED).unwrap();
    assert_eq!(push(&mut m, rb, &[], SUBMITTED), Err(MapError::NoSpace));
    assert_eq!(
        run(&mut m, &build(&drain_main(0), "mov %r0, 0\nexit")),
        1000
    );
    push(&mut m, rb, &[], SUBMITTED).unwrap();
    // Only user ring buffers take user space records.
    let plain = m
        .create_map(MapSpec::new(MapType::Ringbuf, 0, 0, PAGE))
        .unwrap();
    assert!(matches!(
        push(&mut m, plain, &[1], SUBMITTED),
        Err(MapError::Invalid(_))
    ));
}

#[test]
fn at_most_128k_samples_per_drain() {
    let mut m = Vm::new();
    let rb = user_ringbuf(&mut m, 2 << 20);
    for _ in 0..128 * 1024 + 3 {
        push(&mut m, rb, &[], SUBMITTED).unwrap();
    }
    let main = "lddw map_fd %r1, 0\nmov %r3, 0\nmov %r4, 0\ncall 209\nexit";
    assert_eq!(run(&mut m, &build(main, "mov %r0, 0\nexit")), 128 * 1024);
    assert_eq!(m.map(rb).unwrap().user_ringbuf_pending().len(), 3);
}
