//! Exit statuses shared by every subcommand.

#[allow(dead_code)] // the rejection paths still spell it `1`; kept here as the reference
/// Input rejected (the reason on stderr): an invalid program, a failed case.
pub const EXIT_REJECTED: u8 = 1;

/// Usage or I/O error.
pub const EXIT_USAGE: u8 = 2;

/// The kernel cannot be used here (the automake "skipped" convention).
pub const EXIT_UNAVAILABLE: u8 = 77;
