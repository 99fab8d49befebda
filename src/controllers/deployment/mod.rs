//! Deployment logic: the rolling-update, proportional-scaling, progress and history
//! rules ported from pkg/controller/deployment ([`rules`]) and the controller loop that
//! drives them ([`controller`]).

pub mod controller;
pub mod rules;
