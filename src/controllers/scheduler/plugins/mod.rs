//! The default profile's plugins, as pure functions over precomputed node and pod data.

pub mod balanced_allocation;
pub mod gpu;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod noderesources;
pub mod pod_topology_spread;
pub mod taint_toleration;
