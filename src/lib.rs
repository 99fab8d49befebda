//! kubetwin: a deterministic Kubernetes cluster simulator and digital twin.
//!
//! Real Kubernetes control loops (scheduler, ReplicaSet, kubelet, node lifecycle, ...)
//! ported from upstream run in a discrete-event engine against simulated nodes and
//! containers: hours of cluster time in seconds, identical for the same seed on any
//! machine. See `DESIGN.md` for the architecture and the determinism contract.

// Input errors carry their source text for miette's snippets; they only travel on the
// cold error path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod backend;
pub mod cli;
pub mod compare;
pub mod conformance;
pub mod controllers;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod faults;
pub mod metrics;
pub mod replay;
pub mod report;
pub mod simulation;
pub mod sweep;
pub mod workload;
