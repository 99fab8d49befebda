//! GPU sharing: the node GPU model, the GPU Filter and Reserve plugins, the
//! fragmentation measure and the six GPU Score plugins of the ATC'23 "Beware of
//! Fragmentation" study.
//!
//! A node has N GPUs of one model (the `alibabacloud.com/gpu-card-model` label), each of
//! [`MILLI`] milli-GPU. A pod asks for k whole GPUs, or for one GPU share (gpu-milli below
//! 1000), optionally restricted to a set of GPU models. The state the plugins read is a
//! compact, `Copy` [`GpuNode`] (free CPU, free memory, free milli per GPU index, the GPU
//! shapes of the pods on it) so that a caller can keep one per node and update it
//! incrementally on every bind and release.
//!
//! Restated from the paper's artifact `hkust-adsl/kubernetes-scheduler-simulator`:
//! `pkg/simulator/plugin/open_gpu_share.go` (Filter, Reserve, GPU selection),
//! `pkg/type/resource.go` (node and pod resources, `Sub`, exclusive GPU allocation),
//! `pkg/utils/frag.go` (fragmentation, typical pods) and one file per Score plugin (see
//! [`score`]).

pub mod cache;
pub mod frag;
pub mod framework;
pub mod model;
pub mod score;

pub use frag::{TypicalPod, TypicalPods, node_frag};
pub use model::{
    GPU_COUNT_RESOURCE, GPU_INDEX_ANNOTATION, GPU_MILLI_RESOURCE, GPU_MODEL_LABEL, GpuModels,
    GpuNode, GpuRequest, MAX_GPUS, MILLI, fits,
};
pub use score::{Policy, ScoreOutcome};
