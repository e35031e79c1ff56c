//! The tokens the endpoint issues: RS256 JWTs with Cognito's claims, signed with a key made at
//! start, whose public half is served as the pool's JWKS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::{
    AccessGrant, ApiError, Endpoint, SignedIn, TOKEN_LIFETIME, internal, now, random_token,
};

/// Signs tokens with an RSA key made at start, and publishes its public half.
pub struct TokenSigner {
    key: SigningKey<Sha256>,
    public: RsaPublicKey,
    kid: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A fresh 2048-bit key.
    pub fn generate() -> Result<Self, String> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("cannot make an RSA key: {e}"))?;
        let public = private.to_public_key();
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).map_err(|e| e.to_string())?;
        Ok(Self {
            key: SigningKey::<Sha256>::new(private),
            public,
            kid: URL_SAFE_NO_PAD.encode(id),
        })
    }

    /// A compact JWS (RS256) over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The JSON Web Key Set clients verify tokens with.
    pub fn jwks(&self) -> Value {
        json!({"keys": [{
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "e": URL_SAFE_NO_PAD.encode(self.public.e().to_bytes_be()),
            "n": URL_SAFE_NO_PAD.encode(self.public.n().to_bytes_be()),
        }]})
    }
}

impl Endpoint {
    /// ID and access tokens with Cognito's claims.
    pub(super) fn tokens(&self, user: &SignedIn) -> Result<Map<String, Value>, ApiError> {
        let issued = now();
        let sub = user
            .attributes
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or(&user.username)
            .to_owned();
        let origin = user.origin_jti.clone();
        let mut id_claims = Map::new();
        for (name, value) in &user.attributes {
            if name.starts_with("cognito:") {
                continue;
            }
            // Cognito writes the verification flags as JSON booleans in ID tokens.
            let value = match (name.as_str(), value.as_str()) {
                ("email_verified" | "phone_number_verified", Some(flag)) => {
                    Value::Bool(flag == "true")
                }
                _ => value.clone(),
            };
            id_claims.insert(name.clone(), value);
        }
        for (name, value) in [
            ("sub", json!(sub)),
            ("iss", json!(self.issuer)),
            ("cognito:username", json!(user.username)),
            ("aud", json!(user.client_id)),
            ("origin_jti", json!(origin)),
            ("event_id", json!(random_token(16)?)),
            ("token_use", json!("id")),
            ("auth_time", json!(user.auth_time)),
            ("iat", json!(issued)),
            ("exp", json!(issued + TOKEN_LIFETIME)),
            ("jti", json!(random_token(16)?)),
        ] {
            id_claims.insert(name.to_owned(), value);
        }
        let access_claims = json!({
            "sub": sub,
            "iss": self.issuer,
            "client_id": user.client_id,
            "origin_jti": origin,
            "event_id": random_token(16)?,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": user.auth_time,
            "iat": issued,
            "exp": issued + TOKEN_LIFETIME,
            "jti": random_token(16)?,
            "username": user.username,
        });
        let access_token = self.signer.sign(&access_claims);
        {
            let mut grants = self
                .access_tokens
                .lock()
                .map_err(|_| internal("access tokens"))?;
            // Expired tokens go as new ones come.
            grants.retain(|_, grant| grant.expires_at > issued);
            grants.insert(
                access_token.clone(),
                AccessGrant {
                    username: user.username.clone(),
                    sub: Some(sub.clone()),
                    origin_jti: user.origin_jti.clone(),
                    expires_at: issued + TOKEN_LIFETIME,
                },
            );
        }
        let mut result = Map::new();
        result.insert("AccessToken".to_owned(), json!(access_token));
        result.insert("ExpiresIn".to_owned(), json!(TOKEN_LIFETIME));
        result.insert("TokenType".to_owned(), json!("Bearer"));
        result.insert(
            "IdToken".to_owned(),
            json!(self.signer.sign(&Value::Object(id_claims))),
        );
        Ok(result)
    }
}
