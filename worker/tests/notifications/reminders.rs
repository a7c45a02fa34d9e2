use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use serde_json::json;

use super::{World, fan, world};
use test_support::TestApp;
use test_support::feed::InboxItem;
use test_support::notify::wait_for;

const LEAD_MINUTES: i64 = 60;

async fn reminder_app() -> (TestApp, World, test_support::accounts::Account) {
    let app = TestApp::spawn_worker(&["--kickoff-reminder-minutes", "60"]).await;
    let world = world(&app).await;
    let (fan, _) = fan(
        &app,
        &world,
        "early@example.com",
        json!({ "liveAlerts": { "enabled": true } }),
    )
    .await;
    (app, world, fan)
}

/// A kick-off whose reminder is due `secs` seconds from now.
fn reminded_in(secs: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::minutes(LEAD_MINUTES) + Duration::seconds(secs)).trunc_subsecs(0)
}

async fn schedule(app: &TestApp, world: &World, kickoff: DateTime<Utc>) -> String {
    let teams = (world.home.id, world.away.id);
    app.schedule_match(&world.feed.token, world.season.id, teams, kickoff)
        .await
}

async fn reminders(app: &TestApp, token: &str) -> Vec<InboxItem> {
    app.inbox(token)
        .await
        .into_iter()
        .filter(|n| n.kind == "KICKOFF_REMINDER")
        .collect()
}

#[tokio::test]
async fn a_rescheduled_match_is_reminded_at_its_new_time_and_never_at_the_old_one() {
    let (app, world, fan) = reminder_app().await;
    let old = reminded_in(3);
    let match_id = schedule(&app, &world, old).await;
    let new = reminded_in(9);
    app.ok(
        &world.feed.token,
        "mutation($m: ID!, $k: DateTime!) { rescheduleMatch(matchId: $m, kickoffAt: $k) { id } }",
        json!({ "m": match_id, "k": new.to_rfc3339() }),
    )
    .await;

    // Past the old reminder's time, with room for polling: nothing.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert!(
        reminders(&app, &fan.token).await.is_empty(),
        "no reminder for the old time"
    );

    let reminder = wait_for(15, "the reminder", || async {
        reminders(&app, &fan.token).await.into_iter().next()
    })
    .await;
    assert_eq!(reminder.title, "Arsenal v Chelsea kicks off soon");
    let kickoff: DateTime<Utc> = reminder.payload["kickoffAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(kickoff, new);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(reminders(&app, &fan.token).await.len(), 1);
}

#[tokio::test]
async fn postponing_or_cancelling_a_match_cancels_its_reminder() {
    let (app, world, fan) = reminder_app().await;
    let postponed = schedule(&app, &world, reminded_in(3)).await;
    let cancelled = schedule(&app, &world, reminded_in(3)).await;
    let kept = schedule(&app, &world, reminded_in(4)).await;
    app.ok(
        &world.feed.token,
        "mutation($m: ID!) { postponeMatch(matchId: $m) { id } }",
        json!({ "m": postponed }),
    )
    .await;
    app.ok(
        &world.feed.token,
        "mutation($m: ID!) { cancelMatch(matchId: $m) { id } }",
        json!({ "m": cancelled }),
    )
    .await;

    let reminder = wait_for(15, "the reminder of the match still on", || async {
        reminders(&app, &fan.token).await.into_iter().next()
    })
    .await;
    assert_eq!(reminder.payload["matchId"].to_string(), kept);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        reminders(&app, &fan.token).await.len(),
        1,
        "only the match still on"
    );
}

#[tokio::test]
async fn an_imported_fixture_is_reminded_too() {
    let (app, world, fan) = reminder_app().await;
    // Written straight to the database, as `api import` does: no outbox row.
    let kickoff = reminded_in(2);
    let game = world.fixture(&app, kickoff).await;
    // What the cron does each minute; twice, as two workers would.
    for _ in 0..2 {
        let queued = worker::jobs::reminder::queue_upcoming(&app.worker, Utc::now())
            .await
            .unwrap();
        assert_eq!(queued, 1);
    }
    let reminder = wait_for(15, "the reminder", || async {
        reminders(&app, &fan.token).await.into_iter().next()
    })
    .await;
    assert_eq!(reminder.payload["matchId"], game.id);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(reminders(&app, &fan.token).await.len(), 1);
}
