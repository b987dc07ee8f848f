//! What one test case asks of an implementation: the profile op it drives (SPEC.md §11), the
//! op's input, and the expected outcome. Vector files (`vectors/*.json`, SPEC.md §12) and the
//! upstream suites both become [`Case`]s.

use serde_json::Value;

/// A command of the CLI conformance profile, as named in the vector files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Op {
    Jcs,
    SigVerify,
    IdentityNew,
    ClaimCreate,
    ClaimVerify,
    ClaimConvert,
    SigchainVerify,
}

impl Op {
    pub(crate) const ALL: [Self; 7] = [
        Self::Jcs,
        Self::SigVerify,
        Self::IdentityNew,
        Self::ClaimCreate,
        Self::ClaimVerify,
        Self::ClaimConvert,
        Self::SigchainVerify,
    ];

    /// The vector files' name of the op.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Jcs => "jcs",
            Self::SigVerify => "sig_verify",
            Self::IdentityNew => "identity_new",
            Self::ClaimCreate => "claim_create",
            Self::ClaimVerify => "claim_verify",
            Self::ClaimConvert => "claim_convert",
            Self::SigchainVerify => "sigchain_verify",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The command words after the implementation's own (`kez sig verify ...`).
    pub(crate) fn words(self) -> &'static [&'static str] {
        match self {
            Self::Jcs => &["jcs"],
            Self::SigVerify => &["sig", "verify"],
            Self::IdentityNew => &["identity", "new"],
            Self::ClaimCreate => &["claim", "create"],
            Self::ClaimVerify => &["claim", "verify"],
            Self::ClaimConvert => &["claim", "convert"],
            Self::SigchainVerify => &["sigchain", "verify"],
        }
    }
}

/// The claim encodings of SPEC.md §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Compact,
    Markdown,
    Dns,
}

impl Format {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Self::Json),
            "compact" => Some(Self::Compact),
            "markdown" => Some(Self::Markdown),
            "dns" => Some(Self::Dns),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Compact => "compact",
            Self::Markdown => "markdown",
            Self::Dns => "dns",
        }
    }
}

/// An op's input. Numbers and hex values are kept as the exact argument text.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    Jcs {
        stdin: Vec<u8>,
    },
    SigVerify {
        alg: String,
        public: String,
        msg: String,
        sig: String,
    },
    IdentityNew {
        alg: String,
        seed: Option<String>,
    },
    ClaimCreate {
        key_file: Vec<u8>,
        subject: String,
        iat: Option<String>,
        exp: Option<String>,
        aux: Option<String>,
        format: Format,
    },
    ClaimVerify {
        stdin: Vec<u8>,
        now: String,
        chain: Option<Vec<u8>>,
    },
    ClaimConvert {
        stdin: Vec<u8>,
        to: Format,
    },
    SigchainVerify {
        sources: Vec<Vec<u8>>,
        now: String,
    },
}

impl Input {
    pub(crate) fn op(&self) -> Op {
        match self {
            Self::Jcs { .. } => Op::Jcs,
            Self::SigVerify { .. } => Op::SigVerify,
            Self::IdentityNew { .. } => Op::IdentityNew,
            Self::ClaimCreate { .. } => Op::ClaimCreate,
            Self::ClaimVerify { .. } => Op::ClaimVerify,
            Self::ClaimConvert { .. } => Op::ClaimConvert,
            Self::SigchainVerify { .. } => Op::SigchainVerify,
        }
    }

    /// Every op the case needs: outputs in a non-JSON encoding are decoded with
    /// `claim convert --to json`; `claim verify --chain` is part of the sigchains of SPEC.md
    /// §11.7, so an implementation without `sigchain verify` skips it too.
    pub(crate) fn ops(&self) -> Vec<Op> {
        match self {
            Self::ClaimCreate { format, .. } if *format != Format::Json => {
                vec![Op::ClaimCreate, Op::ClaimConvert]
            }
            Self::ClaimVerify { chain: Some(_), .. } => vec![Op::ClaimVerify, Op::SigchainVerify],
            other => vec![other.op()],
        }
    }
}

/// The vector's `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Valid,
    Invalid,
    /// Either outcome passes.
    Acceptable,
}

/// What the implementation must do.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    pub(crate) result: Verdict,
    /// The exit code (for `acceptable`, the reference's, if given).
    pub(crate) exit: Option<i32>,
    pub(crate) status: Option<String>,
    pub(crate) error_class: Option<String>,
    pub(crate) stdout: Option<Vec<u8>>,
    pub(crate) stdout_json: Option<Value>,
    pub(crate) stdout_decoded: Option<Vec<u8>>,
    pub(crate) stdout_prefix: Option<Vec<u8>>,
    pub(crate) key_file: Option<Vec<u8>>,
}

impl Expect {
    /// A bare exit-code expectation (the upstream signature suites).
    pub(crate) fn exit(result: Verdict, exit: Option<i32>) -> Self {
        Self {
            result,
            exit,
            status: None,
            error_class: None,
            stdout: None,
            stdout_json: None,
            stdout_decoded: None,
            stdout_prefix: None,
            key_file: None,
        }
    }
}

/// One test case.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `<area>#<tcId>`.
    pub(crate) id: String,
    pub(crate) area: String,
    pub(crate) comment: String,
    /// The SPEC.md section, if the vector names one.
    pub(crate) spec: Option<String>,
    pub(crate) input: Input,
    pub(crate) expect: Expect,
    /// For a JSON array output: what each element stands for (the upstream number file), so a
    /// difference can be named by its source line.
    pub(crate) element_labels: Option<Vec<String>>,
    /// Relative cost, to start the slowest cases first.
    pub(crate) weight: u32,
}
