//! `kubetwin validate -f FILE...`: checks manifests, scenario files and
//! `KubeSchedulerConfiguration` files without running anything; the first error exits 2
//! with file, line and field.

use super::EXIT_OK;
use crate::api::manifest;
use crate::controllers::scheduler::config;
use crate::error::Error;
use crate::workload::scenario::{Scenario, is_scenario};
use std::path::PathBuf;

/// Runs the command.
pub fn validate(files: &[PathBuf], recursive: bool) -> Result<i32, Error> {
    for path in manifest::expand_paths(files, recursive)? {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        if config::is_scheduler_config(&text) {
            let gpu = crate::controllers::scheduler::plugins::gpu::framework::registry(
                &Default::default(),
            );
            let s = config::parse_for_registry(&path.display().to_string(), &text, &gpu)?;
            for w in &s.warnings {
                eprintln!("{w}");
            }
            let names: Vec<&str> = s
                .profiles
                .iter()
                .map(|p| p.scheduler_name.as_str())
                .collect();
            println!(
                "{}: KubeSchedulerConfiguration is valid (profiles: {})",
                path.display(),
                names.join(", ")
            );
        } else if is_scenario(&text) {
            let s = Scenario::load(&path)?;
            for w in &s.warnings {
                eprintln!("{w}");
            }
            println!(
                "{}: scenario {:?} is valid ({} objects, {} actions, {} expectations)",
                path.display(),
                s.name,
                s.objects.len(),
                s.actions.len(),
                s.expectations.len()
            );
        } else {
            let r = manifest::load_paths(std::slice::from_ref(&path), recursive)?;
            for w in &r.warnings {
                eprintln!("{w}");
            }
            println!("{}: {} objects valid", path.display(), r.objects.len());
        }
    }
    Ok(EXIT_OK)
}
