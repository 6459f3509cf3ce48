//! The callback helpers against the kernel, with libbpf (through `bpftool`) as the loader:
//! libbpf passes the BTF func_info that programs with callbacks need, which the kernel
//! backend does not yet (the harness files `testdata/elf/tests/{callbacks,vm_helpers}.toml`
//! skip those cases in the kernel for that reason). Each program runs in the VM
//! (`vm::testing::Test`) and in the kernel (`bpftool prog run`), and r0 and the globals it
//! writes must agree. Prints `skipped:` without root, bpffs or bpftool.

use std::path::{Path, PathBuf};
use std::process::Command;
use vm::testing::Test;

fn elf(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/elf")
        .join(name)
}

/// The packet both run: an Ethernet header (the kernel's XDP test run needs 14 bytes).
const PACKET: [u8; 14] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
];

fn bpftool(args: &[&str]) -> Result<String, String> {
    let out = Command::new("bpftool")
        .args(args)
        .output()
        .map_err(|e| format!("bpftool: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bpftool {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An object loaded by libbpf and pinned under bpffs (removed on drop).
struct Pinned {
    progs: PathBuf,
    maps: PathBuf,
}

impl Pinned {
    fn load(object: &str) -> Result<Pinned, String> {
        // bpffs names may not contain dots.
        let base = format!(
            "bpfx_cb_{}_{}",
            std::process::id(),
            object.replace('.', "_")
        );
        let dir = Path::new("/sys/fs/bpf");
        let (progs, maps) = (
            dir.join(format!("{base}_progs")),
            dir.join(format!("{base}_maps")),
        );
        let p = Pinned { progs, maps };
        std::fs::create_dir_all(&p.progs).map_err(|e| format!("bpffs: {e}"))?;
        let obj = elf(object);
        bpftool(&[
            "prog",
            "loadall",
            obj.to_str().unwrap(),
            p.progs.to_str().unwrap(),
            "pinmaps",
            p.maps.to_str().unwrap(),
        ])?;
        Ok(p)
    }

    /// `bpftool prog run`: r0.
    fn run(&self, prog: &str) -> Result<u64, String> {
        let pkt = std::env::temp_dir().join(format!("bpfx-cb-pkt-{}", std::process::id()));
        std::fs::write(&pkt, PACKET).unwrap();
        let out = bpftool(&[
            "prog",
            "run",
            "pinned",
            self.progs.join(prog).to_str().unwrap(),
            "data_in",
            pkt.to_str().unwrap(),
            "repeat",
            "1",
        ])?;
        let v = out
            .split("Return value: ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("no return value in {out:?}"))?;
        Ok(v)
    }

    fn update(&self, map: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
        let bytes = |b: &[u8]| b.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let path = self.maps.join(map);
        let mut args = vec!["map", "update", "pinned", path.to_str().unwrap(), "key"];
        let (k, v) = (bytes(key), bytes(value));
        args.extend(k.iter().map(|s| s.as_str()));
        args.push("value");
        args.extend(v.iter().map(|s| s.as_str()));
        bpftool(&args).map(|_| ())
    }

    /// The u64/s64 global `name` of the `.bss` (libbpf's BTF-typed dump).
    fn global(&self, section_map: &str, name: &str) -> Result<i64, String> {
        let out = bpftool(&[
            "-j",
            "map",
            "dump",
            "pinned",
            self.maps.join(section_map).to_str().unwrap(),
        ])?;
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
        let vars = v[0]["formatted"]["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|s| s.as_array())
            .ok_or_else(|| format!("no formatted value in {out}"))?;
        vars.iter()
            .find_map(|e| e.get(name).and_then(|x| x.as_i64()))
            .ok_or_else(|| format!("no variable {name} in {out}"))
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.progs);
        let _ = std::fs::remove_dir_all(&self.maps);
    }
}

fn available(test: &str) -> bool {
    if !test_support::kernel_available(test) {
        return false;
    }
    if Command::new("bpftool").arg("version").output().is_err() {
        println!("skipped: bpftool not installed [{test}]");
        return false;
    }
    if !Path::new("/sys/fs/bpf").is_dir() {
        println!("skipped: no bpffs at /sys/fs/bpf [{test}]");
        return false;
    }
    true
}

fn vm_test(object: &str, prog: &str) -> Test {
    let bytes = std::fs::read(elf(object)).unwrap();
    let o = obj::Object::parse(&bytes).unwrap();
    let mut t = Test::from_object(&o).unwrap();
    t.select(prog).unwrap();
    t.set_packet(&PACKET);
    t
}

#[test]
fn bpf_loop_agrees_with_the_kernel() {
    if !available("bpf_loop_agrees_with_the_kernel") {
        return;
    }
    let k = Pinned::load("callbacks.bpf.o").unwrap();
    let mut t = vm_test("callbacks.bpf.o", "use_callbacks");
    let vm_r0 = t.run().unwrap().ret;
    assert_eq!(vm_r0, k.run("use_callbacks").unwrap());
    assert_eq!(vm_r0, 2, "XDP_PASS: 2 * (0 + 1 + 2 + 3) == 12");
}

#[test]
fn for_each_map_elem_and_timers_agree_with_the_kernel() {
    if !available("for_each_map_elem_and_timers_agree_with_the_kernel") {
        return;
    }
    let k = Pinned::load("vm_helpers.bpf.o").unwrap();
    let mut t = vm_test("vm_helpers.bpf.o", "each_elem");
    for i in 0..4u32 {
        let v = 10u64.pow(i);
        k.update("vals", &i.to_le_bytes(), &v.to_le_bytes())
            .unwrap();
        t.map::<u32, u64>("vals").unwrap().set(&i, &v).unwrap();
    }
    // Every element, then (stop_at = 1 in .data) the first two.
    for stop_at in [99u32, 1] {
        let mut data = stop_at.to_le_bytes().to_vec();
        data.extend_from_slice(b"0123456789abcdef");
        k.update("vm_helpe_data", &0u32.to_le_bytes(), &data)
            .unwrap();
        t.set_global("stop_at", &stop_at).unwrap();
        let vm_r0 = t.run().unwrap().ret;
        assert_eq!(vm_r0, k.run("each_elem").unwrap(), "stop_at {stop_at}");
        let vm_sum: u64 = t.global("sum").unwrap();
        assert_eq!(vm_sum as i64, k.global("vm_helpe_bss", "sum").unwrap());
    }
    assert_eq!(t.global::<u64>("sum").unwrap(), 1111 + 11);

    // The timer: armed for 1 µs by each run; the kernel fires it in real time, the VM when
    // the clock advances. Two runs, two callbacks; the second init finds it busy.
    t.select("timer").unwrap();
    for _ in 0..2 {
        assert_eq!(t.run().unwrap().ret, k.run("timer").unwrap());
        std::thread::sleep(std::time::Duration::from_millis(50));
        t.advance_clock(1_000_000).unwrap();
    }
    for g in ["fired", "init_ret"] {
        let vm_v: i64 = t.global(g).unwrap();
        assert_eq!(vm_v, k.global("vm_helpe_bss", g).unwrap(), "{g}");
    }
    assert_eq!(t.global::<i64>("init_ret").unwrap(), -16);
}
