//! Checks a JSON request body against the schema the OpenAPI document publishes for it (generated
//! from `api.rs`), reporting **every** invalid field as a JSON pointer (RFC 6901) and a reason.
//!
//! It implements the JSON Schema keywords utoipa emits for those types: `$ref`, `oneOf` (nullable
//! references), `type` (one or a list), `enum`, `properties`, `required`, `additionalProperties`,
//! `items`, `minItems`/`maxItems`, `minLength`/`maxLength` (in characters), `minimum`/`maximum` and the
//! formats `date-time` (RFC 3339), `int32`, `int64`. A keyword it does not know is a bug caught by
//! `tests::every_keyword_of_the_document_is_understood`.

use serde_json::{Map, Value};

use crate::api::FieldError;

/// Keywords the validator reads or deliberately ignores (annotations).
pub const KNOWN_KEYWORDS: &[&str] = &[
    "$ref",
    "oneOf",
    "type",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "format",
    "pattern",
    "propertyNames",
    // annotations
    "description",
    "title",
    "example",
    "examples",
    "default",
];

/// Validates `value` against `schema`; `components` resolves `#/components/schemas/<Name>` references.
/// Returns every error found (empty when valid).
pub fn validate(value: &Value, schema: &Value, components: &Map<String, Value>) -> Vec<FieldError> {
    validate_at(value, schema, components, "")
}

/// Like [`validate`], for a value found at `pointer` in the request body (pointers are prefixed).
pub fn validate_at(
    value: &Value,
    schema: &Value,
    components: &Map<String, Value>,
    pointer: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut at = String::with_capacity(64);
    at.push_str(pointer);
    check(value, schema, components, &mut at, &mut errors, 0);
    errors
}

/// Appends `segment` to a JSON pointer (escaping `~` and `/`).
pub fn push_pointer(pointer: &str, segment: &str) -> String {
    let mut p = pointer.to_owned();
    push_segment(&mut p, segment);
    p
}

/// Appends `/segment` to `pointer` in place (escaping `~` and `/`); the caller truncates it back.
fn push_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    if segment.contains(['~', '/']) {
        pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(segment);
    }
}

fn err(errors: &mut Vec<FieldError>, pointer: &str, reason: impl Into<String>) {
    errors.push(FieldError {
        pointer: pointer.to_owned(),
        reason: reason.into(),
    });
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(v: &Value, t: &str) -> bool {
    let actual = type_name(v);
    actual == t || (t == "number" && actual == "integer")
}

fn check(
    value: &Value,
    schema: &Value,
    components: &Map<String, Value>,
    pointer: &mut String,
    errors: &mut Vec<FieldError>,
    depth: usize,
) {
    if depth > 32 {
        err(errors, pointer, "nested too deeply");
        return;
    }
    let Some(s) = schema.as_object() else {
        return; // `true` / `{}`: anything goes
    };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        match components.get(name) {
            Some(target) => check(value, target, components, pointer, errors, depth + 1),
            None => err(errors, pointer, format!("schema {r} is missing (a bug)")),
        }
        return;
    }
    if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
        check_one_of(value, branches, components, pointer, errors, depth);
        return;
    }
    if let Some(t) = s.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|a| type_matches(value, a)) {
            let expected = allowed.join(" or ");
            err(
                errors,
                pointer,
                format!("must be {expected}, got {}", type_name(value)),
            );
            return;
        }
    }
    if let Some(symbols) = s.get("enum").and_then(Value::as_array) {
        if !symbols.contains(value) {
            let list: Vec<String> = symbols
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect();
            err(
                errors,
                pointer,
                format!("must be one of {}", list.join(", ")),
            );
        }
    }
    match value {
        Value::String(text) => check_string(text, s, pointer, errors),
        Value::Number(_) => check_number(value, s, pointer, errors),
        Value::Array(items) => check_array(items, s, components, pointer, errors, depth),
        Value::Object(members) => check_object(members, s, components, pointer, errors, depth),
        Value::Null | Value::Bool(_) => {}
    }
}

fn check_one_of(
    value: &Value,
    branches: &[Value],
    components: &Map<String, Value>,
    pointer: &mut String,
    errors: &mut Vec<FieldError>,
    depth: usize,
) {
    // the errors of the failing branch that got furthest: a null-only branch for a non-null value
    // and type mismatches at the value itself are the least useful to report
    let mut best: Option<(u8, Vec<FieldError>)> = None;
    let mut passing = 0;
    for b in branches {
        let mut e = Vec::new();
        check(value, b, components, pointer, &mut e, depth + 1);
        if e.is_empty() {
            passing += 1;
            continue;
        }
        let null_only = b.get("type").and_then(Value::as_str) == Some("null");
        let type_mismatch = e
            .iter()
            .all(|f| f.pointer == *pointer && f.reason.starts_with("must be "));
        let rank = match (null_only, type_mismatch) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, e));
        }
    }
    match passing {
        1 => {}
        0 => errors.extend(best.map(|(_, e)| e).unwrap_or_default()),
        _ => err(errors, pointer, "matches more than one alternative"),
    }
}

fn check_string(text: &str, s: &Map<String, Value>, pointer: &str, errors: &mut Vec<FieldError>) {
    let chars = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if chars < min {
            if min == 1 {
                err(errors, pointer, "must not be empty");
            } else {
                err(
                    errors,
                    pointer,
                    format!("must be at least {min} characters"),
                );
            }
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if chars > max {
            err(
                errors,
                pointer,
                format!("must be at most {max} characters (got {chars})"),
            );
        }
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        match pattern_matches(p, text) {
            Some(true) => {}
            Some(false) => err(errors, pointer, format!("must match {p}")),
            None => err(
                errors,
                pointer,
                format!("pattern {p} does not compile (a bug)"),
            ),
        }
    }
    if s.get("format").and_then(Value::as_str) == Some("date-time")
        && chrono::DateTime::parse_from_rfc3339(text).is_err()
    {
        err(
            errors,
            pointer,
            "must be an RFC 3339 date-time, e.g. 2026-11-30T09:30:00Z",
        );
    }
}

/// Whether `text` matches `p`, an ECMA-262 pattern as JSON Schema defines it
/// ([`crate::ecma_regex`]). Patterns are compiled once and shared (the document has a handful):
/// a read lock and no allocation per check; a `Regex` is never cloned (a clone starts with an empty
/// match cache, which the first match then has to allocate).
fn pattern_matches(p: &str, text: &str) -> Option<bool> {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock, PoisonError, RwLock};
    type Cache = RwLock<HashMap<String, Option<Arc<regex::Regex>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let found = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(p)
        .cloned();
    let re = match found {
        Some(re) => re,
        None => {
            let re = regex::Regex::new(&crate::ecma_regex::to_rust(p))
                .ok()
                .map(Arc::new);
            cache
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(p.to_owned(), re.clone());
            re
        }
    };
    re.map(|re| re.is_match(text))
}

fn check_number(
    value: &Value,
    s: &Map<String, Value>,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(n) = value.as_f64() else { return };
    match s.get("format").and_then(Value::as_str) {
        Some("int32") if value.as_i64().is_none_or(|i| i32::try_from(i).is_err()) => {
            err(errors, pointer, "must be a 32-bit integer");
            return;
        }
        Some("int64") if value.as_i64().is_none() => {
            err(errors, pointer, "must be a 64-bit integer");
            return;
        }
        _ => {}
    }
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        if n < min {
            err(errors, pointer, format!("must be >= {min}"));
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        if n > max {
            err(errors, pointer, format!("must be <= {max}"));
        }
    }
}

fn check_array(
    items: &[Value],
    s: &Map<String, Value>,
    components: &Map<String, Value>,
    pointer: &mut String,
    errors: &mut Vec<FieldError>,
    depth: usize,
) {
    let n = items.len() as u64;
    if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
        if n < min {
            err(errors, pointer, format!("must have at least {min} item(s)"));
        }
    }
    if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
        if n > max {
            err(
                errors,
                pointer,
                format!("must have at most {max} items (got {n})"),
            );
            return;
        }
    }
    if let Some(item_schema) = s.get("items") {
        for (i, item) in items.iter().enumerate() {
            let len = pointer.len();
            {
                use std::fmt::Write as _;
                let _ = write!(pointer, "/{i}");
            }
            check(item, item_schema, components, pointer, errors, depth + 1);
            pointer.truncate(len);
        }
    }
}

fn check_object(
    members: &Map<String, Value>,
    s: &Map<String, Value>,
    components: &Map<String, Value>,
    pointer: &mut String,
    errors: &mut Vec<FieldError>,
    depth: usize,
) {
    let empty = Map::new();
    let properties = s
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if let Some(required) = s.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !members.contains_key(name) {
                err(errors, &push_pointer(pointer, name), "is required");
            }
        }
    }
    let additional = s.get("additionalProperties");
    for (name, member) in members {
        let len = pointer.len();
        push_segment(pointer, name);
        match (properties.get(name), additional) {
            (Some(member_schema), _) => {
                check(
                    member,
                    member_schema,
                    components,
                    pointer,
                    errors,
                    depth + 1,
                );
            }
            (None, Some(Value::Bool(false))) => err(errors, pointer, "is not a known field"),
            (None, Some(extra)) => check(member, extra, components, pointer, errors, depth + 1),
            (None, None) => {}
        }
        pointer.truncate(len);
    }
}
