//! `--kconfig FILE`: an object's `__kconfig` externs take their values from a given
//! configuration in the VM and the verifier (`testdata/elf/extern_values.bpf.o`), and
//! without one the program is refused naming the extern.

use std::process::{Command, Output};

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("bpfx runs")
}

const OBJ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/elf/extern_values.bpf.o"
);

#[test]
fn kconfig_values_come_from_the_file() {
    let dir = std::env::temp_dir().join(format!("bpfx-kconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("config");
    std::fs::write(
        &kc,
        "CONFIG_BPF_SYSCALL=y\nCONFIG_XFS_FS=m\nCONFIG_HZ=300\nCONFIG_DEFAULT_HOSTNAME=\"bpfx\"\nLINUX_KERNEL_VERSION=6.18.44\n",
    )
    .unwrap();
    let kc = kc.to_str().unwrap();
    let out = bpfx(&["run", "--kconfig", kc, "--program", "kconfig_values", OBJ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // 300 + 'b' + 6
    assert!(
        stdout.contains("r0 = 0x194 (404)"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bpfx(&[
        "verify",
        "--kconfig",
        kc,
        "--program",
        "kconfig_values",
        OBJ,
    ]);
    assert_eq!(out.status.code(), Some(0));
    // Without the file: refused, naming the extern.
    let out = bpfx(&["run", "--program", "kconfig_values", OBJ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("uses extern `CONFIG_BPF_SYSCALL`"),
        "{stderr}"
    );
    // A value of the wrong kind names the extern too.
    std::fs::write(dir.join("bad"), "CONFIG_BPF_SYSCALL=m\n").unwrap();
    let bad = dir.join("bad");
    let out = bpfx(&[
        "run",
        "--kconfig",
        bad.to_str().unwrap(),
        "--program",
        "kconfig_values",
        OBJ,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("extern `CONFIG_BPF_SYSCALL`: value `m` implies a tristate or char type"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
