//! Maps, helpers, program types and contexts, each exercised through small programs.

use asm::text::{assemble, Dialect};
use vm::{MapError, MapSpec, MapType, ProgType, Vm, BPF_ANY, BPF_EXIST, BPF_NOEXIST};

fn load(m: &mut Vm, src: &str, t: impl Into<Option<ProgType>>) -> vm::ProgId {
    let a = assemble(src, Dialect::Ubpf).unwrap_or_else(|d| panic!("{src}: {d:?}"));
    m.load_insns(&a.insns, t)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn run(m: &mut Vm, src: &str) -> u64 {
    let id = load(m, src, None);
    m.run(id).unwrap_or_else(|e| panic!("{src}: {e}")).r0
}

fn def(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapSpec {
    MapSpec::new(map_type, key_size, value_size, max_entries)
}

/// `key` in r2 (a u32 on the stack), map fd in r1, then `body`.
fn with_key(fd: u32, key: u32, body: &str) -> String {
    format!("stw [%r10-4], {key}\nlddw map_fd %r1, {fd}\nmov %r2, %r10\nadd %r2, -4\n{body}")
}

#[test]
fn array_lookup_returns_a_pointer_into_the_map() {
    let mut m = Vm::new();
    let fd = m.create_map(def(MapType::Array, 4, 8, 4)).unwrap();
    assert_eq!(fd, 0, "the first map is map 0, as `lddw map_fd 0` names it");
    m.map_mut(fd)
        .unwrap()
        .update(&2u32.to_le_bytes(), &40u64.to_le_bytes(), BPF_ANY)
        .unwrap();
    // Look up key 2, add 2 in place, return the value; key 4 is out of range (NULL).
    let src = with_key(fd, 2, "call 1\njeq %r0, 0, null\nldxdw %r1, [%r0]\nadd %r1, 2\nstxdw [%r0], %r1\nmov %r0, %r1\nexit\nnull:\nmov %r0, -1\nexit");
    assert_eq!(run(&mut m, &src), 42);
    assert_eq!(
        m.map(fd).unwrap().lookup(&2u32.to_le_bytes()).unwrap(),
        Some(42u64.to_le_bytes().to_vec())
    );
    let src = with_key(fd, 4, "call 1\nexit");
    assert_eq!(run(&mut m, &src), 0);
    // Past the value: the access faults naming the map region.
    let src = with_key(fd, 3, "call 1\nldxdw %r0, [%r0+8]\nexit");
    let id = load(&mut m, &src, None);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("out of bounds of values of map 0 (32 bytes)"),
        "{e}"
    );
}

#[test]
fn update_flags_give_kernel_errnos() {
    let mut m = Vm::new();
    let hash = m.create_map(def(MapType::Hash, 4, 8, 2)).unwrap();
    let arr = m.create_map(def(MapType::Array, 4, 8, 2)).unwrap();
    // Value 7 on the stack at r10-16; update(map, key, value, flags) returns r0.
    let upd = |fd: u32, key: u32, flags: u64| {
        with_key(
            fd,
            key,
            &format!(
                "stdw [%r10-16], 7\nmov %r3, %r10\nadd %r3, -16\nmov %r4, {flags}\ncall 2\nexit"
            ),
        )
    };
    assert_eq!(
        run(&mut m, &upd(hash, 1, BPF_EXIST)),
        (-2i64) as u64,
        "missing: ENOENT"
    );
    assert_eq!(run(&mut m, &upd(hash, 1, BPF_NOEXIST)), 0);
    assert_eq!(run(&mut m, &upd(hash, 1, BPF_NOEXIST)), (-17i64) as u64);
    assert_eq!(run(&mut m, &upd(hash, 1, BPF_EXIST)), 0);
    assert_eq!(run(&mut m, &upd(hash, 2, BPF_ANY)), 0);
    assert_eq!(
        run(&mut m, &upd(hash, 3, BPF_ANY)),
        (-7i64) as u64,
        "full: E2BIG"
    );
    assert_eq!(
        run(&mut m, &upd(hash, 3, 8)),
        (-22i64) as u64,
        "bad flags: EINVAL"
    );
    assert_eq!(
        run(&mut m, &upd(arr, 0, BPF_NOEXIST)),
        (-17i64) as u64,
        "array elements always exist"
    );
    assert_eq!(
        run(&mut m, &upd(arr, 2, BPF_ANY)),
        (-7i64) as u64,
        "index past max_entries"
    );
    // Delete: hash ok then ENOENT; array EINVAL.
    let del = |fd: u32, key: u32| with_key(fd, key, "call 3\nexit");
    assert_eq!(run(&mut m, &del(hash, 1)), 0);
    assert_eq!(run(&mut m, &del(hash, 1)), (-2i64) as u64);
    assert_eq!(run(&mut m, &del(arr, 0)), (-22i64) as u64);
    assert_eq!(
        m.map(hash).unwrap().keys(),
        vec![2u32.to_le_bytes().to_vec()]
    );
}

#[test]
fn map_api_checks_like_map_create() {
    let mut m = Vm::new();
    assert!(matches!(
        m.create_map(def(MapType::Array, 8, 8, 1)),
        Err(MapError::Invalid(_))
    ));
    assert!(matches!(
        m.create_map(def(MapType::Hash, 4, 8, 0)),
        Err(MapError::Invalid(_))
    ));
    assert!(matches!(
        m.create_map(def(MapType::Ringbuf, 0, 0, 1000)),
        Err(MapError::Invalid(_))
    ));
    // Too large to allocate: ENOMEM before any allocation.
    assert_eq!(
        m.create_map(def(MapType::Hash, 4, 8, u32::MAX)),
        Err(MapError::NoMemory)
    );
    assert_eq!(
        m.create_map(def(MapType::ProgArray, 4, 4, u32::MAX)),
        Err(MapError::NoMemory)
    );
    assert_eq!(
        m.create_map(def(MapType::Ringbuf, 0, 0, 1 << 31)),
        Err(MapError::NoMemory)
    );
    m.env_mut().ncpus = 1 << 20;
    assert_eq!(
        m.create_map(def(MapType::PercpuArray, 4, 8, 1 << 12)),
        Err(MapError::NoMemory)
    );
    m.env_mut().ncpus = 1;
    let fd = m.create_map(def(MapType::Hash, 4, 4, 1)).unwrap();
    let map = m.map_mut(fd).unwrap();
    assert_eq!(
        map.update(&[1, 0, 0], &[0; 4], BPF_ANY)
            .unwrap_err()
            .errno(),
        22
    );
    assert_eq!(map.delete(&[1, 0, 0, 0]).unwrap_err(), MapError::NotFound);
}

#[test]
fn percpu_maps_keep_one_value_per_cpu() {
    let mut m = Vm::new();
    m.env_mut().ncpus = 4;
    let fd = m.create_map(def(MapType::PercpuArray, 4, 4, 1)).unwrap();
    let src = with_key(
        fd,
        0,
        "call 1\nldxw %r1, [%r0]\nadd %r1, 1\nstxw [%r0], %r1\nmov %r0, %r1\nexit",
    );
    let id = load(&mut m, &src, None);
    for cpu in [0, 2, 2, 3] {
        m.env_mut().cpu = cpu;
        m.run(id).unwrap();
    }
    let map = m.map(fd).unwrap();
    // BPF_MAP_LOOKUP_ELEM on a per-CPU map: every CPU's value, padded to 8 bytes.
    let all = map.lookup(&0u32.to_le_bytes()).unwrap().unwrap();
    assert_eq!(all.len(), 32);
    let per: Vec<u32> = (0..4)
        .map(|c| u32::from_le_bytes(all[c * 8..c * 8 + 4].try_into().unwrap()))
        .collect();
    assert_eq!(per, [1, 0, 2, 1]);
    assert_eq!(
        map.lookup_cpu(&0u32.to_le_bytes(), 2).unwrap(),
        Some(2u32.to_le_bytes().to_vec())
    );

    // A new per-CPU hash element from a program: this CPU's copy set, the others zero.
    let h = m.create_map(def(MapType::PercpuHash, 4, 4, 4)).unwrap();
    m.env_mut().cpu = 1;
    let src = with_key(
        h,
        9,
        "stdw [%r10-16], 5\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nexit",
    );
    assert_eq!(run(&mut m, &src), 0);
    let v = m
        .map(h)
        .unwrap()
        .lookup(&9u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&v[..16], &[0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn lru_hash_evicts_the_least_recently_used() {
    let mut m = Vm::new();
    let fd = m.create_map(def(MapType::LruHash, 4, 4, 2)).unwrap();
    let map = m.map_mut(fd).unwrap();
    map.update(&1u32.to_le_bytes(), &[1; 4], BPF_ANY).unwrap();
    map.update(&2u32.to_le_bytes(), &[2; 4], BPF_ANY).unwrap();
    // The program touches key 1, then inserts key 3: key 2 goes.
    let src = with_key(fd, 1, &format!("call 1\nstw [%r10-4], 3\nstw [%r10-8], 3\nlddw map_fd %r1, {fd}\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 2\nexit"));
    assert_eq!(run(&mut m, &src), 0);
    let mut keys = m.map(fd).unwrap().keys();
    keys.sort();
    assert_eq!(
        keys,
        vec![1u32.to_le_bytes().to_vec(), 3u32.to_le_bytes().to_vec()]
    );
}

#[test]
fn ring_buffer_records_are_readable_after_the_run() {
    let mut m = Vm::new();
    let fd = m.create_map(def(MapType::Ringbuf, 0, 0, 4096)).unwrap();
    // reserve 4 bytes, write, submit; reserve again, discard; output 8 bytes from the stack.
    let src = format!(
        "lddw map_fd %r1, {fd}\nmov %r2, 4\nmov %r3, 0\ncall 131\njeq %r0, 0, fail\nstw [%r0], 0x11223344\nmov %r1, %r0\nmov %r2, 0\ncall 132\n\
         lddw map_fd %r1, {fd}\nmov %r2, 16\nmov %r3, 0\ncall 131\nmov %r1, %r0\nmov %r2, 0\ncall 133\n\
         stdw [%r10-8], 0x55\nlddw map_fd %r1, {fd}\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nexit\nfail:\nmov %r0, -1\nexit"
    );
    assert_eq!(run(&mut m, &src), 0);
    let recs = m.map_mut(fd).unwrap().take_records();
    assert_eq!(
        recs,
        vec![
            0x11223344u32.to_le_bytes().to_vec(),
            0x55u64.to_le_bytes().to_vec()
        ]
    );
    assert!(m.map(fd).unwrap().records().is_empty());
    // Too big for the buffer: reserve gives NULL, output gives -EAGAIN.
    let src = format!("lddw map_fd %r1, {fd}\nmov %r2, 8192\nmov %r3, 0\ncall 131\nexit");
    assert_eq!(run(&mut m, &src), 0);
}

#[test]
fn queue_and_stack_push_pop_peek() {
    let mut m = Vm::new();
    let q = m.create_map(def(MapType::Queue, 0, 4, 2)).unwrap();
    let s = m.create_map(def(MapType::Stack, 0, 4, 2)).unwrap();
    for fd in [q, s] {
        let map = m.map_mut(fd).unwrap();
        map.push(&[1, 0, 0, 0], 0).unwrap();
        map.push(&[2, 0, 0, 0], 0).unwrap();
        assert_eq!(map.push(&[3, 0, 0, 0], 0), Err(MapError::Full));
    }
    // pop into the stack, return the value; peek leaves it.
    let pop = |fd: u32, helper: u32| {
        format!("lddw map_fd %r1, {fd}\nmov %r2, %r10\nadd %r2, -4\ncall {helper}\njne %r0, 0, fail\nldxw %r0, [%r10-4]\nexit\nfail:\nexit")
    };
    assert_eq!(run(&mut m, &pop(q, 89)), 1);
    assert_eq!(run(&mut m, &pop(q, 88)), 1);
    assert_eq!(run(&mut m, &pop(q, 88)), 2);
    assert_eq!(run(&mut m, &pop(q, 88)), (-2i64) as u64, "empty: ENOENT");
    assert_eq!(run(&mut m, &pop(s, 88)), 2);
    // push with BPF_EXIST on a full map drops the oldest.
    let map = m.map_mut(s).unwrap();
    map.push(&[4, 0, 0, 0], 0).unwrap();
    map.push(&[5, 0, 0, 0], BPF_EXIST).unwrap();
    assert_eq!(map.pop(true).unwrap(), vec![5, 0, 0, 0]);
    assert_eq!(map.pop(true).unwrap(), vec![4, 0, 0, 0]);
    let src = format!("stw [%r10-4], 7\nlddw map_fd %r1, {q}\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 0\ncall 87\nexit");
    assert_eq!(run(&mut m, &src), 0);
    assert_eq!(m.map_mut(q).unwrap().pop(false).unwrap(), vec![7, 0, 0, 0]);
}

/// Puts a NUL-terminated string on the stack at r10-len and leaves its address in r1.
fn string_on_stack(s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    while bytes.len() % 8 != 0 {
        bytes.push(0);
    }
    let n = bytes.len();
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let v = u64::from_le_bytes(chunk.try_into().unwrap());
        out += &format!("lddw %r1, {v:#x}\nstxdw [%r10-{}], %r1\n", n - i * 8);
    }
    out + &format!("mov %r1, %r10\nadd %r1, -{n}\nmov %r2, {}\n", s.len() + 1)
}

#[test]
fn trace_printk_hello_world_and_format_rules() {
    let mut m = Vm::new();
    m.env_mut().comm = "hello".into();
    m.env_mut().pid = 4242;
    let src = string_on_stack("Hello, BPF World!\n") + "call 6\nexit";
    assert_eq!(run(&mut m, &src), 18);
    let l = &m.trace_lines()[0];
    assert_eq!(l.message, "Hello, BPF World!");
    assert_eq!(
        l.line,
        "           hello-4242    [000] d..31     1.000000: bpf_trace_printk: Hello, BPF World!"
    );

    let printk = |m: &mut Vm, fmt: &str, args: [i64; 3]| {
        let src = string_on_stack(fmt)
            + &format!(
                "lddw %r3, {:#x}\nlddw %r4, {:#x}\nlddw %r5, {:#x}\ncall 6\nexit",
                args[0], args[1], args[2]
            );
        let r0 = run(m, &src);
        (r0 as i64, m.take_trace_lines().pop().map(|l| l.message))
    };
    let rows: &[(&str, [i64; 3], &str)] = &[
        ("%d %u %x", [-1, -1, -1], "-1 4294967295 ffffffff"),
        (
            "%ld %lu %llx",
            [-1, -1, -1],
            "-1 18446744073709551615 ffffffffffffffff",
        ),
        ("%5d|%-5d|%05d", [42, 42, 42], "   42|42   |00042"),
        ("%i %X %c", [7, 0xab, 0x41], "7 AB A"),
        ("100%% %lli", [-5, 0, 0], "100% -5"),
        ("%+d % d", [3, 3, 0], "+3  3"),
    ];
    for &(fmt, args, want) in rows {
        let (r0, line) = printk(&mut m, fmt, args);
        assert_eq!(line.as_deref(), Some(want), "{fmt}");
        assert_eq!(r0 as usize, want.len(), "{fmt}");
    }
    // Rejected formats: -EINVAL and no output.
    for fmt in ["%d %d %d %d", "%f", "%ls", "%.2d", "%lld%q"] {
        let (r0, line) = printk(&mut m, fmt, [1, 2, 3]);
        assert_eq!((r0, line), (-22, None), "{fmt}");
    }
}

#[test]
fn environment_helpers() {
    let mut m = Vm::new();
    {
        let e = m.env_mut();
        e.ktime_ns = 5_000;
        e.ktime_step_ns = 10;
        e.boot_offset_ns = 1_000_000;
        e.pid = 7;
        e.tgid = 8;
        e.uid = 1000;
        e.gid = 100;
        e.cpu = 3;
        e.ncpus = 4;
        e.comm = "a-very-long-command-name".into();
    }
    assert_eq!(run(&mut m, "call 5\nexit"), 5_000);
    assert_eq!(run(&mut m, "call 5\nexit"), 5_010);
    assert_eq!(run(&mut m, "call 125\nexit"), 1_005_020);
    assert_eq!(run(&mut m, "call 14\nexit"), (8 << 32) | 7);
    assert_eq!(run(&mut m, "call 15\nexit"), (100 << 32) | 1000);
    assert_eq!(run(&mut m, "call 8\nexit"), 3);
    // comm: at most 15 bytes and a NUL.
    let src = "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nldxb %r0, [%r10-1]\nldxb %r1, [%r10-2]\nlsh %r0, 8\nor %r0, %r1\nexit";
    assert_eq!(
        run(&mut m, src),
        b'm' as u64,
        "\"a-very-long-com\" and a NUL"
    );
    // prandom: seeded, so reproducible run to run; different seeds differ.
    let a = run(&mut m, "call 7\nexit");
    assert_eq!(run(&mut m, "call 7\nexit"), a);
    m.env_mut().seed = 99;
    assert_ne!(run(&mut m, "call 7\nexit"), a);
}

#[test]
fn probe_read_kernel_and_user_from_memory_images() {
    let mut m = Vm::new();
    m.env_mut()
        .kernel_memory
        .push((0xffff_8880_0000_1000, vec![1, 2, 3, 4, 5, 6, 7, 8]));
    m.env_mut()
        .user_memory
        .push((0x7ffd_0000, b"user\0".to_vec()));
    let read = |helper: u32, addr: u64, size: u32| {
        format!("mov %r1, %r10\nadd %r1, -8\nmov %r2, {size}\nlddw %r3, {addr:#x}\ncall {helper}\nldxdw %r1, [%r10-8]\nlsh %r0, 32\nxor %r0, %r1\nexit")
    };
    assert_eq!(
        run(&mut m, &read(113, 0xffff_8880_0000_1000, 8)),
        0x0807_0605_0403_0201
    );
    // A bad address: -EFAULT and the buffer zeroed.
    let r = run(&mut m, &read(113, 0xffff_8880_0000_1004, 8));
    assert_eq!(r >> 32, 0xffff_fff2);
    assert_eq!(r as u32, 0);
    assert_eq!(
        run(&mut m, &read(112, 0x7ffd_0000, 4)),
        u32::from_le_bytes(*b"user") as u64
    );
    // The _str variant returns the length with the NUL.
    let src = "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nlddw %r3, 0x7ffd0000\ncall 114\nexit";
    assert_eq!(run(&mut m, src), 5);
}

#[test]
fn unknown_helpers_are_named_and_users_can_register_helpers() {
    let mut m = Vm::new();
    let id = load(&mut m, "call 66\nexit", None);
    let e = m.run(id).unwrap_err();
    assert_eq!(
        e.to_string(),
        "instruction 0: unknown helper 66 (bpf_skb_get_xfrm_state)"
    );
    let id = load(&mut m, "call 100000\nexit", None);
    assert_eq!(
        m.run(id).unwrap_err().to_string(),
        "instruction 0: unknown helper 100000"
    );

    // A user helper sees registers and VM memory: sum r2 bytes at r1.
    m.register_helper(9000, "sum_bytes", |mach, args| {
        Ok(mach
            .read(args[0], args[1] as usize)?
            .iter()
            .map(|&b| b as u64)
            .sum())
    });
    m.set_mem(vec![1, 2, 3, 250]);
    assert_eq!(run(&mut m, "call 9000\nexit"), 256);
    m.register_helper(9001, "fails", |_, _| {
        Err(vm::HelperError::Other("no".into()))
    });
    let id = load(&mut m, "mov %r1, 1\ncall 9001\nexit", None);
    assert_eq!(
        m.run(id).unwrap_err().to_string(),
        "instruction 1: helper 9001 (fails): no"
    );
    // Helper memory access is checked too.
    let id = load(&mut m, "mov %r2, 5\ncall 9000\nexit", None);
    assert!(m
        .run(id)
        .unwrap_err()
        .to_string()
        .contains("out of bounds of user memory"));
}

#[test]
fn tail_calls_through_a_program_array() {
    let mut m = Vm::new();
    let pa = m.create_map(def(MapType::ProgArray, 4, 4, 4)).unwrap();
    let callee = load(&mut m, "mov %r0, 99\nexit", None);
    m.map_mut(pa).unwrap().set_prog(1, Some(callee.0)).unwrap();
    let caller = |idx: u32| {
        format!("lddw map_fd %r2, {pa}\nmov %r3, {idx}\nmov %r0, 5\ncall 12\nadd %r0, 1\nexit")
    };
    assert_eq!(run(&mut m, &caller(1)), 99, "the tail call does not return");
    assert_eq!(
        run(&mut m, &caller(2)),
        6,
        "empty slot: continues, r0 unchanged"
    );
    assert_eq!(run(&mut m, &caller(9)), 6, "index out of range: continues");
    // A program that tail-calls itself stops after MAX_TAIL_CALL_CNT (33).
    let counter = m.create_map(def(MapType::Array, 4, 8, 1)).unwrap();
    let looping = format!(
        "mov %r6, %r1\n{}\nmov %r1, %r6\nlddw map_fd %r2, {pa}\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
        with_key(counter, 0, "call 1\nldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1")
    );
    let id = load(&mut m, &looping, None);
    m.map_mut(pa).unwrap().set_prog(0, Some(id.0)).unwrap();
    m.run(id).unwrap();
    let n = m
        .map(counter)
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(u64::from_le_bytes(n.try_into().unwrap()), 34);
}

fn eth_ipv4_packet() -> Vec<u8> {
    let mut p = vec![0u8; 60];
    p[12] = 0x08;
    p[13] = 0x00;
    p[14] = 0x45;
    p[23] = 6;
    p
}

#[test]
fn sched_cls_context_fields_and_rewriting() {
    let mut m = Vm::new();
    m.set_packet(eth_ipv4_packet());
    m.env_mut().skb.mark = 7;
    // data/data_end are 4-byte fields that load as packet pointers: data_end - data = len.
    let src = "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nsub %r3, %r2\nldxw %r4, [%r1+0]\njne %r3, %r4, bad\n\
               ldxw %r5, [%r1+16]\nldxb %r6, [%r2+23]\nldxw %r0, [%r1+8]\nstw [%r1+8], 99\nlsh %r0, 16\nor %r0, %r5\nlsh %r0, 8\nor %r0, %r6\nexit\nbad:\nmov %r0, -1\nexit";
    let id = load(&mut m, src, ProgType::SchedCls);
    let out = m.run(id).unwrap();
    // mark 7, protocol 0x0008 (htons(ETH_P_IP) read on little-endian), IP protocol 6.
    assert_eq!(out.r0, (7 << 24) | (0x0008 << 8) | 6);
    assert_eq!(
        &m.ctx()[8..12],
        &99u32.to_le_bytes(),
        "mark is writable for tc"
    );
    assert_eq!(
        ProgType::SchedCls.r0_meaning(2).as_deref(),
        Some("TC_ACT_SHOT")
    );
    // Read past data_end faults in the packet region.
    let id = load(
        &mut m,
        "ldxw %r2, [%r1+76]\nldxb %r0, [%r2+60]\nexit",
        ProgType::SchedCls,
    );
    assert!(m
        .run(id)
        .unwrap_err()
        .to_string()
        .contains("out of bounds of packet (60 bytes)"));
    // data must be read with a 4-byte load.
    let id = load(&mut m, "ldxdw %r2, [%r1+76]\nexit", ProgType::SchedCls);
    assert!(m
        .run(id)
        .unwrap_err()
        .to_string()
        .contains("sched_cls context offset 76 (`data`) is not readable with size 8"));
}

#[test]
fn socket_filter_context_is_read_only_except_cb_and_uses_ld_abs() {
    let mut m = Vm::new();
    m.set_packet(eth_ipv4_packet());
    let id = load(&mut m, "stw [%r1+8], 1\nexit", ProgType::SocketFilter);
    let e = m.run(id).unwrap_err().to_string();
    assert!(
        e.contains("socket_filter context offset 8 (`mark`) is not writable with size 4"),
        "{e}"
    );
    let id = load(
        &mut m,
        "stw [%r1+48], 1\nldxw %r0, [%r1+48]\nexit",
        ProgType::SocketFilter,
    );
    assert_eq!(m.run(id).unwrap().r0, 1);
    let id = load(&mut m, "ldxw %r0, [%r1+76]\nexit", ProgType::SocketFilter);
    assert!(
        m.run(id).is_err(),
        "socket filters have no direct packet access"
    );
    // ld_abs reads the packet big-endian: the EtherType.
    let id = load(&mut m, "ldabsh 12\nexit", ProgType::SocketFilter);
    assert_eq!(m.run(id).unwrap().r0, 0x0800);
    // skb_load_bytes copies packet bytes to the stack.
    let id = load(
        &mut m,
        "mov %r2, 12\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 2\ncall 26\nldxh %r0, [%r10-8]\nexit",
        ProgType::SocketFilter,
    );
    assert_eq!(m.run(id).unwrap().r0, 0x0008);
    assert_eq!(
        ProgType::SocketFilter.r0_meaning(0).as_deref(),
        Some("drop the packet")
    );
}

#[test]
fn xdp_context_and_verdicts() {
    let mut m = Vm::new();
    m.set_packet(eth_ipv4_packet());
    m.env_mut().xdp_ingress_ifindex = 3;
    let src = "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, drop\nldxh %r5, [%r2+12]\njne %r5, 8, drop\nldxw %r0, [%r1+12]\nexit\ndrop:\nmov %r0, 1\nexit";
    let id = load(&mut m, src, ProgType::Xdp);
    assert_eq!(m.run(id).unwrap().r0, 3);
    m.set_packet(vec![0; 10]);
    assert_eq!(m.run(id).unwrap().r0, 1);
    assert_eq!(ProgType::Xdp.r0_meaning(2).as_deref(), Some("XDP_PASS"));
    assert_eq!(ProgType::Xdp.r0_meaning(4).as_deref(), Some("XDP_REDIRECT"));
    let id = load(&mut m, "stw [%r1+12], 1\nexit", ProgType::Xdp);
    assert!(m.run(id).is_err(), "xdp_md is read-only");
}

#[test]
fn kprobe_tracepoint_and_syscall_contexts() {
    let mut m = Vm::new();
    // pt_regs on x86-64: di at offset 112.
    let mut regs = vec![0u8; 168];
    regs[112..120].copy_from_slice(&0x1234u64.to_le_bytes());
    m.set_ctx(regs);
    let id = load(&mut m, "ldxdw %r0, [%r1+112]\nexit", ProgType::Kprobe);
    assert_eq!(m.run(id).unwrap().r0, 0x1234);
    let id = load(&mut m, "ldxdw %r0, [%r1+168]\nexit", ProgType::Kprobe);
    assert!(m.run(id).is_err());
    // A tracepoint record's first 8 bytes (the common header) are hidden.
    m.set_ctx(vec![1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
    let id = load(&mut m, "ldxw %r0, [%r1+8]\nexit", ProgType::Tracepoint);
    assert_eq!(m.run(id).unwrap().r0, 5);
    let id = load(&mut m, "ldxw %r0, [%r1]\nexit", ProgType::Tracepoint);
    assert!(m.run(id).is_err(), "the common header is not readable");
    let id = load(&mut m, "stw [%r1], 1\nexit", ProgType::RawTracepoint);
    assert!(m.run(id).is_err(), "raw tracepoint arguments are read-only");
    let id = load(
        &mut m,
        "stw [%r1], 9\nldxw %r0, [%r1]\nexit",
        ProgType::Syscall,
    );
    assert_eq!(m.run(id).unwrap().r0, 9);
    assert_eq!(m.ctx(), &[9, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
}

#[test]
fn map_value_and_map_index_pseudo_loads() {
    let mut m = Vm::new();
    let fd = m.create_map(def(MapType::Array, 4, 16, 1)).unwrap();
    m.map_mut(fd)
        .unwrap()
        .update(
            &0u32.to_le_bytes(),
            &[0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0],
            BPF_ANY,
        )
        .unwrap();
    assert_eq!(
        run(
            &mut m,
            &format!("lddw map_value %r1, {fd}, 8\nldxdw %r0, [%r1]\nexit")
        ),
        42
    );
    assert_eq!(
        run(
            &mut m,
            "lddw map_idx_value %r1, 0, 8\nldxdw %r0, [%r1]\nexit"
        ),
        42
    );
    let a = assemble(
        &format!("lddw map_value %r1, {fd}, 16\nexit"),
        Dialect::Ubpf,
    )
    .unwrap();
    let e = m.load_insns(&a.insns, None).unwrap_err();
    assert!(e.to_string().contains("past the value size 16"), "{e}");
}

#[test]
fn huge_helper_sizes_fault_instead_of_allocating() {
    let mut m = Vm::new();
    let fd = m.create_map(def(MapType::Ringbuf, 0, 0, 4096)).unwrap();
    for src in [
        "mov %r1, %r10\nadd %r1, -8\nmov32 %r2, -1\nmov %r3, 0\ncall 113\nexit".to_string(),
        "mov %r1, %r10\nadd %r1, -8\nmov32 %r2, -1\ncall 16\nexit".to_string(),
        "mov %r1, %r10\nadd %r1, -8\nmov32 %r2, -1\nmov %r3, 0\ncall 115\nexit".to_string(),
        format!("lddw map_fd %r1, {fd}\nmov %r2, %r10\nmov %r3, -1\nmov %r4, 0\ncall 130\nexit"),
    ] {
        let id = load(&mut m, &src, None);
        let e = m.run(id).unwrap_err().to_string();
        assert!(e.contains("out of bounds of stack frame 0"), "{src}: {e}");
    }
    let id = load(
        &mut m,
        &format!("lddw map_fd %r1, {fd}\nmov %r2, -1\nmov %r3, 0\ncall 131\nexit"),
        None,
    );
    assert_eq!(m.run(id).unwrap().r0, 0, "reserve of 2^64-1 bytes: NULL");
}

#[test]
fn trace_printk_strings_and_addresses() {
    let mut m = Vm::new();
    // "%s|%5s|%pI4|%pi4" with r3 = "ok" on the stack, r4 = the same, r5 = 10.1.2.3 in memory.
    m.set_mem(vec![10, 1, 2, 3]);
    let fmt = string_on_stack("%s|%-4s|%pI4");
    let src = format!(
        "stdw [%r10-48], 0x6b6f\nmov %r6, %r1\n{fmt}mov %r3, %r10\nadd %r3, -48\nmov %r4, %r3\nmov %r5, %r6\ncall 6\nexit"
    );
    let r0 = run(&mut m, &src);
    assert_eq!(m.trace_lines()[0].message, "ok|ok  |10.1.2.3");
    assert_eq!(r0, 16);
    let fmt = string_on_stack("%pi4 %s");
    let src = format!("mov %r6, %r1\n{fmt}mov %r3, %r6\nmov %r4, 0\ncall 6\nexit");
    run(&mut m, &src);
    // A bad %s pointer prints nothing for it, as the kernel's failed copy does.
    assert_eq!(m.trace_lines()[1].message, "010.001.002.003 ");
    let fmt = string_on_stack("%pZ");
    let src = format!("{fmt}mov %r3, 0\ncall 6\nexit");
    assert_eq!(run(&mut m, &src), (-22i64) as u64, "unknown %p extension");
}
