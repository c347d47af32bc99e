//! velos: a process manager's smart-log and monitoring core.
//!
//! The library is organised along the data flow of `velos logs`:
//!
//! - [`level`] — the severity scale and its spellings.
//! - [`normalize`] — message templates and their ids, header layouts.
//! - [`analyze`] — mergeable analysis stages (pattern grouping).

pub mod analyze;
pub mod level;
pub mod normalize;
