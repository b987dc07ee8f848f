//! The command-line shape (clap derive types), as in `design/CLI.md`.
//!
//! Hex and key-file arguments are plain strings here and are decoded by the commands, so that
//! malformed values give one-line `usage` errors that never echo a secret back.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// KEZ: a portable decentralized identity graph (claims signed by nostr or Ed25519 keys)
#[derive(Debug, Parser)]
#[command(
    name = "kez",
    version,
    after_help = "Exit status:\n  0  done, or valid\n  1  the answer is no (invalid, expired, revoked, fork)\n  2  usage error or malformed input"
)]
pub(crate) struct Cli {
    /// Machine-readable output; errors are also printed as JSON on stdout
    #[arg(long, global = true, display_order = 900)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create and inspect key files
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Create, verify and convert signed claims
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Keep a sigchain: the signed log of an identity's claims, keys and devices
    #[command(subcommand)]
    Sigchain(SigchainCommand),
    /// Print the RFC 8785 canonical form (JCS) of a JSON text
    Jcs(InputArg),
    /// Raw signature checks
    #[command(subcommand)]
    Sig(SigCommand),
    /// Check accounts against the proofs they publish (dns, github, nostr, bluesky, ap)
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Encrypted direct messages and files with other nostr keys, over nostr relays
    #[command(subcommand)]
    Chat(ChatCommand),
    /// Run the main job end to end on fresh keys, offline, and show what was verified
    Demo,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChatCommand {
    /// Send a text message
    Send(ChatSend),
    /// Send a file (at most 10 MiB): inline, or in chunks sized for the relays
    SendFile(ChatSendFile),
    /// Receive: print messages, show "Receiving N/M...", save files; also finishes interrupted
    /// sends and answers resend requests
    Listen(ChatListen),
    /// List conversations and every message's state
    Inbox(ChatInbox),
}

/// Who we are and where we keep messages.
#[derive(Debug, Args)]
pub(crate) struct ChatIdentity {
    /// Our nostr key file [env: KEZ_KEY]
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) key: Option<PathBuf>,
    /// The message store [env: KEZ_CHAT_STORE] [default: $XDG_DATA_HOME/kez/chat/<our key>]
    #[arg(long, value_name = "DIR")]
    pub(crate) store: Option<PathBuf>,
}

/// Which relays and how to talk to them.
#[derive(Debug, Args)]
pub(crate) struct ChatRelays {
    /// A nostr relay (ws:// or wss://); repeat for several [env: KEZ_RELAYS, comma-separated;
    /// else `relay = URL` lines of the config file] [default: five public relays]
    #[arg(long = "relay", value_name = "URL")]
    pub(crate) relays: Vec<String>,
    /// Config file of `relay = URL` and `rate = N` lines [env: KEZ_CONFIG]
    /// [default: $XDG_CONFIG_HOME/kez/chat.conf]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Events per second to each relay at the start (0: no pacing) [default: 5]
    #[arg(long, value_name = "N")]
    pub(crate) rate: Option<f64>,
    /// Timeout of each relay step, in seconds [default: 10]
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub(crate) timeout: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub(crate) struct ChatSend {
    #[command(flatten)]
    pub(crate) identity: ChatIdentity,
    #[command(flatten)]
    pub(crate) relays: ChatRelays,
    /// The recipient: nostr:npub1..., npub1... or 64 hex digits
    #[arg(long, value_name = "KEYREF")]
    pub(crate) to: String,
    /// The message
    #[arg(value_name = "TEXT")]
    pub(crate) text: String,
}

#[derive(Debug, Args)]
pub(crate) struct ChatSendFile {
    #[command(flatten)]
    pub(crate) identity: ChatIdentity,
    #[command(flatten)]
    pub(crate) relays: ChatRelays,
    /// The recipient: nostr:npub1..., npub1... or 64 hex digits
    #[arg(long, value_name = "KEYREF")]
    pub(crate) to: String,
    /// The file
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ChatListen {
    #[command(flatten)]
    pub(crate) identity: ChatIdentity,
    #[command(flatten)]
    pub(crate) relays: ChatRelays,
    /// Stop after this many seconds [default: run until interrupted]
    #[arg(long = "for", value_name = "SECS", value_parser = seconds)]
    pub(crate) duration: Option<std::time::Duration>,
    /// Stop after this many messages or files arrived (ready or failed) or interrupted sends
    /// were finished
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Seconds of silence before asking a sender for missing chunks [default: 30]
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub(crate) resend_after: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub(crate) struct ChatInbox {
    #[command(flatten)]
    pub(crate) identity: ChatIdentity,
}

/// One input file; `-` (the default) reads stdin.
#[derive(Debug, Args)]
pub(crate) struct InputArg {
    /// Input file, or `-` for stdin
    #[arg(value_name = "FILE", default_value = "-")]
    pub(crate) input: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum IdentityCommand {
    /// Generate a key and write it to a new key file (mode 0600)
    New(IdentityNew),
    /// Print the public key reference of a key file
    Show(IdentityShow),
}

#[derive(Debug, Args)]
pub(crate) struct IdentityNew {
    /// Signature suite of the new key
    #[arg(long, value_enum)]
    pub(crate) alg: KeyAlg,
    /// Deterministic key: 64 hex digits (nostr: the secret key; ed25519: the seed)
    #[arg(long, value_name = "HEX")]
    pub(crate) seed: Option<String>,
    /// Key file to create
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Replace FILE if it exists
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct IdentityShow {
    /// Key file to read
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
}

/// Key suites, named as in key references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyAlg {
    /// secp256k1 BIP-340 Schnorr (nostr:npub1...)
    Nostr,
    /// Ed25519 (ed25519:<hex>)
    Ed25519,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClaimCommand {
    /// Sign a claim that the key holds an account (CH:HANDLE)
    Create(ClaimCreate),
    /// Verify a claim offline: decoding, signature, expiry (exit 0 iff valid)
    Verify(ClaimVerify),
    /// Re-encode a claim (input encoding is auto-detected)
    Convert(ClaimConvert),
    /// Publish a claim where its account lives, or print exactly what to put where
    Publish(ClaimPublish),
}

#[derive(Debug, Args)]
pub(crate) struct ClaimCreate {
    /// Key file of the signing key
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) key: PathBuf,
    /// The account claimed, e.g. github:alice or dns:example.com
    #[arg(long, value_name = "CH:HANDLE")]
    pub(crate) subject: String,
    /// Issued-at, Unix seconds [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) iat: Option<u64>,
    /// Expiry, Unix seconds (after --iat)
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) exp: Option<u64>,
    /// BIP-340 aux randomness, 64 hex digits (fixes nostr signatures) [default: random]
    #[arg(long, value_name = "HEX")]
    pub(crate) aux: Option<String>,
    /// Output encoding
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct ClaimVerify {
    #[command(flatten)]
    pub(crate) input: InputArg,
    /// Verification time, Unix seconds [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) now: Option<u64>,
    /// Also judge the claim against this sigchain (revoked, rotated-out key, fork)
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ClaimConvert {
    /// Output encoding
    #[arg(long, value_enum)]
    pub(crate) to: Format,
    #[command(flatten)]
    pub(crate) input: InputArg,
}

/// The four claim encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Canonical JSON (JCS)
    Json,
    /// kez:z1:<base64url(zstd(JCS))>
    Compact,
    /// A ```kez fenced block holding the compact form
    Markdown,
    /// A DNS TXT record (zone-file line for dns: subjects)
    Dns,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SigCommand {
    /// Verify a raw signature over a message (exit 0 iff it verifies)
    Verify(SigVerify),
}

#[derive(Debug, Args)]
pub(crate) struct SigVerify {
    /// Signature suite
    #[arg(long, value_enum)]
    pub(crate) alg: SigAlg,
    /// Public key, hex (BIP-340: 32-byte x-only; Ed25519: 32-byte point)
    #[arg(long = "pub", value_name = "HEX")]
    pub(crate) public: String,
    /// Message, hex (may be empty)
    #[arg(long, value_name = "HEX")]
    pub(crate) msg: String,
    /// Signature, hex (64 bytes)
    #[arg(long, value_name = "HEX")]
    pub(crate) sig: String,
}

/// Raw signature suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SigAlg {
    /// BIP-340 Schnorr over secp256k1
    Bip340,
    /// Ed25519, strict verification
    Ed25519,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SigchainCommand {
    /// Create an empty chain file for a key (prints the chain id)
    New(SigchainNew),
    /// Record a claim in the chain, and print the signed claim to publish
    Add(SigchainAdd),
    /// Revoke a claim recorded in the chain
    Revoke(SigchainRevoke),
    /// Replace the primary key (the new key signs from the next link on)
    Rotate(SigchainRotate),
    /// Authorize a device key to add (and revoke its own) claims
    AddDevice(SigchainAddDevice),
    /// Withdraw a device key
    RemoveDevice(SigchainRemoveDevice),
    /// Print the chain's state and one line per link (exit 0 iff valid)
    Show(SigchainShow),
    /// Check a chain and write it as a bundle (one link per line)
    Export(SigchainExport),
    /// Merge and replay bundles: status, keys, devices, claims (exit 0 iff valid)
    Verify(SigchainVerify),
}

/// The chain file and the key that signs the next link.
#[derive(Debug, Args)]
pub(crate) struct ChainSigner {
    /// Key file of the signing key (the primary key, or a device)
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) key: PathBuf,
    /// Chain file (a bundle: one link per line); rewritten atomically
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: PathBuf,
}

/// Options of every new link.
#[derive(Debug, Args)]
pub(crate) struct LinkOptions {
    /// Issued-at of the link, Unix seconds, not before the last link's [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) iat: Option<u64>,
    /// BIP-340 aux randomness, 64 hex digits (fixes nostr signatures) [default: random]
    #[arg(long, value_name = "HEX")]
    pub(crate) aux: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainNew {
    /// Key file of the chain's first primary key (its reference is the chain id)
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) key: PathBuf,
    /// Chain file to create
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: PathBuf,
    /// Replace FILE if it exists (with an empty chain)
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainAdd {
    #[command(flatten)]
    pub(crate) signer: ChainSigner,
    /// The account claimed, e.g. github:alice or dns:example.com
    #[arg(long, value_name = "CH:HANDLE")]
    pub(crate) subject: String,
    /// Expiry of the claim, Unix seconds (after --iat)
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) exp: Option<u64>,
    #[command(flatten)]
    pub(crate) link: LinkOptions,
    /// Encoding of the printed claim
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainRevoke {
    #[command(flatten)]
    pub(crate) signer: ChainSigner,
    #[command(flatten)]
    pub(crate) target: RevokeTarget,
    #[command(flatten)]
    pub(crate) link: LinkOptions,
}

/// Which claim to revoke: by id, or by a subject with exactly one live claim.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct RevokeTarget {
    /// Id of the claim, 64 hex digits (as `sigchain show` lists it)
    #[arg(long, value_name = "ID")]
    pub(crate) claim: Option<String>,
    /// Subject of the claim; exactly one unrevoked claim must have it
    #[arg(long, value_name = "CH:HANDLE")]
    pub(crate) subject: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainRotate {
    #[command(flatten)]
    pub(crate) signer: ChainSigner,
    /// Key file of the new primary key (it signs a proof of possession)
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) new_key: PathBuf,
    #[command(flatten)]
    pub(crate) link: LinkOptions,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainAddDevice {
    #[command(flatten)]
    pub(crate) signer: ChainSigner,
    /// Key file of the device (it signs a proof of possession)
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) device: PathBuf,
    #[command(flatten)]
    pub(crate) link: LinkOptions,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainRemoveDevice {
    #[command(flatten)]
    pub(crate) signer: ChainSigner,
    /// Key reference of the device to withdraw
    #[arg(long, value_name = "KEYREF")]
    pub(crate) device: String,
    #[command(flatten)]
    pub(crate) link: LinkOptions,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainShow {
    #[command(flatten)]
    pub(crate) input: InputArg,
    /// Time the claims' expiry is judged at, Unix seconds [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) now: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainExport {
    #[command(flatten)]
    pub(crate) input: InputArg,
    /// Write the bundle to FILE (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SigchainVerify {
    /// Bundles of one chain, merged by seq; `-` is stdin
    #[arg(value_name = "FILE", default_value = "-")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Time the claims' expiry is judged at, Unix seconds [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) now: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VerifyCommand {
    /// Fetch an account's published proofs and verify each one (exit 0 iff one is valid)
    Id(VerifyId),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyId {
    /// The accounts, e.g. dns:example.com github:alice (checked concurrently)
    #[arg(value_name = "CH:HANDLE", required = true)]
    pub(crate) subjects: Vec<String>,
    /// Only proofs signed by this key count
    #[arg(long, value_name = "KEYREF")]
    pub(crate) key: Option<String>,
    /// Also judge each proof against this sigchain: a bundle file or an http(s) URL; repeat to
    /// merge sources (a fork between them is reported)
    #[arg(long, value_name = "FILE|URL")]
    pub(crate) chain: Vec<String>,
    /// Verification time, Unix seconds [default: now]
    #[arg(long, value_name = "N", value_parser = unix_seconds)]
    pub(crate) now: Option<u64>,
    /// Answer from the HTTP cache only; nothing goes on the network
    #[arg(long)]
    pub(crate) offline: bool,
    #[command(flatten)]
    pub(crate) endpoints: Endpoints,
}

/// Where the channels are asked; every endpoint can be pointed at a local server.
#[derive(Debug, Args)]
pub(crate) struct Endpoints {
    /// Timeout of each request, in seconds (a fraction is allowed) [default: 10]
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// DNS server to ask [env: KEZ_DNS_SERVER] [default: the system's]
    #[arg(long, value_name = "IP:PORT")]
    pub(crate) dns_server: Option<String>,
    /// GitHub REST API base URL [env: KEZ_GITHUB_API] [default: https://api.github.com];
    /// GITHUB_TOKEN, if set, is sent to it (never needed to verify)
    #[arg(long, value_name = "URL")]
    pub(crate) github_api: Option<String>,
    /// A nostr relay (ws:// or wss://); repeat for several [env: KEZ_RELAYS, comma-separated]
    /// [default: five public relays]
    #[arg(long = "relay", value_name = "URL")]
    pub(crate) relays: Vec<String>,
    /// PLC directory base URL, for did:plc [env: KEZ_PLC_DIRECTORY] [default: https://plc.directory]
    #[arg(long, value_name = "URL")]
    pub(crate) plc_directory: Option<String>,
    /// Send every https://HOST/PATH request to ORIGIN/PATH with Host: HOST (tests, mirrors)
    /// [env: KEZ_WEB_ORIGIN]
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) web_origin: Option<String>,
    /// HTTP cache directory [env: KEZ_CACHE_DIR] [default: $XDG_CACHE_HOME/kez]
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ClaimPublish {
    /// The account to publish the proof for, e.g. github:alice (the claim's subject)
    #[arg(value_name = "CH:HANDLE")]
    pub(crate) subject: String,
    #[command(flatten)]
    pub(crate) input: InputArg,
    /// nostr: the key file of the npub (the proof event is signed by it)
    #[arg(long, value_name = "KEYFILE")]
    pub(crate) nostr_key: Option<PathBuf>,
    /// File of NAME=VALUE lines with GITHUB_TOKEN, KEZ_BLUESKY_APP_PASSWORD, KEZ_AP_ACCESS_TOKEN
    /// (mode 0600; the environment wins) [default: $XDG_CONFIG_HOME/kez/credentials]
    #[arg(long, value_name = "FILE")]
    pub(crate) credentials: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) endpoints: Endpoints,
}

/// A timeout in seconds: digits with an optional fraction, more than 0 and at most 3600.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return Err("expected seconds, e.g. 10 or 0.5".to_owned());
    }
    let value: f64 = text.parse().map_err(|_| "expected seconds".to_owned())?;
    if !(value > 0.0 && value <= 3600.0) {
        return Err("must be more than 0 and at most 3600".to_owned());
    }
    std::time::Duration::try_from_secs_f64(value).map_err(|_| "out of range".to_owned())
}

/// Unix seconds: a plain decimal integer (no sign, no spaces), as SPEC.md §11.2 requires of
/// every number argument; clap's own parser would also take a leading `+`.
fn unix_seconds(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a decimal integer (Unix seconds)".to_owned());
    }
    text.parse().map_err(|_| "out of range".to_owned())
}
