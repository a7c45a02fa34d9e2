//! A bearer token that worked a moment ago is known again without the
//! database, yet whatever changes what it stands for (a logout, a deleted
//! account, a new role, spoiler-free mode) counts from the very next
//! request, on this replica and on the others (two apps on one database
//! and one Redis when `REDIS_URL` is set). While the bus cannot carry such
//! changes, every token is checked in the database.

use std::process::{Child, Command, Stdio};

use entity::UserRole;
use serde_json::{Value, json};

use crate::common::{TestApp, accounts, error_code, seed};

const SCORE: &str = "query($id: ID!) { match(id: $id) { spoilerHidden score { home away } } }";

/// The value of a counter in the app's `/metrics`.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("inthegame_{name}_total ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

/// This app and, with Redis, a second replica on its database and bus.
async fn replicas() -> Vec<TestApp> {
    let first = TestApp::spawn().await;
    if std::env::var("REDIS_URL").is_err() {
        return vec![first];
    }
    let second = first.replica(|_| {}).await;
    vec![first, second]
}

/// A match under way with a goal for the home side, and its id.
async fn a_match_with_a_goal(app: &TestApp) -> String {
    let feed = accounts::create(&app.db, "feed@example.com", UserRole::Feed)
        .await
        .token;
    let season = seed::season(&app.db).await;
    let home = seed::team(&app.db, "Arsenal FC", "arsenal-fc").await;
    let away = seed::team(&app.db, "Chelsea FC", "chelsea-fc").await;
    let match_id = app
        .schedule_match(
            &feed,
            season.id,
            (home.id, away.id),
            seed::at(2026, 12, 20, 15, 0),
        )
        .await;
    app.start_match(&feed, &match_id).await;
    app.record_goal(&feed, &match_id, home.id, 12, "Saka").await;
    match_id
}

/// The status and error code of a request made with `token`.
async fn refusal(app: &TestApp, token: &str) -> (u16, Option<String>) {
    let response = app
        .post_as(Some(token), "{ me { email } }", json!({}))
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).map(str::to_owned))
}

/// Reads `me` with `token` on every app until each knows the token
/// without the database.
async fn known_everywhere(apps: &[TestApp], token: &str, email: &str) {
    for app in apps {
        for _ in 0..2 {
            let data = app.ok(token, "{ me { email } }", json!({})).await;
            assert_eq!(data["me"]["email"], email, "{data}");
        }
        let hits = counter(app, "verified_tokens_hits").await;
        let statements = app.statements.get();
        app.ok(token, "{ __typename }", json!({})).await;
        assert_eq!(
            app.statements.get(),
            statements,
            "a known token costs no statement"
        );
        assert_eq!(counter(app, "verified_tokens_hits").await, hits + 1);
    }
}

/// Whether a request with `token` was answered knowing the token.
async fn known(app: &TestApp, token: &str) -> bool {
    let hits = counter(app, "verified_tokens_hits").await;
    app.ok(token, "{ __typename }", json!({})).await;
    counter(app, "verified_tokens_hits").await > hits
}

#[tokio::test]
async fn a_signed_in_reader_is_answered_again_and_again_without_a_token_check_each_time() {
    let app = TestApp::spawn().await;
    let match_id = a_match_with_a_goal(&app).await;
    let fan = accounts::user(&app.db, "fan@example.com").await;
    let variables = json!({ "id": match_id });
    let hits = counter(&app, "verified_tokens_hits").await;
    for _ in 0..5 {
        let data = app.ok(&fan.token, SCORE, variables.clone()).await;
        assert_eq!(
            data["match"]["score"],
            json!({ "home": 1, "away": 0 }),
            "{data}"
        );
    }
    assert_eq!(counter(&app, "verified_tokens_hits").await, hits + 4);
    // A token that does not work is never remembered: refused every time.
    for _ in 0..2 {
        assert_eq!(
            refusal(&app, "itg_not_a_token").await,
            (401, Some("UNAUTHENTICATED".to_owned()))
        );
    }
}

#[tokio::test]
async fn after_logout_the_token_is_refused_at_once_on_every_replica() {
    let apps = replicas().await;
    let ada = accounts::user(&apps[0].db, "ada@example.com").await;
    known_everywhere(&apps, &ada.token, "ada@example.com").await;

    let data = apps[0]
        .ok(&ada.token, "mutation { logout }", json!({}))
        .await;
    assert_eq!(data["logout"], true);
    for app in &apps {
        assert_eq!(
            refusal(app, &ada.token).await,
            (401, Some("UNAUTHENTICATED".to_owned()))
        );
    }
}

#[tokio::test]
async fn deleting_the_account_refuses_its_token_at_once_on_every_replica() {
    let apps = replicas().await;
    let ada = accounts::user(&apps[0].db, "ada@example.com").await;
    let bob = accounts::user(&apps[0].db, "bob@example.com").await;
    known_everywhere(&apps, &ada.token, "ada@example.com").await;
    known_everywhere(&apps, &bob.token, "bob@example.com").await;

    let last = apps.last().unwrap();
    let data = last
        .ok(
            &ada.token,
            "mutation($p: String!) { deleteAccount(password: $p) }",
            json!({ "p": accounts::PASSWORD }),
        )
        .await;
    assert_eq!(data["deleteAccount"], true);
    for app in &apps {
        assert_eq!(
            refusal(app, &ada.token).await,
            (401, Some("UNAUTHENTICATED".to_owned()))
        );
        // Another account's session goes on.
        let data = app.ok(&bob.token, "{ me { email } }", json!({})).await;
        assert_eq!(data["me"]["email"], "bob@example.com");
    }
}

#[tokio::test]
async fn turning_spoiler_free_mode_on_hides_the_score_from_the_very_next_request() {
    let apps = replicas().await;
    let match_id = a_match_with_a_goal(&apps[0]).await;
    let fan = accounts::user(&apps[0].db, "careful@example.com").await;
    let variables = json!({ "id": match_id });
    for app in &apps {
        for _ in 0..2 {
            let data = app.ok(&fan.token, SCORE, variables.clone()).await;
            assert_eq!(data["match"]["score"], json!({ "home": 1, "away": 0 }));
        }
    }

    test_support::notify::set_preferences(&apps[0], &fan.token, json!({ "spoilerFree": true }))
        .await;
    for app in &apps {
        let data = app.ok(&fan.token, SCORE, variables.clone()).await;
        assert_eq!(data["match"]["spoilerHidden"], true, "{data}");
        assert_eq!(
            data["match"]["score"],
            json!({ "home": null, "away": null }),
            "{data}"
        );
    }
}

#[tokio::test]
async fn a_new_role_counts_from_the_very_next_request_on_every_replica() {
    let apps = replicas().await;
    let admin = accounts::create(&apps[0].db, "admin@example.com", UserRole::Admin).await;
    let ada = accounts::user(&apps[0].db, "ada@example.com").await;
    let deliveries = "{ deliveries(first: 1) { totalCount } }";
    for app in &apps {
        for _ in 0..2 {
            let body = app.graphql_as(&ada.token, deliveries, json!({})).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        }
    }

    apps[0]
        .ok(
            &admin.token,
            "mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { role } }",
            json!({ "id": ada.id.to_string() }),
        )
        .await;
    for app in &apps {
        let data = app.ok(&ada.token, deliveries, json!({})).await;
        assert!(data["deliveries"]["totalCount"].is_number(), "{data}");
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_server(port: u16) -> Killed {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Killed(child)
}

/// Revokes a token behind the API's back, as a logout on a replica whose
/// message never arrived would look from here.
async fn revoke_behind_the_bus(app: &TestApp, user_id: i64) {
    use entity::api_token;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .exec(&app.db)
        .await
        .unwrap();
}

/// The bus on a Redis of its own, which the test stops: until the bus has
/// subscribed again, every token is checked in the database.
#[tokio::test]
async fn while_the_bus_is_down_every_token_is_checked_in_the_database() {
    if std::env::var("REDIS_URL").is_ok()
        || Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
    {
        // This test brings its own Redis (the shared one must stay up);
        // it runs where no REDIS_URL is set and redis-server is installed.
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = redis_server(port);
    let url = format!("redis://127.0.0.1:{port}");
    let app = TestApp::spawn_with(&["--redis-url", &url]).await;
    let ada = accounts::user(&app.db, "ada@example.com").await;
    let bob = accounts::user(&app.db, "bob@example.com").await;
    known_everywhere(std::slice::from_ref(&app), &ada.token, "ada@example.com").await;
    known_everywhere(std::slice::from_ref(&app), &bob.token, "bob@example.com").await;

    drop(redis);
    // Once the bus noticed, a token is read from the database each time.
    test_support::notify::wait_for(10, "the bus to notice Redis is gone", || async {
        (!known(&app, &bob.token).await).then_some(())
    })
    .await;
    for _ in 0..2 {
        assert!(
            !known(&app, &bob.token).await,
            "nothing is remembered meanwhile"
        );
    }
    revoke_behind_the_bus(&app, ada.id).await;
    assert_eq!(
        refusal(&app, &ada.token).await,
        (401, Some("UNAUTHENTICATED".to_owned()))
    );

    // Back up: the bus subscribes again, and tokens are known again.
    let _redis = redis_server(port);
    test_support::notify::wait_for(20, "tokens to be known again", || async {
        known(&app, &bob.token).await.then_some(())
    })
    .await;
    assert_eq!(
        refusal(&app, &ada.token).await,
        (401, Some("UNAUTHENTICATED".to_owned()))
    );
}
