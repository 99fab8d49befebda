//! PodDisruptionBudgets: the rules (status computation from
//! pkg/controller/disruption and the eviction decision from
//! pkg/registry/core/pod/storage/eviction.go), the disruption controller that keeps
//! PDB status current, and the Eviction API.

pub mod controller;
pub mod eviction;
pub mod rules;
