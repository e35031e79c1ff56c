//! Phone numbers (`phone_number` from the user's attributes, `SMS_ALLOWED_COUNTRIES`,
//! `SMS_ALLOWED_NUMBER_TYPES`): E.164 parsing, masking, and the country and number-type rules
//! every send passes through. The input is three lines: number, countries, number types (seeds
//! in scripts/fuzz).
//!
//! Invariants: only `+` and 8 to 15 digits (no leading zero) parse, and parse again to the same
//! number; the mask shows a fixed prefix and at most the last four digits (`Display` and `Debug`
//! too); a number allowed by a country list is a valid number of a listed country; the number
//! type check agrees with the classification.
#![no_main]

use cognito_passwordless::abuse::{CountryAllowList, NumberType, NumberTypePolicy, country_of};
use cognito_passwordless::phone::PhoneNumber;
use libfuzzer_sys::fuzz_target;

struct Input {
    number: String,
    countries: String,
    number_types: String,
}

fuzz_target!(|data: &[u8]| {
    // Three lines: the number, the country list, the number-type list.
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n').map(str::to_owned);
    let input = Input {
        number: lines.next().unwrap_or_default(),
        countries: lines.next().unwrap_or_default(),
        number_types: lines.next().unwrap_or_default(),
    };
    let Ok(phone) = PhoneNumber::parse(&input.number) else {
        let digits = input.number.strip_prefix('+').unwrap_or("");
        assert!(
            !(8..=15).contains(&digits.len())
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || digits.starts_with('0')
                || !input.number.starts_with('+'),
            "a well-formed number refused"
        );
        return;
    };
    let digits = &phone.e164()[1..];
    assert!(phone.e164().starts_with('+'));
    assert!((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        PhoneNumber::parse(phone.e164()).map(|again| again.e164().to_owned()),
        Ok(phone.e164().to_owned())
    );
    let masked = phone.masked();
    assert_eq!(masked.bytes().filter(u8::is_ascii_digit).count(), 4);
    assert!(masked.ends_with(phone.last_four()) && digits.ends_with(phone.last_four()));
    for shown in [phone.to_string(), format!("{phone:?}")] {
        assert!(!shown.contains(digits), "the whole number shown");
        assert!(shown.bytes().filter(u8::is_ascii_digit).count() <= 4);
    }

    let country = country_of(&phone);
    if let Some(country) = &country {
        assert!(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()));
    }
    if let Ok(list) = CountryAllowList::parse(&input.countries) {
        match list.check(&phone) {
            Ok(found) => {
                assert_eq!(Some(&found), country.as_ref());
                assert!(list.countries().any(|listed| listed == found));
            }
            Err(found) => {
                assert_eq!(found, country);
                if let Some(found) = found {
                    assert!(list.countries().all(|listed| listed != found));
                }
            }
        }
    }
    if let Ok(policy) = NumberTypePolicy::parse(&input.number_types) {
        let kind = NumberType::of(&phone);
        match policy.check(&phone) {
            Ok(allowed) => assert_eq!(allowed, kind),
            Err(refused) => assert_eq!(refused, kind),
        }
        assert!(!kind.name().is_empty());
    }
});
