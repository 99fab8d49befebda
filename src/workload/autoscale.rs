//! The `autoscale` timeline action: what `kubectl autoscale KIND/NAME --min=N --max=M
//! [--cpu-percent=P | --cpu=C] [--memory=M] [--name=H]` creates.
//!
//! Restates kubectl's `pkg/cmd/autoscale/autoscale.go` (Validate,
//! createHorizontalPodAutoscalerV2, parseResourceInput): an `autoscaling/v2` HPA named
//! after the target unless `name` is given, `scaleTargetRef` with the target's group
//! version and kind, `maxReplicas`, `minReplicas` only when positive, a CPU Resource
//! metric at `cpuPercent` utilization (or `cpu` as `70%` utilization or a quantity,
//! bare numbers in millicores), a memory metric from `memory` (bare numbers in MiB), and
//! no metrics otherwise (the API server then defaults CPU at 80 %).

use crate::api::Kind;
use k8s_openapi::api::autoscaling::v2 as wire;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta as WireMeta;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The action as written: `autoscale: {target: deployment/web, cpuPercent: 50, min: 1,
/// max: 10}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscaleSpec {
    /// `KIND/NAME` of a Deployment, ReplicaSet or ReplicationController.
    pub target: Spanned<String>,
    /// `--min` (unset or not positive: the API default 1).
    #[serde(default)]
    pub min: Option<Spanned<i64>>,
    /// `--max` (required, at least 1).
    pub max: Spanned<i64>,
    /// `--cpu-percent`.
    #[serde(default)]
    pub cpu_percent: Option<Spanned<i64>>,
    /// `--cpu` (`70%` or a quantity).
    #[serde(default)]
    pub cpu: Option<Spanned<String>>,
    /// `--memory` (`60%` or a quantity).
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
    /// `--name` (default: the target's name).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
}

/// A rejected flag: which field of the spec, its position, and kubectl's message.
pub struct FlagError {
    /// The field under `autoscale` (`max`, `cpu`, ...).
    pub field: &'static str,
    /// Line and column of the value.
    pub at: (usize, usize),
    /// The message.
    pub message: String,
}

fn pos<T>(s: &Spanned<T>) -> (usize, usize) {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

/// kubectl's parseResourceInput: `N%` is a utilization, a bare number gets the
/// resource's default unit (`m` for CPU, `Mi` for memory), anything else must parse as a
/// quantity.
fn resource_target(input: &str, resource: &str) -> Result<wire::MetricTarget, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("empty input".into());
    }
    if let Some(p) = input.strip_suffix('%') {
        return match p.parse::<i32>() {
            Ok(v) if v >= 0 => Ok(wire::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(v),
                ..Default::default()
            }),
            _ => Err(format!("invalid percentage value: {p}")),
        };
    }
    let text = if let Ok(v) = input.parse::<f64>() {
        let unit = if resource == "cpu" { "m" } else { "Mi" };
        format!("{v}{unit}")
    } else {
        input.to_string()
    };
    crate::api::quantity::Quantity::parse(&text)
        .map_err(|_| format!("invalid resource {resource} value: {input}"))?;
    Ok(wire::MetricTarget {
        type_: "AverageValue".into(),
        average_value: Some(WireQuantity(text)),
        ..Default::default()
    })
}

fn resource_metric(name: &str, target: wire::MetricTarget) -> wire::MetricSpec {
    wire::MetricSpec {
        type_: "Resource".into(),
        resource: Some(wire::ResourceMetricSource {
            name: name.into(),
            target,
        }),
        ..Default::default()
    }
}

/// Builds the HPA `kubectl autoscale` would create for `kind/name` in `namespace`, and
/// the kubectl command line describing it.
pub fn build(
    spec: &AutoscaleSpec,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<(wire::HorizontalPodAutoscaler, String), FlagError> {
    let max = spec.max.value;
    let min = spec.min.as_ref().map_or(-1, |m| m.value);
    if max < 1 || max > i64::from(i32::MAX) {
        return Err(FlagError {
            field: "max",
            at: pos(&spec.max),
            message: format!("--max=MAXPODS is required and must be at least 1, max: {max}"),
        });
    }
    if let Some(m) = &spec.min
        && (max < m.value || m.value > i64::from(i32::MAX))
    {
        return Err(FlagError {
            field: "min",
            at: pos(m),
            message: format!(
                "--max=MAXPODS must be larger or equal to --min=MINPODS, max: {max}, min: {min}"
            ),
        });
    }
    let cpu_percent = spec.cpu_percent.as_ref().map_or(-1, |c| c.value);
    if let (Some(c), Some(_)) = (&spec.cpu_percent, &spec.cpu)
        && c.value > 0
    {
        return Err(FlagError {
            field: "cpuPercent",
            at: pos(c),
            message: "--cpu-percent and --cpu are mutually exclusive".into(),
        });
    }
    let mut metrics = Vec::new();
    let mut flags = format!("--max={max}");
    if min > 0 {
        flags = format!("--min={min} {flags}");
    }
    if cpu_percent > 0 {
        let v = i32::try_from(cpu_percent).unwrap_or(i32::MAX);
        metrics.push(resource_metric(
            "cpu",
            wire::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(v),
                ..Default::default()
            },
        ));
        flags.push_str(&format!(" --cpu-percent={cpu_percent}"));
    }
    for (value, resource, field) in [
        (&spec.cpu, "cpu", "cpu"),
        (&spec.memory, "memory", "memory"),
    ] {
        if let Some(v) = value {
            let target = resource_target(&v.value, resource).map_err(|message| FlagError {
                field,
                at: pos(v),
                message,
            })?;
            metrics.push(resource_metric(resource, target));
            flags.push_str(&format!(" --{field}={}", v.value));
        }
    }
    let (api_version, kind_name) = match kind {
        Kind::Deployment => ("apps/v1", "Deployment"),
        Kind::ReplicaSet => ("apps/v1", "ReplicaSet"),
        _ => ("v1", "ReplicationController"),
    };
    let hpa_name = spec
        .name
        .as_ref()
        .map_or_else(|| name.to_string(), |n| n.value.clone());
    if spec.name.is_some() {
        flags.push_str(&format!(" --name={hpa_name}"));
    }
    let hpa = wire::HorizontalPodAutoscaler {
        metadata: WireMeta {
            name: Some(hpa_name),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        spec: Some(wire::HorizontalPodAutoscalerSpec {
            scale_target_ref: wire::CrossVersionObjectReference {
                api_version: Some(api_version.into()),
                kind: kind_name.into(),
                name: name.to_string(),
            },
            max_replicas: max as i32,
            min_replicas: (min > 0).then_some(min as i32),
            metrics: (!metrics.is_empty()).then_some(metrics),
            behavior: None,
        }),
        status: None,
    };
    let desc = format!(
        "autoscale {}/{name} {flags}",
        kind.as_str().to_ascii_lowercase()
    );
    Ok((hpa, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_inputs_as_kubectl() {
        let t = resource_target("70%", "cpu").unwrap();
        assert_eq!(t.average_utilization, Some(70));
        let t = resource_target("500", "cpu").unwrap();
        assert_eq!(t.average_value, Some(WireQuantity("500m".into())));
        let t = resource_target("512", "memory").unwrap();
        assert_eq!(t.average_value, Some(WireQuantity("512Mi".into())));
        let t = resource_target("1Gi", "memory").unwrap();
        assert_eq!(t.average_value, Some(WireQuantity("1Gi".into())));
        assert_eq!(
            resource_target("lots", "cpu").unwrap_err(),
            "invalid resource cpu value: lots"
        );
        assert_eq!(
            resource_target("x%", "cpu").unwrap_err(),
            "invalid percentage value: x"
        );
    }
}
