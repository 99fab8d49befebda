//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`): scheduling profiles,
//! plugins enabled and disabled per extension point, weights, plugin args and
//! `percentageOfNodesToScore`, loaded from YAML and validated as upstream
//! (pkg/scheduler/apis/config/validation/validation.go).

use super::profile::Profile;
use crate::error::Error;
use std::path::Path;

/// Scheduler settings read from a `KubeSchedulerConfiguration` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// The profiles, in file order (each serves its `schedulerName`).
    pub profiles: Vec<Profile>,
    /// Top-level `percentageOfNodesToScore` (0 = adaptive).
    pub percentage_of_nodes_to_score: usize,
    /// Where the settings came from (a path, for reports).
    pub source: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            profiles: vec![Profile::default()],
            percentage_of_nodes_to_score: 0,
            source: String::new(),
        }
    }
}

/// Loads and validates a `KubeSchedulerConfiguration` file.
pub fn load(path: &Path) -> Result<SchedulerSettings, Error> {
    Err(Error::Usage(format!(
        "{}: KubeSchedulerConfiguration loading is not implemented yet",
        path.display()
    )))
}
