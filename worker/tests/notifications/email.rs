use std::time::Duration;

use serde_json::json;

use super::{at, fan, world};
use test_support::TestApp;
use test_support::notify::{SmtpServer, wait_for};

#[tokio::test]
async fn a_daily_digest_reaches_a_real_smtp_server_with_text_and_html_in_the_fans_time() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_worker(&["--smtp-url", &smtp.url]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "ola@example.com",
        json!({
            "timeZone": "Europe/Warsaw",
            "dailyDigest": { "enabled": true, "time": "08:00" },
            "channels": { "email": true, "inApp": true },
        }),
    )
    .await;
    world.fixture(&app, at("2026-12-01T19:45:00Z")).await;
    world.result(&app, at("2026-11-30T20:00:00Z"), (2, 1)).await;
    // Not today and not yesterday: stays out of the digest.
    world.fixture(&app, at("2026-12-03T19:45:00Z")).await;

    let sent = world
        .send_digest(&app, "DAILY", fan.id, "2026-12-01T07:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    assert_eq!(sent["period"], "2026-12-01");

    let mails = wait_for(30, "the digest email", || async {
        let mails = smtp.mails_to(&fan.email);
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        "Your daily digest for Tuesday 1 December 2026"
    );
    // 19:45 UTC is 20:45 in Warsaw in December.
    assert!(
        mail.text.contains("20:45  Arsenal v Chelsea"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Arsenal 2-1 Chelsea"), "{}", mail.text);
    assert_eq!(
        mail.text.matches(" v ").count(),
        1,
        "only today's fixture: {}",
        mail.text
    );
    assert_eq!(
        sent["notification"]["payload"]["fixtures"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        mail.html.contains("<li>20:45  Arsenal v Chelsea</li>"),
        "{}",
        mail.html
    );
    assert!(
        mail.message_id.starts_with("delivery-"),
        "{}",
        mail.message_id
    );

    let delivered = world.deliveries(&app, Some("DELIVERED")).await;
    let email = delivered
        .iter()
        .find(|d| d["channel"] == "EMAIL")
        .expect("an email delivery");
    assert_eq!(email["attempts"], 1);
    assert_eq!(email["userId"], fan.id.to_string());
    assert_eq!(email["notification"]["kind"], "DAILY_DIGEST");

    let digests = app.inbox(&fan.token).await;
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].kind, "DAILY_DIGEST");

    // The same period again: nothing new is written or sent.
    let again = world
        .send_digest(&app, "DAILY", fan.id, "2026-12-01T12:00:00Z")
        .await;
    assert_eq!(again["outcome"], "ALREADY_SENT");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.mails_to(&fan.email).len(), 1);
    assert_eq!(app.inbox(&fan.token).await.len(), 1);
}

#[tokio::test]
async fn without_an_smtp_server_each_email_is_an_eml_file_and_in_app_off_keeps_the_inbox_empty() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "kim@example.com",
        json!({ "dailyDigest": { "enabled": true }, "channels": { "email": true, "inApp": false } }),
    )
    .await;
    world.fixture(&app, at("2026-12-01T15:00:00Z")).await;
    let sent = world
        .send_digest(&app, "DAILY", fan.id, "2026-12-01T09:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT");

    let file = wait_for(30, "an .eml file", || async {
        std::fs::read_dir(&app.mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "eml"))
    })
    .await;
    let raw = std::fs::read(&file).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        mail.subject(),
        Some("Your daily digest for Tuesday 1 December 2026")
    );
    assert_eq!(
        mail.to().and_then(|t| t.first()).and_then(|a| a.address()),
        Some("kim@example.com")
    );
    // Europe/London, the account's zone, is on UTC in December.
    assert!(
        mail.body_text(0)
            .unwrap()
            .contains("15:00  Arsenal v Chelsea")
    );
    assert!(mail.body_html(0).unwrap().contains("<h1>Your daily digest"));
    // In-app is off: the inbox stays empty.
    assert!(app.inbox(&fan.token).await.is_empty());
}
