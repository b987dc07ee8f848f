//! The channel settings shared by `kez verify id` and `kez claim publish`: flags first, then the
//! environment, then the defaults (SPEC.md §15.1).

use std::net::SocketAddr;
use std::path::PathBuf;

use kez_channels::Config;

use crate::cli::Endpoints;
use crate::output::Failure;

/// A non-empty environment variable.
pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn http_url(flag: &str, url: String) -> Result<String, Failure> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(Failure::usage(format!("{flag}: expected an http(s) URL")))
    }
}

/// The channel configuration of `args`.
pub(super) fn config(args: &Endpoints, offline: bool) -> Result<Config, Failure> {
    let mut config = Config::default();
    if let Some(timeout) = args.timeout {
        config.timeout = timeout;
    }
    config.offline = offline;
    if let Some(server) = args.dns_server.clone().or_else(|| env("KEZ_DNS_SERVER")) {
        let addr: SocketAddr = server
            .parse()
            .map_err(|_| Failure::usage("--dns-server: expected IP:PORT"))?;
        config.dns_server = Some(addr);
    }
    if let Some(api) = args.github_api.clone().or_else(|| env("KEZ_GITHUB_API")) {
        config.github_api = http_url("--github-api", api)?;
    }
    config.github_token = env("GITHUB_TOKEN");
    let relays: Vec<String> = if args.relays.is_empty() {
        env("KEZ_RELAYS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        args.relays.clone()
    };
    if !relays.is_empty() {
        if let Some(bad) = relays
            .iter()
            .find(|r| !(r.starts_with("ws://") || r.starts_with("wss://")))
        {
            return Err(Failure::usage(format!(
                "--relay: expected a ws:// or wss:// URL, got {bad:?}"
            )));
        }
        config.relays = relays;
    }
    if let Some(plc) = args
        .plc_directory
        .clone()
        .or_else(|| env("KEZ_PLC_DIRECTORY"))
    {
        config.plc_directory = http_url("--plc-directory", plc)?;
    }
    if let Some(origin) = args.web_origin.clone().or_else(|| env("KEZ_WEB_ORIGIN")) {
        config.web_origin = Some(http_url("--web-origin", origin)?);
    }
    config.cache_dir = args
        .cache_dir
        .clone()
        .or_else(|| env("KEZ_CACHE_DIR").map(PathBuf::from))
        .or_else(|| env("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kez")))
        .or_else(|| env("HOME").map(|d| PathBuf::from(d).join(".cache").join("kez")));
    Ok(config)
}
