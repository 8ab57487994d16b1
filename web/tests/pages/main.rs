//! HTTP-level tests of the web pages through the real router: sign-in links, sessions, CSRF
//! refusal, and the authorization matrix of every page and form.

mod anonymous;
mod app;
mod audit;
mod auth_matrix;
mod bot_tokens;
mod csrf;
mod customers;
mod db_state;
mod fake_stripe;
mod flows;
mod objects;
mod routes;
mod seat_claims;
mod sessions;
mod sign_in;
