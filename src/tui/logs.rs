//! Where the log pane's lines come from: a [`LogFeed`] per selected
//! process — the incremental follower ([`Tail`]) over its log files —
//! polled without blocking, handing out new [`Line`]s.

use std::path::Path;

use crate::classify::Classifier;
use crate::follow::Tail;

pub use crate::follow::Line;

/// A source of new lines for the pane.
pub trait LogFeed {
    /// The lines written since the last call; never blocks. The first call
    /// returns the last lines already there.
    fn poll(&mut self) -> Vec<Line>;
}

impl LogFeed for Tail {
    fn poll(&mut self) -> Vec<Line> {
        Tail::poll(self)
    }
}

/// Lines shown when a process is selected.
pub const BACKLOG: usize = 200;

/// The feed of process `name`'s logs under `logs_dir` (`<name>.log`, or
/// the raw `-out`/`-err` pair), levels from `classifier` where the records
/// do not state them.
pub fn open(logs_dir: &Path, name: &str, classifier: &Classifier) -> Box<dyn LogFeed> {
    Box::new(Tail::process(logs_dir, name, BACKLOG).with_classifier(classifier.clone()))
}
