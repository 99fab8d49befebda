//! Readers for public cluster traces.

pub mod bytedance;
pub mod dlrm;
pub mod kubetwin;
pub mod openb;
pub mod openb_run;
pub mod simkube;
pub mod source;
pub mod spec;
