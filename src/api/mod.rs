//! The API layer: typed objects with the API server's defaults, Kubernetes quantities,
//! label selectors, taints and tolerations, node affinity, manifest loading, and the
//! [`store`](Store) that plays apiserver and etcd.

pub mod affinity;
pub mod convert;
pub mod hpa;
pub mod location;
pub mod manifest;
pub mod objects;
pub mod quantity;
pub mod resources;
pub mod selector;
pub mod store;
pub mod taint;

pub use objects::{
    ConditionStatus, Container, Deployment, Kind, Node, Object, ObjectMeta, OwnerRef, Pod,
    PodPhase, PodSpec, ReplicaSet, RestartPolicy, Uid,
};
pub use resources::Resources;
pub use store::{Change, Op, Store};
