//! Codes by phone call, for phones that cannot receive SMS: End User Messaging
//! `SendVoiceMessage` reads the text in SSML, the code digit by digit and slowly, twice, in a
//! voice of the user's language. The same sender as SMS places the call (one client, one
//! timeout); only End User Messaging and the console sender can.
//!
//! Settings: `VOICE_ORIGINATION_IDENTITY` (a voice-capable number or its ARN; required to call
//! through End User Messaging) and `VOICE_ID` (one voice for every language; by default each
//! language gets one of its own, [`default_voice`]). Texts: built-in for the same languages as
//! SMS, `voice` entries of `OTP_MESSAGES` to override or add.

use std::fmt;

use super::settings::MessageTemplate;
use super::texts::{LanguageTexts, document_texts};
use crate::Error;
use crate::env::Environment;
use crate::phone::PhoneNumber;

/// One call to place.
#[derive(Clone)]
pub struct VoiceMessage {
    /// The number to call.
    pub to: PhoneNumber,
    /// What the call says, in SSML (the code included: never logged).
    pub ssml: String,
    /// The same words as plain text with the code as digits, for the console sender.
    pub transcript: String,
    /// The voice (`JOANNA`, `LEA`, …), as End User Messaging names it.
    pub voice_id: &'static str,
    /// How long the provider may keep trying, in seconds.
    pub time_to_live_seconds: u64,
}

impl fmt::Debug for VoiceMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoiceMessage")
            .field("to", &self.to)
            .field(
                "ssml",
                &format_args!("<{} chars>", self.ssml.chars().count()),
            )
            .field("voice_id", &self.voice_id)
            .field("time_to_live_seconds", &self.time_to_live_seconds)
            .finish()
    }
}

/// The voices End User Messaging offers (`VoiceId`), as `VOICE_ID` spells them.
pub const VOICES: &[&str] = &[
    "AMY",
    "ASTRID",
    "BIANCA",
    "BRIAN",
    "CAMILA",
    "CARLA",
    "CARMEN",
    "CELINE",
    "CHANTAL",
    "CONCHITA",
    "CRISTIANO",
    "DORA",
    "EMMA",
    "ENRIQUE",
    "EWA",
    "FILIZ",
    "GERAINT",
    "GIORGIO",
    "GWYNETH",
    "HANS",
    "INES",
    "IVY",
    "JACEK",
    "JAN",
    "JOANNA",
    "JOEY",
    "JUSTIN",
    "KARL",
    "KENDRA",
    "KIMBERLY",
    "LEA",
    "LIV",
    "LOTTE",
    "LUCIA",
    "LUPE",
    "MADS",
    "MAJA",
    "MARLENE",
    "MATHIEU",
    "MATTHEW",
    "MAXIM",
    "MIA",
    "MIGUEL",
    "MIZUKI",
    "NAJA",
    "NICOLE",
    "PENELOPE",
    "RAVEENA",
    "RICARDO",
    "RUBEN",
    "RUSSELL",
    "SALLI",
    "SEOYEON",
    "TAKUMI",
    "TATYANA",
    "VICKI",
    "VITORIA",
    "ZEINA",
    "ZHIYU",
];

/// The voice for each language with built-in texts, and for every other language End User
/// Messaging has a voice for (so a text an operator adds in `OTP_MESSAGES` is read in its own
/// language); any other language is read by the English voice.
const VOICE_BY_LANGUAGE: &[(&str, &str)] = &[
    ("en", "JOANNA"),
    ("en-gb", "AMY"),
    ("en-au", "NICOLE"),
    ("en-in", "RAVEENA"),
    ("cy", "GWYNETH"),
    ("da", "NAJA"),
    ("is", "DORA"),
    ("nb", "LIV"),
    ("no", "LIV"),
    ("sv", "ASTRID"),
    ("ro", "CARMEN"),
    ("ru", "TATYANA"),
    ("ko", "SEOYEON"),
    ("es-us", "PENELOPE"),
    ("es-mx", "MIA"),
    ("fr-ca", "CHANTAL"),
    ("es", "LUCIA"),
    ("fr", "LEA"),
    ("de", "VICKI"),
    ("it", "BIANCA"),
    ("pt", "CAMILA"),
    ("pt-pt", "INES"),
    ("nl", "LOTTE"),
    ("pl", "EWA"),
    ("tr", "FILIZ"),
    ("ja", "MIZUKI"),
    ("zh", "ZHIYU"),
    ("zh-tw", "ZHIYU"),
    ("zh-hant", "ZHIYU"),
    ("zh-hk", "ZHIYU"),
    ("zh-mo", "ZHIYU"),
    ("ar", "ZEINA"),
];

/// The voice that reads texts of `tag` (a language tag the texts are keyed by): its own, or
/// that of its language, or the English one.
pub fn default_voice(tag: &str) -> &'static str {
    let mut tag = tag.to_owned();
    loop {
        if let Some((_, voice)) = VOICE_BY_LANGUAGE.iter().find(|(known, _)| *known == tag) {
            return voice;
        }
        match tag.rfind('-') {
            Some(cut) => tag.truncate(cut),
            None => return "JOANNA",
        }
    }
}

/// The longest voice text, rendered (it is said twice).
const MAX_VOICE_TEXT: usize = 300;

/// The English voice texts (`{code}` is read digit by digit).
pub const DEFAULT_VOICE_TEXT: &str = "Your sign-in code is {code}. Do not share it with anyone.";
/// The English voice text when `APP_NAME` is set.
pub const DEFAULT_VOICE_TEXT_WITH_APP: &str =
    "Your {app} sign-in code is {code}. Do not share it with anyone.";

/// Everything a call needs besides the sender.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    /// `VOICE_ORIGINATION_IDENTITY`.
    pub origination_identity: Option<String>,
    /// `VOICE_ID`: one voice for every language (`None`: each language's own).
    pub voice_id: Option<&'static str>,
    /// `VOICE_MAX_PRICE_PER_MINUTE`: the most a call may cost per minute, in USD (`0.10`).
    pub max_price_per_minute: Option<String>,
    /// The texts by language.
    texts: LanguageTexts,
}

/// Stands for the code while a text is escaped (texts holding it are refused).
const CODE_MARK: char = '\u{1}';

impl VoiceSettings {
    /// `VOICE_ORIGINATION_IDENTITY`, `VOICE_ID`, and the voice texts (built-in, and `voice` of
    /// `OTP_MESSAGES`), each checked: known placeholders, `{app}` only with `APP_NAME`, no
    /// control characters, at most 300 characters with the longest code.
    pub fn from_env(
        env: &Environment<'_>,
        app_name: &str,
        longest_code: usize,
        minutes: u64,
    ) -> Result<Self, Error> {
        let voice_id = match env.get("VOICE_ID") {
            Some(name) => {
                let upper = name.trim().to_ascii_uppercase();
                Some(
                    VOICES
                        .iter()
                        .copied()
                        .find(|voice| *voice == upper)
                        .ok_or_else(|| {
                            Error::config(
                                "VOICE_ID",
                                "must be an End User Messaging voice such as JOANNA, MATTHEW or LEA (see docs/configuration.md)",
                            )
                        })?,
                )
            }
            None => None,
        };
        let origination_identity = env.get("VOICE_ORIGINATION_IDENTITY");
        if let Some(identity) = &origination_identity
            && (identity.len() > 256
                || identity
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(Error::config(
                "VOICE_ORIGINATION_IDENTITY",
                "must be a phone number, its id or its ARN",
            ));
        }
        let check = |variable: &'static str, label: &str, text: &str| {
            let template = MessageTemplate::parse(text)
                .map_err(|reason| Error::config(variable, format!("{label} {reason}")))?;
            if template.names_the_app() && app_name.is_empty() {
                return Err(Error::config(
                    variable,
                    format!("{label} uses {{app}}, and APP_NAME is not set"),
                ));
            }
            let rendered = template.render(&"0".repeat(longest_code), app_name, minutes);
            if rendered.chars().any(|c| c.is_control()) {
                return Err(Error::config(
                    variable,
                    format!("{label} holds a control character"),
                ));
            }
            if rendered.chars().count() > MAX_VOICE_TEXT {
                return Err(Error::config(
                    variable,
                    format!("{label} is longer than {MAX_VOICE_TEXT} characters (with APP_NAME)"),
                ));
            }
            Ok(template)
        };
        let english = if app_name.is_empty() {
            DEFAULT_VOICE_TEXT
        } else {
            DEFAULT_VOICE_TEXT_WITH_APP
        };
        let mut texts = LanguageTexts::new(check("OTP_MESSAGES", "built-in voice.en", english)?);
        for (tag, with_app, plain) in super::builtin::VOICE_TEXTS {
            let text = if app_name.is_empty() { plain } else { with_app };
            // A built-in text too long with this APP_NAME is used without the name.
            let template = check("OTP_MESSAGES", &format!("built-in voice.{tag}"), text)
                .or_else(|_| check("OTP_MESSAGES", &format!("built-in voice.{tag}"), plain))?;
            texts.insert((*tag).to_owned(), template);
        }
        if let Some((variable, entries)) = document_texts(env, "voice")? {
            for (tag, text) in entries {
                let template = check(variable, &format!("voice.{tag}"), &text)?;
                texts.insert(tag, template);
            }
        }
        Ok(Self {
            origination_identity,
            voice_id,
            max_price_per_minute: super::settings::price(env, "VOICE_MAX_PRICE_PER_MINUTE")?,
            texts,
        })
    }

    /// The call for one code, in the user's language.
    pub fn message(
        &self,
        to: PhoneNumber,
        locale: Option<&str>,
        code: &str,
        app: &str,
        minutes: u64,
        time_to_live_seconds: u64,
    ) -> VoiceMessage {
        let (template, tag) = self.texts.for_locale(locale);
        let marked = template.render(&CODE_MARK.to_string(), app, minutes);
        VoiceMessage {
            to,
            ssml: ssml(&marked, code),
            transcript: marked.replace(CODE_MARK, code),
            voice_id: self.voice_id.unwrap_or_else(|| default_voice(tag)),
            time_to_live_seconds,
        }
    }

    /// The languages with a voice text of their own, English included.
    pub fn languages(&self) -> Vec<&str> {
        self.texts.languages()
    }
}

/// The SSML of a text whose code is marked: the text escaped, the code read one digit at a
/// time with pauses, slowly; all of it twice, a second apart.
fn ssml(marked: &str, code: &str) -> String {
    let mut digits = String::from("<prosody rate=\"slow\">");
    for (index, digit) in code.chars().enumerate() {
        if index > 0 {
            digits.push_str("<break time=\"300ms\"/>");
        }
        digits.push_str("<say-as interpret-as=\"digits\">");
        digits.push(digit);
        digits.push_str("</say-as>");
    }
    digits.push_str("</prosody>");
    let sentence = escape_xml(marked).replace(CODE_MARK, &digits);
    format!("<speak>{sentence}<break time=\"1s\"/>{sentence}</speak>")
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)], app: &str) -> Result<VoiceSettings, Error> {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        VoiceSettings::from_env(&Environment::new(&lookup), app, 10, 15)
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+12065550100").unwrap()
    }

    #[test]
    fn the_code_is_read_digit_by_digit_slowly_twice() {
        let voice = settings(&[], "").unwrap();
        let call = voice.message(phone(), None, "123456", "", 5, 300);
        let digits = "<prosody rate=\"slow\"><say-as interpret-as=\"digits\">1</say-as><break time=\"300ms\"/><say-as interpret-as=\"digits\">2</say-as><break time=\"300ms\"/><say-as interpret-as=\"digits\">3</say-as><break time=\"300ms\"/><say-as interpret-as=\"digits\">4</say-as><break time=\"300ms\"/><say-as interpret-as=\"digits\">5</say-as><break time=\"300ms\"/><say-as interpret-as=\"digits\">6</say-as></prosody>";
        assert_eq!(
            call.ssml,
            format!(
                "<speak>Your sign-in code is {digits}. Do not share it with anyone.<break time=\"1s\"/>Your sign-in code is {digits}. Do not share it with anyone.</speak>"
            )
        );
        assert_eq!(
            call.transcript,
            "Your sign-in code is 123456. Do not share it with anyone."
        );
        assert_eq!(call.voice_id, "JOANNA");
        assert!(!format!("{call:?}").contains("123456"));
    }

    #[test]
    fn each_language_is_read_in_its_own_voice_unless_one_is_set() {
        let voice = settings(&[], "Example").unwrap();
        for (locale, expected) in [
            ("fr-CA", "LEA"),
            ("de", "VICKI"),
            ("pt-BR", "CAMILA"),
            ("pt-PT", "INES"),
            ("zh-Hant-TW", "ZHIYU"),
            ("ar", "ZEINA"),
            ("ja_JP", "MIZUKI"),
            // No Swedish text: the English one, in the English voice.
            ("sv", "JOANNA"),
        ] {
            let call = voice.message(phone(), Some(locale), "123456", "Example", 5, 300);
            assert_eq!(call.voice_id, expected, "{locale}");
            assert_eq!(call.transcript.matches("123456").count(), 1, "{locale}");
            assert!(call.ssml.starts_with("<speak>") && call.ssml.ends_with("</speak>"));
        }
        // Every built-in language has a text and the voice of that language.
        assert!(voice.languages().len() >= 13, "{:?}", voice.languages());
        let one = settings(&[("VOICE_ID", "matthew")], "").unwrap();
        assert_eq!(
            one.message(phone(), Some("fr"), "1", "", 5, 300).voice_id,
            "MATTHEW"
        );
    }

    #[test]
    fn an_operators_language_is_read_in_its_own_voice() {
        let voice = settings(
            &[("OTP_MESSAGES", r#"{"voice": {"sv": "Din kod är {code}."}}"#)],
            "",
        )
        .unwrap();
        let call = voice.message(phone(), Some("sv-SE"), "12", "", 5, 300);
        assert_eq!(call.voice_id, "ASTRID");
        assert_eq!(call.transcript, "Din kod är 12.");
        assert_eq!(default_voice("en-gb"), "AMY");
        assert_eq!(default_voice("en-us"), "JOANNA");
        assert_eq!(default_voice("xx"), "JOANNA");
    }

    #[test]
    fn operator_texts_are_escaped_and_checked_at_cold_start() {
        let voice = settings(
            &[(
                "OTP_MESSAGES",
                r#"{"voice": {"en": "Tom & Jerry's <code>: {code}"}}"#,
            )],
            "",
        )
        .unwrap();
        let call = voice.message(phone(), None, "42", "", 5, 300);
        assert!(call.ssml.starts_with(
            "<speak>Tom &amp; Jerry&apos;s &lt;code&gt;: <prosody rate=\"slow\"><say-as interpret-as=\"digits\">4</say-as>"
        ));
        let refused = |document: &str, app: &str| {
            settings(&[("OTP_MESSAGES", document)], app)
                .unwrap_err()
                .to_string()
        };
        assert!(
            refused(r#"{"voice": {"de": "kein Code"}}"#, "")
                .contains("voice.de must contain `{code}` exactly once")
        );
        assert!(refused(r#"{"voice": {"de": "{app} {code}"}}"#, "").contains("APP_NAME"));
        assert!(
            refused(
                &format!(r#"{{"voice": {{"de": "{{code}} {}"}}}}"#, "a".repeat(300)),
                ""
            )
            .contains("longer than 300")
        );
        assert!(refused(r#"{"voice": {"de": "{code}\u0001"}}"#, "").contains("control character"));
        assert!(
            settings(&[("VOICE_ID", "ROBOT")], "")
                .unwrap_err()
                .to_string()
                .contains("VOICE_ID")
        );
        assert!(
            settings(&[("VOICE_ORIGINATION_IDENTITY", "+1 206")], "")
                .unwrap_err()
                .to_string()
                .contains("VOICE_ORIGINATION_IDENTITY")
        );
    }
}
