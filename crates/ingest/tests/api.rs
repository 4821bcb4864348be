//! The HTTP API against the test broker (`LEADFLOW_TEST_BOOTSTRAP`): what a publisher sees and what
//! lands on leads.raw.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use leadflow_testkit::bootstrap;
use serde_json::json;

const SHORT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_valid_lead_is_on_the_topic_when_202_is_answered() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let (status, body, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &lead("e1").to_string())
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({"event_ids": ["e1"], "replayed": false}));
    let events = h.events(2, SHORT).await;
    assert_eq!(events.len(), 1, "exactly one record");
    let e = &events[0];
    assert_eq!(e.event_id, "e1");
    assert_eq!(
        e.lead_id, "forms:lead-e1",
        "lead ids are scoped per publisher (P6)"
    );
    assert_eq!(e.source_system, "forms", "the publisher's id is stamped");
    assert_eq!(e.contact.first_name.as_deref(), Some("Ada"));
    let records = h.records(1, SHORT).await;
    assert_eq!(records[0].key.as_deref(), Some(&b"forms:lead-e1"[..]));
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(
            r#"leadflow_ingest_requests_total{publisher="forms",route="/v1/leads",status="202"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"leadflow_ingest_accepted_events_total{publisher="forms"} 1"#));
    assert!(metrics.contains("leadflow_ingest_producer_queue_records 0"));
    h.stop().await;
}

#[tokio::test]
async fn invalid_leads_get_400_with_every_field_and_nothing_is_written() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let mut bad = lead("e2");
    bad["occurred_at"] = json!("last tuesday");
    bad["event_type"] = json!("FAX");
    bad["contact"]["email"] = json!(12);
    bad.as_object_mut().unwrap().remove("lead_id");
    let (status, body, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &bad.to_string())
        .await;
    assert_eq!(status, 400, "{body}");
    let pointers: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    for p in ["/occurred_at", "/event_type", "/contact/email", "/lead_id"] {
        assert!(pointers.contains(&p), "{p} in {body}");
    }
    let (status, body, _) = h.post("/v1/leads", Some(FORMS_KEY), &[], "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["fields"][0]["pointer"], "");
    // a batch with one invalid lead writes none of them
    let mut second = lead("e4");
    second["source_record_id"] = json!("");
    let batch = json!({"leads": [lead("e3"), second]});
    let (status, body, _) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &batch.to_string())
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["fields"][0]["pointer"], "/leads/1/source_record_id");
    assert!(h.records(1, SHORT).await.is_empty(), "nothing written");
    h.stop().await;
}

#[tokio::test]
async fn batches_all_or_nothing_and_per_item() {
    let h = Harness::start(&bootstrap(), |cfg| cfg.stage.max_batch = 3).await;
    let batch = json!({"leads": [lead("b1"), lead("b2")]});
    let (status, body, _) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &batch.to_string())
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["event_ids"], json!(["b1", "b2"]));
    // too many leads: 413
    let four = json!({"leads": [lead("x1"), lead("x2"), lead("x3"), lead("x4")]});
    let (status, _, _) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &four.to_string())
        .await;
    assert_eq!(status, 413);
    // per item: the valid one is written, the invalid one is reported, the known one replayed
    let mut bad = lead("p2");
    bad["occurred_at"] = json!(1);
    let mixed = json!({"leads": [lead("p1"), bad, lead("b1")]});
    let (status, body, _) = h
        .post(
            "/v1/leads:batch?per_item=true",
            Some(FORMS_KEY),
            &[],
            &mixed.to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], 202);
    assert_eq!(items[1]["status"], 400);
    assert_eq!(items[1]["fields"][0]["pointer"], "/leads/1/occurred_at");
    assert_eq!(
        items[2]["status"], 202,
        "b1 was accepted before: replayed, not written"
    );
    let mut ids: Vec<String> = h
        .events(4, SHORT)
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["b1", "b2", "p1"]);
    h.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let h = Harness::start(&bootstrap(), |cfg| cfg.stage.max_body_bytes = 2048).await;
    let mut big = lead("big");
    big["attributes"]["note"] = json!("x".repeat(4096));
    let (status, body, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &big.to_string())
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "too_large");
    assert!(h.records(1, SHORT).await.is_empty());
    h.stop().await;
}

#[tokio::test]
async fn a_duplicate_idempotency_key_gets_the_original_answer_and_no_second_record() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let body = lead("d1").to_string();
    let key = [("idempotency-key", "retry-123")];
    let (s1, a1, _) = h.post("/v1/leads", Some(FORMS_KEY), &key, &body).await;
    let (s2, a2, _) = h.post("/v1/leads", Some(FORMS_KEY), &key, &body).await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(a1["event_ids"], a2["event_ids"]);
    assert_eq!(a2["replayed"], true);
    // the same key with another body is a conflict
    let (s3, _, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &key, &lead("d2").to_string())
        .await;
    assert_eq!(s3, 409);
    // without a key, the event id deduplicates
    let (s4, a4, _) = h.post("/v1/leads", Some(FORMS_KEY), &[], &body).await;
    assert_eq!(s4, 202);
    assert_eq!(a4["replayed"], true);
    // another publisher has its own key space (its event is written)
    let (s5, a5, _) = h.post("/v1/leads", Some(CHAT_KEY), &key, &body).await;
    assert_eq!((s5, &a5["replayed"]), (202, &json!(false)));
    let events = h.events(3, SHORT).await;
    assert_eq!(events.len(), 2, "one record per publisher");
    // a restarted service rebuilds its memory from the topic
    let (bootstrap, topic) = (h.bootstrap.clone(), h.topic.clone());
    h.stop().await;
    let again = Harness::start_on(&bootstrap, &topic, |_| {}).await;
    let (s6, a6, _) = again.post("/v1/leads", Some(FORMS_KEY), &key, &body).await;
    assert_eq!(s6, 202);
    assert_eq!(a6["replayed"], true, "{a6}");
    assert_eq!(
        again.events(3, SHORT).await.len(),
        2,
        "still no second record"
    );
    again.stop().await;
}

#[tokio::test]
async fn signed_webhooks_bad_and_expired_signatures_and_wrong_publishers() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let hubspot = include_str!("fixtures/hubspot_form_submission.json");
    let path = "/v1/webhooks/hubspot/forms";
    let now = now_secs();
    // wrong secret
    let (s, b) = h.post_signed(path, "guess", now, hubspot).await;
    assert_eq!(s, 401, "{b}");
    // another publisher's secret for this publisher's route
    let (s, _) = h.post_signed(path, CHAT_SECRET, now, hubspot).await;
    assert_eq!(s, 401);
    // expired: 6 minutes old (tolerance 300 s)
    let (s, expired) = h.post_signed(path, FORMS_SECRET, now - 360, hubspot).await;
    assert_eq!(s, 401);
    // P5: every 401 reads the same, so the answers do not tell which publishers exist
    let (s, wrong) = h.post_signed(path, "guess", now, hubspot).await;
    assert_eq!(s, 401);
    let (s, unknown) = h
        .post_signed("/v1/webhooks/hubspot/nobody", "guess", now, hubspot)
        .await;
    assert_eq!(s, 401);
    assert_eq!(
        unknown, wrong,
        "an unknown publisher reads like a wrong signature"
    );
    assert_eq!(
        expired, wrong,
        "an expired signature reads like a wrong one"
    );
    // the body changed after signing
    let sig = leadflow_ingest::auth::sign(FORMS_SECRET, now, hubspot.as_bytes());
    let tampered = hubspot.replace("Dana", "Eve");
    let ts = now.to_string();
    let (s, _, _) = h
        .post(
            path,
            None,
            &[
                ("x-leadflow-timestamp", &ts),
                ("x-leadflow-signature", &sig),
            ],
            &tampered,
        )
        .await;
    assert_eq!(s, 401);
    // no credentials at all
    let (s, _, _) = h.post(path, None, &[], hubspot).await;
    assert_eq!(s, 401);
    // an API key of chat-bot on forms' route: 403
    let (s, b, _) = h.post(path, Some(CHAT_KEY), &[], hubspot).await;
    assert_eq!(s, 403, "{b}");
    // a lead naming another publisher in source_system: 403
    let mut posing = lead("pose");
    posing["source_system"] = json!("chat-bot");
    let (s, b, _) = h
        .post("/v1/leads", Some(FORMS_KEY), &[], &posing.to_string())
        .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["fields"][0]["pointer"], "/source_system");
    // an unknown key
    let (s, _, _) = h
        .post("/v1/leads", Some("nope"), &[], &lead("u").to_string())
        .await;
    assert_eq!(s, 401);
    assert!(
        h.records(1, SHORT).await.is_empty(),
        "nothing written by refused requests"
    );
    // correctly signed: accepted, mapped, stamped; a webhook retry is not written twice
    let (s, b) = h.post_signed(path, FORMS_SECRET, now, hubspot).await;
    assert_eq!(s, 202, "{b}");
    let (s, b2) = h.post_signed(path, FORMS_SECRET, now + 1, hubspot).await;
    assert_eq!(s, 202);
    assert_eq!(b2["replayed"], true);
    assert_eq!(b["event_ids"], b2["event_ids"]);
    let chat = include_str!("fixtures/chat_transcript.json");
    let (s, b) = h
        .post_signed("/v1/webhooks/chat/chat-bot", CHAT_SECRET, now, chat)
        .await;
    assert_eq!(s, 202, "{b}");
    let events = h.events(3, SHORT).await;
    assert_eq!(events.len(), 2);
    let form = events.iter().find(|e| e.source_system == "forms").unwrap();
    assert_eq!(form.contact.first_name.as_deref(), Some("Dana"));
    let chat = events
        .iter()
        .find(|e| e.source_system == "chat-bot")
        .unwrap();
    assert!(chat.chat.as_ref().unwrap().human_requested);
    let metrics = h.metrics().await;
    assert!(metrics.contains(r#"publisher="unauthenticated",route="/v1/webhooks/hubspot/{publisher}",status="401"} 7"#), "{metrics}");
    h.stop().await;
}

#[tokio::test]
async fn a_hubspot_reply_lands_on_leads_raw_as_an_email_reply_of_its_lead() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let reply = include_str!("fixtures/hubspot_contact_reply.json");
    let path = "/v1/webhooks/hubspot/forms/replies";
    // the workflow's webhook, with the publisher's API key (HubSpot's "API key" authentication)
    let (s, b, _) = h.post(path, Some(FORMS_KEY), &[], reply).await;
    assert_eq!(s, 202, "{b}");
    // a publisher that is not the CRM may not name leadflow's leads (P6): 403
    let chat_path = "/v1/webhooks/hubspot/chat-bot/replies";
    let (s, refused, _) = h.post(chat_path, Some(CHAT_KEY), &[], reply).await;
    assert_eq!(s, 403, "{refused}");
    // HubSpot retries: the same event, not written twice
    let (s, again, _) = h.post(path, Some(FORMS_KEY), &[], reply).await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["event_ids"], b["event_ids"]);
    // no reply time: 400 naming the field, nothing written
    let (s, bad, _) = h
        .post(
            path,
            Some(FORMS_KEY),
            &[],
            r#"{"objectId": 5, "properties": {"email": "x@northwind-logistics.com"}}"#,
        )
        .await;
    assert_eq!(s, 400, "{bad}");
    assert_eq!(
        bad["fields"][0]["pointer"],
        "/properties/hs_sales_email_last_replied"
    );
    let events = h.events(2, SHORT).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.event_type, leadflow_events::LeadEventType::EmailReply);
    assert_eq!(e.lead_id, "lead-1796672762-65");
    assert_eq!(e.source_system, "forms");
    assert_eq!(serde_json::json!([e.event_id]), b["event_ids"]);
    h.stop().await;
}

#[tokio::test]
async fn a_full_producer_queue_answers_429_with_retry_after() {
    // a queue of 2 records: a batch of 3 cannot fit
    let h = Harness::start(&bootstrap(), |cfg| cfg.stage.max_queued_records = 2).await;
    let batch = json!({"leads": [lead("q1"), lead("q2"), lead("q3")]});
    let (status, body, headers) = h
        .post("/v1/leads:batch", Some(FORMS_KEY), &[], &batch.to_string())
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    assert!(
        h.records(1, SHORT).await.is_empty(),
        "nothing of a refused batch is written"
    );
    h.stop().await;
}

#[tokio::test]
async fn openapi_health_and_readiness_are_served() {
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let doc: serde_json::Value = h
        .http
        .get(format!("{}/openapi.json", h.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in ["/healthz", "/readyz", "/metrics"] {
        let r = h
            .http
            .get(format!("{}{p}", h.ops_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{p}");
        // never on the public port
        let r = h.http.get(format!("{}{p}", h.url)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{p} on the API port");
    }
    h.stop().await;
}

#[tokio::test]
async fn a_valid_api_key_does_not_excuse_a_bad_signature_as_the_document_says() {
    // the document once said signature headers are ignored when an API key is sent; the service
    // (RULES.md P4) verifies every credential presented, and the document now says so
    let doc = leadflow_ingest::openapi::document();
    let said = doc["components"]["securitySchemes"]["signature"]["description"]
        .as_str()
        .unwrap();
    assert!(
        said.contains("must verify even when an API key is sent"),
        "{said}"
    );
    assert!(!said.contains("ignored"), "{said}");
    let h = Harness::start(&bootstrap(), |_| {}).await;
    let hubspot = include_str!("fixtures/hubspot_form_submission.json");
    let path = "/v1/webhooks/hubspot/forms";
    let ts = now_secs().to_string();
    let (s, b, _) = h
        .post(
            path,
            Some(FORMS_KEY),
            &[
                ("x-leadflow-timestamp", &ts),
                ("x-leadflow-signature", "v0=00"),
            ],
            hubspot,
        )
        .await;
    assert_eq!(s, 401, "{b}");
    assert!(
        h.records(1, SHORT).await.is_empty(),
        "nothing written for a refused request"
    );
    let (s, b, _) = h.post(path, Some(FORMS_KEY), &[], hubspot).await;
    assert_eq!(s, 202, "{b}");
    h.stop().await;
}
