//! Sign-up policy: pure decisions over what a PreSignUp event says about one sign-up (which app
//! client, which attributes), for the `pre-sign-up` trigger.
//!
//! A sign-up that passes is auto-confirmed (the user needs no confirmation code from Cognito's
//! own messaging) and **never** auto-verified: a destination becomes verified only when a code
//! sent there was answered (`VERIFY_ON_FIRST_SIGN_IN`, see [`crate::triggers::PostAuthentication`]).
//! The phone number a sign-up gives must pass the same country and number-type rules as a send
//! (`SMS_ALLOWED_COUNTRIES`, `SMS_ALLOWED_NUMBER_TYPES`), so sign-up cannot be used to make the
//! pool send codes to premium-rate numbers or to countries the operator does not serve.

use std::fmt;

use crate::Error;
use crate::abuse::AbusePolicy;
use crate::email::EmailAddress;
use crate::env::Environment;
use crate::event::StringMap;
use crate::flow::AuthFlow;
use crate::phone::PhoneNumber;

/// An attribute a code can be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DestinationAttribute {
    /// `phone_number` (SMS and voice codes).
    PhoneNumber,
    /// `email` (e-mailed codes).
    Email,
}

impl DestinationAttribute {
    /// Both, in the order messages name them.
    pub const ALL: [Self; 2] = [Self::PhoneNumber, Self::Email];

    /// The attribute's name in Cognito.
    pub fn name(self) -> &'static str {
        match self {
            Self::PhoneNumber => "phone_number",
            Self::Email => "email",
        }
    }

    /// The attribute that says it is verified (`phone_number_verified`, `email_verified`).
    pub fn verified_name(self) -> &'static str {
        match self {
            Self::PhoneNumber => "phone_number_verified",
            Self::Email => "email_verified",
        }
    }

    /// What users call it.
    fn words(self) -> &'static str {
        match self {
            Self::PhoneNumber => "a phone number",
            Self::Email => "an e-mail address",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// One requirement of `SIGNUP_REQUIRED_ATTRIBUTES`: at least one of these attributes is given
/// (`phone_number`, `email`, or `phone_number|email` for either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement(Vec<DestinationAttribute>);

impl Requirement {
    fn is_met(&self, attributes: &StringMap) -> bool {
        self.0.iter().any(|kind| {
            attributes
                .get(kind.name())
                .is_some_and(|value| !value.trim().is_empty())
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|kind| kind.name()).collect();
        f.write_str(&names.join("|"))
    }
}

/// The sign-up policy (`SIGNUP_*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignUpPolicy {
    /// `SIGNUP_ALLOWED_CLIENT_IDS`: only these app clients may sign users up (any when `None`).
    pub allowed_client_ids: Option<Vec<String>>,
    /// `SIGNUP_REQUIRED_ATTRIBUTES`: what a sign-up must give; by default what the flow's code
    /// steps send to (a phone number for `sms_otp`, an e-mail address for `email_otp`, either
    /// for an `otp` step offering both).
    pub required: Vec<Requirement>,
}

impl SignUpPolicy {
    /// The `SIGNUP_*` variables, with defaults from the configured `flow`.
    pub fn from_env(env: &Environment<'_>, flow: &AuthFlow) -> Result<Self, Error> {
        let allowed_client_ids = env.list("SIGNUP_ALLOWED_CLIENT_IDS");
        if allowed_client_ids.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::config(
                "SIGNUP_ALLOWED_CLIENT_IDS",
                "lists no app client id",
            ));
        }
        let required = match env.get("SIGNUP_REQUIRED_ATTRIBUTES") {
            Some(list) => parse_requirements(&list)
                .map_err(|reason| Error::config("SIGNUP_REQUIRED_ATTRIBUTES", reason))?,
            None => default_requirements(flow),
        };
        Ok(Self {
            allowed_client_ids,
            required,
        })
    }
}

/// Parses `phone_number,email|phone_number`: comma-separated requirements, each one attribute
/// or alternatives joined by `|`.
pub fn parse_requirements(list: &str) -> Result<Vec<Requirement>, String> {
    let mut requirements = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut any_of = Vec::new();
        for name in entry.split('|').map(str::trim) {
            let kind = DestinationAttribute::from_name(name).ok_or_else(|| {
                format!(
                    "`{}` is not phone_number or email (alternatives are joined by |)",
                    name.chars().take(32).collect::<String>()
                )
            })?;
            if !any_of.contains(&kind) {
                any_of.push(kind);
            }
        }
        any_of.sort();
        requirements.push(Requirement(any_of));
    }
    if requirements.is_empty() {
        return Err("lists no attribute".to_owned());
    }
    Ok(requirements)
}

/// What the flow's code steps need: for each, one of the attributes its channels send to.
fn default_requirements(flow: &AuthFlow) -> Vec<Requirement> {
    let mut requirements: Vec<Requirement> = Vec::new();
    for step in flow.steps() {
        let mut any_of: Vec<DestinationAttribute> = flow
            .channels(*step)
            .iter()
            .map(|channel| {
                if channel.uses_phone() {
                    DestinationAttribute::PhoneNumber
                } else {
                    DestinationAttribute::Email
                }
            })
            .collect();
        any_of.sort();
        any_of.dedup();
        let requirement = Requirement(any_of);
        if !requirement.0.is_empty() && !requirements.contains(&requirement) {
            requirements.push(requirement);
        }
    }
    requirements
}

/// Where a sign-up comes from (`triggerSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpSource {
    /// `PreSignUp_SignUp`: someone called `SignUp` through an app client.
    SelfSignUp,
    /// `PreSignUp_AdminCreateUser`: an administrator created the user.
    AdminCreateUser,
    /// `PreSignUp_ExternalProvider`: a federated identity signs in for the first time.
    ExternalProvider,
}

impl SignUpSource {
    /// The source a `triggerSource` names.
    pub fn from_trigger_source(source: &str) -> Option<Self> {
        match source {
            "PreSignUp_SignUp" => Some(Self::SelfSignUp),
            "PreSignUp_AdminCreateUser" => Some(Self::AdminCreateUser),
            "PreSignUp_ExternalProvider" => Some(Self::ExternalProvider),
            _ => None,
        }
    }
}

/// What the PreSignUp event says about one sign-up.
#[derive(Debug, Clone, Copy)]
pub struct SignUpFacts<'a> {
    /// Where it comes from.
    pub source: SignUpSource,
    /// The app client (`callerContext.clientId`).
    pub client_id: Option<&'a str>,
    /// The attributes the new user would have.
    pub attributes: &'a StringMap,
}

/// What to answer a sign-up that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignUpDecision {
    /// `autoConfirmUser`: true for a self sign-up (Cognito confirms the others itself).
    pub auto_confirm: bool,
}

/// Why a sign-up was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUpRefusal {
    /// The app client is not in `SIGNUP_ALLOWED_CLIENT_IDS`.
    ClientNotAllowed,
    /// The sign-up claims a verified destination itself.
    SelfVerified(DestinationAttribute),
    /// A required attribute is missing.
    Missing(Requirement),
    /// The phone number is not an E.164 number.
    InvalidPhone,
    /// The phone number's country is not in `SMS_ALLOWED_COUNTRIES`.
    CountryNotAllowed,
    /// The phone number is of a kind codes never go to (`SMS_ALLOWED_NUMBER_TYPES`).
    NumberTypeNotAllowed,
    /// The e-mail address does not look like one.
    InvalidEmail,
}

impl SignUpRefusal {
    /// A short stable name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ClientNotAllowed => "client_not_allowed",
            Self::SelfVerified(_) => "self_verified",
            Self::Missing(_) => "missing_attribute",
            Self::InvalidPhone => "invalid_phone",
            Self::CountryNotAllowed => "country_not_allowed",
            Self::NumberTypeNotAllowed => "number_type_not_allowed",
            Self::InvalidEmail => "invalid_email",
        }
    }

    /// What the person signing up sees (Cognito adds its own full stop).
    pub fn user_message(&self) -> String {
        match self {
            Self::ClientNotAllowed => "Sign-up is not available in this app".to_owned(),
            Self::SelfVerified(_) => {
                "A phone number or e-mail address cannot be marked verified at sign-up".to_owned()
            }
            Self::Missing(requirement) => {
                let words: Vec<&str> = requirement.0.iter().map(|kind| kind.words()).collect();
                let mut text = words.join(" or ");
                if let Some(first) = text.get(..1) {
                    text = first.to_uppercase() + text.get(1..).unwrap_or("");
                }
                format!("{text} is required to sign up")
            }
            Self::InvalidPhone => {
                "The phone number must be in international format, such as +12065550100".to_owned()
            }
            Self::CountryNotAllowed => {
                "Phone numbers of this country cannot be used to sign up".to_owned()
            }
            Self::NumberTypeNotAllowed => {
                "This kind of phone number cannot receive sign-in codes: use a mobile number"
                    .to_owned()
            }
            Self::InvalidEmail => "The e-mail address is not valid".to_owned(),
        }
    }
}

impl fmt::Display for SignUpRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SelfVerified(kind) => write!(f, "the sign-up sets {}", kind.verified_name()),
            Self::Missing(requirement) => write!(f, "no {requirement}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Decides one sign-up. Every source gets the attribute checks (a phone number must be one codes
/// may be sent to, an e-mail address must look like one); self sign-ups also the app client, the
/// required attributes and no self-claimed verification, and only they are auto-confirmed.
/// Federated sign-ups carry what the identity provider vouches for and pass as they are.
pub fn evaluate(
    policy: &SignUpPolicy,
    abuse: &AbusePolicy,
    facts: &SignUpFacts<'_>,
) -> Result<SignUpDecision, SignUpRefusal> {
    if facts.source == SignUpSource::ExternalProvider {
        return Ok(SignUpDecision {
            auto_confirm: false,
        });
    }
    let self_sign_up = facts.source == SignUpSource::SelfSignUp;
    if self_sign_up {
        if let Some(allowed) = &policy.allowed_client_ids {
            let listed = facts
                .client_id
                .is_some_and(|client| allowed.iter().any(|id| id == client));
            if !listed {
                return Err(SignUpRefusal::ClientNotAllowed);
            }
        }
        for kind in DestinationAttribute::ALL {
            // Only "false" (or nothing) may come from the person signing up.
            let claimed = facts
                .attributes
                .get(kind.verified_name())
                .is_some_and(|value| !value.trim().eq_ignore_ascii_case("false"));
            if claimed {
                return Err(SignUpRefusal::SelfVerified(kind));
            }
        }
        if let Some(missing) = policy
            .required
            .iter()
            .find(|requirement| !requirement.is_met(facts.attributes))
        {
            return Err(SignUpRefusal::Missing(missing.clone()));
        }
    }
    if let Some(number) = facts.attributes.get("phone_number") {
        let phone = PhoneNumber::parse(number).map_err(|_| SignUpRefusal::InvalidPhone)?;
        if let Some(allowed) = &abuse.allowed_countries {
            allowed
                .check(&phone)
                .map_err(|_| SignUpRefusal::CountryNotAllowed)?;
        }
        abuse
            .allowed_number_types
            .check(&phone)
            .map_err(|_| SignUpRefusal::NumberTypeNotAllowed)?;
    }
    if let Some(address) = facts.attributes.get("email") {
        EmailAddress::parse(address).ok_or(SignUpRefusal::InvalidEmail)?;
    }
    Ok(SignUpDecision {
        auto_confirm: self_sign_up,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abuse::{CountryAllowList, NumberTypePolicy};

    fn attributes(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn policy(pairs: &[(&str, &str)], flow: &str) -> SignUpPolicy {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let env = Environment::new(&lookup);
        let flow = AuthFlow::parse(flow).unwrap();
        SignUpPolicy::from_env(&env, &flow).unwrap()
    }

    fn sign_up<'a>(client: Option<&'a str>, attributes: &'a StringMap) -> SignUpFacts<'a> {
        SignUpFacts {
            source: SignUpSource::SelfSignUp,
            client_id: client,
            attributes,
        }
    }

    const PHONE: (&str, &str) = ("phone_number", "+12065550100");

    #[test]
    fn a_self_sign_up_with_what_the_flow_needs_is_confirmed_never_verified() {
        let given = attributes(&[PHONE]);
        let decision = evaluate(
            &policy(&[], "sms_otp"),
            &AbusePolicy::default(),
            &sign_up(Some("web"), &given),
        );
        assert_eq!(decision, Ok(SignUpDecision { auto_confirm: true }));
    }

    #[test]
    fn the_default_requirement_follows_the_flow() {
        assert_eq!(
            policy(&[], "sms_otp").required,
            vec![Requirement(vec![DestinationAttribute::PhoneNumber])]
        );
        assert_eq!(
            policy(&[], "email_otp").required,
            vec![Requirement(vec![DestinationAttribute::Email])]
        );
        assert_eq!(
            policy(&[("OTP_CHANNELS", "email,voice")], "otp").required,
            vec![Requirement(vec![
                DestinationAttribute::PhoneNumber,
                DestinationAttribute::Email
            ])]
        );
        assert_eq!(
            policy(&[], "password,captcha,sms_otp").required,
            vec![Requirement(vec![DestinationAttribute::PhoneNumber])]
        );
        let email_only = attributes(&[("email", "dana@example.com")]);
        assert_eq!(
            evaluate(
                &policy(&[], "sms_otp"),
                &AbusePolicy::default(),
                &sign_up(None, &email_only)
            ),
            Err(SignUpRefusal::Missing(Requirement(vec![
                DestinationAttribute::PhoneNumber
            ])))
        );
    }

    #[test]
    fn required_attributes_can_be_set_and_each_must_be_met() {
        let both = policy(
            &[("SIGNUP_REQUIRED_ATTRIBUTES", "email, phone_number|email")],
            "sms_otp",
        );
        let abuse = AbusePolicy::default();
        let phone_only = attributes(&[PHONE]);
        let refusal = evaluate(&both, &abuse, &sign_up(None, &phone_only)).unwrap_err();
        assert_eq!(refusal.kind(), "missing_attribute");
        assert_eq!(
            refusal.user_message(),
            "An e-mail address is required to sign up"
        );
        let blank = attributes(&[PHONE, ("email", "  ")]);
        assert!(evaluate(&both, &abuse, &sign_up(None, &blank)).is_err());
        let all = attributes(&[PHONE, ("email", "dana@example.com")]);
        assert!(evaluate(&both, &abuse, &sign_up(None, &all)).is_ok());
        let either = policy(
            &[("SIGNUP_REQUIRED_ATTRIBUTES", "phone_number|email")],
            "otp",
        );
        let none = attributes(&[]);
        assert_eq!(
            evaluate(&either, &abuse, &sign_up(None, &none))
                .unwrap_err()
                .user_message(),
            "A phone number or an e-mail address is required to sign up"
        );
    }

    #[test]
    fn bad_variables_are_refused_naming_them() {
        for (name, value) in [
            ("SIGNUP_REQUIRED_ATTRIBUTES", "phone"),
            ("SIGNUP_REQUIRED_ATTRIBUTES", " , "),
            ("SIGNUP_REQUIRED_ATTRIBUTES", "email|"),
            ("SIGNUP_ALLOWED_CLIENT_IDS", ","),
        ] {
            let lookup = |asked: &str| (asked == name).then(|| value.to_owned());
            let env = Environment::new(&lookup);
            let flow = AuthFlow::parse("sms_otp").unwrap();
            let error = SignUpPolicy::from_env(&env, &flow).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn only_listed_clients_may_sign_users_up() {
        let listed = policy(&[("SIGNUP_ALLOWED_CLIENT_IDS", "web, ios")], "sms_otp");
        let given = attributes(&[PHONE]);
        let abuse = AbusePolicy::default();
        assert!(evaluate(&listed, &abuse, &sign_up(Some("ios"), &given)).is_ok());
        for client in [Some("android"), Some(""), Some("web,ios"), None] {
            assert_eq!(
                evaluate(&listed, &abuse, &sign_up(client, &given)),
                Err(SignUpRefusal::ClientNotAllowed),
                "{client:?}"
            );
        }
        // Administrators are not an app client.
        let admin = SignUpFacts {
            source: SignUpSource::AdminCreateUser,
            client_id: None,
            attributes: &given,
        };
        assert_eq!(
            evaluate(&listed, &abuse, &admin),
            Ok(SignUpDecision {
                auto_confirm: false
            })
        );
    }

    #[test]
    fn a_sign_up_cannot_claim_a_verified_destination() {
        let abuse = AbusePolicy::default();
        let open = policy(&[], "sms_otp");
        for (name, value) in [
            ("phone_number_verified", "true"),
            ("phone_number_verified", "TRUE"),
            ("phone_number_verified", "1"),
            ("email_verified", "true"),
            ("email_verified", ""),
        ] {
            let given = attributes(&[PHONE, (name, value)]);
            let refusal = evaluate(&open, &abuse, &sign_up(None, &given)).unwrap_err();
            assert_eq!(refusal.kind(), "self_verified", "{name}={value}");
        }
        let unverified = attributes(&[PHONE, ("phone_number_verified", "false")]);
        assert!(evaluate(&open, &abuse, &sign_up(None, &unverified)).is_ok());
        // An administrator may create users with verified destinations.
        let verified = attributes(&[PHONE, ("phone_number_verified", "true")]);
        let admin = SignUpFacts {
            source: SignUpSource::AdminCreateUser,
            client_id: None,
            attributes: &verified,
        };
        assert!(evaluate(&open, &abuse, &admin).is_ok());
    }

    #[test]
    fn phone_numbers_obey_the_send_rules_at_sign_up() {
        let open = policy(&[], "sms_otp");
        let abuse = AbusePolicy {
            allowed_countries: Some(CountryAllowList::parse("US,CA").unwrap()),
            ..AbusePolicy::default()
        };
        let cases = [
            ("+12065550100", Ok(())),
            ("+447700900123", Err(SignUpRefusal::CountryNotAllowed)),
            ("2065550100", Err(SignUpRefusal::InvalidPhone)),
            ("+1 206 555 0100", Err(SignUpRefusal::InvalidPhone)),
            ("", Err(SignUpRefusal::InvalidPhone)),
            // Premium rate (+1 900): never a destination.
            ("+19005550123", Err(SignUpRefusal::NumberTypeNotAllowed)),
        ];
        for (number, expected) in cases {
            let given = attributes(&[("phone_number", number), ("email", "dana@example.com")]);
            for source in [SignUpSource::SelfSignUp, SignUpSource::AdminCreateUser] {
                let facts = SignUpFacts {
                    source,
                    client_id: None,
                    attributes: &given,
                };
                let outcome = evaluate(&open, &abuse, &facts).map(drop);
                let expected = match (&expected, number) {
                    // A blank number fails the requirement first on self sign-ups.
                    (Err(_), "") if source == SignUpSource::SelfSignUp => {
                        Err(SignUpRefusal::Missing(Requirement(vec![
                            DestinationAttribute::PhoneNumber,
                        ])))
                    }
                    _ => expected.clone(),
                };
                assert_eq!(outcome, expected, "{number} {source:?}");
            }
        }
        let mobile_only = AbusePolicy {
            allowed_number_types: NumberTypePolicy::parse("mobile").unwrap(),
            ..AbusePolicy::default()
        };
        // North American numbers are fixed-line-or-mobile, not "mobile".
        let given = attributes(&[PHONE]);
        assert_eq!(
            evaluate(&open, &mobile_only, &sign_up(None, &given)),
            Err(SignUpRefusal::NumberTypeNotAllowed)
        );
    }

    #[test]
    fn e_mail_addresses_must_look_like_one() {
        let open = policy(&[("SIGNUP_REQUIRED_ATTRIBUTES", "email")], "email_otp");
        let abuse = AbusePolicy::default();
        for (address, ok) in [
            ("dana@example.com", true),
            ("dana@example", false),
            ("dana example.com", false),
            ("<dana@example.com>", false),
        ] {
            let given = attributes(&[("email", address)]);
            assert_eq!(
                evaluate(&open, &abuse, &sign_up(None, &given)).is_ok(),
                ok,
                "{address}"
            );
        }
    }

    #[test]
    fn federated_sign_ups_pass_unconfirmed_and_unverified() {
        let strict = policy(
            &[
                ("SIGNUP_ALLOWED_CLIENT_IDS", "web"),
                ("SIGNUP_REQUIRED_ATTRIBUTES", "phone_number"),
            ],
            "sms_otp",
        );
        let given = attributes(&[("email", "dana@example.com"), ("email_verified", "true")]);
        let facts = SignUpFacts {
            source: SignUpSource::ExternalProvider,
            client_id: Some("other"),
            attributes: &given,
        };
        assert_eq!(
            evaluate(&strict, &AbusePolicy::default(), &facts),
            Ok(SignUpDecision {
                auto_confirm: false
            })
        );
    }

    #[test]
    fn refusals_say_why_in_the_logs() {
        let either = Requirement(vec![
            DestinationAttribute::PhoneNumber,
            DestinationAttribute::Email,
        ]);
        assert_eq!(either.to_string(), "phone_number|email");
        assert_eq!(
            SignUpRefusal::Missing(either).to_string(),
            "no phone_number|email"
        );
        assert_eq!(
            SignUpRefusal::SelfVerified(DestinationAttribute::Email).to_string(),
            "the sign-up sets email_verified"
        );
        for (refusal, kind) in [
            (SignUpRefusal::ClientNotAllowed, "client_not_allowed"),
            (SignUpRefusal::InvalidPhone, "invalid_phone"),
            (SignUpRefusal::CountryNotAllowed, "country_not_allowed"),
            (
                SignUpRefusal::NumberTypeNotAllowed,
                "number_type_not_allowed",
            ),
            (SignUpRefusal::InvalidEmail, "invalid_email"),
        ] {
            assert_eq!(refusal.kind(), kind);
            assert_eq!(refusal.to_string(), kind);
            assert!(!refusal.user_message().is_empty());
        }
        assert_eq!(
            SignUpRefusal::SelfVerified(DestinationAttribute::PhoneNumber).kind(),
            "self_verified"
        );
    }

    #[test]
    fn sources_are_read_from_the_trigger_source() {
        assert_eq!(
            SignUpSource::from_trigger_source("PreSignUp_SignUp"),
            Some(SignUpSource::SelfSignUp)
        );
        assert_eq!(
            SignUpSource::from_trigger_source("PreSignUp_AdminCreateUser"),
            Some(SignUpSource::AdminCreateUser)
        );
        assert_eq!(
            SignUpSource::from_trigger_source("PreSignUp_ExternalProvider"),
            Some(SignUpSource::ExternalProvider)
        );
        assert_eq!(SignUpSource::from_trigger_source("presignup_signup"), None);
    }
}
