//! Scheduler framework plugin status codes and the [`Status`] value returned by plugins.
//!
//! Port of `staging/src/k8s.io/kube-scheduler/framework/interface.go` (formerly
//! `pkg/scheduler/framework/interface.go`): `Code`, `Status`, `NewStatus`, `AsStatus`,
//! `IsSuccess`, `IsRejected`, `Message`. A `nil` upstream status is modelled as
//! [`Status::success`] (or an `Option<Status>` that is `None`, whichever the caller prefers).

use std::fmt;

/// Result code of a plugin call (upstream `framework.Code`, same order and names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Code {
    /// The plugin ran correctly and found the pod schedulable (upstream `Success`, 0).
    #[default]
    Success,
    /// An internal plugin error or unexpected input (upstream `Error`).
    Error,
    /// The pod cannot be scheduled on the node, but preemption might help (upstream `Unschedulable`).
    Unschedulable,
    /// The pod cannot be scheduled on the node and preemption would not help
    /// (upstream `UnschedulableAndUnresolvable`).
    UnschedulableAndUnresolvable,
    /// A Permit plugin asks the pod to wait (upstream `Wait`).
    Wait,
    /// The plugin is skipped for this pod (upstream `Skip`, from PreFilter/PreScore).
    Skip,
    /// The pod waits for some external condition, e.g. PreEnqueue (upstream `Pending`).
    Pending,
}

impl Code {
    /// The upstream `Code.String()` spelling, e.g. `"UnschedulableAndUnresolvable"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::Error => "Error",
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Wait => "Wait",
            Code::Skip => "Skip",
            Code::Pending => "Pending",
        }
    }

    /// Parses the upstream spelling produced by [`Code::as_str`].
    pub fn parse(s: &str) -> Option<Code> {
        Some(match s {
            "Success" => Code::Success,
            "Error" => Code::Error,
            "Unschedulable" => Code::Unschedulable,
            "UnschedulableAndUnresolvable" => Code::UnschedulableAndUnresolvable,
            "Wait" => Code::Wait,
            "Skip" => Code::Skip,
            "Pending" => Code::Pending,
            _ => return None,
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Outcome of a plugin call: a [`Code`], human-readable reasons and optionally the plugin
/// that produced it (upstream `*framework.Status`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Result code.
    pub code: Code,
    /// Human-readable reasons, in order (upstream `reasons`).
    pub reasons: Vec<String>,
    /// Name of the plugin that failed the pod, if recorded (upstream `plugin`).
    pub plugin: Option<&'static str>,
}

impl Status {
    /// A successful status without reasons (upstream `nil` / `NewStatus(Success)`).
    pub const fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
            plugin: None,
        }
    }

    /// A status with `code` and no reasons.
    pub const fn from_code(code: Code) -> Status {
        Status {
            code,
            reasons: Vec::new(),
            plugin: None,
        }
    }

    /// Upstream `NewStatus(code, reasons...)`.
    pub fn new<I, S>(code: Code, reasons: I) -> Status
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Status {
            code,
            reasons: reasons.into_iter().map(Into::into).collect(),
            plugin: None,
        }
    }

    /// Upstream `AsStatus(err)`: an `Error` status whose single reason is the error text.
    pub fn as_error(err: impl fmt::Display) -> Status {
        Status {
            code: Code::Error,
            reasons: vec![err.to_string()],
            plugin: None,
        }
    }

    /// Upstream `WithPlugin`: records the plugin that produced this status.
    #[must_use]
    pub fn with_plugin(mut self, plugin: &'static str) -> Status {
        self.plugin = Some(plugin);
        self
    }

    /// Upstream `AppendReason`.
    pub fn append_reason(&mut self, reason: impl Into<String>) {
        self.reasons.push(reason.into());
    }

    /// The status code.
    pub const fn code(&self) -> Code {
        self.code
    }

    /// Upstream `IsSuccess`: the code is `Success`.
    pub const fn is_success(&self) -> bool {
        matches!(self.code, Code::Success)
    }

    /// Upstream `IsWait`.
    pub const fn is_wait(&self) -> bool {
        matches!(self.code, Code::Wait)
    }

    /// Upstream `IsSkip`.
    pub const fn is_skip(&self) -> bool {
        matches!(self.code, Code::Skip)
    }

    /// Upstream `IsRejected`: `Unschedulable`, `UnschedulableAndUnresolvable` or `Pending`.
    pub const fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending
        )
    }

    /// Upstream `Message`: the reasons joined with `", "`.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.reasons.is_empty() {
            write!(f, ": {}", self.message())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_round_trip_and_order() {
        let all = [
            Code::Success,
            Code::Error,
            Code::Unschedulable,
            Code::UnschedulableAndUnresolvable,
            Code::Wait,
            Code::Skip,
            Code::Pending,
        ];
        for (i, c) in all.iter().enumerate() {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert_eq!(*c as usize, i);
        }
        assert_eq!(Code::parse("nope"), None);
    }

    #[test]
    fn status_predicates_and_message() {
        // Upstream interface_test.go TestStatus: message joins reasons with ", ".
        let s = Status::new(Code::Unschedulable, ["a", "b"]);
        assert_eq!(s.message(), "a, b");
        assert!(s.is_rejected());
        assert!(!s.is_success());
        assert!(Status::from_code(Code::Pending).is_rejected());
        assert!(!Status::from_code(Code::Error).is_rejected());
        assert!(Status::success().is_success());
        assert!(Status::from_code(Code::Skip).is_skip());
        assert!(Status::from_code(Code::Wait).is_wait());
        let e = Status::as_error("boom").with_plugin("X");
        assert_eq!(e.code(), Code::Error);
        assert_eq!(e.plugin, Some("X"));
        assert_eq!(e.to_string(), "Error: boom");
    }
}
