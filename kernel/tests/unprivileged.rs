//! Unprivileged callers: bpf() must fail with a reason that names what is missing, and the
//! kernel tests must skip rather than fail. As root this test drops to `nobody` with
//! setpriv(1) and runs itself again.

use std::os::unix::fs::MetadataExt;
use std::process::Command;

const CHILD: &str = "BPFX_UNPRIV_CHILD";

fn check_reason() {
    match kernel::probe::availability() {
        Ok(()) => println!(
            "skipped: bpf() works for this unprivileged user (unprivileged_bpf_disabled = 0)"
        ),
        Err(reason) => {
            assert!(reason.contains("EPERM"), "{reason}");
            assert!(
                reason.contains("needs root, or CAP_BPF and CAP_PERFMON"),
                "{reason}"
            );
            println!("child: EPERM reported: {reason}");
        }
    }
}

#[test]
fn unprivileged_users_are_told_why() {
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if std::env::var_os(CHILD).is_some() || euid != 0 {
        check_reason();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = match Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "unprivileged_users_are_told_why",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("skipped: cannot run setpriv ({e})");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Permission denied") && !out.status.success() && !stdout.contains("running")
    {
        println!(
            "skipped: `nobody` cannot execute {} ({stderr})",
            exe.display()
        );
        return;
    }
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child: EPERM reported") || stdout.contains("skipped: bpf() works"),
        "{stdout}"
    );
}
