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
    /// Fault injection: watch delivery delays and paused controllers.
    faults: ManagerFaults,
}

/// What faults do to the manager: a watch latency delays the delivery of store
/// changes to every controller (they still read the current store when they
/// reconcile), and a paused controller (`schedulerDown`) keeps its queued keys without
/// reconciling them until it resumes.
#[derive(Default)]
struct ManagerFaults {
    /// The active watch latencies (the largest applies).
    watch_delays: Vec<crate::engine::SimDuration>,
    /// Changes waiting for delivery, with their due time, in store order.
    delayed: std::collections::VecDeque<(SimTime, crate::api::Change)>,
    /// The delivery wake already requested.
    deliver_at: Option<SimTime>,
    /// How many faults pause each controller, by index.
    paused: Vec<u32>,
}

/// A timer or backend event requested by a controller, for the runtime to schedule.
#[derive(Debug, Clone)]
pub enum Wake {
    /// Reconcile `key` of controller `idx`.
    Timer(ControllerIdx, Key),
    /// Deliver a container event to controller `idx`.
    Container(ControllerIdx, ContainerEvent),
    /// Deliver delayed watch events (a watch latency fault); the runtime only settles.
    Deliver,
}

/// A guard against feedback loops between controllers at one instant.
const MAX_ROUNDS_PER_INSTANT: usize = 100_000;

impl Manager {
    /// A manager running `controllers` in this order; each gets the RNG stream
    /// `controller/<name>`.
    pub fn new(controllers: Vec<Box<dyn Controller>>, streams: &RngStreams) -> Manager {
        let slots: Vec<Slot> = controllers
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
        let paused = vec![0; slots.len()];
        Manager {
            slots,
            reconciles: 0,
            faults: ManagerFaults {
                paused,
                ..ManagerFaults::default()
            },
        }
    }

    /// Pauses (or resumes, with `on` false) controller `idx`: while paused it keeps
    /// its work queue but reconciles nothing. Pauses nest.
    pub fn pause(&mut self, idx: ControllerIdx, on: bool) {
        if let Some(p) = self.faults.paused.get_mut(idx) {
            *p = if on { *p + 1 } else { p.saturating_sub(1) };
        }
    }

    /// Starts (or ends, with `on` false) a watch latency of `delay`: changes made while
    /// one is active reach the controllers that much later (the largest active delay).
    pub fn watch_latency(&mut self, delay: crate::engine::SimDuration, on: bool) {
        let d = &mut self.faults.watch_delays;
        if on {
            d.push(delay);
        } else if let Some(i) = d.iter().position(|x| *x == delay) {
            d.remove(i);
        }
    }

    /// Moves the store's pending changes behind the watch delay; returns the changes
    /// due by `now`, in order.
    fn due_changes(&mut self, now: SimTime, store: &mut Store) -> Vec<crate::api::Change> {
        let changes = store.take_changes();
        let f = &mut self.faults;
        let delay = f.watch_delays.iter().copied().max();
        if delay.is_none() && f.delayed.is_empty() {
            return changes;
        }
        let due = now + delay.unwrap_or(crate::engine::SimDuration::ZERO);
        f.delayed.extend(changes.into_iter().map(|c| (due, c)));
        let mut out = Vec::new();
        while f.delayed.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, c)) = f.delayed.pop_front() {
                out.push(c);
            }
        }
        out
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
            let changes = self.due_changes(now, store);
            for ch in &changes {
                for s in &mut self.slots {
                    s.controller.on_change(ch, store, &mut s.queue);
                }
            }
            let mut worked = false;
            for idx in 0..self.slots.len() {
                if self.faults.paused[idx] > 0 {
                    continue;
                }
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
                break;
            }
        }
        // Delayed watch events: one wake at the earliest due time.
        let f = &mut self.faults;
        if let Some((t, _)) = f.delayed.front()
            && f.deliver_at.is_none_or(|d| d <= now || d > *t)
        {
            f.deliver_at = Some(*t);
            wakes.push((*t, Wake::Deliver));
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
