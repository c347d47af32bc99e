//! velos: a process manager's smart-log and monitoring core.
//!
//! The library is organised along the data flow of `velos logs`:
//!
//! - [`level`] — the severity scale and its spellings.
//! - [`classify`] — gives every record a level; the level prefilter.

pub mod classify;
pub mod cli;
pub mod config;
pub mod engine;
pub mod level;
pub mod frame;
pub mod output;
pub mod query;
pub mod source;
pub mod timestamp;
