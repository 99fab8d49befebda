//! `spec.traces` in a run: each trace keeps exactly one action in the event queue; when
//! it runs, the next is read. A trace's delete or scale of an object that does not exist
//! when it runs, or a load event naming no `spec.load` entry, fails the run with the
//! trace's file and line (exit 2, no report written).

use super::{Ev, Runtime};
use crate::engine::SimTime;
use crate::error::{Error, InputError};
use crate::workload::{Action, TimedAction};

impl Runtime<'_> {
    /// Opens every trace and queues its first action.
    pub(super) fn start_traces(&mut self, stop: SimTime) -> Result<(), Error> {
        for t in &self.scenario.traces {
            self.traces.push(Some(t.start()?));
            self.trace_next.push(None);
        }
        for k in 0..self.traces.len() {
            self.pull_trace(k, stop)?;
        }
        Ok(())
    }

    /// Reads trace `k`'s next action into the event queue (if due by `stop`).
    fn pull_trace(&mut self, k: usize, stop: SimTime) -> Result<(), Error> {
        let Some(it) = self.traces[k].as_mut() else {
            return Ok(());
        };
        match it.next() {
            Some(Ok(a)) if a.at <= stop => {
                self.queue.schedule(a.at, Ev::Trace(k));
                self.trace_next[k] = Some(a);
            }
            Some(Err(e)) => return Err(e),
            _ => self.traces[k] = None,
        }
        Ok(())
    }

    /// Runs trace `k`'s pending action and queues the next.
    pub(super) fn trace_event(
        &mut self,
        k: usize,
        now: SimTime,
        stop: SimTime,
    ) -> Result<(), Error> {
        if let Some(a) = self.trace_next[k].take() {
            self.check_target(&a)?;
            self.perform(&a, now)?;
        }
        self.pull_trace(k, stop)
    }

    fn check_target(&self, a: &TimedAction) -> Result<(), Error> {
        let (kind, namespace, name) = match &a.action {
            Action::Delete {
                kind,
                namespace,
                name,
            }
            | Action::Scale {
                kind,
                namespace,
                name,
                ..
            } => (*kind, namespace, name),
            _ => return Ok(()),
        };
        if self.store.id_of(kind, namespace, name).is_some() {
            return Ok(());
        }
        let (file, line, column, field) = &a.source;
        let ns = if kind.namespaced() {
            format!(" in namespace {namespace:?}")
        } else {
            String::new()
        };
        Err(InputError::at(
            file,
            *line,
            *column,
            field,
            format!(
                "unknown object: {kind} {name:?}{ns} does not exist at {} ({})",
                a.at, a.description
            ),
        )
        .into())
    }

    /// A trace's load event: the entry's offered rate becomes `rps` from `now` on.
    pub(super) fn set_load(
        &mut self,
        a: &TimedAction,
        name: &str,
        rps: f64,
        now: SimTime,
    ) -> Result<(), Error> {
        if self.load.borrow_mut().set_rps(name, rps, now) {
            return Ok(());
        }
        let (file, line, column, _) = &a.source;
        let names: Vec<String> = self.scenario.load.iter().map(|l| l.name.clone()).collect();
        Err(InputError::at(
            file,
            *line,
            *column,
            "object",
            format!(
                "no spec.load entry named {name:?} (entries: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )
        .into())
    }
}
