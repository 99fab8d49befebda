//! HorizontalPodAutoscaler (autoscaling/v2) logic: the replica calculator and the
//! scaling rules with behavior, stabilization and limits. The controller loop that
//! drives them arrives with the capacity-planning work.

pub mod behavior;
pub mod replica_calc;
