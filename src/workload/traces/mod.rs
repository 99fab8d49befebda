//! Readers for public cluster traces.

pub mod bytedance;
pub mod openb;
