//! Error answers: a status, a `Problem` body and, for 409/429/503, `Retry-After`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::{FieldError, Problem};

/// An error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub problem: Problem,
    pub retry_after_secs: Option<u32>,
}

impl Failure {
    pub fn new(status: u16, error: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            problem: Problem {
                error: error.to_owned(),
                message: message.into(),
                fields: Vec::new(),
            },
            retry_after_secs: None,
        }
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let n = fields.len();
        let mut f = Self::new(
            400,
            "invalid",
            format!("{n} invalid field(s); nothing was written"),
        );
        f.problem.fields = fields;
        f
    }

    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, Json(self.problem)).into_response();
        if let Some(s) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}
