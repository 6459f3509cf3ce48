//! The Linux kernel as a BPF backend and oracle: the same bytecode the emulator runs, handed
//! to the running kernel so the two can be compared. bpf(2) is called directly (no libbpf)
//! to load programs, test-run them and use maps; classic filters go through seccomp(2) in a
//! child process and SO_ATTACH_FILTER on a socket.
//!
//! This is the only crate with `unsafe` code; every block says why it is sound. Programs
//! refer to maps by *index* into a list supplied at load time; the crate patches those
//! `lddw` references to file descriptors. Everything that needs privileges returns a typed
//! [`Error`]: for EPERM it names what is missing, for verifier rejections it carries the log.
//!
//! ```
//! use asm::Insn;
//! use kernel::run::{run, RunInput};
//!
//! // r0 = 0x1_0000_0002; exit: the wrapper observes all 64 bits of r0.
//! let prog = [Insn::lddw(0, 0x1_0000_0002), Insn::exit()];
//! match kernel::probe::availability() {
//!     Ok(()) => {
//!         let out = run(&prog, &RunInput::default()).unwrap();
//!         assert_eq!(out.r0, 0x1_0000_0002);
//!     }
//!     Err(reason) => println!("skipped: kernel unavailable ({reason})"),
//! }
//!
//! // Whether the kernel accepts a classic socket filter (SO_ATTACH_FILTER, no root needed).
//! let filter = asm::cbpf::bpf_asm::assemble("ret #0\n").unwrap();
//! if let Ok(verdict) = kernel::socket_filter::check(&filter) {
//!     assert!(verdict.is_ok());
//! }
//! ```
#![deny(missing_docs)]
#![allow(unsafe_code)]

pub mod btf;
pub mod btf_shape;
pub mod conformance;
pub mod cpu;
pub mod error;
pub mod map;
pub mod map_rules;
pub mod object;
pub mod perf;
pub mod probe;
pub mod prog;
pub mod ringbuf;
pub mod run;
pub mod seccomp;
pub mod socket_filter;
pub mod sys;
pub mod trace;

pub use error::{Error, Op};
pub use map::{Map, MapSpec, MapType};
pub use prog::{AttachType, LoadOptions, LogLevel, ProgType, Program, TestRun, TestRunResult};
