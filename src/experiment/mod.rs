//! Experiments that hold kubetwin against published results.
//!
//! `gpu_fragmentation` reproduces the ATC'23 "Beware of Fragmentation" evaluation on the
//! Alibaba openb trace (see `docs/gpu-fragmentation.md`).

pub mod gpu_fragmentation;
pub mod gpu_plots;
pub mod gpu_results;
