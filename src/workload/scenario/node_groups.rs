//! `spec.cluster.nodeGroups` and `spec.clusterAutoscaler`: the node groups the cluster
//! autoscaler manages and its flags, parsed and validated with file, line and field, and
//! the groups' initial nodes (`<group>-1 .. <group>-<initial>`, created at time zero).

use super::{Ctx, TaintSpec};
use crate::api::manifest::Loaded;
use crate::api::selector::Labels;
use crate::controllers::cluster_autoscaler::config::{
    AutoscalerConfig, DEFAULT_PROVISIONING_DELAY, ExpanderKind, NODE_GROUP_LABEL, NodeGroup,
};
use crate::engine::SimDuration;
use crate::error::InputError;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Node groups and the autoscaler's settings, as the runtime needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaling {
    /// The node groups, in file order.
    pub groups: Vec<NodeGroup>,
    /// `spec.clusterAutoscaler` with upstream's defaults.
    pub config: AutoscalerConfig,
}

/// One entry of `spec.cluster.nodeGroups`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct NodeGroupSpec {
    name: Spanned<String>,
    #[serde(default)]
    min: Option<Spanned<i64>>,
    max: Spanned<i64>,
    #[serde(default)]
    initial: Option<Spanned<i64>>,
    #[serde(default)]
    provisioning_delay: Option<Spanned<SimDuration>>,
    #[serde(default)]
    cost_per_hour: Option<Spanned<f64>>,
    #[serde(default)]
    priority: Option<i64>,
    template: TemplateSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TemplateSpec {
    capacity: Spanned<BTreeMap<String, Spanned<WireQuantity>>>,
    #[serde(default)]
    allocatable: Option<BTreeMap<String, Spanned<WireQuantity>>>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    taints: Vec<TaintSpec>,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    images: Vec<String>,
}

/// `spec.clusterAutoscaler`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct AutoscalerSpec {
    #[serde(default)]
    expander: Option<Spanned<String>>,
    #[serde(default)]
    scan_interval: Option<Spanned<SimDuration>>,
    #[serde(default)]
    scale_down_enabled: Option<bool>,
    #[serde(default)]
    scale_down_utilization_threshold: Option<Spanned<f64>>,
    #[serde(default)]
    scale_down_unneeded_time: Option<Spanned<SimDuration>>,
    #[serde(default)]
    scale_down_unready_time: Option<Spanned<SimDuration>>,
    #[serde(default)]
    scale_down_delay_after_add: Option<Spanned<SimDuration>>,
    #[serde(default)]
    scale_down_delay_after_delete: Option<Spanned<SimDuration>>,
    #[serde(default)]
    scale_down_delay_after_failure: Option<Spanned<SimDuration>>,
    #[serde(default)]
    max_node_provision_time: Option<Spanned<SimDuration>>,
    #[serde(default)]
    new_pod_scale_up_delay: Option<Spanned<SimDuration>>,
    #[serde(default)]
    max_empty_bulk_delete: Option<Spanned<i64>>,
    #[serde(default)]
    max_drain_parallelism: Option<Spanned<i64>>,
    #[serde(default)]
    max_nodes_per_scale_up: Option<Spanned<i64>>,
    #[serde(default)]
    max_pod_eviction_time: Option<Spanned<SimDuration>>,
    #[serde(default)]
    node_delete_delay_after_taint: Option<Spanned<SimDuration>>,
}

const MAX_GROUP_SIZE: i64 = 100_000;

impl Ctx<'_> {
    /// Validates the node groups (names unique, also against `pool_names`) and the
    /// autoscaler's settings; returns them with the groups' initial nodes. `None` when
    /// there are no node groups.
    pub(super) fn autoscaling(
        &self,
        specs: &[NodeGroupSpec],
        pool_names: &[&str],
        ca: Option<&AutoscalerSpec>,
    ) -> Result<(Option<Autoscaling>, Vec<Loaded>), InputError> {
        let config = match ca {
            Some(s) => self.autoscaler_config(s)?,
            None => AutoscalerConfig::default(),
        };
        if specs.is_empty() {
            return Ok((None, Vec::new()));
        }
        let text: Arc<str> = Arc::from(self.text);
        let mut groups: Vec<NodeGroup> = Vec::new();
        let mut nodes = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let f = format!("spec.cluster.nodeGroups[{i}]");
            crate::api::convert::validate_name(&s.name.value)
                .map_err(|m| self.err_at(&s.name, &format!("{f}.name"), m))?;
            if groups.iter().any(|g| g.name == s.name.value)
                || pool_names.contains(&s.name.value.as_str())
            {
                return Err(self.err_at(
                    &s.name,
                    &format!("{f}.name"),
                    format!(
                        "duplicate node group name {:?} (node group and node pool names must be unique)",
                        s.name.value
                    ),
                ));
            }
            let count = |v: &Spanned<i64>, field: &str| -> Result<usize, InputError> {
                if v.value < 0 || v.value > MAX_GROUP_SIZE {
                    return Err(self.err_at(
                        v,
                        &format!("{f}.{field}"),
                        format!("must be between 0 and {MAX_GROUP_SIZE}, got {}", v.value),
                    ));
                }
                Ok(v.value as usize)
            };
            let min = match &s.min {
                Some(m) => count(m, "min")?,
                None => 0,
            };
            let max = count(&s.max, "max")?;
            if let Some(m) = &s.min
                && min > max
            {
                return Err(self.err_at(
                    m,
                    &format!("{f}.min"),
                    format!("min ({min}) must not be greater than max ({max})"),
                ));
            }
            if max == 0 {
                return Err(self.err_at(&s.max, &format!("{f}.max"), "must be at least 1"));
            }
            let initial = match &s.initial {
                Some(v) => {
                    let n = count(v, "initial")?;
                    if n < min || n > max {
                        return Err(self.err_at(
                            v,
                            &format!("{f}.initial"),
                            format!("must be between min ({min}) and max ({max}), got {n}"),
                        ));
                    }
                    n
                }
                None => min,
            };
            let cost_per_hour = match &s.cost_per_hour {
                Some(c) if !(c.value >= 0.0 && c.value.is_finite()) => {
                    return Err(self.err_at(
                        c,
                        &format!("{f}.costPerHour"),
                        format!("must be a non-negative number, got {}", c.value),
                    ));
                }
                Some(c) => c.value,
                None => 0.0,
            };
            let tf = format!("{f}.template");
            let t = &s.template;
            for r in ["cpu", "memory"] {
                if !t.capacity.value.contains_key(r) {
                    return Err(self.err_at(
                        &t.capacity,
                        &format!("{tf}.capacity"),
                        format!("a node group template needs {r} capacity"),
                    ));
                }
            }
            let mut labels = t.labels.clone();
            labels.insert(NODE_GROUP_LABEL.into(), s.name.value.clone());
            let template = self.node_template(
                &t.capacity.value,
                t.allocatable.as_ref(),
                &labels,
                &t.taints,
                &t.images,
                &tf,
            )?;
            if template.allocatable.cpu_milli == 0 || template.allocatable.memory == 0 {
                return Err(self.err_at(
                    &t.capacity,
                    &format!("{tf}.allocatable"),
                    "a node group template needs non-zero allocatable cpu and memory",
                ));
            }
            let group = NodeGroup {
                name: s.name.value.clone(),
                min,
                max,
                initial,
                provisioning_delay: s
                    .provisioning_delay
                    .as_ref()
                    .map_or(DEFAULT_PROVISIONING_DELAY, |d| d.value),
                cost_per_hour,
                priority: s.priority.unwrap_or(0),
                template,
                zones: t.zones.clone(),
            };
            for n in 1..=initial {
                nodes.push(self.loaded_node(group.node(n), &s.name, &text));
            }
            groups.push(group);
        }
        Ok((Some(Autoscaling { groups, config }), nodes))
    }

    fn autoscaler_config(&self, s: &AutoscalerSpec) -> Result<AutoscalerConfig, InputError> {
        let f = "spec.clusterAutoscaler";
        let mut c = AutoscalerConfig::default();
        if let Some(e) = &s.expander {
            c.expander = ExpanderKind::parse(&e.value).ok_or_else(|| {
                self.err_at(
                    e,
                    &format!("{f}.expander"),
                    format!(
                        "unknown expander {:?} (least-waste, random, priority)",
                        e.value
                    ),
                )
            })?;
        }
        if let Some(v) = s.scale_down_enabled {
            c.scale_down_enabled = v;
        }
        if let Some(t) = &s.scale_down_utilization_threshold {
            if !(0.0..=1.0).contains(&t.value) {
                return Err(self.err_at(
                    t,
                    &format!("{f}.scaleDownUtilizationThreshold"),
                    format!("must be between 0 and 1, got {}", t.value),
                ));
            }
            c.scale_down_utilization_threshold = t.value;
        }
        if let Some(d) = &s.scan_interval {
            if d.value == SimDuration::ZERO {
                return Err(self.err_at(d, &format!("{f}.scanInterval"), "must be greater than 0"));
            }
            c.scan_interval = d.value;
        }
        for (v, slot) in [
            (&s.scale_down_unneeded_time, &mut c.scale_down_unneeded_time),
            (&s.scale_down_unready_time, &mut c.scale_down_unready_time),
            (
                &s.scale_down_delay_after_add,
                &mut c.scale_down_delay_after_add,
            ),
            (
                &s.scale_down_delay_after_delete,
                &mut c.scale_down_delay_after_delete,
            ),
            (
                &s.scale_down_delay_after_failure,
                &mut c.scale_down_delay_after_failure,
            ),
            (&s.max_node_provision_time, &mut c.max_node_provision_time),
            (&s.new_pod_scale_up_delay, &mut c.new_pod_scale_up_delay),
            (&s.max_pod_eviction_time, &mut c.max_pod_eviction_time),
            (
                &s.node_delete_delay_after_taint,
                &mut c.node_delete_delay_after_taint,
            ),
        ] {
            if let Some(d) = v {
                *slot = d.value;
            }
        }
        for (v, slot, name) in [
            (
                &s.max_empty_bulk_delete,
                &mut c.max_empty_bulk_delete,
                "maxEmptyBulkDelete",
            ),
            (
                &s.max_drain_parallelism,
                &mut c.max_drain_parallelism,
                "maxDrainParallelism",
            ),
            (
                &s.max_nodes_per_scale_up,
                &mut c.max_nodes_per_scale_up,
                "maxNodesPerScaleUp",
            ),
        ] {
            if let Some(n) = v {
                if n.value < 1 || n.value > MAX_GROUP_SIZE {
                    return Err(self.err_at(
                        n,
                        &format!("{f}.{name}"),
                        format!("must be between 1 and {MAX_GROUP_SIZE}, got {}", n.value),
                    ));
                }
                *slot = n.value as usize;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use crate::api::objects::Object;
    use crate::controllers::cluster_autoscaler::config::{
        DEFAULT_PROVISIONING_DELAY, ExpanderKind, NODE_GROUP_LABEL,
    };
    use crate::engine::SimDuration;
    use crate::workload::Scenario;

    const TEXT: &str = "apiVersion: kubetwin.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  duration: 1m
  cluster:
    nodeGroups:
    - name: a
      min: 2
      max: 4
      template:
        capacity: {cpu: '2', memory: 4Gi}
        labels: {pool: a}
        zones: [z1, z2]
    - name: b
      max: 3
      initial: 1
      provisioningDelay: 2m
      costPerHour: 0.5
      priority: 7
      template: {capacity: {cpu: '8', memory: 32Gi}, allocatable: {cpu: 7500m, memory: 30Gi}}
  clusterAutoscaler: {expander: priority, scaleDownUnneededTime: 5m}
";

    #[test]
    fn defaults_and_initial_nodes() {
        let s = Scenario::from_str(TEXT, "t.yaml", ".".into()).unwrap();
        let a = s.cluster_autoscaler.as_ref().unwrap();
        assert_eq!(a.config.expander, ExpanderKind::Priority);
        assert_eq!(
            a.config.scale_down_unneeded_time,
            SimDuration::from_secs(300)
        );
        assert_eq!(
            a.config.scale_down_delay_after_add,
            SimDuration::from_secs(600)
        );
        let (ga, gb) = (&a.groups[0], &a.groups[1]);
        assert_eq!(
            (ga.min, ga.max, ga.initial),
            (2, 4, 2),
            "initial defaults to min"
        );
        assert_eq!(ga.provisioning_delay, DEFAULT_PROVISIONING_DELAY);
        assert_eq!((ga.cost_per_hour, ga.priority), (0.0, 0));
        assert_eq!((gb.min, gb.initial, gb.priority), (0, 1, 7));
        assert_eq!(gb.provisioning_delay, SimDuration::from_secs(120));
        assert_eq!(gb.template.allocatable.cpu_milli, 7500);
        let nodes: Vec<(String, Option<String>, Option<String>)> = s
            .objects
            .iter()
            .filter_map(|l| match &l.object {
                Object::Node(n) => Some((
                    n.meta.name.clone(),
                    n.meta.labels.get(NODE_GROUP_LABEL).cloned(),
                    n.meta.labels.get("topology.kubernetes.io/zone").cloned(),
                )),
                _ => None,
            })
            .collect();
        let some = |v: &str| Some(v.to_string());
        assert_eq!(
            nodes,
            vec![
                ("a-1".into(), some("a"), some("z1")),
                ("a-2".into(), some("a"), some("z2")),
                ("b-1".into(), some("b"), None),
            ]
        );
        // The sixth node of group a goes to zone z2 (round-robin, 1-based).
        let six = ga.node(6);
        assert_eq!(six.meta.name, "a-6");
        assert_eq!(
            six.meta.labels.get("kubernetes.io/hostname"),
            Some(&"a-6".to_string())
        );
        assert_eq!(
            six.meta.labels.get("topology.kubernetes.io/zone"),
            Some(&"z2".to_string())
        );
    }

    #[test]
    fn no_groups_no_autoscaler() {
        let text = TEXT.split("  cluster:").next().unwrap();
        let s = Scenario::from_str(text, "t.yaml", ".".into()).unwrap();
        assert!(s.cluster_autoscaler.is_none());
    }
}
