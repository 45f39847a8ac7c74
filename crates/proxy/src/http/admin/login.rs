//! Signing in and out, and the language switch. The login form is the only admin page that
//! needs no session; a wrong email and a wrong password get one answer, and too many
//! failures get 429 (the staff service counts them in the store, for every instance).

use super::render;
use super::session::{cleared_cookie, ip_of, lang_of, secure_cookies, session_cookie, Staff};
use super::texts::texts;
use crate::http::client_ip::limit_key;
use crate::http::pages::lang::{switch_href, PageLang};
use crate::staff::SignInError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;

fn login_page(lang: PageLang, status: StatusCode, message: Option<&str>) -> Response {
    let t = texts(lang);
    render::bare_page(
        lang,
        status,
        t.sign_in_title,
        html! {
            @if let Some(message) = message { p.error role="alert" { (message) } }
            form.login method="post" action="/admin/login" {
                label for="email" { (t.email) }
                input #email name="email" type="email" autocomplete="username" required autofocus;
                label for="password" { (t.password) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (t.sign_in) }
            }
            p.lang { a href=(switch_href(lang, "/admin/login")) lang=(lang.other().code()) { (t.other_language) } }
        },
    )
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    out: Option<String>,
}

pub async fn form(headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let lang = lang_of(&headers);
    let message = query.out.is_some().then_some(texts(lang).signed_out);
    login_page(lang, StatusCode::OK, message)
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The client's IP and language, for the login form (which has no session to read them
/// from).
pub struct Client {
    ip: IpAddr,
    lang: PageLang,
}

impl FromRequestParts<Arc<AppState>> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Client, Self::Rejection> {
        Ok(Client {
            ip: ip_of(parts, state),
            lang: lang_of(&parts.headers),
        })
    }
}

pub async fn submit(
    State(state): State<Arc<AppState>>,
    client: Client,
    form: Result<Form<Credentials>, axum::extract::rejection::FormRejection>,
) -> Response {
    let t = texts(client.lang);
    let Ok(Form(credentials)) = form else {
        return login_page(
            client.lang,
            StatusCode::BAD_REQUEST,
            Some(t.wrong_credentials),
        );
    };
    match state
        .staff
        .sign_in(
            &credentials.email,
            &credentials.password,
            client.ip,
            limit_key(client.ip),
        )
        .await
    {
        Ok(signed) => {
            let mut response = Redirect::to("/admin/").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&signed.token, secure_cookies(&state)),
            );
            response
        }
        Err(SignInError::Wrong) => login_page(
            client.lang,
            StatusCode::UNAUTHORIZED,
            Some(t.wrong_credentials),
        ),
        Err(SignInError::Throttled(wait)) => {
            let mut response = login_page(
                client.lang,
                StatusCode::TOO_MANY_REQUESTS,
                Some(t.throttled),
            );
            // Rounded up: a client that waits this long is not refused again.
            let seconds = wait.as_millis().div_ceil(1000).max(1);
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(SignInError::Staff(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            render::message_page(client.lang, StatusCode::SERVICE_UNAVAILABLE, t.unavailable)
        }
    }
}

/// Ends the session on the server, then drops the cookie.
pub async fn sign_out(State(state): State<Arc<AppState>>, staff: Staff) -> Response {
    let lang = staff.lang;
    if let Err(e) = state
        .staff
        .sign_out(staff.token, staff.email, staff.ip)
        .await
    {
        tracing::error!(error = %e, "sign-out failed");
        return render::message_page(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            texts(lang).unavailable,
        );
    }
    let mut response = Redirect::to("/admin/login?out=1").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie(secure_cookies(&state)));
    response
}
