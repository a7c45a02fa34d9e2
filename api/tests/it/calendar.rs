//! Calendar feeds, read back with an iCalendar parser as a calendar app
//! would: what a subscriber sees of a match across its reschedules, and
//! what a poll that finds nothing new costs.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use entity::UserRole;
use icalendar::{Calendar, CalendarDateTime, Component as _, DatePerhapsTime, EventStatus};
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, seed};

/// One `VEVENT` as a calendar app reads it.
#[derive(Debug)]
struct Seen {
    uid: String,
    sequence: Option<u32>,
    start: Option<DateTime<Utc>>,
    summary: String,
    status: Option<EventStatus>,
    last_modified: Option<DateTime<Utc>>,
}

fn parse(text: &str) -> Vec<Seen> {
    let calendar: Calendar = text.parse().expect("a valid iCalendar");
    calendar
        .events()
        .map(|event| Seen {
            uid: event.get_uid().expect("every event has a UID").to_owned(),
            sequence: event.get_sequence(),
            start: match event.get_start() {
                Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => Some(at),
                _ => None,
            },
            summary: event.get_summary().unwrap_or_default().to_owned(),
            status: event.get_status(),
            last_modified: event.get_last_modified(),
        })
        .collect()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Kick-offs relative to now, so that they fall in the feeds' window
/// whenever the test runs, on whole minutes as a feeder sends them.
fn in_days(days: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days))
        .duration_trunc(Duration::minutes(1))
        .unwrap()
}

struct Fixture {
    app: TestApp,
    feed: String,
    season_id: i64,
    home: entity::team::Model,
    home_id: i64,
    away_id: i64,
    match_id: String,
    kickoff: DateTime<Utc>,
}

/// Arsenal FC vs Chelsea FC in ten days, scheduled through the API.
async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let kickoff = in_days(10);
    let match_id = app
        .schedule_match(&feed, season.id, (home.id, away.id), kickoff)
        .await;
    Fixture {
        app,
        feed,
        season_id: season.id,
        home_id: home.id,
        home,
        away_id: away.id,
        match_id,
        kickoff,
    }
}

/// A season of another competition.
async fn other_season(app: &TestApp) -> entity::season::Model {
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
    let competition = entity::competition::ActiveModel {
        code: Set("FAC".to_owned()),
        name: Set("FA Cup".to_owned()),
        kind: Set(entity::CompetitionKind::Cup),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert competition");
    entity::season::ActiveModel {
        competition_id: Set(competition.id),
        label: Set("2026/27".to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("insert season")
}

/// The id of the one season of the competition with this code.
async fn imported_season(app: &TestApp, code: &str) -> i64 {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let competition = entity::competition::Entity::find()
        .filter(entity::competition::Column::Code.eq(code))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the imported competition");
    entity::season::Entity::find()
        .filter(entity::season::Column::CompetitionId.eq(competition.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the imported season")
        .id
}

impl Fixture {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.app.http.get(self.app.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// The feed at `path`, parsed, with its `ETag`.
    async fn events(&self, path: &str) -> (Vec<Seen>, String) {
        let response = self.get(path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "text/calendar; charset=utf-8"
        );
        let etag = header(&response, "etag").to_owned();
        (parse(&response.text().await.unwrap()), etag)
    }

    async fn feed(&self, mutation: &str) {
        self.app
            .ok(
                &self.feed,
                &format!("mutation($m: ID!) {{ {mutation} {{ id }} }}"),
                json!({ "m": self.match_id }),
            )
            .await;
    }

    fn uid(&self) -> String {
        format!("match-{}@inthegame", self.match_id)
    }
}

#[tokio::test]
async fn a_team_feed_has_one_event_per_match_with_a_stable_uid_and_the_kick_off_in_utc() {
    let f = fixture().await;
    for path in [
        "/calendar/team/arsenal-fc.ics".to_owned(),
        format!("/calendar/team/{}.ics", f.away_id),
    ] {
        let (events, _) = f.events(&path).await;
        assert_eq!(events.len(), 1, "{path}: {events:?}");
        let event = &events[0];
        assert_eq!(event.uid, f.uid());
        assert_eq!(event.sequence, Some(0));
        assert_eq!(event.start, Some(f.kickoff));
        assert_eq!(event.summary, "Arsenal FC vs Chelsea FC");
        assert_eq!(event.status, Some(EventStatus::Confirmed));
        assert!(event.last_modified.is_some());
    }
    let response = f.get("/calendar/team/arsenal-fc.ics", &[]).await;
    let text = response.text().await.unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.contains(&format!(
        "DTSTART:{}\r\n",
        f.kickoff.format("%Y%m%dT%H%M%SZ")
    )));
    f.app.stop().await;
}

#[tokio::test]
async fn a_rescheduled_match_keeps_its_uid_and_moves_with_a_higher_sequence() {
    let f = fixture().await;
    let path = "/calendar/team/arsenal-fc.ics";
    let (before, etag) = f.events(path).await;

    let moved_to = in_days(11);
    f.app
        .ok(
            &f.feed,
            "mutation($m: ID!, $k: DateTime!) { rescheduleMatch(matchId: $m, kickoffAt: $k) { id } }",
            json!({ "m": f.match_id, "k": moved_to.to_rfc3339() }),
        )
        .await;
    let changed = f.get(path, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status(), 200, "a reschedule changes the feed");
    let (after, _) = f.events(path).await;
    assert_eq!(after[0].uid, before[0].uid);
    assert_eq!(after[0].sequence, Some(1));
    assert_eq!(after[0].start, Some(moved_to));
    assert!(after[0].last_modified >= before[0].last_modified);

    f.feed("postponeMatch(matchId: $m)").await;
    let (postponed, _) = f.events(path).await;
    assert_eq!(postponed[0].uid, f.uid());
    assert_eq!(postponed[0].sequence, Some(2));
    assert_eq!(postponed[0].status, Some(EventStatus::Tentative));
    assert_eq!(postponed[0].summary, "Arsenal FC vs Chelsea FC (postponed)");

    f.feed("cancelMatch(matchId: $m)").await;
    let (cancelled, _) = f.events(path).await;
    assert_eq!(cancelled[0].uid, f.uid());
    assert_eq!(cancelled[0].sequence, Some(3));
    assert_eq!(cancelled[0].status, Some(EventStatus::Cancelled));
    f.app.stop().await;
}

#[tokio::test]
async fn an_unchanged_feed_answers_304_to_its_etag_and_to_its_date() {
    let f = fixture().await;
    let path = format!("/calendar/season/{}.ics", f.season_id);
    let first = f.get(&path, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "public, max-age=300");
    let etag = header(&first, "etag").to_owned();
    let last_modified = header(&first, "last-modified").to_owned();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");

    let by_tag = f.get(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(by_tag.status(), 304);
    assert_eq!(header(&by_tag, "etag"), etag);
    assert!(by_tag.bytes().await.unwrap().is_empty());
    let by_date = f.get(&path, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(by_date.status(), 304);

    // A goal changes nothing in the calendar's dates but the match's
    // revision time, and a poll sees it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    f.app.start_match(&f.feed, &f.match_id).await;
    let after = f.get(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status(), 200);
    let after = f.get(&path, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(after.status(), 200);
    f.app.stop().await;
}

#[tokio::test]
async fn a_season_feed_holds_that_season_s_matches_and_a_result_with_its_score() {
    let f = fixture().await;
    let season = other_season(&f.app).await;
    let home = seed::team(&f.app.db, "Everton FC", "everton-fc").await;
    let away = seed::team(&f.app.db, "Fulham FC", "fulham-fc").await;
    let result = seed::finished_match(
        &f.app.db,
        &season,
        &home,
        &away,
        in_days(-3),
        (2, 1),
        (1, 0),
    )
    .await;

    let (first_season, _) = f
        .events(&format!("/calendar/season/{}.ics", f.season_id))
        .await;
    assert_eq!(
        first_season
            .iter()
            .map(|e| e.uid.as_str())
            .collect::<Vec<_>>(),
        [f.uid()]
    );
    let (other_season, _) = f
        .events(&format!("/calendar/season/{}.ics", season.id))
        .await;
    assert_eq!(other_season.len(), 1);
    assert_eq!(
        other_season[0].uid,
        format!("match-{}@inthegame", result.id)
    );
    assert_eq!(other_season[0].summary, "Everton FC 2–1 Fulham FC");
    f.app.stop().await;
}

#[tokio::test]
async fn an_unknown_team_or_season_is_a_404_that_says_why() {
    let f = fixture().await;
    for path in [
        "/calendar/team/no-such-team.ics",
        "/calendar/team/arsenal-fc",
        "/calendar/season/999999.ics",
        "/calendar/season/first.ics",
        "/calendar/user/cal_nothing.ics",
    ] {
        let response = f.get(path, &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{path}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(!message.is_empty(), "{path}");
    }
    let response = f.get("/calendar/team/no-such-team.ics", &[]).await;
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-team"),
        "{body}"
    );
    f.app.stop().await;
}

const CREATE: &str = "mutation { createCalendarToken { url path } }";
const REVOKE: &str = "mutation { revokeCalendarToken }";

#[tokio::test]
async fn a_user_feed_shows_the_followed_teams_matches_until_its_token_is_revoked() {
    let f = fixture().await;
    let fan = accounts::user(&f.app.db, "fan@example.com").await;
    f.app
        .ok(
            &fan.token,
            "mutation($t: ID!) { followTeam(teamId: $t) { team { id } } }",
            json!({ "t": f.home_id.to_string() }),
        )
        .await;
    // Teams the fan does not follow, and a match beyond the window.
    let season = other_season(&f.app).await;
    let everton = seed::team(&f.app.db, "Everton FC", "everton-fc").await;
    let fulham = seed::team(&f.app.db, "Fulham FC", "fulham-fc").await;
    seed::fixture(&f.app.db, &season, &everton, &fulham, in_days(5)).await;
    seed::fixture(&f.app.db, &season, &f.home, &everton, in_days(400)).await;

    let created = f.app.ok(&fan.token, CREATE, json!({})).await["createCalendarToken"].clone();
    let url = created["url"].as_str().unwrap().to_owned();
    let path = created["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("/calendar/user/cal_") && path.ends_with(".ics"),
        "{path}"
    );
    assert_eq!(url, f.app.url(&path));
    let (events, _) = f.events(&path).await;
    assert_eq!(
        events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
        [f.uid()]
    );
    let response = f.get(&path, &[]).await;
    assert_eq!(header(&response, "cache-control"), "private, max-age=300");

    // A new URL replaces the old one.
    let renewed = f.app.ok(&fan.token, CREATE, json!({})).await["createCalendarToken"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(renewed, path);
    assert_eq!(f.get(&path, &[]).await.status(), 404);
    assert_eq!(f.get(&renewed, &[]).await.status(), 200);

    let revoked = f.app.ok(&fan.token, REVOKE, json!({})).await;
    assert_eq!(revoked["revokeCalendarToken"], true);
    let gone = f.get(&renewed, &[]).await;
    assert_eq!(gone.status(), 404);
    let body: Value = gone.json().await.unwrap();
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let again = f.app.ok(&fan.token, REVOKE, json!({})).await;
    assert_eq!(again["revokeCalendarToken"], false);
    f.app.stop().await;
}

#[tokio::test]
async fn only_a_signed_in_user_can_make_a_calendar_token() {
    let f = fixture().await;
    let body = f.app.graphql(CREATE, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"].is_null() || body["data"]["createCalendarToken"].is_null());
    f.app.stop().await;
}

#[tokio::test]
async fn a_re_imported_match_keeps_its_uid_and_a_moved_one_comes_with_a_higher_sequence() {
    use service::import::{CompetitionCode, ImportOptions, import_openfootball};
    use service::values::{SeasonLabel, TimeZone};

    let f = fixture().await;
    let file: &str = include_str!("../../samples/en.1-2023-24.json");
    let options = ImportOptions::new(
        CompetitionCode::parse("EPL").unwrap(),
        SeasonLabel::parse("2023/24").unwrap(),
        TimeZone::parse("Europe/London").unwrap(),
    );
    import_openfootball(&f.app.db, "en.1-2023-24.json", file, &options)
        .await
        .unwrap();
    let season_id = imported_season(&f.app, "EPL").await;
    let path = format!("/calendar/season/{season_id}.ics");
    let (before, _) = f.events(&path).await;
    assert_eq!(before.len(), 380);

    // The file moves the opener a day earlier.
    let mut moved: Value = serde_json::from_str(file).unwrap();
    moved["matches"][0]["date"] = json!("2023-08-10");
    import_openfootball(&f.app.db, "en.1-2023-24.json", &moved.to_string(), &options)
        .await
        .unwrap();
    let (after, _) = f.events(&path).await;
    let uids = |events: &[Seen]| events.iter().map(|e| e.uid.clone()).collect::<Vec<_>>();
    let mut sorted_before = uids(&before);
    let mut sorted_after = uids(&after);
    sorted_before.sort();
    sorted_after.sort();
    assert_eq!(sorted_after, sorted_before, "the same events, by UID");
    let opener = |events: &[Seen]| {
        events
            .iter()
            .find(|e| e.summary == "Burnley FC 0–3 Manchester City FC")
            .map(|e| (e.uid.clone(), e.sequence, e.start))
            .expect("the opener")
    };
    let (uid, sequence, start) = opener(&before);
    assert_eq!(sequence, Some(0));
    assert_eq!(
        opener(&after),
        (uid, Some(1), start.map(|s| s - Duration::days(1)))
    );
    f.app.stop().await;
}
