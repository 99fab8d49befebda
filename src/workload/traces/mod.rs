//! Readers for public cluster traces.

pub mod openb;
