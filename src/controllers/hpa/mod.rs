//! HorizontalPodAutoscaler (autoscaling/v2) logic: the replica calculator and the
//! scaling rules with behavior, stabilization and limits ([`replica_calc`],
//! [`behavior`], pure functions), and the controller loop that drives them against the
//! store and the metrics APIs ([`controller`]), with an allocation-free form of the
//! Utilization calculation for its hot path ([`fast_resource`]).

pub mod behavior;
pub mod controller;
pub mod fast_resource;
pub mod replica_calc;
