//! The SMS text in the user's language: built-in texts for several languages, operators' own
//! (`OTP_MESSAGES`, or `OTP_MESSAGES_FILE` for a file shipped in the zip), picked by the user's
//! `locale` attribute (Cognito's standard attribute, BCP 47 such as `pt-BR`): the exact tag, then
//! shorter and shorter prefixes of it (`zh-Hant-TW`, `zh-Hant`, `zh`), then English.
//!
//! Every text keeps the code plain and first (phones offer it for autofill) and, with
//! `OTP_WEB_ORIGIN`, ends with the origin-bound line browsers read (`@example.com #123456`, the
//! WebOTP format). An operator's text must fit one SMS segment — 160 GSM-7 characters, or 70
//! UCS-2 units when a character is outside GSM-7 — with the longest code, the app's name and that
//! line, or the cold start refuses it with its segment count: a second segment doubles the cost.
//! A built-in text that would not fit with the configured `APP_NAME` is used without the name.

use std::collections::BTreeMap;

use super::settings::MessageTemplate;
use crate::Error;
use crate::env::Environment;

/// The built-in texts: BCP 47 tag (lower case), the text naming the app (`{app}`), the text
/// without it. English comes from `SMS_MESSAGE_TEMPLATE` or its defaults.
///
/// Written for SMS and reviewed language by language (see docs/configuration.md); each fits one
/// segment with a 10-digit code, 15 minutes and an 11-character app name (a test checks).
/// Traditional Chinese serves `zh-TW`, and the same text is listed for `zh-Hant`, `zh-HK` and
/// `zh-MO`. Arabic uses the plural دقائق, right for 3 to 10 minutes (the default is 5).
const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "es",
        "{code} es su clave de acceso a {app}. Caduca en {minutes} min. No la comparta con nadie.",
        "{code} es su clave de acceso. Caduca en {minutes} min. No la comparta con nadie.",
    ),
    (
        "fr",
        "{code} est votre code de connexion à {app}. Il expire dans {minutes} min. Ne le communiquez à personne.",
        "{code} est votre code de connexion. Il expire dans {minutes} min. Ne le communiquez à personne.",
    ),
    (
        "de",
        "{code} ist Ihr Anmeldecode für {app}. Er ist {minutes} Min. gültig. Bitte geben Sie ihn nicht weiter.",
        "{code} ist Ihr Anmeldecode. Er ist {minutes} Min. gültig. Bitte geben Sie ihn nicht weiter.",
    ),
    (
        "it",
        "{code} è il codice di accesso a {app}. Scade tra {minutes} min. Non comunicarlo a nessuno.",
        "{code} è il codice di accesso. Scade tra {minutes} min. Non comunicarlo a nessuno.",
    ),
    (
        "pt",
        "{code} é seu código {app}. Vale por {minutes} min. Não compartilhe.",
        "{code} é seu código de acesso. Vale por {minutes} min. Não compartilhe.",
    ),
    (
        "pt-pt",
        "{code} é o código {app}. Expira em {minutes} min. Não o partilhe.",
        "{code} é o código de acesso. Expira em {minutes} min. Não o partilhe.",
    ),
    (
        "nl",
        "{code} is je inlogcode voor {app}. Deze verloopt over {minutes} min. Deel de code met niemand.",
        "{code} is je inlogcode. Deze verloopt over {minutes} min. Deel de code met niemand.",
    ),
    (
        "pl",
        "{code} to kod logowania do {app}. Wygasa za {minutes} min. Nie przekazuj go nikomu.",
        "{code} to kod logowania. Wygasa za {minutes} min. Nie przekazuj go nikomu.",
    ),
    (
        "tr",
        "{code} {app} giriş kodunuz. {minutes} dk geçerlidir. Paylaşmayın.",
        "{code} giriş kodunuzdur. {minutes} dk geçerlidir. Kimseyle paylaşmayın.",
    ),
    (
        "ja",
        "{code} は {app} のログインコードです。{minutes}分間有効です。他人には教えないでください。",
        "{code} はログインコードです。{minutes}分間有効です。他人には教えないでください。",
    ),
    (
        "zh",
        "{code} 是您的{app}登录验证码，{minutes}分钟内有效。请勿泄露给他人。",
        "{code} 是您的登录验证码，{minutes}分钟内有效。请勿泄露给他人。",
    ),
    (
        "zh-tw",
        "{code} 是您的{app}登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
        "{code} 是您的登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
    ),
    (
        "ar",
        "{code} رمز الدخول إلى {app}، صالح لمدة {minutes} دقائق. لا تشاركه.",
        "{code} رمز تسجيل الدخول، صالح لمدة {minutes} دقائق. لا تشاركه مع أحد.",
    ),
    (
        "zh-hant",
        "{code} 是您的{app}登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
        "{code} 是您的登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
    ),
    (
        "zh-hk",
        "{code} 是您的{app}登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
        "{code} 是您的登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
    ),
    (
        "zh-mo",
        "{code} 是您的{app}登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
        "{code} 是您的登入驗證碼，{minutes}分鐘內有效。請勿告知他人。",
    ),
];

/// Longest `OTP_MESSAGES` document read (a Lambda environment holds 4 KB in all; a file may be
/// larger, within reason).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// How a text travels as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 alphabet: 160 characters in one segment (extension characters count twice).
    Gsm7,
    /// Any other character: UCS-2, 70 UTF-16 units in one segment.
    Ucs2,
}

/// How many segments a text takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSize {
    /// The encoding the text needs.
    pub encoding: SmsEncoding,
    /// Its length in that encoding's units (septets, or UTF-16 units).
    pub units: usize,
    /// Segments: one up to 160 / 70 units, else concatenated parts of 153 / 67.
    pub segments: usize,
}

/// The GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (an escape and a septet: two each).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// The size of `text` as an SMS.
pub fn sms_size(text: &str) -> SmsSize {
    let mut septets = 0;
    let mut gsm = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (encoding, units, single, part) = if gsm {
        (SmsEncoding::Gsm7, septets, 160, 153)
    } else {
        (SmsEncoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    SmsSize {
        encoding,
        units,
        segments: if units <= single {
            1
        } else {
            units.div_ceil(part)
        },
    }
}

/// A `locale` value in the form the texts are keyed by: trimmed, `_` read as `-`, lower case;
/// `None` unless it looks like a BCP 47 tag (letters, digits and hyphens; a 2–3 letter
/// language first; at most 35 characters).
pub fn language_tag(locale: &str) -> Option<String> {
    let tag = locale.trim().replace('_', "-").to_ascii_lowercase();
    let language = tag.split('-').next()?;
    let valid = tag.len() <= 35
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && tag.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    valid.then_some(tag)
}

/// Texts by language: one for English (and any language without its own), others by
/// [`language_tag`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTexts {
    /// English, and the text for any language without one of its own.
    fallback: MessageTemplate,
    /// Other languages, by [`language_tag`].
    by_language: BTreeMap<String, MessageTemplate>,
}

impl LanguageTexts {
    /// Only `english`.
    pub fn new(english: MessageTemplate) -> Self {
        Self {
            fallback: english,
            by_language: BTreeMap::new(),
        }
    }

    /// Sets the text of `tag` (a [`language_tag`]; `en` replaces the English one).
    pub fn insert(&mut self, tag: String, template: MessageTemplate) {
        if tag == "en" {
            self.fallback = template;
        } else {
            self.by_language.insert(tag, template);
        }
    }

    /// The text for a user's `locale` attribute (the exact tag, then shorter prefixes, then
    /// English), with the tag it was found under (`en` for English).
    pub fn for_locale(&self, locale: Option<&str>) -> (&MessageTemplate, &str) {
        let Some(mut tag) = locale.and_then(language_tag) else {
            return (&self.fallback, "en");
        };
        loop {
            if let Some((found, template)) = self.by_language.get_key_value(&tag) {
                return (template, found.as_str());
            }
            match tag.rfind('-') {
                Some(cut) => tag.truncate(cut),
                None => return (&self.fallback, "en"),
            }
        }
    }

    /// The languages with a text of their own, English included.
    pub fn languages(&self) -> Vec<&str> {
        let mut tags: Vec<&str> = self.by_language.keys().map(String::as_str).collect();
        tags.push("en");
        tags.sort_unstable();
        tags
    }
}

/// The SMS texts by language, and the origin-bound line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTexts {
    /// The texts.
    texts: LanguageTexts,
    /// `OTP_WEB_ORIGIN`'s host, for the last line (`@host #code`).
    web_origin_host: Option<String>,
}

impl SmsTexts {
    /// The texts: `english` (from `SMS_MESSAGE_TEMPLATE` or its defaults), the built-in ones and
    /// `OTP_MESSAGES` / `OTP_MESSAGES_FILE`, with `OTP_WEB_ORIGIN`; `longest_code` digits and
    /// `minutes` for the length checks.
    pub fn from_env(
        env: &Environment<'_>,
        english: MessageTemplate,
        english_is_configured: bool,
        app_name: &str,
        longest_code: usize,
        minutes: u64,
    ) -> Result<Self, Error> {
        let mut texts = Self {
            texts: LanguageTexts::new(english),
            web_origin_host: web_origin_host(env)?,
        };
        let sample_code = "0".repeat(longest_code);
        let fits = |texts: &Self, template: &MessageTemplate| {
            sms_size(&texts.finish(
                template.render(&sample_code, app_name, minutes),
                &sample_code,
            ))
        };
        // Each built-in text naming the app if that fits one segment, else without the name;
        // a language whose text fits neither way (a long OTP_WEB_ORIGIN host with a UCS-2
        // text) falls back to English, which is GSM-7.
        for (tag, with_app, plain) in BUILT_IN {
            let parse = |text: &str| {
                MessageTemplate::parse(text).map_err(|reason| {
                    Error::config("OTP_MESSAGES", format!("built-in {tag}: {reason}"))
                })
            };
            let candidates = if app_name.is_empty() {
                vec![parse(plain)?]
            } else {
                vec![parse(with_app)?, parse(plain)?]
            };
            if let Some(chosen) = candidates
                .into_iter()
                .find(|template| fits(&texts, template).segments == 1)
            {
                texts.texts.insert((*tag).to_owned(), chosen);
            }
        }
        let Some((variable, entries)) = document_texts(env, "sms")? else {
            return Ok(texts);
        };
        for (tag, text) in entries {
            let template = MessageTemplate::parse(&text)
                .map_err(|reason| Error::config(variable, format!("sms.{tag} {reason}")))?;
            if template.names_the_app() && app_name.is_empty() {
                return Err(Error::config(
                    variable,
                    format!("sms.{tag} uses {{app}}, and APP_NAME is not set"),
                ));
            }
            let size = fits(&texts, &template);
            if size.segments > 1 {
                return Err(Error::config(
                    variable,
                    format!(
                        "sms.{tag} takes {} SMS segments ({:?}: {} units with a {longest_code}-digit code{}; one segment holds {}): shorten it",
                        size.segments,
                        size.encoding,
                        size.units,
                        if texts.web_origin_host.is_some() {
                            " and the OTP_WEB_ORIGIN line"
                        } else {
                            ""
                        },
                        if size.encoding == SmsEncoding::Gsm7 {
                            160
                        } else {
                            70
                        },
                    ),
                ));
            }
            if tag == "en" && english_is_configured {
                return Err(Error::config(
                    variable,
                    "sms.en and SMS_MESSAGE_TEMPLATE both set the English text: keep one",
                ));
            }
            texts.texts.insert(tag, template);
        }
        Ok(texts)
    }

    /// Only `english`, no origin line (tests and callers without an environment).
    pub fn english_only(english: MessageTemplate) -> Self {
        Self {
            texts: LanguageTexts::new(english),
            web_origin_host: None,
        }
    }

    /// The template for a user's `locale` attribute (the exact tag, then shorter prefixes, then
    /// English).
    pub fn for_locale(&self, locale: Option<&str>) -> &MessageTemplate {
        self.texts.for_locale(locale).0
    }

    /// The message for one code, in the user's language, with the origin line when configured.
    pub fn render(&self, locale: Option<&str>, code: &str, app: &str, minutes: u64) -> String {
        self.finish(self.for_locale(locale).render(code, app, minutes), code)
    }

    /// The languages with a text of their own, English included.
    pub fn languages(&self) -> Vec<&str> {
        self.texts.languages()
    }

    fn finish(&self, body: String, code: &str) -> String {
        match &self.web_origin_host {
            Some(host) => format!("{body}\n\n@{host} #{code}"),
            None => body,
        }
    }
}

/// `OTP_WEB_ORIGIN`: an `https://host` origin (no port, path or query), whose host ends the SMS
/// as `@host #code`.
fn web_origin_host(env: &Environment<'_>) -> Result<Option<String>, Error> {
    let Some(origin) = env.get("OTP_WEB_ORIGIN") else {
        return Ok(None);
    };
    let host = origin
        .strip_prefix("https://")
        .map(|rest| rest.strip_suffix('/').unwrap_or(rest))
        .filter(|host| {
            !host.is_empty()
                && host.len() <= 253
                && host.contains('.')
                && host
                    .split('.')
                    .all(|label| !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-'))
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
        .ok_or_else(|| {
            Error::config(
                "OTP_WEB_ORIGIN",
                "must be the sign-in page's origin, https://host (no port, path or query), e.g. https://login.example.com",
            )
        })?;
    Ok(Some(host.to_ascii_lowercase()))
}

/// `OTP_MESSAGES` or the file `OTP_MESSAGES_FILE` names (not both), with the variable to name in
/// errors.
fn read_document(env: &Environment<'_>) -> Result<Option<(&'static str, String)>, Error> {
    match (env.get("OTP_MESSAGES"), env.get("OTP_MESSAGES_FILE")) {
        (Some(_), Some(_)) => Err(Error::config(
            "OTP_MESSAGES",
            "set OTP_MESSAGES or OTP_MESSAGES_FILE, not both",
        )),
        (Some(document), None) => Ok(Some(("OTP_MESSAGES", document))),
        (None, Some(path)) => {
            let bytes = crate::env::read_config_file(
                "OTP_MESSAGES_FILE",
                std::path::Path::new(&path),
                MAX_DOCUMENT_BYTES,
            )?;
            let document = String::from_utf8(bytes)
                .map_err(|_| Error::config("OTP_MESSAGES_FILE", "is not UTF-8"))?;
            Ok(Some(("OTP_MESSAGES_FILE", document)))
        }
        (None, None) => Ok(None),
    }
}

/// The variable a document came from (to name in errors), and its texts of one kind:
/// `(language tag, text)`.
pub(crate) type DocumentTexts = (&'static str, Vec<(String, String)>);

/// The kinds of text an `OTP_MESSAGES` document may hold.
pub const TEXT_KINDS: [&str; 4] = ["sms", "email_subject", "email_text", "voice"];

/// The texts of one kind (`sms`, `email_subject`, `email_text` or `voice`) in `OTP_MESSAGES` /
/// `OTP_MESSAGES_FILE`, with the variable to name in errors; `None` when neither is set. The
/// whole document is checked each time (every kind known, every tag valid).
pub(crate) fn document_texts(
    env: &Environment<'_>,
    kind: &str,
) -> Result<Option<DocumentTexts>, Error> {
    let Some((variable, document)) = read_document(env)? else {
        return Ok(None);
    };
    let texts = parse_document(variable, &document)?
        .into_iter()
        .filter(|(found, _, _)| found == kind)
        .map(|(_, tag, text)| (tag, text))
        .collect();
    Ok(Some((variable, texts)))
}

/// The texts of a document `{"sms": {"<locale>": "<text>", …}, "voice": {…}, …}`: (kind, tag
/// by [`language_tag`], text).
fn parse_document(
    variable: &'static str,
    document: &str,
) -> Result<Vec<(String, String, String)>, Error> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::config(
            variable,
            format!("is larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(document).map_err(|error| {
        Error::config(
            variable,
            format!(
                "is not valid JSON (line {}, column {}): expected {{\"sms\": {{\"<locale>\": \"<text>\"}}}}",
                error.line(),
                error.column()
            ),
        )
    })?;
    let serde_json::Value::Object(channels) = value else {
        return Err(Error::config(
            variable,
            "must be a JSON object: {\"sms\": {\"<locale>\": \"<text>\"}}",
        ));
    };
    let mut texts = Vec::new();
    for (channel, entries) in channels {
        if !TEXT_KINDS.contains(&channel.as_str()) {
            return Err(Error::config(
                variable,
                format!(
                    "has texts for `{}` (known: {})",
                    channel.chars().take(20).collect::<String>(),
                    TEXT_KINDS.join(", ")
                ),
            ));
        }
        let serde_json::Value::Object(entries) = entries else {
            return Err(Error::config(
                variable,
                format!("{channel} must be an object of locale to text"),
            ));
        };
        for (locale, text) in entries {
            let shown: String = locale.chars().take(35).collect();
            let tag = language_tag(&locale).ok_or_else(|| {
                Error::config(
                    variable,
                    format!("{channel}.{shown} is not a language tag such as pt-BR"),
                )
            })?;
            let serde_json::Value::String(text) = text else {
                return Err(Error::config(
                    variable,
                    format!("{channel}.{tag} must be a string"),
                ));
            };
            if texts
                .iter()
                .any(|(kind, seen, _)| *kind == channel && *seen == tag)
            {
                return Err(Error::config(
                    variable,
                    format!("{channel}.{tag} appears twice"),
                ));
            }
            texts.push((channel.clone(), tag, text));
        }
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::settings::{DEFAULT_MESSAGE_TEMPLATE, DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP};

    fn texts(pairs: &[(&str, &str)], app: &str) -> Result<SmsTexts, Error> {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let env = Environment::new(&lookup);
        let english = if app.is_empty() {
            DEFAULT_MESSAGE_TEMPLATE_WITHOUT_APP
        } else {
            DEFAULT_MESSAGE_TEMPLATE
        };
        SmsTexts::from_env(
            &env,
            MessageTemplate::parse(english).unwrap(),
            false,
            app,
            10,
            15,
        )
    }

    #[test]
    fn segments_follow_gsm7_and_ucs2_rules() {
        assert_eq!(
            sms_size(&"a".repeat(160)),
            SmsSize {
                encoding: SmsEncoding::Gsm7,
                units: 160,
                segments: 1
            }
        );
        assert_eq!(sms_size(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_size(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_size(&"a".repeat(307)).segments, 3);
        // Extension characters take two septets.
        assert_eq!(sms_size(&"€".repeat(80)).units, 160);
        assert_eq!(sms_size(&"€".repeat(81)).segments, 2);
        // é is GSM-7, á is not.
        assert_eq!(sms_size("é").encoding, SmsEncoding::Gsm7);
        assert_eq!(
            sms_size(&"á".repeat(70)),
            SmsSize {
                encoding: SmsEncoding::Ucs2,
                units: 70,
                segments: 1
            }
        );
        assert_eq!(sms_size(&"á".repeat(71)).segments, 2);
        assert_eq!(sms_size(&"á".repeat(134)).segments, 2);
        assert_eq!(sms_size(&"á".repeat(135)).segments, 3);
        // Characters beyond the BMP take two UTF-16 units.
        assert_eq!(sms_size("😀").units, 2);
    }

    #[test]
    fn a_users_locale_picks_the_closest_text() {
        let texts = texts(
            &[(
                "OTP_MESSAGES",
                r#"{"sms": {"pt": "{code} pt", "pt-BR": "{code} pt-BR", "zh-Hant": "{code} zh-Hant"}}"#,
            )],
            "",
        )
        .unwrap();
        let rendered = |locale: Option<&str>| texts.render(locale, "123456", "", 5);
        assert_eq!(rendered(Some("pt-BR")), "123456 pt-BR");
        assert_eq!(rendered(Some("pt_br")), "123456 pt-BR");
        assert_eq!(rendered(Some("pt-AO")), "123456 pt");
        // Built-in texts stay for the tags the document does not set.
        assert_eq!(
            rendered(Some("pt-PT")),
            "123456 é o código de acesso. Expira em 5 min. Não o partilhe."
        );
        assert_eq!(rendered(Some("pt")), "123456 pt");
        assert_eq!(rendered(Some("zh-Hant-TW")), "123456 zh-Hant");
        assert!(rendered(Some("es-MX")).starts_with("123456 es su clave de acceso."));
        assert!(rendered(Some("zh-HK")).contains("登入驗證碼"));
        assert!(rendered(Some("zh-CN")).contains("登录验证码"));
        for english in [None, Some("en-GB"), Some("xx"), Some("not a tag"), Some("")] {
            assert_eq!(
                rendered(english),
                "123456 is your sign-in code. It expires in 5 minutes. Do not share it.",
                "{english:?}"
            );
        }
    }

    #[test]
    fn every_built_in_text_fits_one_segment_and_keeps_the_code_first() {
        for (tag, with_app, plain) in BUILT_IN {
            assert_eq!(language_tag(tag).as_deref(), Some(*tag));
            for (template, app) in [(with_app, "ExampleApp1"), (plain, "")] {
                let parsed = MessageTemplate::parse(template).unwrap();
                assert_eq!(parsed.names_the_app(), !app.is_empty(), "{tag}: {template}");
                assert!(template.starts_with("{code} "), "{tag}: {template}");
                let body = parsed.render("1234567890", app, 15);
                assert_eq!(sms_size(&body).segments, 1, "{tag}: {body}");
            }
        }
        // With the origin line, every text sent still fits one segment: a built-in one that
        // would not falls back to English.
        let texts = texts(&[("OTP_WEB_ORIGIN", "https://login.example.com")], "App").unwrap();
        for (tag, _, _) in BUILT_IN {
            let body = texts.render(Some(tag), "1234567890", "App", 15);
            assert!(
                body.ends_with("\n\n@login.example.com #1234567890"),
                "{body}"
            );
            assert_eq!(sms_size(&body).segments, 1, "{tag}: {body}");
        }
        assert!(texts.languages().contains(&"es") && texts.languages().contains(&"zh"));
        let portuguese = texts.render(Some("pt-BR"), "1234567890", "App", 15);
        assert!(
            portuguese.starts_with("1234567890 is your App sign-in code."),
            "{portuguese}"
        );
    }

    #[test]
    fn a_built_in_text_too_long_with_the_app_name_is_used_without_it() {
        let long_app = "A Very Long Application Name Indeed";
        let texts = texts(&[], long_app).unwrap();
        for (tag, _, plain) in BUILT_IN {
            let body = texts.render(Some(tag), "1234567890", long_app, 15);
            assert_eq!(sms_size(&body).segments, 1, "{tag}: {body}");
            if !body.contains(long_app) {
                let plain = MessageTemplate::parse(plain).unwrap();
                assert_eq!(body, plain.render("1234567890", "", 15), "{tag}");
            }
        }
    }

    #[test]
    fn an_operators_text_is_checked_at_cold_start() {
        let refused = |document: &str, app: &str| {
            texts(&[("OTP_MESSAGES", document)], app)
                .unwrap_err()
                .to_string()
        };
        let too_long = format!(r#"{{"sms": {{"de": "{{code}} {}"}}}}"#, "x".repeat(150));
        let message = refused(&too_long, "");
        assert!(
            message.contains("OTP_MESSAGES") && message.contains("sms.de takes 2 SMS segments"),
            "{message}"
        );
        let ucs2 = format!(r#"{{"sms": {{"pl": "{{code}} {}"}}}}"#, "ł".repeat(60));
        assert!(
            refused(&ucs2, "").contains("Ucs2"),
            "{}",
            refused(&ucs2, "")
        );
        assert!(refused(r#"{"sms": {"de": "kein Code"}}"#, "").contains("{code}"));
        assert!(refused(r#"{"sms": {"de": "{code} {name}"}}"#, "").contains("unknown placeholder"));
        assert!(refused(r#"{"sms": {"de": "{code} {app}"}}"#, "").contains("APP_NAME"));
        assert!(
            refused(r#"{"fax": {"de": "{code}"}}"#, "")
                .contains("has texts for `fax` (known: sms, email_subject, email_text, voice)")
        );
        assert!(refused(r#"{"sms": {"not a tag": "{code}"}}"#, "").contains("language tag"));
        assert!(refused(r#"{"sms": {"de": 1}}"#, "").contains("must be a string"));
        assert!(refused(r#"{"sms": {"de": "{code}", "DE": "{code}"}}"#, "").contains("twice"));
        assert!(refused("not json", "").contains("not valid JSON"));
        assert!(refused("[]", "").contains("JSON object"));
        // An origin line that pushes a text past one segment is counted.
        let near = format!(r#"{{"sms": {{"de": "{{code}} {}"}}}}"#, "x".repeat(140));
        assert!(texts(&[("OTP_MESSAGES", &near)], "").is_ok());
        let with_line = texts(
            &[
                ("OTP_MESSAGES", &near),
                ("OTP_WEB_ORIGIN", "https://login.example.com"),
            ],
            "",
        )
        .unwrap_err()
        .to_string();
        assert!(with_line.contains("OTP_WEB_ORIGIN line"), "{with_line}");
        // Both variables, or English twice, are refused.
        let both = texts(
            &[
                ("OTP_MESSAGES", r#"{"sms": {}}"#),
                ("OTP_MESSAGES_FILE", "/x"),
            ],
            "",
        );
        assert!(both.unwrap_err().to_string().contains("not both"));
        let lookup = |name: &str| {
            (name == "OTP_MESSAGES").then(|| r#"{"sms": {"en": "{code} en"}}"#.to_owned())
        };
        let env = Environment::new(&lookup);
        let english = MessageTemplate::parse("Code {code}").unwrap();
        assert!(
            SmsTexts::from_env(&env, english.clone(), true, "", 6, 5)
                .unwrap_err()
                .to_string()
                .contains("keep one")
        );
        let texts = SmsTexts::from_env(&env, english, false, "", 6, 5).unwrap();
        assert_eq!(texts.render(Some("en-US"), "123456", "", 5), "123456 en");
    }

    #[test]
    fn a_texts_file_is_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("otp-messages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("messages.json");
        std::fs::write(&file, r#"{"sms": {"nl": "{code} is je code"}}"#).unwrap();
        let path = file.to_str().unwrap();
        let texts = texts(&[("OTP_MESSAGES_FILE", path)], "").unwrap();
        assert_eq!(
            texts.render(Some("nl-BE"), "123456", "", 5),
            "123456 is je code"
        );
        std::fs::write(&file, "{").unwrap();
        assert!(
            self::texts(&[("OTP_MESSAGES_FILE", path)], "")
                .unwrap_err()
                .to_string()
                .contains("OTP_MESSAGES_FILE")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = self::texts(&[("OTP_MESSAGES_FILE", path)], "").unwrap_err();
        assert!(
            missing.to_string().contains("cannot read the file"),
            "{missing}"
        );
    }

    #[test]
    fn a_texts_file_must_be_a_small_regular_file() {
        const DOCUMENT: &str = r#"{"sms": {"nl": "{code} is je code"}}"#;
        // /dev/zero would be read for ever, /dev/stdin would block the cold start: neither is
        // opened for reading, and a large file is read no further than the limit.
        for (path, reason) in [
            ("/dev/zero", "does not name a regular file"),
            ("/dev/stdin", "does not name a regular file"),
            ("/", "does not name a regular file"),
        ] {
            let error = texts(&[("OTP_MESSAGES_FILE", path)], "").unwrap_err();
            assert!(
                error.to_string().contains("OTP_MESSAGES_FILE")
                    && error.to_string().contains(reason),
                "{path}: {error}"
            );
        }
        let dir = std::env::temp_dir().join(format!("otp-messages-large-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("messages.json");
        std::fs::write(&file, vec![b' '; MAX_DOCUMENT_BYTES + 1]).unwrap();
        let error = texts(&[("OTP_MESSAGES_FILE", file.to_str().unwrap())], "").unwrap_err();
        assert!(error.to_string().contains("is larger than"), "{error}");
        std::fs::write(
            &file,
            // Exactly the limit: read.
            format!(
                "{}{DOCUMENT}",
                " ".repeat(MAX_DOCUMENT_BYTES - DOCUMENT.len())
            ),
        )
        .unwrap();
        assert!(texts(&[("OTP_MESSAGES_FILE", file.to_str().unwrap())], "").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_web_origin_must_be_a_plain_https_origin() {
        for (good, host) in [
            ("https://example.com", "example.com"),
            ("https://login.example.com/", "login.example.com"),
            ("https://Login.Example.com", "login.example.com"),
        ] {
            let body = texts(&[("OTP_WEB_ORIGIN", good)], "")
                .unwrap()
                .render(None, "123456", "", 5);
            assert!(body.starts_with("123456 is your sign-in code."), "{body}");
            assert!(body.ends_with(&format!("\n\n@{host} #123456")), "{body}");
        }
        for bad in [
            "http://example.com",
            "https://example.com:8443",
            "https://example.com/login",
            "https://example.com?x=1",
            "https://localhost",
            "example.com",
            "https://-bad.example.com",
            "https://exa mple.com",
        ] {
            let error = texts(&[("OTP_WEB_ORIGIN", bad)], "")
                .unwrap_err()
                .to_string();
            assert!(error.contains("OTP_WEB_ORIGIN"), "{bad}: {error}");
        }
    }

    #[test]
    fn locales_are_read_as_language_tags() {
        assert_eq!(language_tag(" pt_BR ").as_deref(), Some("pt-br"));
        assert_eq!(language_tag("zh-Hant-TW").as_deref(), Some("zh-hant-tw"));
        for bad in ["", "p", "portuguese", "pt--br", "pt-", "1a", "pt-BR;", "ü"] {
            assert_eq!(language_tag(bad), None, "{bad}");
        }
    }
}
