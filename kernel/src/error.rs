//! Typed errors. The library never prints: the CLI renders these.

use crate::sys::Errno;
use std::fmt;

/// The bpf(2) operation that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `BPF_MAP_CREATE`.
    MapCreate,
    /// `BPF_MAP_LOOKUP_ELEM`.
    MapLookup,
    /// `BPF_MAP_UPDATE_ELEM`.
    MapUpdate,
    /// `BPF_MAP_DELETE_ELEM`.
    MapDelete,
    /// `BPF_MAP_GET_NEXT_KEY`.
    MapGetNextKey,
    /// `BPF_PROG_LOAD`.
    ProgLoad,
    /// `BPF_PROG_TEST_RUN`.
    ProgTestRun,
    /// `BPF_BTF_LOAD`.
    BtfLoad,
    /// `BPF_MAP_FREEZE`.
    MapFreeze,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::MapCreate => "BPF_MAP_CREATE",
            Op::MapLookup => "BPF_MAP_LOOKUP_ELEM",
            Op::MapUpdate => "BPF_MAP_UPDATE_ELEM",
            Op::MapDelete => "BPF_MAP_DELETE_ELEM",
            Op::MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
            Op::ProgLoad => "BPF_PROG_LOAD",
            Op::ProgTestRun => "BPF_PROG_TEST_RUN",
            Op::BtfLoad => "BPF_BTF_LOAD",
            Op::MapFreeze => "BPF_MAP_FREEZE",
        })
    }
}

/// What went wrong talking to the kernel.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// EPERM: the caller lacks the privileges the operation needs.
    #[error("{op}: {errno}: {needs}")]
    PermissionDenied {
        /// The operation.
        op: Op,
        /// Always EPERM.
        errno: Errno,
        /// What is missing, e.g. "needs root, or CAP_BPF and CAP_PERFMON".
        needs: String,
    },
    /// The verifier rejected the program (EINVAL, EACCES and the like during `BPF_PROG_LOAD`).
    #[error("{}", verifier_message(*.errno, .log))]
    Verifier {
        /// The errno the load failed with.
        errno: Errno,
        /// The verifier log (may be empty when the kernel rejected the attributes before
        /// verification started).
        log: String,
    },
    /// Any other failed call.
    #[error("{op}: {errno}")]
    Sys {
        /// The operation.
        op: Op,
        /// The error number.
        errno: Errno,
    },
    /// An `lddw` map reference names a map index beyond the maps supplied at load time.
    #[error(
        "instruction {index}: `lddw` refers to map {map} but only {count} map(s) were supplied"
    )]
    MapIndex {
        /// Instruction index (not slot).
        index: usize,
        /// The map index in `imm`.
        map: u32,
        /// How many maps were supplied.
        count: usize,
    },
    /// A key or value buffer has the wrong size for the map.
    #[error("map {what} is {got} bytes but the map's {what} size is {expected}")]
    Size {
        /// "key" or "value".
        what: &'static str,
        /// The map's size.
        expected: usize,
        /// The given size.
        got: usize,
    },
    /// An input is larger than the kernel interface can carry.
    #[error("{what} is {got} bytes; at most {max} are allowed")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The input cannot be given to the kernel this way (a packet for a type that takes
    /// none, a CPU for a type that cannot choose one, ...): why.
    #[error("{0}")]
    Input(String),
    /// `BPF_MAP_CREATE` failed for a named map.
    #[error("map `{name}` ({map_type}): {op}: {errno}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    MapCreate {
        /// The map's name.
        name: String,
        /// Its type's name.
        map_type: &'static str,
        /// Always `BPF_MAP_CREATE`.
        op: Op,
        /// The error number.
        errno: Errno,
        /// The kernel's rule the attributes broke, when bpfx knows it.
        reason: Option<String>,
    },
    /// The kernel refused an object's BTF (`BPF_BTF_LOAD`); the log says why.
    #[error("BPF_BTF_LOAD: the kernel rejected the object's BTF ({errno}): {}", first_error_line(.log).unwrap_or("no log"))]
    Btf {
        /// The errno.
        errno: Errno,
        /// The kernel's BTF log.
        log: String,
    },
    /// An object's BTF cannot be made ready for the kernel (libbpf's load-time fix-ups
    /// failed: a data section BTF lists but the file lacks ...); it is not loaded.
    #[error("the object's BTF cannot be prepared for the kernel: {0}")]
    ObjectBtf(String),
    /// An object's extern cannot be resolved for this kernel.
    #[error("{0}")]
    Extern(#[from] obj::externs::ExternError),
    /// A program's attach target (fentry/fexit/tp_btf/lsm/iter) is not in the kernel's BTF,
    /// or the kernel's BTF cannot be read.
    #[error("program `{program}`: attach target `{target}`: {reason}")]
    AttachTarget {
        /// Program.
        program: String,
        /// The name looked up.
        target: String,
        /// Why it was not found.
        reason: String,
    },
    /// A one-slot instruction's immediate does not fit its 32-bit field.
    #[error("instruction {index}: immediate {imm} does not fit in 32 bits (only `lddw` takes 64)")]
    ImmRange {
        /// Instruction index.
        index: usize,
        /// The immediate.
        imm: i64,
    },
}

fn verifier_message(errno: Errno, log: &str) -> String {
    match first_error_line(log) {
        Some(line) => format!("the verifier rejected the program ({errno}): {line}"),
        None => format!("BPF_PROG_LOAD failed ({errno}) without a verifier log"),
    }
}

/// The line of a verifier log that states why it gave up: the last non-empty line that is
/// not the closing statistics (`processed N insns ...`, `verification time ...`).
pub fn first_error_line(log: &str) -> Option<&str> {
    log.lines().rev().map(str::trim).find(|l| {
        !l.is_empty()
            && !l.starts_with("processed ")
            && !l.starts_with("verification time")
            && !l.starts_with("stack depth")
            && !l.starts_with("mark_precise")
    })
}

impl Error {
    /// The errno, if the error came from the kernel.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::PermissionDenied { errno, .. }
            | Error::Verifier { errno, .. }
            | Error::Btf { errno, .. }
            | Error::Sys { errno, .. }
            | Error::MapCreate { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// Whether the error means bpf() cannot be used here at all (missing privileges, or no
    /// bpf(2) in this kernel or sandbox), rather than that one request was refused.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::PermissionDenied { .. })
            || matches!(self.errno(), Some(Errno(libc::ENOSYS)))
    }

    /// The verifier log, for a rejected program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            Error::Verifier { log, .. } => Some(log),
            _ => None,
        }
    }

    /// Builds the error for a failed call, naming missing privileges for EPERM.
    pub(crate) fn from_errno(op: Op, errno: Errno, needs: impl FnOnce() -> String) -> Error {
        if errno.0 == libc::EPERM {
            Error::PermissionDenied {
                op,
                errno,
                needs: needs(),
            }
        } else {
            Error::Sys { op, errno }
        }
    }
}

/// What an unprivileged caller is missing for bpf(2) in general. Mentions the sysctl that
/// forbids unprivileged bpf() outright when it is set.
pub(crate) fn needs_text(extra: &str) -> String {
    let mut s = String::from("needs root, or CAP_BPF and CAP_PERFMON");
    if !extra.is_empty() {
        s.push_str(extra);
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/unprivileged_bpf_disabled") {
        if v.trim() != "0" {
            s.push_str(&format!(
                " (kernel.unprivileged_bpf_disabled = {})",
                v.trim()
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_skips_statistics() {
        let log = "0: R1=ctx() R10=fp0\n0: (bf) r0 = r1\n1: (95) exit\nR0 leaks addr as return value\nprocessed 2 insns (limit 1000000) max_states_per_insn 0\n";
        assert_eq!(first_error_line(log), Some("R0 leaks addr as return value"));
        assert_eq!(first_error_line(""), None);
    }

    #[test]
    fn eperm_names_what_is_missing() {
        let e = Error::from_errno(Op::ProgLoad, Errno(libc::EPERM), || needs_text(""));
        let text = e.to_string();
        assert!(text.starts_with("BPF_PROG_LOAD: EPERM (Operation not permitted): needs root, or CAP_BPF and CAP_PERFMON"), "{text}");
        let e = Error::from_errno(Op::MapCreate, Errno(libc::ENOMEM), || unreachable!());
        assert_eq!(
            e,
            Error::Sys {
                op: Op::MapCreate,
                errno: Errno(libc::ENOMEM)
            }
        );
    }

    #[test]
    fn verifier_error_quotes_the_reason() {
        let e = Error::Verifier {
            errno: Errno(libc::EACCES),
            log: "0: (95) exit\nR0 !read_ok\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "the verifier rejected the program (EACCES (Permission denied)): R0 !read_ok"
        );
        assert_eq!(e.verifier_log(), Some("0: (95) exit\nR0 !read_ok\n"));
    }
}
