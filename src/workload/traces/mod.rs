//! Readers for public cluster traces.

pub mod openb;
pub mod openb_run;
