use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::digest_run;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;
use service::notifications::digest::{self, Outcome};
use service::notifications::period::DigestKind;
use tokio_util::sync::CancellationToken;

use super::{at, fan, world};
use test_support::TestApp;
use test_support::notify::{SmtpServer, wait_for};

/// Runs the dispatcher every 15 minutes from `from` to `to`, as the cron
/// would, and returns the ticks that queued a digest. After such a tick it
/// waits for the job to finish, as the minute between real ticks allows.
async fn tick_through(app: &TestApp, user_id: i64, from: &str, to: &str) -> Vec<DateTime<Utc>> {
    let runs = || async {
        digest_run::Entity::find()
            .filter(digest_run::Column::UserId.eq(user_id))
            .all(&app.db)
            .await
            .unwrap()
            .len()
    };
    let before = runs().await;
    let (mut now, end) = (at(from), at(to));
    let mut queued_at = Vec::new();
    while now <= end {
        let queued = worker::jobs::digest::dispatch_due(&app.worker, DigestKind::Daily, now, None)
            .await
            .expect("dispatch");
        if queued > 0 {
            queued_at.push(now);
            // Generous: 23 tests share two cores, each with its own worker.
            wait_for(30, "the digest run", || async {
                (runs().await == before + queued_at.len()).then_some(())
            })
            .await;
        }
        now += Duration::minutes(15);
    }
    queued_at
}

#[tokio::test]
async fn a_warsaw_daily_digest_at_eight_arrives_once_on_both_daylight_saving_days() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "ola@example.com",
        json!({ "timeZone": "Europe/Warsaw", "dailyDigest": { "enabled": true, "time": "08:00" } }),
    )
    .await;
    world.fixture(&app, at("2026-03-29T16:00:00Z")).await;
    world.fixture(&app, at("2026-10-25T16:00:00Z")).await;

    // Spring forward: 29 March has 23 hours; 08:00 CEST is 06:00 UTC.
    let spring = tick_through(&app, fan.id, "2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z").await;
    assert_eq!(spring, [at("2026-03-29T06:00:00Z")]);
    // Fall back: 25 October has 25 hours; 08:00 CET is 07:00 UTC.
    let autumn = tick_through(&app, fan.id, "2026-10-24T12:00:00Z", "2026-10-26T00:00:00Z").await;
    assert_eq!(autumn, [at("2026-10-25T07:00:00Z")]);

    let digests = app.inbox(&fan.token).await;
    let periods: Vec<&str> = digests
        .iter()
        .map(|n| n.payload["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-10-25", "2026-03-29"]);
    // Kick-off times in the fan's zone: 18:00 CEST, then 17:00 CET.
    assert!(digests[1].body.contains("18:00  Arsenal v Chelsea"));
    assert!(
        digests[0].body.contains("17:00  Arsenal v Chelsea"),
        "{}",
        digests[0].body
    );
}

#[tokio::test]
async fn a_fan_with_nothing_to_report_gets_no_digest_and_is_not_asked_again() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "quiet@example.com",
        json!({ "dailyDigest": { "enabled": true } }),
    )
    .await;
    // A fixture on another day only.
    world.fixture(&app, at("2026-12-05T15:00:00Z")).await;

    let now = at("2026-12-01T08:30:00Z");
    let queued = worker::jobs::digest::dispatch_due(&app.worker, DigestKind::Daily, now, None)
        .await
        .unwrap();
    assert_eq!(queued, 1);
    let run = wait_for(30, "the digest run", || async {
        digest_run::Entity::find()
            .filter(digest_run::Column::UserId.eq(fan.id))
            .one(&app.db)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(run.period, "2026-12-01");
    assert_eq!(run.notification_id, None);
    assert!(app.inbox(&fan.token).await.is_empty());
    let again = worker::jobs::digest::dispatch_due(
        &app.worker,
        DigestKind::Daily,
        now + Duration::minutes(1),
        None,
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn a_weekly_digest_holds_the_weeks_fixtures_results_and_league_position() {
    let app = TestApp::spawn_worker(&[]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "weekly@example.com",
        json!({ "weeklyDigest": { "enabled": true, "day": "MONDAY", "time": "09:00" } }),
    )
    .await;
    // Monday 30 November 2026, 09:00 in London.
    world.result(&app, at("2026-11-28T15:00:00Z"), (3, 0)).await;
    world.result(&app, at("2026-11-10T15:00:00Z"), (0, 1)).await; // too old
    world.fixture(&app, at("2026-12-05T17:30:00Z")).await;
    world.fixture(&app, at("2026-12-12T17:30:00Z")).await; // too far

    let sent = world
        .send_digest(&app, "WEEKLY", fan.id, "2026-11-30T09:00:00Z")
        .await;
    assert_eq!(sent["outcome"], "SENT", "{sent}");
    assert_eq!(sent["period"], "2026-W49");
    let payload = &sent["notification"]["payload"];
    assert_eq!(payload["fixtures"].as_array().unwrap().len(), 1);
    assert_eq!(payload["results"].as_array().unwrap().len(), 1);
    assert_eq!(payload["results"][0]["homeScore"], 3);
    // Two results: a win each, Arsenal ahead on goal difference.
    assert_eq!(payload["positions"][0]["team"], "Arsenal");
    assert_eq!(payload["positions"][0]["position"], 1);
    assert_eq!(payload["positions"][0]["points"], 3);
    let body = sent["notification"]["body"].as_str().unwrap();
    assert!(
        body.contains("Sat  5 Dec 17:30  Arsenal v Chelsea"),
        "{body}"
    );
    assert!(body.contains("1. Arsenal (3 pts from 2)"), "{body}");
}

#[tokio::test]
async fn two_workers_running_the_same_dispatch_send_each_digest_once() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_worker(&["--smtp-url", &smtp.url]).await;
    let world = world(&app).await;
    let mut fans = Vec::new();
    for i in 0..8 {
        let (fan, _) = fan(
            &app,
            &world,
            &format!("fan{i}@example.com"),
            json!({ "dailyDigest": { "enabled": true }, "channels": { "email": true } }),
        )
        .await;
        fans.push(fan);
    }
    world.fixture(&app, at("2026-12-01T15:00:00Z")).await;

    // A second worker on the same queues and database, as a second process would be.
    let second = worker::Context {
        settings: Arc::new(worker::Settings {
            instance: "second".into(),
            ..(*app.worker.settings).clone()
        }),
        ..app.worker.clone()
    };
    let stop = CancellationToken::new();
    let second_worker = tokio::spawn(worker::run(second.clone(), stop.clone()));

    let now = at("2026-12-01T08:00:00Z");
    let (a, b) = tokio::join!(
        worker::jobs::digest::dispatch_due(&app.worker, DigestKind::Daily, now, None),
        worker::jobs::digest::dispatch_due(&second, DigestKind::Daily, now, None),
    );
    // Each dispatcher queues every fan whose run it does not yet see done;
    // how many the second still sees depends on how fast the first's jobs ran.
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a <= 8 && b <= 8 && a + b >= 8, "{a} + {b}");

    wait_for(20, "a mail for every fan", || async {
        (smtp.mails().len() >= fans.len()).then_some(())
    })
    .await;
    // Time for any duplicate to arrive.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for fan in &fans {
        assert_eq!(smtp.mails_to(&fan.email).len(), 1, "{}", fan.email);
        assert_eq!(app.inbox(&fan.token).await.len(), 1, "{}", fan.email);
    }
    assert_eq!(smtp.mails().len(), fans.len());
    stop.cancel();
    second_worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn racing_runs_of_one_period_write_one_digest() {
    let app = TestApp::spawn().await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "race@example.com",
        json!({ "dailyDigest": { "enabled": true } }),
    )
    .await;
    world.fixture(&app, at("2026-12-01T15:00:00Z")).await;
    let now = at("2026-12-01T10:00:00Z");
    let runs = futures::future::join_all(
        (0..4).map(|_| digest::run(&app.db, fan.id, DigestKind::Daily, now)),
    )
    .await;
    let sent = runs
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap().outcome, Outcome::Sent(_)))
        .count();
    assert_eq!(sent, 1, "{runs:?}");
    assert_eq!(app.inbox(&fan.token).await.len(), 1);
}
