//! The contract between CreateAuthChallenge and VerifyAuthChallengeResponse: what Create keeps
//! about a `CUSTOM_CHALLENGE` round — in the private challenge parameters (Cognito hands them to
//! Verify, never to the client) and in `challengeMetadata` (Cognito lists it in the session that
//! Define and later Creates see) — written and read only here.
//!
//! - Private parameters: `challenge` (the step's tag, [`ChallengeStep::tag`]), `seal` (the sealed
//!   code or CAPTCHA text, or [`DECOY`]) and, for a CAPTCHA, `provider`.
//! - Metadata: `<tag>:<seal>` for an SMS round (a retry round re-uses that seal), with
//!   `;resent` after it when the code was sent again at the client's request
//!   ([`crate::flow::RESENT_FLAG`]), and `;via=<channel>` before it on rounds of the `otp` step
//!   (the channel that round's code went by, so a retry and the public parameters name it);
//!   `<tag>:<provider>` for a CAPTCHA round. The state machine
//!   reads the tag before the `:` and the flags after a `;` ([`crate::flow`]); seals and provider
//!   names hold neither character. With `VERIFY_ON_FIRST_SIGN_IN`, a code that went to an
//!   unverified destination carries `;proves=<attribute>.<digest>` ([`ProofToken`]) in the
//!   metadata and as the private parameter `proves`, so Verify knows that a right answer proves
//!   that attribute, with that value.

use crate::event::StringMap;
use crate::flow::{ChallengeStep, Channel, RESENT_FLAG};
use crate::seal::SealKey;
use crate::state::UserRef;

/// What a decoy round keeps instead of a seal: it can never be passed.
pub(crate) const DECOY: &str = "decoy";

const STEP: &str = "challenge";
const SEAL: &str = "seal";
const PROVIDER: &str = "provider";
const PROVES: &str = "proves";
/// The flag naming what a round's code proves (`;proves=phone_number.<digest>`).
const PROVES_FLAG: &str = "proves=";
/// The flag naming a round's channel (`;via=email`).
const VIA_FLAG: &str = "via=";

/// What Create keeps about one round, for Verify and for later rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoundRecord {
    tag: &'static str,
    seal: Option<String>,
    provider: Option<&'static str>,
    resent: bool,
    via: Option<Channel>,
    proves: Option<ProofToken>,
}

impl RoundRecord {
    /// An SMS round: its code's seal (or [`DECOY`]); `resent` when the code was sent again at
    /// the client's request.
    pub(crate) fn sms(tag: &'static str, seal: String, resent: bool) -> Self {
        Self {
            tag,
            seal: Some(seal),
            provider: None,
            resent,
            via: None,
            proves: None,
        }
    }

    /// The same round, its code sent to a destination that a right answer proves.
    pub(crate) fn proving(mut self, proof: Option<ProofToken>) -> Self {
        self.proves = proof;
        self
    }

    /// The same round, recording the channel its code went by.
    pub(crate) fn via(mut self, channel: Channel) -> Self {
        self.via = Some(channel);
        self
    }

    /// A CAPTCHA round of `provider`, with the sealed text of an image CAPTCHA.
    pub(crate) fn captcha(tag: &'static str, provider: &'static str, seal: Option<String>) -> Self {
        Self {
            tag,
            seal,
            provider: Some(provider),
            resent: false,
            via: None,
            proves: None,
        }
    }

    /// The private challenge parameters.
    pub(crate) fn private_parameters(&self) -> StringMap {
        let mut private = StringMap::new();
        private.insert(STEP.to_owned(), self.tag.to_owned());
        if let Some(seal) = &self.seal {
            private.insert(SEAL.to_owned(), seal.clone());
        }
        if let Some(provider) = self.provider {
            private.insert(PROVIDER.to_owned(), provider.to_owned());
        }
        if let Some(proof) = &self.proves {
            private.insert(PROVES.to_owned(), proof.0.clone());
        }
        private
    }

    /// The `challengeMetadata`.
    pub(crate) fn metadata(&self) -> String {
        let detail = match self.provider {
            Some(provider) => provider,
            None => self.seal.as_deref().unwrap_or(""),
        };
        let via = self
            .via
            .map(|channel| format!(";{VIA_FLAG}{channel}"))
            .unwrap_or_default();
        let flag = if self.resent {
            format!(";{RESENT_FLAG}")
        } else {
            String::new()
        };
        let proves = self
            .proves
            .as_ref()
            .map(|proof| format!(";{PROVES_FLAG}{}", proof.0))
            .unwrap_or_default();
        format!("{}:{detail}{via}{proves}{flag}", self.tag)
    }
}

/// Verify's view of a round's private parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrivateParameters<'a>(pub(crate) &'a StringMap);

impl<'a> PrivateParameters<'a> {
    /// The step the round belongs to, if it names a known one.
    pub(crate) fn step(&self) -> Option<ChallengeStep> {
        self.0
            .get(STEP)
            .map(String::as_str)
            .and_then(ChallengeStep::from_tag)
    }

    /// The seal (or [`DECOY`]); empty when there is none.
    pub(crate) fn seal(&self) -> &'a str {
        self.0.get(SEAL).map_or("", String::as_str)
    }

    /// What a right answer to the round's code proves, if anything.
    pub(crate) fn proves(&self) -> Option<ProofToken> {
        self.0.get(PROVES).map(|token| ProofToken(token.clone()))
    }

    /// The CAPTCHA provider the round was made for.
    pub(crate) fn provider(&self) -> Option<&'a str> {
        self.0.get(PROVIDER).map(String::as_str)
    }
}

/// The seal an earlier SMS round of step `tag` kept in its metadata (`<tag>:<seal>`, flags
/// after a `;` left out).
pub(crate) fn seal_in_metadata<'a>(metadata: &'a str, tag: &str) -> Option<&'a str> {
    metadata
        .strip_prefix(tag)?
        .strip_prefix(':')?
        .split(';')
        .next()
}

/// What an earlier code round's code proves (`;proves=…`), if anything.
pub(crate) fn proof_in_metadata(metadata: &str) -> Option<ProofToken> {
    metadata
        .split(';')
        .skip(1)
        .find_map(|flag| flag.strip_prefix(PROVES_FLAG))
        .map(|token| ProofToken(token.to_owned()))
}

/// What a code sent to an unverified destination proves when answered: the attribute
/// (`phone_number` or `email`) and a digest of its value as it was when the code went out
/// (keyed with the seal key when there is one, and bound to the pool and the user), so that
/// Verify can tell whether the attribute still holds that value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProofToken(String);

impl ProofToken {
    /// The token for a code sent to `value` of `attribute`.
    pub(crate) fn new(
        key: &SealKey,
        pool_id: &str,
        owner: &UserRef,
        attribute: &'static str,
        value: &str,
    ) -> Self {
        Self(format!(
            "{attribute}.{}",
            Self::digest(key, pool_id, owner, attribute, value)
        ))
    }

    fn digest(
        key: &SealKey,
        pool_id: &str,
        owner: &UserRef,
        attribute: &str,
        value: &str,
    ) -> String {
        let digest = key.digest(&[
            b"proves/v1",
            pool_id.as_bytes(),
            owner.as_str().as_bytes(),
            attribute.as_bytes(),
            value.as_bytes(),
        ]);
        digest
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The attribute and its value that a right answer proves, if the user's `attributes` still
    /// hold the value the code went to (and the attribute is one codes go to).
    pub(crate) fn proven<'a>(
        &self,
        key: &SealKey,
        pool_id: &str,
        owner: &UserRef,
        attributes: &'a StringMap,
    ) -> Option<(&'static str, &'a str)> {
        let (attribute, digest) = self.0.split_once('.')?;
        let attribute = ["phone_number", "email"]
            .into_iter()
            .find(|known| *known == attribute)?;
        let value = attributes.get(attribute)?;
        let expected = Self::digest(key, pool_id, owner, attribute, value);
        use subtle::ConstantTimeEq as _;
        bool::from(expected.as_bytes().ct_eq(digest.as_bytes()))
            .then_some((attribute, value.as_str()))
    }
}

/// The channel an earlier code round recorded (`;via=<channel>`), if any.
pub(crate) fn channel_in_metadata(metadata: &str) -> Option<Channel> {
    metadata
        .split(';')
        .skip(1)
        .find_map(|flag| flag.strip_prefix(VIA_FLAG))
        .and_then(Channel::from_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{CAPTCHA_TAG, SMS_OTP_TAG};

    #[test]
    fn what_create_writes_verify_and_later_rounds_read() {
        let sms = RoundRecord::sms(SMS_OTP_TAG, "v2.sealed".to_owned(), false);
        let private = sms.private_parameters();
        let read = PrivateParameters(&private);
        assert_eq!(read.step(), Some(ChallengeStep::SmsOtp));
        assert_eq!(read.seal(), "v2.sealed");
        assert_eq!(read.provider(), None);
        assert_eq!(sms.metadata(), "SMS_OTP:v2.sealed");
        assert_eq!(
            seal_in_metadata(&sms.metadata(), SMS_OTP_TAG),
            Some("v2.sealed")
        );
        assert_eq!(seal_in_metadata(&sms.metadata(), CAPTCHA_TAG), None);
        assert_eq!(seal_in_metadata("SMS_OTPv2.sealed", SMS_OTP_TAG), None);

        // A code sent again: flagged, and its seal read without the flag.
        let resent = RoundRecord::sms(SMS_OTP_TAG, "v2.sealed".to_owned(), true);
        assert_eq!(resent.metadata(), "SMS_OTP:v2.sealed;resent");
        assert_eq!(resent.private_parameters(), private);
        assert_eq!(
            seal_in_metadata(&resent.metadata(), SMS_OTP_TAG),
            Some("v2.sealed")
        );
        let entry = crate::flow::SessionEntry::from_cognito(
            "CUSTOM_CHALLENGE",
            false,
            Some(&resent.metadata()),
        );
        assert!(entry.resent);
        assert!(
            !crate::flow::SessionEntry::from_cognito(
                "CUSTOM_CHALLENGE",
                false,
                Some(&sms.metadata())
            )
            .resent
        );

        let image = RoundRecord::captcha(CAPTCHA_TAG, "image", Some("v2.text".to_owned()));
        let private = image.private_parameters();
        let read = PrivateParameters(&private);
        assert_eq!(read.step(), Some(ChallengeStep::Captcha));
        assert_eq!(read.seal(), "v2.text");
        assert_eq!(read.provider(), Some("image"));
        assert_eq!(image.metadata(), "CAPTCHA:image");

        let widget = RoundRecord::captcha(CAPTCHA_TAG, "turnstile", None);
        let private = widget.private_parameters();
        assert_eq!(PrivateParameters(&private).seal(), "");
        assert_eq!(private.len(), 2);
        // The sample events in events/ hold exactly these keys.
        assert_eq!(
            private.keys().map(String::as_str).collect::<Vec<_>>(),
            ["challenge", "provider"]
        );
    }

    #[test]
    fn an_otp_round_records_its_channel_before_the_resent_flag() {
        use crate::flow::OTP_TAG;
        let round = RoundRecord::sms(OTP_TAG, "v2.sealed".to_owned(), true).via(Channel::Email);
        assert_eq!(round.metadata(), "OTP:v2.sealed;via=email;resent");
        assert_eq!(channel_in_metadata(&round.metadata()), Some(Channel::Email));
        assert_eq!(
            seal_in_metadata(&round.metadata(), OTP_TAG),
            Some("v2.sealed")
        );
        let entry = crate::flow::SessionEntry::from_cognito(
            "CUSTOM_CHALLENGE",
            false,
            Some(&round.metadata()),
        );
        assert!(entry.resent);
        assert_eq!(
            entry.challenge,
            crate::flow::SessionChallenge::Custom(ChallengeStep::Otp)
        );
        let first = RoundRecord::sms(OTP_TAG, "decoy".to_owned(), false).via(Channel::Voice);
        assert_eq!(first.metadata(), "OTP:decoy;via=voice");
        assert_eq!(channel_in_metadata(&first.metadata()), Some(Channel::Voice));
        assert_eq!(channel_in_metadata("OTP:v2.sealed"), None);
        assert_eq!(channel_in_metadata("OTP:v2.sealed;via=fax"), None);
        assert_eq!(channel_in_metadata("OTP:via=sms"), None);
    }

    #[test]
    fn a_round_naming_no_known_step_reads_as_none() {
        let mut private = StringMap::new();
        assert_eq!(PrivateParameters(&private).step(), None);
        private.insert("challenge".to_owned(), "PASSWORD".to_owned());
        assert_eq!(PrivateParameters(&private).step(), None);
    }
}
