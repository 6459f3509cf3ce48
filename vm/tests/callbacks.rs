//! Helpers that call back into the program (`bpf_loop`, `bpf_for_each_map_elem`,
//! `bpf_find_vma`) and BPF timers on the virtual clock: each callback runs as a new frame
//! with the run's budget and call depth limit.

use asm::text::{assemble, Dialect};
use asm::Insn;
use vm::{ErrorKind, MapSpec, MapType, ProgType, Vm, Vma, BPF_ANY};

fn insns(src: &str) -> Vec<Insn> {
    assemble(src, Dialect::Ubpf)
        .unwrap_or_else(|d| panic!("{src}: {d:?}"))
        .insns
}

/// `lddw func %r2, <first callback>` (at slot 0), then `main`, then the callbacks.
fn build(main: &str, callbacks: &[&str]) -> Vec<Insn> {
    let slots = |v: &[Insn]| v.iter().map(|i| i.slots()).sum::<usize>();
    let with = |offs: &[i64]| {
        format!(
            "lddw func %r2, {}\n{main}",
            offs.first().copied().unwrap_or(0)
        )
    };
    let zeros = vec![0; callbacks.len()];
    let main_len = slots(&insns(&with(&zeros)));
    let mut starts = Vec::new();
    let mut at = main_len;
    for cb in callbacks {
        starts.push(at);
        at += slots(&insns(cb));
    }
    // The `lddw func` is at slot 0: its target is slot 1 + imm.
    let offs: Vec<i64> = starts.iter().map(|&s| s as i64 - 1).collect();
    let mut out = insns(&with(&offs));
    for cb in callbacks {
        out.extend(insns(cb));
    }
    out
}

fn load(m: &mut Vm, prog: &[Insn], t: impl Into<Option<ProgType>>) -> vm::ProgId {
    m.load_insns(prog, t).unwrap_or_else(|e| panic!("{e}"))
}

fn run(m: &mut Vm, prog: &[Insn]) -> u64 {
    let id = load(m, prog, None);
    m.run(id).unwrap_or_else(|e| panic!("{e}")).r0
}

/// The callback adds its index to the u64 its context points at; stops when the index
/// reaches r1-of-main's limit 100 (never, here).
const ADD_INDEX: &str = "ldxdw %r3, [%r2]\nadd %r3, %r1\nstxdw [%r2], %r3\nmov %r0, 0\nexit";

#[test]
fn bpf_loop_calls_back_and_counts() {
    let mut m = Vm::new();
    // sum = 0; n = bpf_loop(5, add_index, &sum, 0); return n * 1000 + sum
    let main = "stdw [%r10-8], 0\nmov %r1, 5\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n\
                mul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit";
    assert_eq!(run(&mut m, &build(main, &[ADD_INDEX])), 5010);
    // Zero loops: no call.
    let main0 = main.replace("mov %r1, 5", "mov %r1, 0");
    assert_eq!(run(&mut m, &build(&main0, &[ADD_INDEX])), 0);
}

#[test]
fn bpf_loop_stops_when_the_callback_returns_1() {
    let mut m = Vm::new();
    // The callback returns 1 at index 3: bpf_loop returns 4 (calls made).
    let stop_at_3 = "mov %r0, 0\njne %r1, 3, +1\nmov %r0, 1\nexit";
    let main = "mov %r1, 10\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit";
    assert_eq!(run(&mut m, &build(main, &[stop_at_3])), 4);
}

#[test]
fn bpf_loop_checks_flags_then_the_loop_limit() {
    let mut m = Vm::new();
    let ret0 = "mov %r0, 0\nexit";
    let call = |n: &str, flags: u32| format!("{n}\nmov %r3, 0\nmov %r4, {flags}\ncall 181\nexit");
    // -EINVAL for flags, before the count is looked at.
    let r = run(&mut m, &build(&call("lddw %r1, 0x800001", 1), &[ret0]));
    assert_eq!(r as i64, -22);
    // BPF_MAX_LOOPS = 1 << 23: one more is -E2BIG.
    let r = run(&mut m, &build(&call("lddw %r1, 0x800001", 0), &[ret0]));
    assert_eq!(r as i64, -7);
    // nr_loops is a u32: the high half is ignored.
    let r = run(&mut m, &build(&call("lddw %r1, 0x100000002", 0), &[ret0]));
    assert_eq!(r, 2);
}

#[test]
fn callbacks_share_the_instruction_budget() {
    let mut m = Vm::new();
    let ret0 = "mov %r0, 0\nexit";
    let main = "mov %r1, 1000\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit";
    let prog = build(main, &[ret0]);
    let id = load(&mut m, &prog, None);
    // 2 (lddw counts once) + 4 + 2000 in callbacks + 1 exit.
    assert_eq!(m.run(id).unwrap().insns, 1 + 4 + 2000 + 1);
    m.set_budget(1000);
    let e = m.run(id).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Budget { limit: 1000 });
    // The budget ran out inside the callback: the error names its instruction.
    assert!(e.pc >= 7, "{e}");
    // Traced runs see the same, and record the callbacks' instructions.
    m.set_budget(u64::MAX);
    let (out, steps) = m.run_traced(id);
    assert_eq!(out.unwrap().insns as usize, steps.len());
    assert_eq!(
        steps[5].pc, 7,
        "the first callback instruction follows the call"
    );
    assert_eq!(steps[4].changed, vec![(0, 1000)], "the call's r0");
}

#[test]
fn nested_callbacks_count_against_the_call_depth() {
    let mut m = Vm::new();
    // The callback calls bpf_loop with itself, forever deeper: the 8th frame is refused.
    let recurse = "lddw func %r2, -1\nmov %r1, 1\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit";
    let main = "mov %r1, 1\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit";
    let prog = build(main, &[recurse]);
    let id = load(&mut m, &prog, None);
    let e = m.run(id).unwrap_err();
    assert_eq!(e.kind, ErrorKind::CallDepth { limit: 8 }, "{e}");
}

#[test]
fn a_callback_must_be_a_function_address() {
    let mut m = Vm::new();
    let prog = insns("mov %r1, 1\nmov %r2, 12\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit");
    let id = load(&mut m, &prog, None);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("instruction 4: helper 181 (bpf_loop): callback 0xc is not a function"),
        "{e}"
    );
}

fn map(m: &mut Vm, t: MapType, ks: u32, vs: u32, n: u32) -> u32 {
    m.create_map(MapSpec::new(t, ks, vs, n)).unwrap()
}

/// Callback of for_each_map_elem: adds `*value` (u64) to `*ctx`, returns 1 when the key
/// (u32) is `stop`.
fn sum_values(stop: u32) -> String {
    format!(
        "ldxdw %r5, [%r3]\nldxdw %r0, [%r4]\nadd %r0, %r5\nstxdw [%r4], %r0\n\
         ldxw %r1, [%r2]\nmov %r0, 0\njne %r1, {stop}, +1\nmov %r0, 1\nexit"
    )
}

const FOR_EACH: &str = "stdw [%r10-8], 0\nlddw map_fd %r1, 0\nmov %r3, %r10\nadd %r3, -8\n\
                        mov %r4, 0\ncall 164\nmul %r0, 1000\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit";

#[test]
fn for_each_map_elem_walks_arrays_in_index_order() {
    let mut m = Vm::new();
    let a = map(&mut m, MapType::Array, 4, 8, 4);
    for i in 0..4u32 {
        let v = 10u64.pow(i);
        m.map_mut(a)
            .unwrap()
            .update(&i.to_le_bytes(), &v.to_le_bytes(), BPF_ANY)
            .unwrap();
    }
    // All four: 1 + 10 + 100 + 1000.
    assert_eq!(
        run(&mut m, &build(FOR_EACH, &[&sum_values(99)])),
        4 * 1000 + 1111
    );
    // The callback stops at key 1: two visited.
    assert_eq!(
        run(&mut m, &build(FOR_EACH, &[&sum_values(1)])),
        2 * 1000 + 11
    );
}

#[test]
fn for_each_map_elem_visits_hash_elements_and_this_cpus_values() {
    let mut m = Vm::new();
    let h = map(&mut m, MapType::Hash, 4, 8, 8);
    for (k, v) in [(5u32, 7u64), (9, 30)] {
        m.map_mut(h)
            .unwrap()
            .update(&k.to_le_bytes(), &v.to_le_bytes(), BPF_ANY)
            .unwrap();
    }
    assert_eq!(
        run(&mut m, &build(FOR_EACH, &[&sum_values(99)])),
        2 * 1000 + 37
    );

    let mut m = Vm::new();
    m.env_mut().ncpus = 2;
    m.env_mut().cpu = 1;
    let p = map(&mut m, MapType::PercpuArray, 4, 8, 2);
    // Per-CPU values: CPU 0 then CPU 1, each padded to 8 bytes.
    let vals = [1u64, 20]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<_>>();
    m.map_mut(p)
        .unwrap()
        .update(&0u32.to_le_bytes(), &vals, BPF_ANY)
        .unwrap();
    assert_eq!(
        run(&mut m, &build(FOR_EACH, &[&sum_values(99)])),
        2 * 1000 + 20
    );
}

#[test]
fn for_each_map_elem_flags_types_and_read_only_keys() {
    let mut m = Vm::new();
    map(&mut m, MapType::Array, 4, 8, 2);
    let flags = FOR_EACH.replace("mov %r4, 0\ncall 164", "mov %r4, 1\ncall 164");
    let r = run(&mut m, &build(&flags, &[&sum_values(99)]));
    assert_eq!(r as i64, -22 * 1000, "-EINVAL, no element visited");
    let writes_key = "stw [%r2], 1\nmov %r0, 0\nexit";
    let id = load(&mut m, &build(FOR_EACH, &[writes_key]), None);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("helper data (a callback's key or vm_area_struct) is read-only"),
        "{e}"
    );

    let mut m = Vm::new();
    map(&mut m, MapType::Queue, 0, 8, 2);
    let id = load(&mut m, &build(FOR_EACH, &[&sum_values(99)]), None);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("bpf_for_each_map_elem does not take queue maps"),
        "{e}"
    );
}

#[test]
fn find_vma_calls_back_with_the_mapping() {
    let mut m = Vm::new();
    m.env_mut().vmas = vec![
        Vma {
            start: 0x1000,
            end: 0x3000,
            image: Vec::new(),
        },
        Vma {
            start: 0x7000,
            end: 0x8000,
            image: Vec::new(),
        },
    ];
    // callback(task, vma, ctx): *ctx = vma->vm_end - vma->vm_start.
    let cb =
        "ldxdw %r0, [%r2+8]\nldxdw %r1, [%r2]\nsub %r0, %r1\nstxdw [%r3], %r0\nmov %r0, 0\nexit";
    let main = |addr: u32| {
        format!(
            "mov %r6, %r2\nstdw [%r10-8], 0\ncall 35\nmov %r1, %r0\nmov %r2, {addr}\nmov %r3, %r6\n\
             mov %r4, %r10\nadd %r4, -8\nmov %r5, 0\ncall 180\nldxdw %r1, [%r10-8]\n\
             lsh %r0, 32\nor %r0, %r1\nexit"
        )
    };
    assert_eq!(run(&mut m, &build(&main(0x2fff), &[cb])), 0x2000);
    assert_eq!(run(&mut m, &build(&main(0x7000), &[cb])), 0x1000);
    // No mapping holds 0x3000: -ENOENT, no call.
    assert_eq!(
        run(&mut m, &build(&main(0x3000), &[cb])) >> 32,
        (-2i32) as u32 as u64
    );
}

// ---- timers -----------------------------------------------------------------------------

/// A map of one element: `struct { u64 count; struct bpf_timer t; }` (24 bytes).
fn timer_vm() -> (Vm, u32) {
    let mut m = Vm::new();
    let a = map(&mut m, MapType::Array, 4, 24, 1);
    (m, a)
}

/// The callback: `value->count += 1`, returns 0.
const TICK: &str = "ldxdw %r1, [%r3]\nadd %r1, 1\nstxdw [%r3], %r1\nmov %r0, 0\nexit";

/// Looks up element 0 into r6, then `body`.
fn timer_main(body: &str) -> String {
    format!(
        "mov %r7, %r2\nstw [%r10-4], 0\nlddw map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
         jne %r0, 0, +2\nmov %r0, -1\nexit\nmov %r6, %r0\n{body}"
    )
}

const INIT: &str = "mov %r1, %r6\nadd %r1, 8\nlddw map_fd %r2, 0\nmov %r3, 1\ncall 169\n";
const SET_CB: &str = "mov %r1, %r6\nadd %r1, 8\nmov %r2, %r7\ncall 170\n";
fn start(ns: u64, flags: u32) -> String {
    format!("mov %r1, %r6\nadd %r1, 8\nlddw %r2, {ns}\nmov %r3, {flags}\ncall 171\n")
}
const CANCEL: &str = "mov %r1, %r6\nadd %r1, 8\ncall 172\n";

fn count(m: &Vm) -> u64 {
    let v = m
        .map(0)
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    u64::from_le_bytes(v[..8].try_into().unwrap())
}

#[test]
fn timers_fire_when_the_clock_advances() {
    let (mut m, _) = timer_vm();
    let body = format!(
        "{INIT}mov %r8, %r0\n{SET_CB}{}mov %r0, %r8\nexit",
        start(5000, 0)
    );
    let prog = build(&timer_main(&body), &[TICK]);
    let id = load(&mut m, &prog, None);
    assert_eq!(m.run(id).unwrap().r0, 0);
    assert_eq!(count(&m), 0, "nothing fires during a run");
    let t0 = m.env().ktime_ns;
    assert_eq!(m.advance_clock(4999).unwrap(), vec![]);
    let runs = m.advance_clock(1).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].map, runs[0].at_ns, runs[0].outcome.r0),
        (0, t0 + 5000, 0)
    );
    assert_eq!(runs[0].key, 0u32.to_le_bytes());
    assert_eq!(count(&m), 1);
    // A fired timer is not pending: nothing more.
    assert!(m.advance_clock(1_000_000).unwrap().is_empty());
    // Initialising again is -EBUSY.
    let r = m.run(id).unwrap().r0;
    assert_eq!(r as i64, -16);
}

#[test]
fn timer_errors_and_cancel() {
    let (mut m, _) = timer_vm();
    // start before set_callback: -EINVAL; a bad clock: -EINVAL.
    let body = format!("{INIT}{}exit", start(10, 0));
    let r = run(&mut m, &build(&timer_main(&body), &[TICK]));
    assert_eq!(r as i64, -22);
    let (mut m, _) = timer_vm();
    let bad_clock = INIT.replace("mov %r3, 1", "mov %r3, 2");
    assert_eq!(
        run(
            &mut m,
            &build(&timer_main(&format!("{bad_clock}exit")), &[TICK])
        ) as i64,
        -22
    );
    // cancel: 1 while pending, 0 after; uninitialised: -EINVAL.
    let (mut m, _) = timer_vm();
    assert_eq!(
        run(
            &mut m,
            &build(&timer_main(&format!("{CANCEL}exit")), &[TICK])
        ) as i64,
        -22
    );
    let body = format!(
        "{INIT}{SET_CB}{}{CANCEL}mov %r8, %r0\n{CANCEL}lsh %r8, 4\nor %r0, %r8\nexit",
        start(10, 0)
    );
    assert_eq!(run(&mut m, &build(&timer_main(&body), &[TICK])), 0x10);
    assert!(m.advance_clock(100).unwrap().is_empty());
    // Flags beyond BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN: -EINVAL.
    let (mut m, _) = timer_vm();
    let body = format!("{INIT}{SET_CB}{}exit", start(10, 4));
    assert_eq!(run(&mut m, &build(&timer_main(&body), &[TICK])) as i64, -22);
}

#[test]
fn a_callback_can_restart_its_timer() {
    let (mut m, _) = timer_vm();
    // The callback counts and restarts the timer 1000 ns later.
    let restart = "mov %r6, %r3\nldxdw %r1, [%r3]\nadd %r1, 1\nstxdw [%r3], %r1\n\
                   mov %r1, %r6\nadd %r1, 8\nmov %r2, 1000\nmov %r3, 0\ncall 171\nmov %r0, 0\nexit";
    let body = format!("{INIT}{SET_CB}{}mov %r0, 0\nexit", start(1000, 0));
    let id = load(&mut m, &build(&timer_main(&body), &[restart]), None);
    m.run(id).unwrap();
    let runs = m.advance_clock(10_500).unwrap();
    assert_eq!(runs.len(), 10);
    assert_eq!(count(&m), 10);
    let t: Vec<u64> = runs.windows(2).map(|w| w[1].at_ns - w[0].at_ns).collect();
    assert!(t.iter().all(|&d| d == 1000), "{t:?}");
}
