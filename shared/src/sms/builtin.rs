//! The built-in e-mail and voice texts by language (the SMS ones are in `texts.rs`): written
//! for their channel by one reviewer and checked by another (see docs/configuration.md).
//! Traditional Chinese serves `zh-TW`, and the same text is listed for `zh-Hant`, `zh-HK` and
//! `zh-MO`. Where the word for "minute" changes with the number, the texts use the unit's
//! symbol or a construction right for any number of minutes from 1 to 15.

/// E-mail subjects: (BCP 47 tag in lower case, subject naming the app, subject without the app).
pub(crate) const EMAIL_SUBJECTS: &[(&str, &str, &str)] = &[
    (
        "es",
        "{code} es su clave de acceso a {app}",
        "{code} es su clave de acceso",
    ),
    (
        "fr",
        "{code} est votre code de connexion à {app}",
        "{code} est votre code de connexion",
    ),
    (
        "de",
        "{code} ist Ihr Anmeldecode für {app}",
        "{code} ist Ihr Anmeldecode",
    ),
    (
        "it",
        "{code} è il tuo codice di accesso a {app}",
        "{code} è il tuo codice di accesso",
    ),
    (
        "pt",
        "{code} é seu código de acesso a {app}",
        "{code} é seu código de acesso",
    ),
    (
        "pt-pt",
        "{code} é o seu código de acesso a {app}",
        "{code} é o seu código de acesso",
    ),
    (
        "nl",
        "{code} is je inlogcode voor {app}",
        "{code} is je inlogcode",
    ),
    (
        "pl",
        "{code} to Twój kod logowania do {app}",
        "{code} to Twój kod logowania",
    ),
    (
        "tr",
        "{code} {app} giriş kodunuzdur",
        "{code} giriş kodunuzdur",
    ),
    (
        "ja",
        "{code}が{app}のログインコードです",
        "{code}がログインコードです",
    ),
    (
        "zh",
        "{code}是您的{app}登录验证码",
        "{code}是您的登录验证码",
    ),
    (
        "zh-tw",
        "{code}是您的{app}登入驗證碼",
        "{code}是您的登入驗證碼",
    ),
    (
        "ar",
        "{code} هو رمز تسجيل الدخول إلى {app}",
        "{code} هو رمز تسجيل الدخول الخاص بك",
    ),
    (
        "zh-hant",
        "{code}是您的{app}登入驗證碼",
        "{code}是您的登入驗證碼",
    ),
    (
        "zh-hk",
        "{code}是您的{app}登入驗證碼",
        "{code}是您的登入驗證碼",
    ),
    (
        "zh-mo",
        "{code}是您的{app}登入驗證碼",
        "{code}是您的登入驗證碼",
    ),
];

/// E-mail text bodies: (tag, body naming the app, body without the app).
pub(crate) const EMAIL_TEXTS: &[(&str, &str, &str)] = &[
    (
        "es",
        "{code} es su clave de acceso a {app}.\n\nCaduca en {minutes} min. Si no ha intentado iniciar sesión, ignore este correo. No comparta esta clave con nadie. {app} nunca se la pedirá.",
        "{code} es su clave de acceso.\n\nCaduca en {minutes} min. Si no ha intentado iniciar sesión, ignore este correo. No comparta esta clave con nadie. Nunca se la pediremos.",
    ),
    (
        "fr",
        "{code} est votre code de connexion à {app}.\n\nCe code expire dans {minutes} min. Si vous n'avez pas tenté de vous connecter, ignorez cet e-mail. Ne communiquez ce code à personne. {app} ne vous le demandera jamais.",
        "{code} est votre code de connexion.\n\nCe code expire dans {minutes} min. Si vous n'avez pas tenté de vous connecter, ignorez cet e-mail. Ne communiquez ce code à personne. Nous ne vous le demanderons jamais.",
    ),
    (
        "de",
        "{code} ist Ihr Anmeldecode für {app}.\n\nDer Code ist {minutes} Min. gültig. Wenn Sie nicht versucht haben, sich anzumelden, ignorieren Sie diese E-Mail. Geben Sie den Code niemals weiter. {app} wird Sie nie danach fragen.",
        "{code} ist Ihr Anmeldecode.\n\nDer Code ist {minutes} Min. gültig. Wenn Sie nicht versucht haben, sich anzumelden, ignorieren Sie diese E-Mail. Geben Sie den Code niemals weiter. Wir werden Sie nie danach fragen.",
    ),
    (
        "it",
        "{code} è il tuo codice di accesso a {app}.\n\nScade tra {minutes} min. Se non hai provato ad accedere, ignora questa email. Non comunicare questo codice a nessuno. {app} non te lo chiederà mai.",
        "{code} è il tuo codice di accesso.\n\nScade tra {minutes} min. Se non hai provato ad accedere, ignora questa email. Non comunicare questo codice a nessuno. Non te lo chiederemo mai.",
    ),
    (
        "pt",
        "{code} é seu código de acesso a {app}.\n\nEle expira em {minutes} min. Se não foi você que tentou entrar, ignore este e-mail. Não compartilhe este código com ninguém. {app} nunca vai pedir esse código.",
        "{code} é seu código de acesso.\n\nEle expira em {minutes} min. Se não foi você que tentou entrar, ignore este e-mail. Não compartilhe este código com ninguém. Nunca vamos pedir esse código.",
    ),
    (
        "pt-pt",
        "{code} é o seu código de acesso a {app}.\n\nExpira dentro de {minutes} min. Se não tentou iniciar sessão, ignore este e-mail. Não partilhe este código com ninguém. {app} nunca lho pedirá.",
        "{code} é o seu código de acesso.\n\nExpira dentro de {minutes} min. Se não tentou iniciar sessão, ignore este e-mail. Não partilhe este código com ninguém. Nunca lho pediremos.",
    ),
    (
        "nl",
        "{code} is je inlogcode voor {app}.\n\nDeze code verloopt over {minutes} min. Heb je niet geprobeerd in te loggen? Dan kun je deze e-mail negeren. Deel deze code met niemand. {app} zal je er nooit om vragen.",
        "{code} is je inlogcode.\n\nDeze code verloopt over {minutes} min. Heb je niet geprobeerd in te loggen? Dan kun je deze e-mail negeren. Deel deze code met niemand. We zullen je er nooit om vragen.",
    ),
    (
        "pl",
        "{code} to Twój kod logowania do {app}.\n\nKod jest ważny przez {minutes} min. Jeśli to nie Ty próbujesz się zalogować, zignoruj tę wiadomość. Nie podawaj nikomu tego kodu. {app} nigdy o niego nie poprosi.",
        "{code} to Twój kod logowania.\n\nKod jest ważny przez {minutes} min. Jeśli to nie Ty próbujesz się zalogować, zignoruj tę wiadomość. Nie podawaj nikomu tego kodu. Nigdy o niego nie poprosimy.",
    ),
    (
        "tr",
        "{code} {app} giriş kodunuzdur.\n\nKod {minutes} dakika boyunca geçerlidir. Giriş yapmaya çalışmadıysanız bu e-postayı dikkate almayın. Bu kodu kimseyle paylaşmayın. {app} bu kodu sizden asla istemez.",
        "{code} giriş kodunuzdur.\n\nKod {minutes} dakika boyunca geçerlidir. Giriş yapmaya çalışmadıysanız bu e-postayı dikkate almayın. Bu kodu kimseyle paylaşmayın. Bu kodu sizden asla istemeyiz.",
    ),
    (
        "ja",
        "{code}が{app}のログインコードです。\n\nこのコードは{minutes}分間有効です。お心当たりのない場合は、このメールを破棄してください。このコードは誰にも教えないでください。{app}からこのコードをお尋ねすることは一切ありません。",
        "{code}がログインコードです。\n\nこのコードは{minutes}分間有効です。お心当たりのない場合は、このメールを破棄してください。このコードは誰にも教えないでください。当社からこのコードをお尋ねすることは一切ありません。",
    ),
    (
        "zh",
        "{code}是您的{app}登录验证码。\n\n验证码{minutes}分钟内有效。如非本人操作，请忽略此邮件。请勿向任何人透露此验证码，{app}绝不会向您索要。",
        "{code}是您的登录验证码。\n\n验证码{minutes}分钟内有效。如非本人操作，请忽略此邮件。请勿向任何人透露此验证码，我们绝不会向您索要。",
    ),
    (
        "zh-tw",
        "{code}是您的{app}登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，{app}絕不會向您索取。",
        "{code}是您的登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，我們絕不會向您索取。",
    ),
    (
        "ar",
        "{code} هو رمز تسجيل الدخول إلى {app}.\n\nمدة صلاحية الرمز بالدقائق: {minutes}. إذا لم تحاول تسجيل الدخول، فتجاهل هذه الرسالة. لا تشارك هذا الرمز مع أي شخص، فلن يطلبه منك {app} في أي وقت.",
        "{code} هو رمز تسجيل الدخول الخاص بك.\n\nمدة صلاحية الرمز بالدقائق: {minutes}. إذا لم تحاول تسجيل الدخول، فتجاهل هذه الرسالة. لا تشارك هذا الرمز مع أي شخص، فلن نطلبه منك في أي وقت.",
    ),
    (
        "zh-hant",
        "{code}是您的{app}登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，{app}絕不會向您索取。",
        "{code}是您的登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，我們絕不會向您索取。",
    ),
    (
        "zh-hk",
        "{code}是您的{app}登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，{app}絕不會向您索取。",
        "{code}是您的登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，我們絕不會向您索取。",
    ),
    (
        "zh-mo",
        "{code}是您的{app}登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，{app}絕不會向您索取。",
        "{code}是您的登入驗證碼。\n\n驗證碼將於{minutes}分鐘後失效。若非您本人操作，請忽略這封電子郵件。請勿將驗證碼提供給任何人，我們絕不會向您索取。",
    ),
];

/// Voice-call texts (read aloud by Amazon Polly through a phone call): (tag, text naming the app, text without).
pub(crate) const VOICE_TEXTS: &[(&str, &str, &str)] = &[
    (
        "es",
        "Su clave de acceso a {app} es {code}. No la comparta con nadie.",
        "Su clave de acceso es {code}. No la comparta con nadie.",
    ),
    (
        "fr",
        "Votre code de connexion à {app} est {code}. Ne le communiquez à personne.",
        "Votre code de connexion est {code}. Ne le communiquez à personne.",
    ),
    (
        "de",
        "Ihr Anmeldecode für {app} lautet {code}. Geben Sie ihn an niemanden weiter.",
        "Ihr Anmeldecode lautet {code}. Geben Sie ihn an niemanden weiter.",
    ),
    (
        "it",
        "Il tuo codice di accesso a {app} è {code}. Non comunicarlo a nessuno.",
        "Il tuo codice di accesso è {code}. Non comunicarlo a nessuno.",
    ),
    (
        "pt",
        "Seu código de acesso a {app} é {code}. Não compartilhe com ninguém.",
        "Seu código de acesso é {code}. Não compartilhe com ninguém.",
    ),
    (
        "pt-pt",
        "O seu código de acesso a {app} é {code}. Não o partilhe com ninguém.",
        "O seu código de acesso é {code}. Não o partilhe com ninguém.",
    ),
    (
        "nl",
        "Je inlogcode voor {app} is {code}. Deel deze code met niemand.",
        "Je inlogcode is {code}. Deel deze code met niemand.",
    ),
    (
        "pl",
        "Twój kod logowania do {app} to {code}. Nie podawaj go nikomu.",
        "Twój kod logowania to {code}. Nie podawaj go nikomu.",
    ),
    (
        "tr",
        "{app} giriş kodunuz {code}. Bu kodu kimseyle paylaşmayın.",
        "Giriş kodunuz {code}. Bu kodu kimseyle paylaşmayın.",
    ),
    (
        "ja",
        "{app}のログインコードは{code}です。このコードは誰にも教えないでください。",
        "ログインコードは{code}です。このコードは誰にも教えないでください。",
    ),
    (
        "zh",
        "您的{app}登录验证码是{code}。请勿泄露给他人。",
        "您的登录验证码是{code}。请勿泄露给他人。",
    ),
    (
        "zh-tw",
        "您的{app}登入驗證碼是{code}。請勿提供給他人。",
        "您的登入驗證碼是{code}。請勿提供給他人。",
    ),
    (
        "ar",
        "رمز تسجيل الدخول إلى {app} هو {code}. لا تشاركه مع أي شخص.",
        "رمز تسجيل الدخول الخاص بك هو {code}. لا تشاركه مع أي شخص.",
    ),
    (
        "zh-hant",
        "您的{app}登入驗證碼是{code}。請勿提供給他人。",
        "您的登入驗證碼是{code}。請勿提供給他人。",
    ),
    (
        "zh-hk",
        "您的{app}登入驗證碼是{code}。請勿提供給他人。",
        "您的登入驗證碼是{code}。請勿提供給他人。",
    ),
    (
        "zh-mo",
        "您的{app}登入驗證碼是{code}。請勿提供給他人。",
        "您的登入驗證碼是{code}。請勿提供給他人。",
    ),
];
