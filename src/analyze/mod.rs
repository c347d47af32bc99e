//! Analysis stages over records: mergeable accumulators that observe
//! records chunk by chunk, merge in chunk order and finish into report
//! parts (see [`stage::LogProcessor`]).
//!
//! - [`patterns`]: exact template counts and their grouping into patterns.
//! - [`counts`]: totals, levels, period, last error, restarts.
//! - [`dedup`]: repeats within a window collapsed into groups.
//! - [`series`]: one template's counts per minute and level.
//! - [`trends`]: per-pattern counts over time and their direction.
//! - [`anomaly`]: per-minute error rate and volume against their history.
//! - [`pipeline`]: the stages together, as one chunk's state.
//! - [`report`]: the finished report and the health score.
//! - [`config`]: the `[pipeline]` configuration.

pub mod anomaly;
pub mod config;
pub mod counts;
pub mod dedup;
pub mod idmap;
pub mod patterns;
pub mod pipeline;
pub mod report;
pub mod series;
pub mod stage;
pub mod trends;

pub use config::PipelineConfig;
pub use pipeline::Pipeline;
pub use stage::{Finish, LogProcessor, Observed};
