//! What this kernel lets this process do.

use crate::error::Error;
use crate::prog::{AttachType, LoadOptions, ProgType, Program, TestRun};
use asm::Insn;

/// `r0 = 0; exit`: valid for every type that has no attach target, and 0 is inside every
/// type's allowed return range.
fn trivial() -> [Insn; 2] {
    [Insn::mov64_imm(0, 0), Insn::exit()]
}

/// Whether bpf() can load and test-run programs here: `Err` holds the reason (e.g.
/// "BPF_PROG_LOAD: EPERM (Operation not permitted): needs root, or CAP_BPF and
/// CAP_PERFMON").
pub fn availability() -> Result<(), String> {
    let p =
        Program::load(&trivial(), &LoadOptions::new(ProgType::Xdp)).map_err(|e| e.to_string())?;
    p.test_run(&TestRun {
        data: &[0u8; 64],
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// State of the JIT compiler (`/proc/sys/net/core/bpf_jit_enable`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Jit {
    /// 0: the interpreter runs programs.
    Off,
    /// 1: programs are JIT-compiled.
    On,
    /// 2: JIT-compiled, with the image dumped to the kernel log.
    Debug,
    /// The file could not be read (the reason).
    Unknown(String),
}

/// Reads the JIT state.
pub fn jit() -> Jit {
    match std::fs::read_to_string("/proc/sys/net/core/bpf_jit_enable") {
        Ok(s) => match s.trim() {
            "0" => Jit::Off,
            "1" => Jit::On,
            "2" => Jit::Debug,
            other => Jit::Unknown(format!("unexpected value `{other}`")),
        },
        Err(e) => Jit::Unknown(e.to_string()),
    }
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
}

/// What happened when a trivial program of one type was loaded and test-run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeProbe {
    /// Loaded and test-ran.
    Runs,
    /// Loaded, but test runs failed (often ENOTSUPP: the type has no test_run).
    Loads(Error),
    /// The load failed (often: the type needs an attach target or BTF).
    Unloadable(Error),
}

/// The input a trivial test run of each type needs.
fn probe_input(t: ProgType) -> TestRun<'static> {
    static PACKET: [u8; 64] = [0; 64];
    // struct bpf_sk_lookup: family (offset 8) = AF_INET, protocol (offset 12) = IPPROTO_TCP;
    // bpf_prog_test_run_sk_lookup() refuses other families and protocols.
    static SK_LOOKUP: [u8; 72] = {
        let mut c = [0u8; 72];
        c[8] = 2;
        c[12] = 6;
        c
    };
    if t == ProgType::SkLookup {
        TestRun {
            ctx: &SK_LOOKUP,
            ..Default::default()
        }
    } else if crate::prog::takes_packet(t) {
        TestRun {
            data: &PACKET,
            ..Default::default()
        }
    } else {
        TestRun::default()
    }
}

/// Load options a trivial program of the type needs: some types are verified against an
/// attach type given at load time (`bpf_prog_load_check_attach`), and syscall programs must
/// be sleepable.
pub fn probe_options(t: ProgType) -> LoadOptions<'static> {
    let mut o = LoadOptions::new(t);
    o.expected_attach_type = match t {
        ProgType::CgroupSockAddr => Some(AttachType::CgroupInet4Connect),
        ProgType::LircMode2 => Some(AttachType::LircMode2),
        ProgType::CgroupSockopt => Some(AttachType::CgroupGetsockopt),
        ProgType::SkLookup => Some(AttachType::SkLookup),
        ProgType::Netfilter => Some(AttachType::Netfilter),
        _ => None,
    };
    if t == ProgType::Syscall {
        o.flags = 1 << 4; // BPF_F_SLEEPABLE
    }
    o
}

/// Loads and test-runs a trivial program of the type.
pub fn probe_type(t: ProgType) -> TypeProbe {
    let p = match Program::load(&trivial(), &probe_options(t)) {
        Ok(p) => p,
        Err(e) => return TypeProbe::Unloadable(e),
    };
    match p.test_run(&probe_input(t)) {
        Ok(_) => TypeProbe::Runs,
        Err(e) => TypeProbe::Loads(e),
    }
}

/// Everything `bpfx kernel probe` reports.
#[derive(Clone, Debug)]
pub struct Report {
    /// `uname -r`.
    pub release: Option<String>,
    /// `Ok` when bpf() works for this process, else the reason.
    pub usable: Result<(), String>,
    /// JIT state.
    pub jit: Jit,
    /// Each program type and what happened (empty when bpf() is unusable).
    pub types: Vec<(ProgType, TypeProbe)>,
}

/// Probes the kernel.
pub fn report() -> Report {
    let usable = availability();
    let types = if usable.is_ok() {
        ProgType::ALL.iter().map(|t| (*t, probe_type(*t))).collect()
    } else {
        Vec::new()
    };
    Report {
        release: kernel_release(),
        usable,
        jit: jit(),
        types,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_options_carry_the_attach_types_the_kernel_checks() {
        let at = |t| probe_options(t).expected_attach_type;
        assert_eq!(at(ProgType::SkLookup), Some(AttachType::SkLookup));
        assert_eq!(
            at(ProgType::CgroupSockAddr),
            Some(AttachType::CgroupInet4Connect)
        );
        assert_eq!(at(ProgType::Xdp), None);
        assert_eq!(AttachType::SkLookup.number(), 36);
    }
}
