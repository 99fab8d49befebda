//! Run reports: the summary, metrics CSV, journal, SVG plots and the HTML page, written
//! atomically into `reports/<scenario>/<seed>/`.

pub mod annotate;
pub mod annotations;
pub mod html;
pub mod plots;
pub mod writer;

pub use writer::{summary, write_report};
