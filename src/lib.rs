//! velos: a process manager's smart-log and monitoring core.
//!
//! The library is organised along the data flow of `velos logs`:
//!
//! - [`level`] — the severity scale and its spellings.
//! - [`classify`] — gives every record a level; the level prefilter.
//!
//! The supervisor:
//!
//! - [`home`] — the runtime home (`$VELOS_HOME`) and its paths.
//! - [`ipc`] — the daemon's protocol and client, shared by CLI, daemon and TUI.
//! - [`daemon`] — the supervisor daemon and its subcommands.

pub mod classify;
pub mod daemon;
pub mod home;
pub mod ipc;
pub mod level;
