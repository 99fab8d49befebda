//! PodDisruptionBudget logic: status computation (pkg/controller/disruption) and the
//! eviction API's decision (pkg/registry/core/pod/storage/eviction.go).

pub mod rules;
