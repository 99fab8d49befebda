//! Deployment logic: the rolling-update, proportional-scaling, progress and history
//! rules ported from pkg/controller/deployment. The controller loop that drives them
//! arrives with the workloads work.

pub mod rules;
