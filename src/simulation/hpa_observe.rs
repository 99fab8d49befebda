//! What reports, expectations and `get hpa` read of HorizontalPodAutoscalers: the
//! expectation fields (`hpa/web.desired`, ...), the `metrics.csv` columns per HPA and the
//! value of its first metric.

use crate::api::Store;
use crate::api::hpa::{MetricSpec, MetricTarget};
use crate::api::objects::{ConditionStatus, HorizontalPodAutoscaler};
use crate::controllers::hpa::controller::{ABLE_TO_SCALE, SCALING_ACTIVE, SCALING_LIMITED};
use crate::metrics::MetricsTable;

/// Expectation fields of `hpa/NAME`.
pub const HPA_FIELDS: &[&str] = &[
    "current",
    "desired",
    "min",
    "max",
    "metric",
    "able_to_scale",
    "scaling_active",
    "scaling_limited",
    "scale_ups",
    "scale_downs",
];

/// The current value of the HPA's first metric in its target's unit: percent for a
/// Utilization target, the (average) value otherwise; `None` while unknown.
pub fn first_metric_value(h: &HorizontalPodAutoscaler) -> Option<f64> {
    let spec = h.spec.metrics.first()?;
    let st = h.status.current_metrics.first().copied().flatten()?;
    match spec.target() {
        MetricTarget::Utilization(_) => st.average_utilization.map(f64::from),
        MetricTarget::AverageValue(_) => st.average_value.map(|v| v as f64 / 1000.0),
        MetricTarget::Value(_) => st.value.map(|v| v as f64 / 1000.0),
    }
}

fn condition(h: &HorizontalPodAutoscaler, t: &str) -> f64 {
    match h.status.condition(t).map(|c| c.status) {
        Some(ConditionStatus::True) => 1.0,
        Some(_) => 0.0,
        None => f64::NAN,
    }
}

/// An expectation field of an HPA (NaN when the HPA does not exist or the value is
/// unknown; conditions read 1 for True, 0 otherwise).
pub fn value(store: &Store, namespace: &str, name: &str, field: &str) -> f64 {
    let Some(h) = store
        .hpas
        .id_of(namespace, name)
        .and_then(|id| store.hpas.get(id))
    else {
        return f64::NAN;
    };
    match field {
        "current" => f64::from(h.status.current_replicas),
        "desired" => f64::from(h.status.desired_replicas),
        "min" => f64::from(h.spec.min_replicas),
        "max" => f64::from(h.spec.max_replicas),
        "metric" => first_metric_value(h).unwrap_or(f64::NAN),
        "able_to_scale" => condition(h, ABLE_TO_SCALE),
        "scaling_active" => condition(h, SCALING_ACTIVE),
        "scaling_limited" => condition(h, SCALING_LIMITED),
        "scale_ups" => f64::from(h.stats.scale_ups),
        _ => f64::from(h.stats.scale_downs),
    }
}

/// `metrics.csv` columns per HPA: `hpa/NS/NAME:current`, `:desired` and `:metric` (the
/// first metric's current value).
pub fn sample(store: &Store, m: &mut MetricsTable) {
    for (_, h) in store.hpas.iter_by_name() {
        let p = format!("hpa/{}/{}", h.meta.namespace, h.meta.name);
        m.set(
            &format!("{p}:current"),
            f64::from(h.status.current_replicas),
        );
        m.set(
            &format!("{p}:desired"),
            f64::from(h.status.desired_replicas),
        );
        m.set(
            &format!("{p}:metric"),
            first_metric_value(h).unwrap_or(f64::NAN),
        );
    }
}

/// kubectl's TARGETS column (pkg/printers/internalversion/printers.go formatHPAMetrics):
/// up to two metrics as `name: current/target`, `<unknown>` for a value not computed
/// yet, `<none>` without metrics, and ` + N more...` beyond two.
pub fn targets(h: &HorizontalPodAutoscaler) -> String {
    use crate::controllers::hpa::controller::milli_text;
    let specs = &h.spec.metrics;
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = &h.status.current_metrics;
    let mut list = Vec::new();
    for (i, spec) in specs.iter().take(2).enumerate() {
        let st = statuses.get(i).copied().flatten();
        let unknown = || "<unknown>".to_string();
        let (label, current, target) = match (spec, spec.target()) {
            (_, MetricTarget::Utilization(u)) => (
                metric_label(spec),
                st.and_then(|s| s.average_utilization)
                    .map_or_else(unknown, |v| format!("{v}%")),
                format!("{u}%"),
            ),
            (_, MetricTarget::AverageValue(v)) => (
                metric_label(spec),
                st.and_then(|s| s.average_value)
                    .map_or_else(unknown, milli_text),
                milli_text(v),
            ),
            (_, MetricTarget::Value(v)) => (
                metric_label(spec),
                st.and_then(|s| s.value).map_or_else(unknown, milli_text),
                milli_text(v),
            ),
        };
        // Object and External AverageValue targets are per pod: kubectl adds "(avg)".
        let avg = matches!(
            (spec, spec.target()),
            (
                MetricSpec::Object { .. } | MetricSpec::External { .. },
                MetricTarget::AverageValue(_)
            )
        );
        let suffix = if avg { " (avg)" } else { "" };
        list.push(format!("{label}: {current}/{target}{suffix}"));
    }
    let out = list.join(", ");
    if specs.len() > 2 {
        format!("{out} + {} more...", specs.len() - 2)
    } else {
        out
    }
}

fn metric_label(spec: &MetricSpec) -> String {
    match spec {
        MetricSpec::Resource { name, .. } => name.clone(),
        MetricSpec::ContainerResource {
            name, container, ..
        } => format!("{name}/{container}"),
        MetricSpec::Pods { metric, .. }
        | MetricSpec::Object { metric, .. }
        | MetricSpec::External { metric, .. } => metric.name.clone(),
    }
}

/// The `"hpa"` object of `summary.json`: per HPA (keyed by name, `NAMESPACE/NAME` outside
/// `default`) its scale ups and downs, the lowest and highest replica counts it saw or
/// set, the final current and desired counts, and whether it ended limited.
pub fn summary(store: &Store) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (_, h) in store.hpas.iter_by_name() {
        let key = if h.meta.namespace == "default" {
            h.meta.name.clone()
        } else {
            format!("{}/{}", h.meta.namespace, h.meta.name)
        };
        let limited = h
            .status
            .condition(SCALING_LIMITED)
            .is_some_and(|c| c.status == ConditionStatus::True);
        out.insert(
            key,
            serde_json::json!({
                "scale_ups": h.stats.scale_ups,
                "scale_downs": h.stats.scale_downs,
                "min_replicas_reached": h.stats.min_replicas_seen,
                "max_replicas_reached": h.stats.max_replicas_seen,
                "final_current": h.status.current_replicas,
                "final_desired": h.status.desired_replicas,
                "scaling_limited": u8::from(limited),
                "min_replicas": h.spec.min_replicas,
                "max_replicas": h.spec.max_replicas,
            }),
        );
    }
    out
}

/// Plot markers for the HPAs' rescales (from the journal's `SuccessfulRescale` Events):
/// `hpa/NAME: New size: N`.
pub fn rescale_markers(
    journal: &[crate::api::store::JournalEntry],
) -> Vec<(crate::engine::SimTime, String)> {
    journal
        .iter()
        .filter(|e| e.reason == "SuccessfulRescale")
        .map(|e| {
            let size = e.message.split(';').next().unwrap_or(&e.message);
            (
                crate::engine::SimTime::ZERO + crate::engine::SimDuration::from_millis(e.t_ms),
                format!("hpa/{}: {size}", e.name),
            )
        })
        .collect()
}
