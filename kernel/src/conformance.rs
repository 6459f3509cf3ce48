//! Running bpf_conformance cases in the kernel, with the kernel's known refusals named.

use crate::error::{first_error_line, Error};
use crate::run::{run, RunInput};
use asm::Insn;

/// Programs the kernel refuses on purpose, recognised by the verifier's message. Each entry
/// is (message prefix, why).
pub const KNOWN_REJECTIONS: &[(&str, &str)] = &[
    (
        "invalid shift ",
        "the verifier rejects constant shifts by at least the operand width (check_alu_op), \
         which RFC 9669 defines by masking the shift amount",
    ),
    (
        "unknown opcode 8d",
        "Linux has no `callx` (BPF_JMP | BPF_CALL | BPF_X) for eBPF programs",
    ),
];

/// The known-rejection explanation matching a verifier log, if any.
pub fn known_rejection(log: &str) -> Option<&'static str> {
    let line = first_error_line(log)?;
    KNOWN_REJECTIONS
        .iter()
        .find(|(prefix, _)| line.starts_with(prefix))
        .map(|(_, why)| *why)
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// r0 matched.
    Pass,
    /// r0 differed.
    Mismatch {
        /// The expected value.
        expected: u64,
        /// What the kernel returned.
        got: u64,
    },
    /// The verifier refused it for a documented kernel reason.
    ExpectedRejection {
        /// The verifier's message.
        message: String,
        /// Why the kernel refuses it.
        why: &'static str,
    },
    /// The kernel refused it or failed otherwise.
    Error(Error),
}

/// Runs one case in memory mode and compares r0 with `expected`.
pub fn run_case(prog: &[Insn], mem: &[u8], expected: u64) -> Outcome {
    match run(
        prog,
        &RunInput {
            mem,
            ..Default::default()
        },
    ) {
        Ok(out) if out.r0 == expected => Outcome::Pass,
        Ok(out) => Outcome::Mismatch {
            expected,
            got: out.r0,
        },
        Err(Error::Verifier { log, errno }) => match known_rejection(&log) {
            Some(why) => Outcome::ExpectedRejection {
                message: first_error_line(&log).unwrap_or_default().to_string(),
                why,
            },
            None => Outcome::Error(Error::Verifier { log, errno }),
        },
        Err(e) => Outcome::Error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_rejections_match_the_final_line_only() {
        assert!(known_rejection(
            "0: (b7) r0 = 0\n1: (67) r0 <<= 64\ninvalid shift 64\nprocessed 2 insns\n"
        )
        .is_some());
        assert!(known_rejection("unknown opcode 8d\n").is_some());
        assert_eq!(
            known_rejection("invalid shift 3 earlier\nR0 !read_ok\n"),
            None
        );
        assert_eq!(known_rejection(""), None);
    }
}
