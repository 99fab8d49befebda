//! The controller manager: owns the controllers, their work queues and RNG streams,
//! delivers watch events to them and drains their queues until the cluster is
//! quiescent at the current instant. Timers and backend events go back to the runtime
//! as requests in an [`Outbox`].

use super::{Controller, Ctx, Key, Next, Outbox, WorkQueue};
use crate::api::Store;
use crate::backend::ContainerEvent;
use crate::engine::{RngStreams, SimRng, SimTime};

/// Index of a controller within the manager.
pub type ControllerIdx = usize;

struct Slot {
    controller: Box<dyn Controller>,
    queue: WorkQueue,
    rng: SimRng,
}

/// Runs a fixed list of controllers.
pub struct Manager {
    slots: Vec<Slot>,
    /// Reconciles performed (for statistics).
    pub reconciles: u64,
}

/// A timer or backend event requested by a controller, for the runtime to schedule.
#[derive(Debug, Clone)]
pub enum Wake {
    /// Reconcile `key` of controller `idx`.
    Timer(ControllerIdx, Key),
    /// Deliver a container event to controller `idx`.
    Container(ControllerIdx, ContainerEvent),
}

/// A guard against feedback loops between controllers at one instant.
const MAX_ROUNDS_PER_INSTANT: usize = 100_000;

impl Manager {
    /// A manager running `controllers` in this order; each gets the RNG stream
    /// `controller/<name>`.
    pub fn new(controllers: Vec<Box<dyn Controller>>, streams: &RngStreams) -> Manager {
        let slots = controllers
            .into_iter()
            .map(|c| {
                let rng = streams.stream(&format!("controller/{}", c.name()));
                Slot {
                    controller: c,
                    queue: WorkQueue::default(),
                    rng,
                }
            })
            .collect();
        Manager {
            slots,
            reconciles: 0,
        }
    }

    /// The index of the controller called `name`.
    pub fn index_of(&self, name: &str) -> Option<ControllerIdx> {
        self.slots.iter().position(|s| s.controller.name() == name)
    }

    /// Queues a key on a controller directly (timers, actions).
    pub fn enqueue(&mut self, idx: ControllerIdx, key: Key) {
        if let Some(s) = self.slots.get_mut(idx) {
            s.queue.add(key);
        }
    }

    /// Hands a client-side request to every controller; the ones that serve it queue a key.
    pub fn request(&mut self, req: &super::Request) {
        for s in &mut self.slots {
            if let Some(k) = s.controller.request(req) {
                s.queue.add(k);
            }
        }
    }

    /// Delivers a container event to a controller and then settles.
    pub fn container_event(
        &mut self,
        idx: ControllerIdx,
        ev: &ContainerEvent,
        now: SimTime,
        store: &mut Store,
    ) -> Vec<(SimTime, Wake)> {
        let mut out = Outbox::default();
        if let Some(s) = self.slots.get_mut(idx) {
            let mut ctx = Ctx {
                now,
                store,
                rng: &mut s.rng,
                out: &mut out,
            };
            s.controller.on_container_event(ev, &mut ctx);
        }
        let mut wakes = convert(idx, out);
        wakes.extend(self.settle(now, store));
        wakes
    }

    /// Delivers pending watch events and drains every work queue, repeatedly, until no
    /// change and no queued key remains. Returns the timers and backend events requested.
    pub fn settle(&mut self, now: SimTime, store: &mut Store) -> Vec<(SimTime, Wake)> {
        let mut wakes = Vec::new();
        for _ in 0..MAX_ROUNDS_PER_INSTANT {
            let changes = store.take_changes();
            for ch in &changes {
                for s in &mut self.slots {
                    s.controller.on_change(ch, store, &mut s.queue);
                }
            }
            let mut worked = false;
            for idx in 0..self.slots.len() {
                while let Some(key) = self.slots[idx].queue.pop() {
                    worked = true;
                    self.reconciles += 1;
                    let mut out = Outbox::default();
                    let s = &mut self.slots[idx];
                    let mut ctx = Ctx {
                        now,
                        store,
                        rng: &mut s.rng,
                        out: &mut out,
                    };
                    let next = s.controller.reconcile(key, &mut ctx);
                    if let Next::RequeueAfter(d) = next {
                        out.timers.push((now + d, key));
                    }
                    wakes.extend(convert(idx, out));
                    if store.has_changes() {
                        break;
                    }
                }
                if store.has_changes() {
                    break;
                }
            }
            if !worked && !store.has_changes() {
                return wakes;
            }
        }
        wakes
    }
}

fn convert(idx: ControllerIdx, out: Outbox) -> Vec<(SimTime, Wake)> {
    let mut v: Vec<(SimTime, Wake)> = out
        .timers
        .into_iter()
        .map(|(t, k)| (t, Wake::Timer(idx, k)))
        .collect();
    v.extend(
        out.container_events
            .into_iter()
            .map(|(t, e)| (t, Wake::Container(idx, e))),
    );
    v
}
