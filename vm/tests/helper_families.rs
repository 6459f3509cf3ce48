//! The string, lock, task/clock and dynptr helpers, each through small plain programs
//! (r1 = user memory, where the tests put their strings and buffers).

use asm::text::{assemble, Dialect};
use vm::{MapSpec, MapType, Vm, DEFAULT_CURRENT_TASK};

/// Runs `src` over `mem`; returns r0 and the memory afterwards.
fn run_mem(m: &mut Vm, src: &str, mem: &[u8]) -> (u64, Vec<u8>) {
    let a = assemble(src, Dialect::Ubpf).unwrap_or_else(|d| panic!("{src}: {d:?}"));
    let id = m
        .load_insns(&a.insns, None)
        .unwrap_or_else(|e| panic!("{e}"));
    m.set_mem(mem.to_vec());
    let r0 = m.run(id).unwrap_or_else(|e| panic!("{src}: {e}")).r0;
    (r0, m.mem().to_vec())
}

fn run_err(m: &mut Vm, src: &str, mem: &[u8]) -> String {
    let a = assemble(src, Dialect::Ubpf).unwrap();
    let id = m.load_insns(&a.insns, None).unwrap();
    m.set_mem(mem.to_vec());
    m.run(id).unwrap_err().to_string()
}

fn u64_at(mem: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(mem[off..off + 8].try_into().unwrap())
}

/// `bpf_strtol`/`bpf_strtoul(mem + 8, len, flags, mem)`: returns (r0, *res).
fn strto(id: u32, s: &str, flags: u64) -> (i64, u64) {
    let mut mem = vec![0xaa; 8];
    mem.extend_from_slice(s.as_bytes());
    let src = format!(
        "mov %r6, %r1\nmov %r4, %r1\nadd %r1, 8\nmov %r2, {}\nlddw %r3, {flags}\ncall {id}\nexit",
        s.len()
    );
    let (r0, mem) = run_mem(&mut Vm::new(), &src, &mem);
    (r0 as i64, u64_at(&mem, 0))
}

#[test]
fn strtol_and_strtoul_follow_the_kernel() {
    assert_eq!(strto(105, " -42x", 10), (4, -42i64 as u64));
    assert_eq!(strto(105, "0x1F", 0), (4, 0x1f));
    assert_eq!(strto(105, "0777", 0), (4, 0o777));
    assert_eq!(strto(105, "9223372036854775807", 10), (19, i64::MAX as u64));
    assert_eq!(
        strto(105, "9223372036854775808", 10),
        (-34, 0),
        "-ERANGE, *res zeroed"
    );
    assert_eq!(
        strto(105, "-9223372036854775808", 10),
        (20, i64::MIN as u64)
    );
    assert_eq!(strto(105, "abc", 10), (-22, 0));
    assert_eq!(strto(105, "12", 3), (-22, 0), "base 3");
    assert_eq!(strto(106, "18446744073709551615", 0), (20, u64::MAX));
    assert_eq!(strto(106, "-1", 10), (-22, 0), "strtoul refuses a sign");
    assert_eq!(strto(106, "ff", 16), (2, 0xff));
}

#[test]
fn strncmp_compares_up_to_a_nul_or_the_size() {
    let cmp = |a: &str, n: u32, b: &str| {
        let mut mem = a.as_bytes().to_vec();
        mem.resize(32, 0);
        mem.extend_from_slice(b.as_bytes());
        mem.push(0);
        let src = format!("mov %r3, %r1\nadd %r3, 32\nmov %r2, {n}\ncall 182\nexit");
        run_mem(&mut Vm::new(), &src, &mem).0 as i64
    };
    assert_eq!(cmp("hello", 5, "hello"), 0);
    assert_eq!(cmp("hellp", 5, "hello"), 1);
    assert_eq!(cmp("hella", 5, "hello"), -1);
    assert_eq!(cmp("help", 3, "hello"), 0, "only 3 bytes");
    assert_eq!(cmp("hel\0zz", 6, "hel"), 0, "a NUL in both ends it");
    assert_eq!(cmp("hello", 6, "hell"), 1);
}

/// `bpf_snprintf(mem + 64, size, mem (fmt), mem + 32 (args), nargs * 8)`.
fn snprintf(fmt: &str, args: &[u64], size: u32) -> (i64, Vec<u8>) {
    let mut mem = fmt.as_bytes().to_vec();
    mem.resize(32, 0);
    for a in args {
        mem.extend_from_slice(&a.to_le_bytes());
    }
    mem.resize(64 + 64, 0xee);
    let src = format!(
        "mov %r3, %r1\nmov %r4, %r1\nadd %r4, 32\nadd %r1, 64\nmov %r2, {size}\nmov %r5, {}\ncall 165\nexit",
        args.len() * 8
    );
    let (r0, mem) = run_mem(&mut Vm::new(), &src, &mem);
    (r0 as i64, mem[64..].to_vec())
}

#[test]
fn snprintf_formats_truncates_and_returns_the_full_length() {
    let (r, out) = snprintf(
        "%d|%u|%x|%lld|%c",
        &[-5i64 as u64, 7, 255, 1 << 40, b'z' as u64],
        64,
    );
    let text = "-5|7|ff|1099511627776|z";
    assert_eq!(r, text.len() as i64 + 1);
    assert_eq!(&out[..text.len() + 1], format!("{text}\0").as_bytes());
    // Cut to the buffer, NUL included; the return value is still the full length.
    let (r, out) = snprintf("%d-%d", &[1234, 5678], 5);
    assert_eq!(r, 10);
    assert_eq!(&out[..6], b"1234\0\xee");
    // Size 0 writes nothing.
    let (r, out) = snprintf("abc", &[], 0);
    assert_eq!((r, out[0]), (4, 0xee));
    // More conversions than arguments, an unknown conversion, a misaligned length: -EINVAL.
    assert_eq!(snprintf("%d %d", &[1], 64).0, -22);
    assert_eq!(snprintf("%q", &[1], 64).0, -22);
    let mut m = Vm::new();
    let src = "mov %r3, %r1\nmov %r4, %r1\nadd %r1, 8\nmov %r2, 8\nmov %r5, 4\ncall 165\nexit";
    assert_eq!(
        run_mem(
            &mut m,
            src,
            &[b'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        )
        .0 as i64,
        -22
    );
    // Twelve arguments at most.
    let twelve: Vec<u64> = (0..12).collect();
    let fmt = "%d".repeat(12);
    let mut mem = fmt.as_bytes().to_vec();
    mem.resize(32, 0);
    for a in &twelve {
        mem.extend_from_slice(&a.to_le_bytes());
    }
    mem.extend_from_slice(&12u64.to_le_bytes());
    mem.resize(32 + 13 * 8 + 64, 0);
    let call = |n: usize| {
        format!("mov %r3, %r1\nmov %r4, %r1\nadd %r4, 32\nadd %r1, 160\nmov %r2, 32\nmov %r5, {}\ncall 165\nexit", n * 8)
    };
    assert_eq!(run_mem(&mut m, &call(12), &mem).0, 15);
    assert_eq!(run_mem(&mut m, &call(13), &mem).0 as i64, -22);
}

#[test]
fn trace_vprintk_prints_like_trace_printk_with_more_arguments() {
    let mut m = Vm::new();
    let fmt = "a=%d b=%d c=%d d=%d\n\0";
    let mut mem = fmt.as_bytes().to_vec();
    mem.resize(32, 0);
    for a in [1u64, 2, 3, 4] {
        mem.extend_from_slice(&a.to_le_bytes());
    }
    let src = format!(
        "mov %r3, %r1\nadd %r3, 32\nmov %r2, {}\nmov %r4, 32\ncall 177\nexit",
        fmt.len()
    );
    let (r0, _) = run_mem(&mut m, &src, &mem);
    assert_eq!(r0, 16, "the formatted length, newline included");
    let lines = m.take_trace_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].message, "a=1 b=2 c=3 d=4");
    assert!(
        lines[0].line.ends_with("bpf_trace_printk: a=1 b=2 c=3 d=4"),
        "{}",
        lines[0].line
    );
    // data_len not a multiple of 8: -EINVAL, nothing printed.
    let bad = src.replace("mov %r4, 32", "mov %r4, 12");
    assert_eq!(run_mem(&mut m, &bad, &mem).0 as i64, -22);
    assert!(m.take_trace_lines().is_empty());
}

#[test]
fn spin_locks_hold_the_lock_word_and_refuse_a_second_lock() {
    let mut m = Vm::new();
    m.create_map(MapSpec::new(MapType::Array, 4, 8, 1)).unwrap();
    let lookup = "stw [%r10-4], 0\nlddw map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
                  jne %r0, 0, +1\nexit\nmov %r6, %r0\n";
    // Lock, read the lock word, unlock: 1 while held, 0 after.
    let src = format!(
        "{lookup}mov %r1, %r6\ncall 93\nldxw %r7, [%r6]\nmov %r1, %r6\ncall 94\nldxw %r0, [%r6]\n\
         lsh %r7, 4\nor %r0, %r7\nexit"
    );
    assert_eq!(run_mem(&mut m, &src, &[]).0, 0x10);
    let twice = format!("{lookup}mov %r1, %r6\ncall 93\nmov %r1, %r6\ncall 93\nexit");
    let e = run_err(&mut m, &twice, &[]);
    assert!(
        e.starts_with(
            "instruction 12: helper 93 (bpf_spin_lock): the program already holds the lock"
        ),
        "{e}"
    );
    // A new run starts without the lock held.
    let once = format!("{lookup}mov %r1, %r6\ncall 93\nmov %r1, %r6\ncall 94\nexit");
    assert_eq!(run_mem(&mut m, &once, &[]).0, 0);
    let unlock = format!("{lookup}mov %r1, %r6\ncall 94\nexit");
    assert!(run_err(&mut m, &unlock, &[]).contains("which is not locked"));
    let stack = "mov %r1, %r10\nadd %r1, -8\ncall 93\nexit";
    assert!(run_err(&mut m, stack, &[]).contains("is not in a map value"));
}

#[test]
fn task_helpers_read_the_environment() {
    let mut m = Vm::new();
    let call = |m: &mut Vm, src: &str| run_mem(m, src, &[0; 64]).0;
    assert_eq!(call(&mut m, "call 35\nexit"), DEFAULT_CURRENT_TASK);
    assert_eq!(call(&mut m, "call 158\nexit"), DEFAULT_CURRENT_TASK);
    // The task is readable where the test put its image.
    m.env_mut().current_task = 0xffff_8880_1234_0000;
    m.env_mut().kernel_memory = vec![(0xffff_8880_1234_0000, 4321u32.to_le_bytes().repeat(8))];
    let read =
        "mov %r6, %r1\ncall 35\nmov %r3, %r0\nadd %r3, 4\nmov %r1, %r6\nmov %r2, 4\ncall 113\n\
                ldxw %r0, [%r6]\nexit";
    assert_eq!(call(&mut m, read), 4321);
    m.env_mut().cgroup_path = vec![1, 50, 77];
    assert_eq!(call(&mut m, "call 80\nexit"), 77);
    assert_eq!(call(&mut m, "mov %r1, 1\ncall 123\nexit"), 50);
    assert_eq!(call(&mut m, "mov %r1, 3\ncall 123\nexit"), 0);
    m.env_mut().numa_node = 3;
    m.env_mut().func_ip = 0xffff_ffff_8100_0000;
    m.env_mut().attach_cookie = 99;
    assert_eq!(call(&mut m, "call 42\nexit"), 3);
    assert_eq!(call(&mut m, "call 173\nexit"), 0xffff_ffff_8100_0000);
    assert_eq!(call(&mut m, "call 174\nexit"), 99);
}

#[test]
fn clocks_derive_from_the_vm_clock() {
    let mut m = Vm::new();
    m.env_mut().ktime_ns = 10_006_000_123;
    m.env_mut().tai_offset_ns = 1_000;
    let call = |m: &mut Vm, id: u32| run_mem(m, &format!("call {id}\nexit"), &[]).0;
    // HZ = 250: a 4 ms tick.
    assert_eq!(call(&mut m, 160), 10_004_000_000);
    assert_eq!(call(&mut m, 208), 10_006_001_123);
    // INITIAL_JIFFIES + 10.006 s at 250 Hz.
    assert_eq!(call(&mut m, 118), 0xfffe_db08 + 2501);
    m.env_mut().hz = 1000;
    assert_eq!(call(&mut m, 118), u64::from((-300_000i32) as u32) + 10_006);
}

#[test]
fn copy_from_user_reads_the_user_image_or_zeroes() {
    let mut m = Vm::new();
    m.env_mut().user_memory = vec![(0x7000_0000, b"userdata".to_vec())];
    let src = |addr: u32| format!("mov %r2, 8\nmov %r3, {addr}\ncall 148\nexit");
    let (r0, mem) = run_mem(&mut m, &src(0x7000_0000), &[0xff; 8]);
    assert_eq!((r0, &mem[..]), (0, &b"userdata"[..]));
    let (r0, mem) = run_mem(&mut m, &src(0x7000_0001), &[0xff; 8]);
    assert_eq!((r0 as i64, &mem[..]), (-14, &[0u8; 8][..]));
}

#[test]
fn get_stack_without_a_stack_is_efault() {
    let mut m = Vm::new();
    // bpf_get_stack(ctx, buf, size, flags): r1 is unused by the VM.
    let src = |size: u32, flags: u32| {
        format!("mov %r2, %r1\nmov %r3, {size}\nmov %r4, {flags}\ncall 67\nexit")
    };
    let (r0, mem) = run_mem(&mut m, &src(16, 0), &[0xff; 32]);
    assert_eq!((r0 as i64, &mem[..16]), (-14, &[0u8; 16][..]));
    assert_eq!(
        run_mem(&mut m, &src(12, 0), &[0xff; 32]).0 as i64,
        -22,
        "size % 8"
    );
    assert_eq!(
        run_mem(&mut m, &src(32, 1 << 11), &[0xff; 32]).0 as i64,
        -22,
        "build id of a kernel stack"
    );
    m.env_mut().kernel_stack = vec![0xa, 0xb, 0xc];
    let (r0, mem) = run_mem(&mut m, &src(32, 1), &[0xff; 32]);
    assert_eq!(r0, 16, "two frames after skipping one");
    assert_eq!(
        (u64_at(&mem, 0), u64_at(&mem, 8), u64_at(&mem, 16)),
        (0xb, 0xc, 0)
    );
    m.env_mut().user_stack = vec![0x400000];
    let (r0, mem) = run_mem(&mut m, &src(32, (1 << 8) | (1 << 11)), &[0xff; 32]);
    assert_eq!(r0, 32);
    assert_eq!(
        (mem[0], u64_at(&mem, 24)),
        (2, 0x400000),
        "BPF_STACK_BUILD_ID_IP"
    );
}

#[test]
fn dynptrs_over_memory() {
    let mut m = Vm::new();
    // dynptr at r10-16 over mem[0..16]; write "hi" at 14, read 4 bytes from 12 into mem[16..20];
    // return bpf_dynptr_data(ptr, 8, 8) - mem.
    let src = "mov %r6, %r1\nmov %r2, 16\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 197\n\
               sth [%r10-18], 0x6968\n\
               mov %r1, %r10\nadd %r1, -16\nmov %r2, 14\nmov %r3, %r10\nadd %r3, -18\nmov %r4, 2\nmov %r5, 0\ncall 202\n\
               mov %r1, %r6\nadd %r1, 16\nmov %r2, 4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 12\nmov %r5, 0\ncall 201\n\
               mov %r1, %r10\nadd %r1, -16\nmov %r2, 8\nmov %r3, 8\ncall 203\nsub %r0, %r6\nexit";
    let (r0, mem) = run_mem(&mut m, src, &[b'.'; 24]);
    assert_eq!(r0, 8);
    assert_eq!(&mem[12..20], b"..hi..hi");
    // Out of range: -E2BIG for read/write, NULL for data.
    let oob = "mov %r2, 16\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 197\n\
               mov %r1, %r10\nadd %r1, -16\nmov %r2, 9\nmov %r3, 8\ncall 203\nmov %r6, %r0\n\
               mov %r1, %r10\nadd %r1, -24\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 9\nmov %r5, 0\ncall 201\n\
               add %r0, %r6\nexit";
    assert_eq!(run_mem(&mut m, oob, &[0; 16]).0 as i64, -7);
    // Flags: -EINVAL and a zeroed (null) dynptr, whose reads are -EINVAL.
    let flags = "mov %r2, 16\nmov %r3, 1\nmov %r4, %r10\nadd %r4, -16\ncall 197\nmov %r6, %r0\n\
                 mov %r1, %r10\nadd %r1, -24\nmov %r2, 1\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\nmov %r5, 0\ncall 201\n\
                 lsh %r0, 8\nadd %r0, %r6\nexit";
    assert_eq!(run_mem(&mut m, flags, &[0; 16]).0 as i64, (-22 << 8) - 22);
}

#[test]
fn ringbuf_dynptrs_reserve_and_submit() {
    let mut m = Vm::new();
    let rb = m
        .create_map(MapSpec::new(MapType::Ringbuf, 0, 0, 4096))
        .unwrap();
    let src = "lddw map_fd %r1, 0\nmov %r2, 8\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 198\n\
               mov %r6, %r0\nstdw [%r10-24], 0x55\n\
               mov %r1, %r10\nadd %r1, -16\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 8\nmov %r5, 0\ncall 202\n\
               mov %r1, %r10\nadd %r1, -16\nmov %r2, 0\ncall 199\n\
               ldxdw %r1, [%r10-16]\nadd %r0, %r1\nadd %r0, %r6\nexit";
    assert_eq!(
        run_mem(&mut m, src, &[]).0,
        0,
        "reserve, write, submit; the dynptr is nulled"
    );
    assert_eq!(
        m.map_mut(rb).unwrap().take_records(),
        vec![0x55u64.to_le_bytes().to_vec()]
    );
    // Too big for the buffer: -EAGAIN and a null dynptr; discarding it is a no-op.
    let big =
        "lddw map_fd %r1, 0\nmov %r2, 8192\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\ncall 198\n\
               mov %r6, %r0\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 0\ncall 200\nadd %r0, %r6\nexit";
    assert_eq!(run_mem(&mut m, big, &[]).0 as i64, -11);
    assert!(m.map_mut(rb).unwrap().take_records().is_empty());
}

#[test]
fn a_helper_the_vm_lacks_is_named() {
    let e = run_err(&mut Vm::new(), "call 204\nexit", &[]);
    assert_eq!(
        e,
        "instruction 0: unknown helper 204 (bpf_tcp_raw_gen_syncookie_ipv4)"
    );
}

#[test]
fn sys_bpf_creates_and_updates_maps() {
    let mut m = Vm::new();
    // attr for BPF_MAP_CREATE at mem[0..20]: hash, key 4, value 8, 16 entries, no flags;
    // key at mem[64], value at mem[72]; the update attr is built at mem[32..64] by the
    // program with the new fd.
    let mut mem = Vec::new();
    for v in [1u32, 4, 8, 16, 0] {
        mem.extend_from_slice(&v.to_le_bytes());
    }
    mem.resize(64, 0);
    mem.extend_from_slice(&7u32.to_le_bytes());
    mem.resize(72, 0);
    mem.extend_from_slice(&99u64.to_le_bytes());
    let src = "mov %r6, %r1\nmov %r2, %r1\nmov %r1, 0\nmov %r3, 20\ncall 166\nmov %r7, %r0\n\
               stxw [%r6+32], %r7\nmov %r1, %r6\nadd %r1, 64\nstxdw [%r6+40], %r1\n\
               add %r1, 8\nstxdw [%r6+48], %r1\n\
               mov %r1, 2\nmov %r2, %r6\nadd %r2, 32\nmov %r3, 32\ncall 166\n\
               lsh %r7, 8\nor %r0, %r7\nexit";
    let (r0, _) = run_mem(&mut m, src, &mem);
    assert_eq!(r0, 0, "fd 0 (the first map), update returned 0");
    let map = m.map(0).unwrap();
    assert_eq!(map.spec().map_type, MapType::Hash);
    assert_eq!(
        map.lookup(&7u32.to_le_bytes()).unwrap(),
        Some(99u64.to_le_bytes().to_vec())
    );
    // BPF_MAP_LOOKUP_ELEM is not among the commands a program may issue: -EINVAL.
    let (r0, _) = run_mem(
        &mut m,
        "mov %r2, %r1\nmov %r1, 1\nmov %r3, 32\ncall 166\nexit",
        &mem,
    );
    assert_eq!(r0 as i64, -22);
    let e = run_err(
        &mut m,
        "mov %r2, %r1\nmov %r1, 5\nmov %r3, 32\ncall 166\nexit",
        &mem,
    );
    assert!(
        e.contains("helper 166 (bpf_sys_bpf): BPF_PROG_LOAD needs a running kernel"),
        "{e}"
    );
}
