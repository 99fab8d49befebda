//! The fault state the kubelet consults: container exits the runtime injects (a
//! container crash or an OOM kill) and the probe-flapping windows of pods. The runtime
//! writes it when a fault starts or ends and queues the pods concerned on the kubelet,
//! which applies them on its next reconcile of the pod.

use super::plan::Probe;
use crate::engine::SimTime;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// An injected container exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedExit {
    /// The exit code (1 for a crash, 137 for an OOM kill).
    pub code: i32,
    /// The termination reason (`Error`, `OOMKilled`).
    pub reason: &'static str,
}

/// A window in which a pod's probe fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flap {
    /// Which probe.
    pub probe: Probe,
    /// From.
    pub from: SimTime,
    /// Until (`None`: it never recovers).
    pub until: Option<SimTime>,
}

/// Shared handle to the fault state.
pub type SharedFaultState = Rc<RefCell<FaultState>>;

/// Per-pod faults, by pod id.
#[derive(Debug, Default)]
pub struct FaultState {
    exits: BTreeMap<u32, InjectedExit>,
    flaps: BTreeMap<u32, Vec<Flap>>,
}

impl FaultState {
    /// A new shared, empty state.
    pub fn shared() -> SharedFaultState {
        Rc::new(RefCell::new(FaultState::default()))
    }

    /// Makes the running containers of `pod` exit.
    pub fn inject_exit(&mut self, pod: u32, exit: InjectedExit) {
        self.exits.insert(pod, exit);
    }

    /// Takes the exit injected into `pod`, if any.
    pub fn take_exit(&mut self, pod: u32) -> Option<InjectedExit> {
        self.exits.remove(&pod)
    }

    /// Adds a probe-flapping window to `pod`.
    pub fn add_flap(&mut self, pod: u32, flap: Flap) {
        self.flaps.entry(pod).or_default().push(flap);
    }

    /// The flapping windows of `pod`.
    pub fn flaps(&self, pod: u32) -> &[Flap] {
        self.flaps.get(&pod).map_or(&[], Vec::as_slice)
    }

    /// Drops the windows of `pod` that ended before `now` and were applied.
    pub fn retain_flaps(&mut self, pod: u32, keep: impl FnMut(&Flap) -> bool) {
        if let Some(v) = self.flaps.get_mut(&pod) {
            v.retain(keep);
            if v.is_empty() {
                self.flaps.remove(&pod);
            }
        }
    }

    /// Forgets a removed pod.
    pub fn forget(&mut self, pod: u32) {
        self.exits.remove(&pod);
        self.flaps.remove(&pod);
    }
}
