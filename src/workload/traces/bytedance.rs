//! The ByteDance microservice cluster snapshots
//! (github.com/bytedance/...-research-cluster-dataset, Apache-2.0): one JSON file per
//! cluster (`M3.json`) with `ServiceList` (per service: per-container CPU and memory
//! requests, its containers, the machines it may use), `MachineList` (per machine: total
//! CPU and memory, the containers placed on it when the data was collected) and
//! `TrafficList` (traffic between service pairs, not modelled). Resources are
//! normalized so that the cluster's totals are 1.0.
//!
//! The snapshot becomes a digital twin ([`crate::workload::twin`]): machines become
//! Nodes (named by their desensitized IP), each service a Deployment with one
//! ReplicaSet (replicas = its containers) and each container a pod of that ReplicaSet
//! bound to its real machine, Running and Ready at time zero. Normalized shares are
//! scaled by [`BytedanceOptions`] (default: 5000 cores and 20000 GiB for the whole
//! cluster); requests are rounded down to whole millicores and bytes and capacities
//! up, so every real placement still fits. `CompatibleMachines` other than `*` become a
//! required node affinity on `kubernetes.io/hostname`. A container placed on no machine
//! becomes a pending pod (warning). Errors name the JSON file's line and column.

use crate::error::{Error, InputError};
use crate::workload::twin::{Twin, TwinWarning};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How normalized shares become quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BytedanceOptions {
    /// The whole cluster's CPU, in millicores (a share of 1.0).
    pub cpu_total_milli: i64,
    /// The whole cluster's memory, in bytes.
    pub memory_total_bytes: i64,
}

impl Default for BytedanceOptions {
    fn default() -> Self {
        BytedanceOptions {
            cpu_total_milli: 5_000_000,
            memory_total_bytes: 20_000 * (1 << 30),
        }
    }
}

/// The namespace of the imported objects.
pub const NAMESPACE: &str = "default";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Dataset {
    service_list: Vec<ServiceRec>,
    machine_list: Vec<MachineRec>,
    #[serde(default)]
    traffic_list: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ServiceRec {
    #[serde(rename = "Service")]
    service: String,
    #[serde(rename = "RequestCPU")]
    request_cpu: f64,
    #[serde(rename = "RequestMem")]
    request_mem: f64,
    #[serde(rename = "ContainerList")]
    container_list: Vec<String>,
    #[serde(rename = "CompatibleMachines")]
    compatible_machines: Compatible,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Compatible {
    Any(String),
    Some(Vec<String>),
}

#[derive(Deserialize)]
struct MachineRec {
    #[serde(rename = "MachineIP")]
    machine_ip: String,
    #[serde(rename = "TotalCPU")]
    total_cpu: f64,
    #[serde(rename = "TotalMem")]
    total_mem: f64,
    #[serde(rename = "InitialDeployingContainers")]
    initial_deploying_containers: Vec<String>,
}

/// The cluster file of a dataset path: the file itself, or `M3.json` (then any single
/// `*.json`) in the directory or its `dataset/` folder.
pub fn resolve(path: &Path) -> Result<PathBuf, Error> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    for dir in [path.join("dataset"), path.to_path_buf()] {
        let m3 = dir.join("M3.json");
        if m3.is_file() {
            return Ok(m3);
        }
    }
    Err(Error::Usage(format!(
        "{}: no ByteDance cluster file (expected M3.json or dataset/M3.json)",
        path.display()
    )))
}

/// 1-based (line, column) of the first `"needle"` after byte `from` in `text`.
fn locate(text: &str, needle: &str, from: usize) -> (usize, usize) {
    let quoted = format!("\"{needle}\"");
    let at = text[from.min(text.len())..]
        .find(&quoted)
        .map_or(0, |i| i + from.min(text.len()));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// A DNS-1123 name from a dataset name (`Service12` -> `service12`).
fn dns_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.ends_with(['-', '.']) {
        out.pop();
    }
    while out.starts_with(['-', '.']) {
        out.remove(0);
    }
    if out.is_empty() { "x".into() } else { out }
}

/// A stable 10-character pod-template-hash for a service (FNV-1a, in the alphabet
/// upstream's SafeEncodeString uses).
fn template_hash(service: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in service.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// Reads a ByteDance cluster file into a twin.
pub fn import(file: &Path, opts: &BytedanceOptions) -> Result<Twin, Error> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    import_str(&text, &file.display().to_string(), opts)
}

/// Reads ByteDance cluster JSON text (`file` names it in messages) into a twin.
pub fn import_str(text: &str, file: &str, opts: &BytedanceOptions) -> Result<Twin, Error> {
    let d: Dataset = serde_json::from_str(text).map_err(|e| {
        InputError::at(file, e.line(), e.column(), "", e.to_string()).with_source(text)
    })?;
    let err = |needle: &str, from: usize, field: &str, msg: String| -> Error {
        let (line, col) = locate(text, needle, from);
        InputError::at(file, line, col, field, msg)
            .with_source(text)
            .into()
    };
    let machines_at = text.find("\"MachineList\"").unwrap_or(0);
    let share = |v: f64, field: &str, name: &str, from: usize| -> Result<f64, Error> {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(err(
                name,
                from,
                field,
                format!("{v} is not a share of the cluster between 0 and 1"),
            ))
        }
    };
    let mut twin = Twin {
        source: file.to_string(),
        ..Twin::default()
    };
    let warn = |twin: &mut Twin, needle: &str, from: usize, message: String| {
        let (line, _) = locate(text, needle, from);
        twin.warnings.push(TwinWarning {
            file: file.to_string(),
            line,
            message,
        });
    };
    // Machines -> Nodes.
    let mut machine_names: BTreeSet<&str> = BTreeSet::new();
    let mut placement: BTreeMap<&str, &str> = BTreeMap::new();
    let mut nodes = Vec::new();
    for (i, m) in d.machine_list.iter().enumerate() {
        let f = format!("MachineList[{i}]");
        if !machine_names.insert(&m.machine_ip) {
            return Err(err(
                &m.machine_ip,
                machines_at,
                &format!("{f}.MachineIP"),
                format!("duplicate machine {:?}", m.machine_ip),
            ));
        }
        crate::api::convert::validate_name(&m.machine_ip)
            .map_err(|msg| err(&m.machine_ip, machines_at, &format!("{f}.MachineIP"), msg))?;
        let cpu = share(
            m.total_cpu,
            &format!("{f}.TotalCPU"),
            &m.machine_ip,
            machines_at,
        )?;
        let mem = share(
            m.total_mem,
            &format!("{f}.TotalMem"),
            &m.machine_ip,
            machines_at,
        )?;
        for c in &m.initial_deploying_containers {
            if let Some(prev) = placement.insert(c, &m.machine_ip) {
                return Err(err(
                    c,
                    machines_at,
                    &format!("{f}.InitialDeployingContainers"),
                    format!(
                        "container {c:?} is placed on both {prev} and {}",
                        m.machine_ip
                    ),
                ));
            }
        }
        let cpu_m = (cpu * opts.cpu_total_milli as f64).ceil() as i64;
        let mem_b = (mem * opts.memory_total_bytes as f64).ceil() as i64;
        let capacity = json!({
            "cpu": format!("{cpu_m}m"),
            "memory": mem_b.to_string(),
            "pods": "110",
        });
        nodes.push(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": m.machine_ip,
                "labels": {
                    "kubernetes.io/hostname": m.machine_ip,
                    "kubernetes.io/os": "linux",
                },
            },
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }));
    }
    twin.objects.extend(nodes);
    // Services -> Deployment, ReplicaSet, pods.
    let mut containers_seen: BTreeSet<&str> = BTreeSet::new();
    let mut service_names: BTreeSet<String> = BTreeSet::new();
    let (mut deployments, mut replica_sets, mut pods) = (Vec::new(), Vec::new(), Vec::new());
    let mut unplaced = 0usize;
    for (i, s) in d.service_list.iter().enumerate() {
        let f = format!("ServiceList[{i}]");
        let name = dns_name(&s.service);
        if !service_names.insert(name.clone()) {
            return Err(err(
                &s.service,
                0,
                &format!("{f}.Service"),
                format!("duplicate service {:?}", s.service),
            ));
        }
        let cpu = share(s.request_cpu, &format!("{f}.RequestCPU"), &s.service, 0)?;
        let mem = share(s.request_mem, &format!("{f}.RequestMem"), &s.service, 0)?;
        let cpu_m = ((cpu * opts.cpu_total_milli as f64).floor() as i64).max(1);
        let mem_b = ((mem * opts.memory_total_bytes as f64).floor() as i64).max(1);
        let affinity = match &s.compatible_machines {
            Compatible::Any(a) if a == "*" => None,
            Compatible::Any(other) => {
                return Err(err(
                    &s.service,
                    0,
                    &format!("{f}.CompatibleMachines"),
                    format!("expected \"*\" or a list of machines, got {other:?}"),
                ));
            }
            Compatible::Some(list) => {
                for m in list {
                    if !machine_names.contains(m.as_str()) {
                        return Err(err(
                            &s.service,
                            0,
                            &format!("{f}.CompatibleMachines"),
                            format!("unknown machine {m:?}"),
                        ));
                    }
                }
                Some(
                    json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{
                            "key": "kubernetes.io/hostname", "operator": "In", "values": list,
                        }]}],
                    }}}),
                )
            }
        };
        let hash = template_hash(&s.service);
        let mut spec = json!({
            "containers": [{
                "name": "main",
                "image": format!("bytedance-m3/{name}:1"),
                "resources": {"requests": {"cpu": format!("{cpu_m}m"), "memory": mem_b.to_string()}},
            }],
        });
        if let Some(a) = affinity {
            spec["affinity"] = a;
        }
        let labels = json!({"app": name});
        let rs_labels = json!({"app": name, "pod-template-hash": hash});
        let rs_name = format!("{name}-{hash}");
        let replicas = s.container_list.len();
        deployments.push(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": NAMESPACE,
                "labels": labels,
                "annotations": {"deployment.kubernetes.io/revision": "1"},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": spec},
            },
        }));
        replica_sets.push(json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": NAMESPACE,
                "labels": rs_labels,
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": format!("bytedance-deployment-{name}"), "controller": true,
                }],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": rs_labels},
                "template": {"metadata": {"labels": rs_labels}, "spec": spec},
            },
        }));
        for c in &s.container_list {
            if !containers_seen.insert(c) {
                return Err(err(
                    c,
                    0,
                    &format!("{f}.ContainerList"),
                    format!("container {c:?} belongs to two services"),
                ));
            }
            let mut pod_spec = spec.clone();
            let mut pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": dns_name(c),
                    "namespace": NAMESPACE,
                    "labels": rs_labels,
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                        "uid": format!("bytedance-replicaset-{name}"), "controller": true,
                    }],
                },
            });
            match placement.get(c.as_str()) {
                Some(node) => {
                    pod_spec["nodeName"] = Value::from(*node);
                    pod["status"] = json!({
                        "phase": "Running",
                        "conditions": [{"type": "Ready", "status": "True"}],
                    });
                }
                None => unplaced += 1,
            }
            pod["spec"] = pod_spec;
            pods.push(pod);
        }
    }
    for (c, m) in &placement {
        if !containers_seen.contains(c) {
            return Err(err(
                c,
                machines_at,
                "InitialDeployingContainers",
                format!("container {c:?} on machine {m} belongs to no service"),
            ));
        }
    }
    if unplaced > 0 {
        warn(
            &mut twin,
            "ServiceList",
            0,
            format!("{unplaced} container(s) are placed on no machine: imported as pending pods"),
        );
    }
    if !d.traffic_list.is_empty() {
        warn(
            &mut twin,
            "TrafficList",
            0,
            format!(
                "TrafficList ({} service pairs) is not modelled, ignored",
                d.traffic_list.len()
            ),
        );
    }
    twin.objects.extend(deployments);
    twin.objects.extend(replica_sets);
    twin.objects.extend(pods);
    Ok(twin)
}

/// The twin's objects as a manifest load result, for a scenario's
/// `manifests: [{bytedance: PATH}]` entry (default scaling).
pub fn load_manifests(path: &Path) -> Result<crate::api::manifest::LoadResult, Error> {
    let file = resolve(path)?;
    let twin = import(&file, &BytedanceOptions::default())?;
    let text = twin.manifests_yaml()?;
    let mut r =
        crate::api::manifest::load_str(&text, &format!("{} (as manifests)", file.display()), 1)?;
    r.warnings
        .extend(twin.warnings.iter().map(|w| crate::api::manifest::Warning {
            file: w.file.clone(),
            line: w.line,
            message: w.message.clone(),
        }));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{
 "ServiceList": [
  {"Service": "Service0", "RequestCPU": 0.1, "RequestMem": 0.05,
   "ContainerList": ["Container0", "Container1"], "CompatibleMachines": "*"},
  {"Service": "Service1", "RequestCPU": 0.2, "RequestMem": 0.1,
   "ContainerList": ["Container2"], "CompatibleMachines": ["0.0.0.1"]}
 ],
 "MachineList": [
  {"MachineIP": "0.0.0.0", "TotalCPU": 0.5, "TotalMem": 0.5, "InitialDeployingContainers": ["Container0"]},
  {"MachineIP": "0.0.0.1", "TotalCPU": 0.5, "TotalMem": 0.5, "InitialDeployingContainers": ["Container1", "Container2"]}
 ],
 "TrafficList": []
}"#;

    #[test]
    fn builds_nodes_workloads_and_bound_pods() {
        let t = import_str(SMALL, "m.json", &BytedanceOptions::default()).unwrap();
        let kinds: Vec<&str> = t
            .objects
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "Node",
                "Node",
                "Deployment",
                "Deployment",
                "ReplicaSet",
                "ReplicaSet",
                "Pod",
                "Pod",
                "Pod"
            ]
        );
        let pod = &t.objects[7];
        assert_eq!(pod["spec"]["nodeName"], "0.0.0.1");
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(t.objects[0]["status"]["capacity"]["cpu"], "2500000m");
        // The manifests load through the ordinary loader.
        let r = crate::api::manifest::load_str(&t.manifests_yaml().unwrap(), "x", 1).unwrap();
        assert_eq!(r.objects.len(), 9);
    }

    #[test]
    fn errors_name_the_line() {
        let bad = SMALL.replace(
            "\"Container2\"]}\n ],\n \"TrafficList\"",
            "\"Container9\"]}\n ],\n \"TrafficList\"",
        );
        let e = import_str(&bad, "m.json", &BytedanceOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("m.json:10:"), "{msg}");
        assert!(msg.contains("Container9"), "{msg}");
        let e = import_str(
            "{\"ServiceList\": [",
            "m.json",
            &BytedanceOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("m.json:1:"), "{e}");
        let neg = SMALL.replace("\"RequestCPU\": 0.2", "\"RequestCPU\": -0.2");
        let e = import_str(&neg, "m.json", &BytedanceOptions::default()).unwrap_err();
        assert!(e.to_string().contains("ServiceList[1].RequestCPU"), "{e}");
    }

    #[test]
    fn hashes_are_stable_label_values() {
        let h = template_hash("Service0");
        assert_eq!(h.len(), 10);
        assert_eq!(h, template_hash("Service0"));
        assert_ne!(h, template_hash("Service1"));
    }
}
