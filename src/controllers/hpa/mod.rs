//! HorizontalPodAutoscaler (autoscaling/v2) logic: the replica calculator and the
//! scaling rules with behavior, stabilization and limits ([`replica_calc`],
//! [`behavior`], pure functions), and the controller loop that drives them against the
//! store and the metrics APIs ([`controller`]).

pub mod behavior;
pub mod controller;
pub mod replica_calc;
