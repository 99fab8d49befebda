//! The control loops and their runtime-agnostic contract.
//!
//! A [`Controller`] turns watch events into keys on its work queue
//! ([`Controller::on_change`]) and reconciles one key at a time
//! ([`Controller::reconcile`]), returning what it wants next: nothing until the next
//! change, or a requeue after a delay. It reads and writes only through the store and
//! asks for timers through its [`Ctx`]; it never reads a clock or an RNG that is not
//! handed to it, which is what lets the same code run simulated and live.

pub mod cluster_autoscaler;
pub mod deployment;
pub mod disruption;
pub mod drain;
pub mod garbage;
pub mod hpa;
pub mod kubelet;
pub mod manager;
pub mod metrics_server;
pub mod node_lifecycle;
pub mod replicaset;
pub mod scheduler;

use crate::api::{Change, Kind, Store};
use crate::backend::ContainerEvent;
use crate::engine::{SimDuration, SimRng, SimTime};
use std::collections::{BTreeSet, VecDeque};

/// What a controller reconciles: an object, or the controller's singleton key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The object's kind.
    pub kind: Kind,
    /// The object's id in its arena (`u32::MAX` for [`Key::SINGLETON`]).
    pub id: u32,
}

impl Key {
    /// The key of a controller that works on the whole cluster at once (the scheduler
    /// cycle, the node monitor).
    pub const SINGLETON: Key = Key {
        kind: Kind::Namespace,
        id: u32::MAX,
    };
    /// A key for an object.
    pub fn new(kind: Kind, id: u32) -> Key {
        Key { kind, id }
    }
}

/// What a reconcile wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing until a relevant change arrives.
    Done,
    /// Reconcile this key again after the delay (upstream `AddAfter`).
    RequeueAfter(SimDuration),
}

/// A de-duplicating FIFO work queue (client-go's workqueue: a key queued twice is
/// processed once).
#[derive(Debug, Default)]
pub struct WorkQueue {
    queue: VecDeque<Key>,
    queued: BTreeSet<Key>,
}

impl WorkQueue {
    /// Queues a key unless it is already waiting.
    pub fn add(&mut self, key: Key) {
        if self.queued.insert(key) {
            self.queue.push_back(key);
        }
    }
    /// Takes the next key.
    pub fn pop(&mut self) -> Option<Key> {
        let k = self.queue.pop_front()?;
        self.queued.remove(&k);
        Some(k)
    }
    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Requests a reconcile makes of the runtime.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Timers: reconcile `Key` at the given time.
    pub timers: Vec<(SimTime, Key)>,
    /// Container lifecycle events the backend predicts (simulation) or reports (live).
    pub container_events: Vec<(SimTime, ContainerEvent)>,
}

/// What a controller may touch while reconciling.
pub struct Ctx<'a> {
    /// The current time.
    pub now: SimTime,
    /// The store (listers and writes).
    pub store: &'a mut Store,
    /// The controller's own random stream.
    pub rng: &'a mut SimRng,
    /// Timers and backend events to schedule.
    pub out: &'a mut Outbox,
}

impl Ctx<'_> {
    /// Asks for `key` to be reconciled again at `at`.
    pub fn requeue_at(&mut self, at: SimTime, key: Key) {
        self.out.timers.push((at, key));
    }
}

/// A control loop.
pub trait Controller {
    /// A short stable name (`replicaset`, `scheduler`), used for RNG streams and logs.
    fn name(&self) -> &'static str;
    /// Maps a watch event to keys on the work queue.
    fn on_change(&mut self, change: &Change, store: &Store, queue: &mut WorkQueue);
    /// Reconciles one key.
    fn reconcile(&mut self, key: Key, ctx: &mut Ctx<'_>) -> Next;
    /// Handles a container event from the backend (only the kubelet cares).
    fn on_container_event(&mut self, _event: &ContainerEvent, _ctx: &mut Ctx<'_>) {}
    /// Handles a client-side request (a `kubectl drain` in progress); returns the key to
    /// queue, if the controller serves the request.
    fn request(&mut self, _req: &Request) -> Option<Key> {
        None
    }
}

/// Client-side operations that run as loops (kubectl's own retry loops).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `kubectl drain NODE [--force]`.
    Drain {
        /// The node's id.
        node: u32,
        /// Evict pods that no controller manages, too.
        force: bool,
    },
}
