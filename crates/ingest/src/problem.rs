//! Error answers: a status, a `Problem` body and, for 409/429/503, `Retry-After`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::{FieldError, Problem};

/// Most invalid fields listed in one answer.
pub const MAX_FIELD_ERRORS: usize = 100;

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

    /// A 400 naming the invalid fields: at most [`MAX_FIELD_ERRORS`] of them (the message says how
    /// many there were), so a hostile body cannot make an answer of megabytes (S2).
    pub fn invalid(mut fields: Vec<FieldError>) -> Self {
        let n = fields.len();
        let message = if n > MAX_FIELD_ERRORS {
            fields.truncate(MAX_FIELD_ERRORS);
            format!(
                "{n} invalid field(s), the first {MAX_FIELD_ERRORS} listed; nothing was written"
            )
        } else {
            format!("{n} invalid field(s); nothing was written")
        };
        let mut f = Self::new(400, "invalid", message);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_400_lists_at_most_max_field_errors() {
        let fields: Vec<FieldError> = (0..5000)
            .map(|i| FieldError {
                pointer: format!("/leads/{i}/event_id"),
                reason: "is required".into(),
            })
            .collect();
        let f = Failure::invalid(fields);
        assert_eq!(f.problem.fields.len(), MAX_FIELD_ERRORS);
        assert!(
            f.problem.message.starts_with("5000 invalid field(s)"),
            "{}",
            f.problem.message
        );
        assert_eq!(Failure::invalid(Vec::new()).problem.fields.len(), 0);
    }
}
