//! The recording header: line 1 of a run's `events.jsonl`. It carries everything needed
//! to re-run the run: the kubetwin version, the seed, the run options that affect
//! results, the scenario text and every file it references (embedded when small, else
//! named with its size and SHA-256), and a SHA-256 of the header itself. It holds no
//! wall-clock time and no machine-specific absolute path, so identical runs still give
//! byte-identical journals.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The header's format version (the value of its `kubetwin_recording` key).
pub const FORMAT: u32 = 1;

/// The key that marks line 1 of `events.jsonl` as a recording header.
pub const MARKER: &str = "kubetwin_recording";

/// Files at most this large (and valid UTF-8) are embedded in the header; larger ones
/// are recorded by path, size and hash and must be present at replay time.
pub const EMBED_LIMIT: u64 = 1024 * 1024;

/// A run's recording header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The format version ([`FORMAT`]); the key marks the line as a header.
    pub kubetwin_recording: u32,
    /// The kubetwin version that recorded the run.
    pub kubetwin_version: String,
    /// The scenario.
    pub scenario: ScenarioSource,
    /// The seed the run used (after `--seed`).
    pub seed: u64,
    /// Run options that affect the results.
    pub options: RecordedOptions,
    /// The files the scenario references, by path relative to the scenario's directory
    /// (`/`-separated), sorted.
    pub inputs: Vec<Input>,
    /// `sha256:<hex>` of the header serialised with this field empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

/// The scenario file of a recorded run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSource {
    /// `metadata.name`.
    pub name: String,
    /// The file as named in messages: the path given on the command line when it was
    /// relative, else its file name; `<embedded>/...` for the default scenario.
    pub file: String,
    /// The scenario's directory relative to the working directory of the run, when the
    /// path given was relative (where external inputs are looked for at replay time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// `sha256:<hex>` of the text.
    pub sha256: String,
    /// The scenario text.
    pub text: String,
}

/// Recorded `kubetwin run` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOptions {
    /// `--scheduler-config`: the file's name and text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_config: Option<Input>,
    /// `--explain` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explain: Vec<String>,
    /// `--explain-labels` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explain_labels: Vec<String>,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Relative to the scenario's directory, `/`-separated (absolute only when the
    /// scenario names it by an absolute path).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the contents.
    pub sha256: String,
    /// The contents, when embedded (`None`: external, required at replay time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format_digest(Sha256::digest(bytes).as_slice())
}

/// `sha256:<hex>` of a finished digest.
pub fn format_digest(d: &[u8]) -> String {
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl Header {
    /// The hash of the header's contents (everything but `hash`).
    pub fn content_hash(&self) -> String {
        let mut h = self.clone();
        h.hash.clear();
        sha256(serde_json::to_string(&h).unwrap_or_default().as_bytes())
    }

    /// The header as one JSON line (with its hash, without the newline).
    pub fn to_line(&self) -> String {
        let mut h = self.clone();
        h.hash = self.content_hash();
        serde_json::to_string(&h).unwrap_or_default()
    }

    /// Checks the recorded hash against the contents, and each embedded file against
    /// its own hash: the first mismatch as (field, message).
    pub fn verify(&self) -> Result<(), (String, String)> {
        let h = self.content_hash();
        if self.hash != h {
            return Err((
                "hash".into(),
                format!(
                    "header hash mismatch: recorded {:?}, contents hash to {h:?} (the header was edited or corrupted)",
                    self.hash
                ),
            ));
        }
        let s = sha256(self.scenario.text.as_bytes());
        if s != self.scenario.sha256 {
            return Err((
                "scenario.sha256".into(),
                format!(
                    "scenario text hash mismatch: recorded {:?}, text hashes to {s:?}",
                    self.scenario.sha256
                ),
            ));
        }
        let files = self
            .inputs
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("inputs[{i}]"), f))
            .chain(
                self.options
                    .scheduler_config
                    .iter()
                    .map(|f| ("options.scheduler_config".to_string(), f)),
            );
        for (field, f) in files {
            if let Some(t) = &f.text {
                let s = sha256(t.as_bytes());
                if s != f.sha256 {
                    return Err((
                        format!("{field}.sha256"),
                        format!(
                            "{}: embedded file hash mismatch: recorded {:?}, text hashes to {s:?}",
                            f.path, f.sha256
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            kubetwin_recording: FORMAT,
            kubetwin_version: "0.1.0".into(),
            scenario: ScenarioSource {
                name: "s".into(),
                file: "s.yaml".into(),
                dir: Some("scenarios".into()),
                sha256: sha256(b"kind: Scenario\n"),
                text: "kind: Scenario\n".into(),
            },
            seed: 7,
            options: RecordedOptions::default(),
            inputs: vec![Input {
                path: "load/a.csv".into(),
                size: 4,
                sha256: sha256(b"t,v\n"),
                text: Some("t,v\n".into()),
            }],
            hash: String::new(),
        }
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        assert_eq!(
            sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_header_round_trips_and_verifies() {
        let line = header().to_line();
        let back: Header = serde_json::from_str(&line).unwrap();
        assert!(back.verify().is_ok());
        assert_eq!(back.to_line(), line);
    }

    #[test]
    fn an_edited_header_fails_its_hash() {
        let line = header().to_line().replace("\"seed\":7", "\"seed\":8");
        let back: Header = serde_json::from_str(&line).unwrap();
        let (field, msg) = back.verify().unwrap_err();
        assert_eq!(field, "hash");
        assert!(msg.contains("header hash mismatch"), "{msg}");
    }

    #[test]
    fn an_embedded_file_is_checked_against_its_own_hash() {
        let mut h = header();
        h.inputs[0].text = Some("t,v\n1,2\n".into());
        let back: Header = serde_json::from_str(&h.to_line()).unwrap();
        let (field, _) = back.verify().unwrap_err();
        assert_eq!(field, "inputs[0].sha256");
    }
}
