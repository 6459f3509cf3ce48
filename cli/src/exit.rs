//! Exit statuses shared by every subcommand.

/// Input rejected (the reason on stderr): an invalid program, a failed case.
pub const EXIT_REJECTED: u8 = 1;

/// Usage or I/O error.
pub const EXIT_USAGE: u8 = 2;

/// The kernel cannot be used here (the automake "skipped" convention).
pub const EXIT_UNAVAILABLE: u8 = 77;

/// The input was rejected (an invalid program or object, an empty file): `main` prints
/// `error: <message>` (nothing when the message is empty: the reasons are already on
/// stderr) and exits with [`EXIT_REJECTED`], whichever subcommand read it.
#[derive(Debug)]
pub struct Rejected(pub String);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rejected {}
