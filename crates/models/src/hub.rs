//! The model hub source: the real download through the `hf-hub` crate, made to fail fast offline.
//!
//! `hf-hub`'s blocking client has no connect timeout (ureq's default is 30 s per attempt), so
//! before downloading we probe the endpoint (or the proxy) with a short TCP connect. On a machine
//! without network that costs a few seconds at most and the provisioner moves to the next source.

use std::fs;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo};

use crate::error::SourceError;
use crate::progress::{Progress, copy_reporting};
use crate::provision::Source;
use crate::registry::ModelSpec;

/// Downloads model files from a Hugging Face-compatible hub.
#[derive(Debug, Clone)]
pub struct HubSource {
    endpoint: String,
    offline: bool,
    proxy: Option<String>,
    user_cache: Option<PathBuf>,
    probe_timeout: Duration,
}

impl HubSource {
    /// The public hub.
    pub const DEFAULT_ENDPOINT: &'static str = "https://huggingface.co";

    /// A source for `endpoint` (e.g. `https://huggingface.co`), online, with no proxy and without
    /// looking into an existing hub cache.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            offline: false,
            proxy: None,
            user_cache: None,
            probe_timeout: Duration::from_secs(3),
        }
    }

    /// Configured the way the hub's own tools are: `HF_ENDPOINT`, `HF_HUB_OFFLINE`, `HF_HOME`
    /// (an existing download there is reused without network), and `HTTPS_PROXY`/`ALL_PROXY`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("HF_ENDPOINT").unwrap_or_else(|| Self::DEFAULT_ENDPOINT.to_owned());
        let offline = var("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
        });
        // The same variables, in the same order, that ureq's `try_proxy_from_env` reads.
        let proxy =
            ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
                .into_iter()
                .find_map(var);
        Self::new(endpoint)
            .offline(offline)
            .with_proxy(proxy)
            .with_user_cache(Some(Cache::from_env().path().clone()))
    }

    /// Skip the network entirely (an existing hub-cache copy is still used).
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Probe this proxy instead of the endpoint (ureq connects through it).
    pub fn with_proxy(mut self, proxy: Option<String>) -> Self {
        self.proxy = proxy;
        self
    }

    /// A hub cache directory (`~/.cache/huggingface/hub`) to copy an earlier download from.
    pub fn with_user_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.user_cache = dir;
        self
    }

    /// How long the reachability probe may take per step (DNS, connect).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// The endpoint downloads come from.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn copy_from_user_cache(
        &self,
        spec: &ModelSpec,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Option<()> {
        let dir = self.user_cache.as_ref()?;
        let found = Cache::new(dir.clone()).model(spec.hub_repo.to_owned()).get(spec.hub_file)?;
        progress.start(&format!("Copying {} from the hub cache", spec.hub_file), Some(spec.size));
        let copied = fs::File::open(&found).and_then(|mut from| {
            let mut to = fs::File::create(dest)?;
            copy_reporting(&mut from, &mut to, progress)
        });
        progress.finish();
        match copied {
            Ok(_) => Some(()),
            Err(error) => {
                tracing::warn!(path = %found.display(), %error, "could not copy from the hub cache");
                None
            }
        }
    }

    fn probe(&self) -> Result<(), SourceError> {
        let target = self.proxy.as_deref().unwrap_or(&self.endpoint);
        let unreachable =
            |reason: String| SourceError::Unreachable { endpoint: target.to_owned(), reason };
        let (host, port) =
            host_port(target).ok_or_else(|| unreachable("cannot parse the address".into()))?;

        // Name resolution has no timeout of its own; run it on a thread we can stop waiting for.
        let (tx, rx) = mpsc::channel();
        let lookup = (host.clone(), port);
        std::thread::spawn(move || {
            let _ = tx.send(lookup.to_socket_addrs().map(Iterator::collect::<Vec<SocketAddr>>));
        });
        let addrs = match rx.recv_timeout(self.probe_timeout) {
            Ok(Ok(addrs)) => addrs,
            Ok(Err(e)) => return Err(unreachable(format!("cannot resolve {host}: {e}"))),
            Err(_) => return Err(unreachable(format!("resolving {host} timed out"))),
        };
        let mut last = format!("no address for {host}");
        for addr in addrs.iter().take(2) {
            match TcpStream::connect_timeout(addr, self.probe_timeout) {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(unreachable(last))
    }
}

impl Default for HubSource {
    fn default() -> Self {
        Self::new(Self::DEFAULT_ENDPOINT)
    }
}

/// `scheme://[user@]host[:port]/…` → (host, port), with the scheme's default port.
fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        "http" => 80,
        s if s.starts_with("socks") => 1080,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// Forwards `hf-hub`'s progress callbacks to ours.
struct HubProgress<'a> {
    inner: &'a dyn Progress,
    label: String,
}

impl hf_hub::api::Progress for HubProgress<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.inner.start(&self.label, Some(size as u64));
    }
    fn update(&mut self, size: usize) {
        self.inner.advance(size as u64);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
}

impl Source for HubSource {
    fn name(&self) -> &str {
        "model hub"
    }

    fn fetch(
        &self,
        spec: &ModelSpec,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        if self.copy_from_user_cache(spec, dest, progress).is_some() {
            return Ok(());
        }
        if self.offline {
            return Err(SourceError::Disabled("HF_HUB_OFFLINE is set".into()));
        }
        self.probe()?;

        // hf-hub downloads into its own cache layout; keep that beside the destination (same
        // filesystem, so the final move is a rename) and persistent, so an interrupted download
        // resumes from its `.part` file next time.
        let parent = dest.parent().unwrap_or_else(|| Path::new("."));
        let hub_cache = parent.join(".hub");
        let api = ApiBuilder::new()
            .with_endpoint(self.endpoint.clone())
            .with_cache_dir(hub_cache.clone())
            .with_progress(false)
            .with_retries(0)
            .build()
            .map_err(|e| SourceError::Hub(Box::new(e)))?;
        let repo = Repo::model(spec.hub_repo.to_owned());
        let label = format!("Downloading {} from {}", spec.hub_file, self.endpoint);
        let pointer = api
            .repo(repo.clone())
            .download_with_progress(spec.hub_file, HubProgress { inner: progress, label })
            .map_err(|e| SourceError::Hub(Box::new(e)))?;
        let blob = fs::canonicalize(&pointer)
            .map_err(|e| SourceError::io(format!("resolving {}", pointer.display()), e))?;
        fs::rename(&blob, dest)
            .map_err(|e| SourceError::io(format!("moving {} into the cache", blob.display()), e))?;
        // The blob now lives at `dest`; what remains are dangling links and refs.
        let _ = fs::remove_dir_all(hub_cache.join(repo.folder_name()));
        let _ = fs::remove_dir(&hub_cache);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn parses_endpoints_and_proxies() {
        assert_eq!(host_port("https://huggingface.co"), Some(("huggingface.co".into(), 443)));
        assert_eq!(host_port("http://127.0.0.1:9"), Some(("127.0.0.1".into(), 9)));
        assert_eq!(host_port("http://user:pw@proxy:3128/"), Some(("proxy".into(), 3128)));
        assert_eq!(host_port("https://[::1]:8443/x"), Some(("::1".into(), 8443)));
        assert_eq!(host_port("socks5://p"), Some(("p".into(), 1080)));
        assert_eq!(host_port("huggingface.co"), None);
    }
}
