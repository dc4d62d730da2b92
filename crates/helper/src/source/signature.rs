//! OpenPGP verification of a source's `SHA256SUMS` against the keyring installed in the image
//! (`/etc/systemd/import-pubring.pgp`, else `/usr/lib/systemd/import-pubring.pgp`, and the
//! legacy `.gpg` names), with Sequoia's standard policy. Each way a signature can fail has its
//! own error, so that a person is told whether the mirror, the key or the keyring is at fault.

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::cert::CertParser;
use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use std::path::{Path, PathBuf};

/// Keyring locations inside the root, in the order systemd looks at them.
pub const KEYRING_PATHS: [&str; 4] = [
    "etc/systemd/import-pubring.pgp",
    "etc/systemd/import-pubring.gpg",
    "usr/lib/systemd/import-pubring.pgp",
    "usr/lib/systemd/import-pubring.gpg",
];

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No keyring is installed.
    #[error("no OpenPGP keyring is installed (looked for {})", KEYRING_PATHS.map(|p| format!("/{p}")).join(", "))]
    NoKeyring,
    /// The keyring cannot be read as OpenPGP certificates.
    #[error("the keyring {path} is unreadable: {reason}")]
    BadKeyring {
        /// The keyring, inside the root.
        path: String,
        /// Why.
        reason: String,
    },
    /// The source has no `SHA256SUMS.gpg`.
    #[error("the mirror offers no signature (SHA256SUMS.gpg)")]
    Missing,
    /// The signature is not a valid OpenPGP signature.
    #[error("the signature is corrupt: {0}")]
    Corrupt(String),
    /// Made by a key that is not in the keyring.
    #[error("the signature was made by a key that is not in the installed keyring ({0})")]
    UnknownKey(String),
    /// Made by a key of the keyring that has expired (or is not yet valid).
    #[error("the signing key {fingerprint} has expired: {reason}")]
    ExpiredKey {
        /// Fingerprint of the signing key.
        fingerprint: String,
        /// What the policy said.
        reason: String,
    },
    /// The key is unusable for another reason (revoked, too weak for the policy, ...).
    #[error("the signing key {fingerprint} is not acceptable: {reason}")]
    BadKey {
        /// Fingerprint of the signing key.
        fingerprint: String,
        /// What the policy said.
        reason: String,
    },
    /// The signature does not match the data: the file was changed after signing.
    #[error(
        "the signature does not match SHA256SUMS: the file was altered or belongs to another signature"
    )]
    Mismatch,
}

/// The keyring installed under `root`, as the first existing path of [`KEYRING_PATHS`].
pub fn installed_keyring(root: &Path) -> Result<(PathBuf, Vec<Cert>), SignatureError> {
    for relative in KEYRING_PATHS {
        let path = root.join(relative);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(SignatureError::BadKeyring {
                    path: format!("/{relative}"),
                    reason: e.to_string(),
                });
            }
        };
        let certs = parse_keyring(&bytes).map_err(|reason| SignatureError::BadKeyring {
            path: format!("/{relative}"),
            reason,
        })?;
        return Ok((Path::new("/").join(relative), certs));
    }
    Err(SignatureError::NoKeyring)
}

/// Parses a keyring (binary or armored, one or more certificates).
pub fn parse_keyring(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    let parser = CertParser::from_bytes(bytes).map_err(|e| e.to_string())?;
    let certs: Vec<Cert> = parser
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("it holds no certificate".into());
    }
    Ok(certs)
}

/// What a good signature was made with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GoodSignature {
    /// Fingerprint of the signing (sub)key.
    pub key_fingerprint: String,
    /// Fingerprint of its certificate (the primary key).
    pub cert_fingerprint: String,
    /// When the signature says it was made (seconds since the epoch): the signer's claim,
    /// used only to refuse a list older than one seen before (a replay).
    pub created: Option<i64>,
}

struct Helper<'a> {
    certs: &'a [Cert],
    outcome: Option<Result<GoodSignature, SignatureError>>,
}

fn classify(error: &VerificationError<'_>) -> SignatureError {
    match error {
        VerificationError::MalformedSignature { error, .. } => {
            SignatureError::Corrupt(error.to_string())
        }
        VerificationError::MissingKey { sig } => {
            let issuers: Vec<String> = sig.get_issuers().iter().map(ToString::to_string).collect();
            SignatureError::UnknownKey(if issuers.is_empty() {
                "no issuer given".into()
            } else {
                issuers.join(", ")
            })
        }
        VerificationError::UnboundKey { cert, error, .. } => SignatureError::BadKey {
            fingerprint: cert.fingerprint().to_string(),
            reason: error.to_string(),
        },
        VerificationError::BadKey { ka, error, .. } => {
            let reason = format!("{error:#}");
            let fingerprint = ka.key().fingerprint().to_string();
            if reason.contains("xpired")
                || reason.contains("not live")
                || reason.contains("not alive")
            {
                SignatureError::ExpiredKey {
                    fingerprint,
                    reason,
                }
            } else {
                SignatureError::BadKey {
                    fingerprint,
                    reason,
                }
            }
        }
        VerificationError::BadSignature { .. } => SignatureError::Mismatch,
        other => SignatureError::Corrupt(other.to_string()),
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.to_vec())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let policy = StandardPolicy::new();
        for layer in structure {
            let MessageLayer::SignatureGroup { results } = layer else {
                continue;
            };
            for result in results {
                let outcome = match result {
                    Ok(good) => {
                        let created = good
                            .sig
                            .signature_creation_time()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .and_then(|d| i64::try_from(d.as_secs()).ok());
                        still_valid_now(&policy, good.ka.cert(), &good.ka.key().fingerprint())
                            .map(|g| GoodSignature { created, ..g })
                    }
                    Err(error) => Err(classify(&error)),
                };
                // The first good signature wins; otherwise keep the first reason.
                match (&self.outcome, outcome) {
                    (Some(Ok(_)), _) => {}
                    (_, Ok(good)) => self.outcome = Some(Ok(good)),
                    (None, Err(e)) => self.outcome = Some(Err(e)),
                    (Some(Err(_)), Err(_)) => {}
                }
            }
        }
        Ok(())
    }
}

/// A signature made while the key was valid is not enough: the key must still be valid now,
/// or a key that expired (or was meant to be retired) would keep signing updates forever.
fn still_valid_now(
    policy: &StandardPolicy<'_>,
    cert: &Cert,
    key: &openpgp::Fingerprint,
) -> Result<GoodSignature, SignatureError> {
    let expired = |reason: String| SignatureError::ExpiredKey {
        fingerprint: key.to_string(),
        reason,
    };
    let valid = cert
        .with_policy(policy, None)
        .map_err(|e| expired(format!("{e:#}")))?;
    valid.alive().map_err(|e| expired(format!("{e:#}")))?;
    let amalgamation = valid
        .keys()
        .key_handle(key.clone())
        .next()
        .ok_or_else(|| expired("the signing key is no longer valid under the policy".into()))?;
    amalgamation
        .alive()
        .map_err(|e| expired(format!("{e:#}")))?;
    // Revoked now: a key retired or superseded stops signing updates from the moment of its
    // revocation, whatever creation time a signature claims (the signer chooses that time).
    let revoked = |status: &openpgp::types::RevocationStatus<'_>| {
        !matches!(status, openpgp::types::RevocationStatus::NotAsFarAsWeKnow)
    };
    if revoked(&valid.revocation_status()) || revoked(&amalgamation.revocation_status()) {
        return Err(SignatureError::BadKey {
            fingerprint: key.to_string(),
            reason: "the key is revoked".into(),
        });
    }
    Ok(GoodSignature {
        key_fingerprint: key.to_string(),
        cert_fingerprint: cert.fingerprint().to_string(),
        created: None,
    })
}

/// Verifies a detached signature over `data` with the certificates of `keyring`.
pub fn verify_detached(
    keyring: &[Cert],
    data: &[u8],
    signature: &[u8],
) -> Result<GoodSignature, SignatureError> {
    let policy = StandardPolicy::new();
    let helper = Helper {
        certs: keyring,
        outcome: None,
    };
    let builder = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(|e| SignatureError::Corrupt(format!("{e:#}")))?;
    let mut verifier = builder
        .with_policy(&policy, None, helper)
        .map_err(|e| SignatureError::Corrupt(format!("{e:#}")))?;
    let result = verifier.verify_bytes(data);
    let outcome = verifier.into_helper().outcome;
    match (outcome, result) {
        (Some(outcome), _) => outcome,
        (None, Err(e)) => Err(SignatureError::Corrupt(format!("{e:#}"))),
        (None, Ok(())) => Err(SignatureError::Corrupt("it holds no signature".into())),
    }
}
