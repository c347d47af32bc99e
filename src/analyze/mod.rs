//! Analysis stages over records: mergeable accumulators that observe
//! records chunk by chunk, merge in chunk order and finish into report
//! parts.
//!
//! - [`patterns`]: exact template counts and their grouping into patterns.

pub mod patterns;
