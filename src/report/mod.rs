//! Run reports: the summary, metrics CSV, journal, SVG plots (annotated with the run's
//! actions, faults, rollouts and autoscaling), the HTML page and `report.md`, written
//! atomically into `reports/<scenario>/<seed>/`.

pub mod annotate;
pub mod annotations;
pub mod expectations;
pub mod html;
pub mod markdown;
pub mod plots;
pub mod writer;

pub use writer::{summary, write_report};
