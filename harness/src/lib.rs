//! Declarative BPF unit tests: a TOML file names a program and its cases; engines (bpfx's
//! VM, the host kernel, later kernels in VMs) run the cases; one [`check()`] holds each
//! engine's [`Observation`] against the case's expectations, and one [`compare`] holds the
//! VM's against the kernel's.
//!
//! ```toml
//! # xdp_count.toml: next to the object clang built
//! object = "xdp_count.bpf.o"
//! program = "count_proto"
//!
//! [[case]]
//! name = "an IPv6 packet is counted and passed"
//! packet = "ffffffffffff 020000000001 86dd 6000000000000000"
//! maps.counts = [[6, 4]]          # initial contents
//! expect.ret = "XDP_PASS"         # or an integer
//! expect.maps.counts = [[6, 5]]   # hash maps: exactly these entries
//!
//! [[case]]
//! name = "an assembly program with its own map"
//! # (in a file with `asm = "count.s"`, `type = "xdp"` and [[map]] tables instead)
//! repeat = 3
//! expect.insns = 26
//! expect.trace = ["hello"]
//! expect.ringbuf.events = ["01000000ab000000"]
//! ```
//!
//! In Rust:
//!
//! ```no_run
//! use harness::{run_file, Mode, Status};
//! let report = run_file("tests/xdp_count.toml".as_ref(), Mode::Vm, None);
//! for case in report.cases.unwrap() {
//!     assert!(matches!(case.status, Status::Passed(_)), "{}", case.name);
//! }
//! ```
//!
//! The pure-VM Rust API for writing such tests in Rust (`Test::open(..).run_packet(..)`)
//! stays `vm::testing`; the VM engine here is built on it.
//!
//! Every conversion to the VM's and the kernel crate's own types is in [`convert`].

pub mod check;
pub mod convert;
pub mod engine;
pub mod observation;
pub mod program;
pub mod runner;
pub mod schema;
pub mod single;

pub use check::{check, unchecked, Mismatch};
pub use engine::{Engine, HostKernel, Outcome, Source, Suite, VmEngine};
pub use observation::{compare, MapContents, Observation, ObservedMap, Row};
pub use program::{create_kernel_maps, Program};
pub use runner::{run_file, run_files, CaseReport, FileReport, Mode, Status, Totals};
pub use schema::{Case, Expect, TestFile};
