//! Abuse protection decisions, pure and clocked by the caller (`now` in Unix seconds): send
//! throttles, account lockout, the country allow-list and the kinds of number codes go to. The state they look at (past sends,
//! past failures) lives in [`crate::state`]; nothing here does I/O.

use std::collections::BTreeSet;

pub use crate::error::SendLimit;

use crate::Error;
use crate::env::Environment;
use crate::phone::PhoneNumber;

/// Abuse protection's policies, each parsed from its own variables (they act only with a state
/// table, `STATE_TABLE`: [`crate::state`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AbusePolicy {
    /// `SMS_MIN_INTERVAL_SECONDS`, `SMS_MAX_PER_HOUR`, `SMS_MAX_PER_DAY`.
    pub send_limits: SendLimits,
    /// `LOCKOUT_THRESHOLD`, `LOCKOUT_WINDOW_SECONDS`.
    pub lockout: LockoutPolicy,
    /// `SMS_ALLOWED_COUNTRIES`: only numbers of these countries receive codes (any when `None`).
    pub allowed_countries: Option<CountryAllowList>,
    /// `SMS_ALLOWED_NUMBER_TYPES`: the kinds of number (by libphonenumber) that receive codes.
    pub allowed_number_types: NumberTypePolicy,
    /// `VOICE_ALLOWED_COUNTRIES`: only numbers of these countries are called (within
    /// `SMS_ALLOWED_COUNTRIES`; any of those when `None`).
    pub voice_allowed_countries: Option<CountryAllowList>,
}

impl AbusePolicy {
    /// Reads the throttle, lockout, country and number-type variables.
    pub fn from_env(env: &Environment<'_>) -> Result<Self, Error> {
        let defaults = SendLimits::default();
        let send_limits = SendLimits {
            min_interval_seconds: env.number(
                "SMS_MIN_INTERVAL_SECONDS",
                defaults.min_interval_seconds,
                0..=3_600,
            )?,
            max_per_hour: env.number("SMS_MAX_PER_HOUR", defaults.max_per_hour, 1..=100)?,
            max_per_day: env.number("SMS_MAX_PER_DAY", defaults.max_per_day, 1..=1_000)?,
        };
        if send_limits.max_per_day < send_limits.max_per_hour {
            return Err(Error::config(
                "SMS_MAX_PER_DAY",
                "must be at least SMS_MAX_PER_HOUR",
            ));
        }
        let lockout_defaults = LockoutPolicy::default();
        let lockout = LockoutPolicy {
            threshold: env.number("LOCKOUT_THRESHOLD", lockout_defaults.threshold, 1..=100)?,
            window_seconds: env.number(
                "LOCKOUT_WINDOW_SECONDS",
                lockout_defaults.window_seconds,
                60..=86_400,
            )?,
        };
        let allowed_countries = match env.get("SMS_ALLOWED_COUNTRIES") {
            Some(list) => Some(
                CountryAllowList::parse(&list)
                    .map_err(|reason| Error::config("SMS_ALLOWED_COUNTRIES", reason))?,
            ),
            None => None,
        };
        let voice_allowed_countries = match env.get("VOICE_ALLOWED_COUNTRIES") {
            Some(list) => Some(
                CountryAllowList::parse(&list)
                    .map_err(|reason| Error::config("VOICE_ALLOWED_COUNTRIES", reason))?,
            ),
            None => None,
        };
        let allowed_number_types = match env.get("SMS_ALLOWED_NUMBER_TYPES") {
            Some(list) => NumberTypePolicy::parse(&list)
                .map_err(|reason| Error::config("SMS_ALLOWED_NUMBER_TYPES", reason))?,
            None => NumberTypePolicy::default(),
        };
        Ok(Self {
            send_limits,
            lockout,
            allowed_countries,
            allowed_number_types,
            voice_allowed_countries,
        })
    }
}

/// Seconds in an hour and a day.
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// How often codes may be sent to one phone number, and to one user (`SMS_MIN_INTERVAL_SECONDS`,
/// `SMS_MAX_PER_HOUR`, `SMS_MAX_PER_DAY`). Windows slide: "per hour" means in the 3,600 seconds
/// before now, not in the current clock hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// The least time between two codes (default 30 s).
    pub min_interval_seconds: u64,
    /// The most codes in any hour (default 5).
    pub max_per_hour: u32,
    /// The most codes in any 24 hours (default 10).
    pub max_per_day: u32,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            min_interval_seconds: 30,
            max_per_hour: 5,
            max_per_day: 10,
        }
    }
}

/// Whether one more send at `now` keeps within `limits`, given the times of earlier sends. A send
/// stamped later than `now` (another instance's clock, or a call that started a moment later)
/// counts as sent now.
pub fn check_send(history: &[u64], now: u64, limits: SendLimits) -> Result<(), SendLimit> {
    let ages = || history.iter().map(|&sent| now.saturating_sub(sent));
    let since = |window: u64| ages().filter(|&age| age < window).count();
    if ages().any(|age| age < limits.min_interval_seconds) {
        return Err(SendLimit::MinInterval);
    }
    if since(HOUR) >= limits.max_per_hour as usize {
        return Err(SendLimit::PerHour);
    }
    if since(DAY) >= limits.max_per_day as usize {
        return Err(SendLimit::PerDay);
    }
    Ok(())
}

/// The sends worth keeping at `now` (the last 24 hours, and any stamped later than `now`),
/// oldest first.
pub fn prune_sends(history: &[u64], now: u64) -> Vec<u64> {
    let mut kept: Vec<u64> = history
        .iter()
        .copied()
        .filter(|&sent| now.saturating_sub(sent) < DAY)
        .collect();
    kept.sort_unstable();
    kept
}

/// When failed attempts lock an account (`LOCKOUT_THRESHOLD`, `LOCKOUT_WINDOW_SECONDS`): this
/// many failures — each wrong answer, each wrong password — within one window deny sign-in until
/// a window has passed since the failure that reached the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed attempts that lock (default 10; NIST SP 800-63B allows at most 100).
    pub threshold: u32,
    /// The window, in seconds (default 900).
    pub window_seconds: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 10,
            window_seconds: 900,
        }
    }
}

/// Until when (Unix seconds) the account is locked at `now`, given the times of failed sign-ins;
/// `None` when it is not. A lock starts at the failure that makes `threshold` failures within
/// one window, and lasts one window from there.
pub fn locked_until(failures: &[u64], now: u64, policy: LockoutPolicy) -> Option<u64> {
    let threshold = policy.threshold.max(1) as usize;
    // A failure stamped later than `now` (another instance's clock) counts as now.
    let mut sorted: Vec<u64> = failures.iter().map(|&failed| failed.min(now)).collect();
    sorted.sort_unstable();
    sorted
        .windows(threshold)
        .filter_map(|run| Some((*run.first()?, *run.last()?)))
        .filter(|(first, last)| last - first < policy.window_seconds)
        .map(|(_, last)| last + policy.window_seconds)
        .filter(|&end| now < end)
        .max()
}

/// The countries codes may be sent to (`SMS_ALLOWED_COUNTRIES`, ISO 3166-1 alpha-2 codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryAllowList(BTreeSet<String>);

impl CountryAllowList {
    /// Parses `US,CA,GB`; each entry must be a region libphonenumber knows.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut countries = BTreeSet::new();
        for code in list
            .split(',')
            .map(str::trim)
            .filter(|code| !code.is_empty())
        {
            let upper = code.to_ascii_uppercase();
            if upper.parse::<phonenumber::country::Id>().is_err() {
                return Err(format!(
                    "`{}` is not an ISO 3166-1 alpha-2 country code",
                    code.chars().take(8).collect::<String>()
                ));
            }
            countries.insert(upper);
        }
        if countries.is_empty() {
            return Err("lists no country".to_owned());
        }
        Ok(Self(countries))
    }

    /// The country `phone` belongs to (by libphonenumber's metadata), if it is in the list;
    /// `Err` with the country found (or `None`) otherwise.
    pub fn check(&self, phone: &PhoneNumber) -> Result<String, Option<String>> {
        let country = country_of(phone);
        match country {
            Some(code) if self.0.contains(&code) => Ok(code),
            other => Err(other),
        }
    }

    /// The codes, sorted.
    pub fn countries(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// A kind of phone number, as libphonenumber classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NumberType {
    /// A mobile number.
    Mobile,
    /// A number that may be either (all of North America: the plan does not tell them apart).
    FixedLineOrMobile,
    /// A landline.
    FixedLine,
    /// A VoIP number.
    Voip,
    /// A toll-free number (the callee pays: a favourite of SMS pumping).
    TollFree,
    /// A premium-rate number (the sender pays the owner: the heart of SMS pumping).
    PremiumRate,
    /// A shared-cost number.
    SharedCost,
    /// A personal (follow-me) number.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A universal access number (a company's single number).
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// A number libphonenumber cannot classify (not valid for its country).
    Unknown,
}

impl NumberType {
    /// Every kind, as `SMS_ALLOWED_NUMBER_TYPES` names them.
    pub const ALL: [Self; 12] = [
        Self::Mobile,
        Self::FixedLineOrMobile,
        Self::FixedLine,
        Self::Voip,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::PersonalNumber,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Unknown,
    ];

    /// The name in `SMS_ALLOWED_NUMBER_TYPES`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::FixedLine => "fixed_line",
            Self::Voip => "voip",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Unknown => "unknown",
        }
    }

    /// What libphonenumber's metadata says `phone` is.
    pub fn of(phone: &PhoneNumber) -> Self {
        use phonenumber::Type;
        let Ok(parsed) = phonenumber::parse(None, phone.e164()) else {
            return Self::Unknown;
        };
        if !phonenumber::is_valid(&parsed) {
            return Self::Unknown;
        }
        match parsed.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile => Self::Mobile,
            Type::FixedLineOrMobile => Self::FixedLineOrMobile,
            Type::FixedLine => Self::FixedLine,
            Type::Voip => Self::Voip,
            Type::TollFree => Self::TollFree,
            Type::PremiumRate => Self::PremiumRate,
            Type::SharedCost => Self::SharedCost,
            Type::PersonalNumber => Self::PersonalNumber,
            Type::Pager => Self::Pager,
            Type::Uan => Self::Uan,
            Type::Voicemail => Self::Voicemail,
            _ => Self::Unknown,
        }
    }
}

/// The kinds of number codes may be sent to (`SMS_ALLOWED_NUMBER_TYPES`). The default allows
/// mobiles, fixed-line-or-mobile numbers (all of North America), landlines and VoIP numbers, and
/// refuses premium-rate, shared-cost, toll-free, UAN, pager, voicemail and personal numbers — the
/// ranges SMS pumping uses — and numbers libphonenumber does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberTypePolicy(BTreeSet<NumberType>);

impl Default for NumberTypePolicy {
    fn default() -> Self {
        Self(BTreeSet::from([
            NumberType::Mobile,
            NumberType::FixedLineOrMobile,
            NumberType::FixedLine,
            NumberType::Voip,
        ]))
    }
}

impl NumberTypePolicy {
    /// Parses `mobile,fixed_line_or_mobile` (names from [`NumberType::name`]).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut types = BTreeSet::new();
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let kind = NumberType::ALL
                .into_iter()
                .find(|kind| kind.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a number type (known: {})",
                        name.chars().take(24).collect::<String>(),
                        NumberType::ALL.map(NumberType::name).join(", ")
                    )
                })?;
            types.insert(kind);
        }
        if types.is_empty() {
            return Err("lists no number type".to_owned());
        }
        Ok(Self(types))
    }

    /// The kind of `phone` if it may receive codes, else `Err` with its kind.
    pub fn check(&self, phone: &PhoneNumber) -> Result<NumberType, NumberType> {
        let kind = NumberType::of(phone);
        if self.0.contains(&kind) {
            Ok(kind)
        } else {
            Err(kind)
        }
    }
}

/// The ISO country of a number (e.g. `+1 204…` is `CA`, `+1 206…` is `US`), if libphonenumber
/// can tell; numbers that are not valid for any region give `None`.
pub fn country_of(phone: &PhoneNumber) -> Option<String> {
    let parsed = phonenumber::parse(None, phone.e164()).ok()?;
    if !phonenumber::is_valid(&parsed) {
        return None;
    }
    parsed.country().id().map(|id| format!("{id:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SendLimits = SendLimits {
        min_interval_seconds: 30,
        max_per_hour: 5,
        max_per_day: 10,
    };

    #[test]
    fn the_minimum_interval_holds_to_the_second() {
        assert_eq!(check_send(&[], 1_000, LIMITS), Ok(()));
        assert_eq!(
            check_send(&[1_000], 1_000, LIMITS),
            Err(SendLimit::MinInterval)
        );
        assert_eq!(
            check_send(&[1_000], 1_029, LIMITS),
            Err(SendLimit::MinInterval)
        );
        assert_eq!(check_send(&[1_000], 1_030, LIMITS), Ok(()));
    }

    #[test]
    fn the_hourly_limit_slides() {
        // Five sends, a minute apart, starting at 0.
        let sends: Vec<u64> = (0..5).map(|i| i * 60).collect();
        assert_eq!(check_send(&sends, 300, LIMITS), Err(SendLimit::PerHour));
        assert_eq!(check_send(&sends, 3_599, LIMITS), Err(SendLimit::PerHour));
        // At 3,600 the first send is an hour old.
        assert_eq!(check_send(&sends, 3_600, LIMITS), Ok(()));
        let four = &sends[..4];
        assert_eq!(check_send(four, 300, LIMITS), Ok(()));
    }

    #[test]
    fn the_daily_limit_slides() {
        // Ten sends spread over 20 hours: never five in one hour.
        let sends: Vec<u64> = (0..10).map(|i| i * 2 * HOUR).collect();
        let last = *sends.last().unwrap();
        assert_eq!(
            check_send(&sends, last + HOUR, LIMITS),
            Err(SendLimit::PerDay)
        );
        assert_eq!(check_send(&sends, DAY - 1, LIMITS), Err(SendLimit::PerDay));
        assert_eq!(check_send(&sends, DAY, LIMITS), Ok(()));
        assert_eq!(check_send(&sends[..9], last + HOUR, LIMITS), Ok(()));
    }

    #[test]
    fn later_stamped_sends_count_as_now_and_ancient_ones_not_at_all() {
        // Another call stamped its send a moment after this call's clock: it still counts.
        assert_eq!(
            check_send(&[1_001], 1_000, LIMITS),
            Err(SendLimit::MinInterval)
        );
        assert_eq!(
            prune_sends(&[1_001, 10, 900, 950], 1_000),
            vec![10, 900, 950, 1_001]
        );
        assert_eq!(prune_sends(&[1, 2], DAY + 2), Vec::<u64>::new());
        // Failures too.
        let policy = LockoutPolicy {
            threshold: 2,
            window_seconds: 100,
        };
        assert_eq!(locked_until(&[50, 1_001], 1_000, policy), None);
        assert_eq!(locked_until(&[950, 1_001], 1_000, policy), Some(1_100));
    }

    #[test]
    fn lockout_starts_at_the_threshold_and_ends_when_the_window_passes() {
        let policy = LockoutPolicy {
            threshold: 3,
            window_seconds: 900,
        };
        assert_eq!(locked_until(&[100, 200], 300, policy), None);
        assert_eq!(locked_until(&[100, 200, 300], 300, policy), Some(1_200));
        // Still locked after the first failure left the window: the lock runs from the third.
        assert_eq!(locked_until(&[100, 200, 300], 1_000, policy), Some(1_200));
        assert_eq!(locked_until(&[100, 200, 300], 1_199, policy), Some(1_200));
        assert_eq!(locked_until(&[100, 200, 300], 1_200, policy), None);
        // A failure during the lock extends it once it makes a new run of three.
        assert_eq!(
            locked_until(&[100, 200, 300, 1_000], 1_150, policy),
            Some(1_900)
        );
        // Failures spread wider than the window never lock.
        assert_eq!(locked_until(&[0, 1_000, 2_000], 2_000, policy), None);
        assert_eq!(locked_until(&[0, 899, 1_799], 1_799, policy), None);
        assert_eq!(locked_until(&[0, 450, 899], 899, policy), Some(1_799));
        // Exactly one window apart is already too wide.
        assert_eq!(locked_until(&[0, 450, 900], 900, policy), None);
    }

    #[test]
    fn send_limits_read_as_the_logs_show_them() {
        for (limit, kind) in [
            (SendLimit::MinInterval, "min_interval"),
            (SendLimit::PerHour, "per_hour"),
            (SendLimit::PerDay, "per_day"),
        ] {
            assert_eq!(limit.kind(), kind);
            assert_eq!(limit.to_string(), kind);
        }
    }

    #[test]
    fn every_kind_of_number_is_told_apart() {
        // Example numbers of libphonenumber's metadata (checked with Python's `phonenumbers`).
        let number = |text: &str| PhoneNumber::parse(text).unwrap();
        for (text, kind) in [
            ("+441212345678", NumberType::FixedLine),
            ("+445612345678", NumberType::Voip),
            ("+3933101234501", NumberType::Voicemail),
            ("+447400123456", NumberType::Mobile),
            ("+447640123456", NumberType::Pager),
        ] {
            assert_eq!(NumberType::of(&number(text)), kind, "{text}");
        }
    }

    #[test]
    fn premium_rate_and_other_non_personal_numbers_get_no_code_by_default() {
        let number = |text: &str| PhoneNumber::parse(text).unwrap();
        let policy = NumberTypePolicy::default();
        // Mobiles and North America's fixed-line-or-mobile numbers still work.
        assert_eq!(
            policy.check(&number("+447400123456")),
            Ok(NumberType::Mobile)
        );
        assert_eq!(
            policy.check(&number("+12025550123")),
            Ok(NumberType::FixedLineOrMobile)
        );
        assert_eq!(
            policy.check(&number("+12065550100")),
            Ok(NumberType::FixedLineOrMobile)
        );
        // GB premium rate (09…), toll free (0800…), personal (070…), UAN (055…), pager (076…);
        // shared cost (French 0884…).
        assert_eq!(
            policy.check(&number("+449098790000")),
            Err(NumberType::PremiumRate)
        );
        assert_eq!(
            policy.check(&number("+448001234567")),
            Err(NumberType::TollFree)
        );
        assert_eq!(
            policy.check(&number("+447012345678")),
            Err(NumberType::PersonalNumber)
        );
        assert_eq!(policy.check(&number("+445512345678")), Err(NumberType::Uan));
        assert_eq!(
            policy.check(&number("+33884012345")),
            Err(NumberType::SharedCost)
        );
        assert_eq!(
            policy.check(&number("+447640123456")),
            Err(NumberType::Pager)
        );
        // US toll free, and a number no plan knows.
        assert_eq!(
            policy.check(&number("+18005550123")),
            Err(NumberType::TollFree)
        );
        assert_eq!(
            policy.check(&number("+15555550100")),
            Err(NumberType::Unknown)
        );
        // SMS_ALLOWED_NUMBER_TYPES changes the set.
        let mobile_only = NumberTypePolicy::parse("Mobile").unwrap();
        assert!(mobile_only.check(&number("+12025550123")).is_err());
        assert!(mobile_only.check(&number("+447400123456")).is_ok());
        let with_toll_free = NumberTypePolicy::parse("mobile, toll_free").unwrap();
        assert!(with_toll_free.check(&number("+18005550123")).is_ok());
        assert!(NumberTypePolicy::parse("mobile,premium").is_err());
        assert!(NumberTypePolicy::parse(" , ").is_err());
    }

    #[test]
    fn countries_come_from_libphonenumber() {
        let allowed = CountryAllowList::parse("us, GB").unwrap();
        let number = |text: &str| PhoneNumber::parse(text).unwrap();
        assert_eq!(allowed.check(&number("+12065550100")), Ok("US".to_owned()));
        assert_eq!(allowed.check(&number("+442071838750")), Ok("GB".to_owned()));
        // +1 204 is Manitoba: Canada, though it shares +1 with the US.
        assert_eq!(
            allowed.check(&number("+12045550123")),
            Err(Some("CA".to_owned()))
        );
        // A premium-rate favourite of SMS pumping.
        assert_eq!(
            allowed.check(&number("+2348031234567")),
            Err(Some("NG".to_owned()))
        );
        assert!(CountryAllowList::parse("US,XX").is_err());
        assert!(CountryAllowList::parse(" , ").is_err());
        assert_eq!(allowed.countries().collect::<Vec<_>>(), vec!["GB", "US"]);
    }
}
