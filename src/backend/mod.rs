//! The one side-effect seam: starting and stopping a pod's containers and learning what
//! they do. The kubelet drives a [`Backend`]; the simulated backend ([`sim`]) predicts
//! container events from latency, run-time and crash models and the runtime delivers
//! them at their virtual times. A live backend (containerd) reports them as they happen.

pub mod sim;

use crate::api::{Pod, Uid};
pub use crate::controllers::kubelet::probes::AppModel;
use crate::engine::SimTime;

/// What happened to a pod's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerEventKind {
    /// The image is present and the containers are running.
    Started,
    /// The containers exited on their own with this code.
    Exited(i32),
    /// The containers stopped after a stop request (exit code, 137 when killed).
    Stopped(i32),
    /// The image could not be pulled (ErrImagePull); the kubelet backs off and retries.
    PullFailed,
}

/// A container lifecycle event for one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerEvent {
    /// The pod's id in the store.
    pub pod: u32,
    /// The pod's uid (events for a replaced pod with a reused id are ignored).
    pub uid: Uid,
    /// The start attempt this event belongs to (0 for the first start).
    pub attempt: u32,
    /// What happened.
    pub kind: ContainerEventKind,
}

/// A host runtime as the kubelet sees it.
pub trait Backend {
    /// Whether the node's kubelet (and its runtime) is up.
    fn node_alive(&self, node: &str) -> bool;
    /// The last time the node's kubelet renewed its lease, at or before `now`.
    fn last_heartbeat(&self, node: &str, now: SimTime) -> Option<SimTime>;
    /// How many times the node's machine has (re)started; containers of an earlier
    /// incarnation are gone.
    fn node_incarnation(&self, node: &str) -> u64;
    /// Registers a node joining at `now`.
    fn add_node(&mut self, node: &str, images: &[String], now: SimTime);
    /// Starts (or restarts, `attempt` > 0) a pod's containers on `node`; the resulting
    /// events are pushed to `out` with the times at which they happen.
    fn start(
        &mut self,
        pod: u32,
        p: &Pod,
        node: &str,
        attempt: u32,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    );
    /// Takes over a pod whose containers were already running when the run began (a
    /// pod imported from a cluster dump): no image pull, no start latency; the
    /// `Started` event is due at `now`. The default starts it as usual.
    fn adopt(
        &mut self,
        pod: u32,
        p: &Pod,
        node: &str,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    ) {
        self.start(pod, p, node, 0, now, out);
    }
    /// Asks a pod's containers to stop (SIGTERM, then SIGKILL after `grace_seconds`).
    fn stop(
        &mut self,
        pod: u32,
        p: &Pod,
        attempt: u32,
        grace_seconds: i64,
        now: SimTime,
        out: &mut Vec<(SimTime, ContainerEvent)>,
    );
    /// How the pod's application answers probes, relative to its containers' start (a
    /// random failure time is drawn per call, i.e. per container start).
    fn app_model(&mut self, p: &Pod) -> AppModel;
    /// Crashes a node: its kubelet and containers stop without reporting anything.
    fn crash_node(&mut self, node: &str, now: SimTime);
    /// Brings a crashed node's kubelet back (its containers are gone).
    fn restart_node(&mut self, node: &str, now: SimTime);
    /// Forgets a removed node.
    fn remove_node(&mut self, node: &str);
    /// Nodes whose kubelet is down, by name.
    fn down_nodes(&self) -> Vec<String>;
}
